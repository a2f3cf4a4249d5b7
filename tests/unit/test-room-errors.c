/* The one mapping of registry errors to HTTP statuses and codes, shared by
 * the REST room API, WHIP/WHEP and Twirp (api/handlers/room-api.c). */
#include "api/handlers/room-api.h"
#include "gateway/rooms/rooms.h"
#include <gio/gio.h>

static void
check (GQuark domain, gint code, guint status, const char *ours, const char *twirp)
{
  g_autoptr (GError) error = g_error_new_literal (domain, code, "x");
  g_assert_cmpuint (vg_room_api_http_status (error), ==, status);
  g_assert_cmpstr (vg_room_api_error_code (error), ==, ours);
  g_assert_cmpstr (vg_room_api_twirp_code (error), ==, twirp);
}

/* Every registry error has its own entry: none falls through to a bare 500. */
static void
test_every_error_is_mapped (void)
{
  for (gint code = VG_ROOMS_ERROR_NOT_FOUND; code <= VG_ROOMS_ERROR_NO_CANDIDATES; code++)
    {
      g_autoptr (GError) error = g_error_new_literal (VG_ROOMS_ERROR, code, "x");
      g_assert_cmpstr (vg_room_api_error_code (error), !=, "internal");
    }
}

static void
test_statuses (void)
{
  check (VG_ROOMS_ERROR, VG_ROOMS_ERROR_NOT_FOUND, 404, "not_found", "not_found");
  check (VG_ROOMS_ERROR, VG_ROOMS_ERROR_FULL, 409, "room_full", "resource_exhausted");
  check (VG_ROOMS_ERROR, VG_ROOMS_ERROR_BAD_SDP, 400, "bad_sdp", "invalid_argument");
  check (VG_ROOMS_ERROR, VG_ROOMS_ERROR_NEGOTIATION, 400, "negotiation_failed",
         "invalid_argument");
  check (VG_ROOMS_ERROR, VG_ROOMS_ERROR_PIPELINE, 500, "pipeline_failed", "internal");
  check (VG_ROOMS_ERROR, VG_ROOMS_ERROR_CLOSED, 410, "gone", "not_found");
  check (VG_ROOMS_ERROR, VG_ROOMS_ERROR_NO_CANDIDATES, 503, "ice_unavailable", "unavailable");
  check (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, 400, "invalid_argument", "invalid_argument");
  check (G_IO_ERROR, G_IO_ERROR_FAILED, 500, "internal", "internal");
  check (VG_ROOMS_ERROR, VG_ROOMS_ERROR_NO_CANDIDATES + 1, 500, "internal", "internal");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/room-errors/every-error-is-mapped", test_every_error_is_mapped);
  g_test_add_func ("/room-errors/statuses", test_statuses);
  return g_test_run ();
}
