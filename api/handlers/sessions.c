/* The WHIP/WHEP session resource: PATCH adds trickled ICE candidates
 * (application/trickle-ice-sdpfrag, RFC 8840), DELETE leaves the room. The
 * token must be the participant's own (same identity and room) or an admin
 * token for the session's room. */
#include "api/handlers/whip.h"
#include "api/handlers/cluster-route.h"
#include "api/auth.h"

#include <string.h>

/* The participant of {id} when the caller may act on it; otherwise replied. */
static VgParticipant *
session_for_request (VgRequest *req)
{
  VgRooms *rooms = vg_whip_rooms_or_reply (req);
  if (!rooms)
    return NULL;
  VgClaims claims;
  if (!vg_auth_require (req, VG_GRANT_NONE, NULL, &claims))
    return NULL;
  VgParticipant *p = vg_rooms_lookup_session (rooms, vg_request_param (req, "id"));
  if (!p)
    {
      vg_reply_error (req, SOUP_STATUS_NOT_FOUND, "not_found", "no such session");
      vg_claims_clear (&claims);
      return NULL;
    }
  /* Either way the token is for the session's room: roomAdmin without a room
   * claim administers no room (LiveKit's VideoGrant). */
  const char *room = vg_room_get_name (vg_participant_get_room (p));
  gboolean for_room = g_strcmp0 (claims.video.room, room) == 0;
  gboolean own = for_room && g_strcmp0 (claims.identity, vg_participant_get_identity (p)) == 0;
  gboolean admin = for_room && claims.video.room_admin;
  vg_claims_clear (&claims);
  if (!own && !admin)
    {
      vg_reply_error (req, SOUP_STATUS_FORBIDDEN, "permission_denied",
                      "the session belongs to another participant");
      return NULL;
    }
  return p;
}

static void patch_here (VgRequest *req, gpointer user_data);
static void delete_here (VgRequest *req, gpointer user_data);

/* A session of another node is a 307 to it, for a caller with a valid
 * token (whose room and identity that node checks). */
static gboolean
redirected (VgRequest *req, VgGateLocal here)
{
  g_auto (VgClaims) claims = { 0 };
  if (!vg_request_app (req)->cluster
      || vg_rooms_lookup_session (vg_request_app (req)->rooms, vg_request_param (req, "id")))
    return FALSE;
  if (!vg_auth_require (req, VG_GRANT_NONE, NULL, &claims))
    return TRUE;
  return vg_cluster_gate_session (req, vg_request_param (req, "id"), here);
}

void
vg_sessions_handle_patch (VgRequest *req, gpointer user_data)
{
  if (!vg_whip_rooms_or_reply (req))
    return;
  if (!redirected (req, patch_here))
    patch_here (req, user_data);
}

void
vg_sessions_handle_delete (VgRequest *req, gpointer user_data)
{
  if (!vg_whip_rooms_or_reply (req))
    return;
  if (!redirected (req, delete_here))
    delete_here (req, user_data);
}

static void
patch_here (VgRequest *req, gpointer user_data)
{
  VgParticipant *p = session_for_request (req);
  if (!p)
    return;
  if (g_strcmp0 (vg_request_content_type (req), "application/trickle-ice-sdpfrag") != 0)
    {
      vg_reply_error (req, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                      "PATCH takes application/trickle-ice-sdpfrag");
      return;
    }
  const char *if_match = vg_request_header (req, "If-Match");
  if (if_match && g_strcmp0 (if_match, "*") != 0
      && g_strcmp0 (if_match, vg_participant_get_etag (p)) != 0)
    {
      vg_reply_error (req, SOUP_STATUS_PRECONDITION_FAILED, "etag_mismatch",
                      "If-Match does not match the ICE session");
      return;
    }
  g_autoptr (GBytes) body = vg_request_body (req); /* transfer full */
  gsize len = body ? g_bytes_get_size (body) : 0;
  if (len > VG_WHIP_MAX_OFFER_BYTES)
    {
      vg_reply_error (req, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large",
                      "fragments are at most %u bytes", VG_WHIP_MAX_OFFER_BYTES);
      return;
    }
  /* An empty GBytes has NULL data: check the length before touching it. */
  const char *data = body ? g_bytes_get_data (body, NULL) : NULL;
  if (len == 0 || memchr (data, '\0', len))
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "bad_sdpfrag",
                      "the fragment is empty or not text");
      return;
    }
  g_autofree char *text = g_strndup (data, len);
  g_autoptr (GError) error = NULL;
  if (!g_utf8_validate (text, -1, NULL) || !vg_participant_add_ice_sdpfrag (p, text, &error))
    {
      if (error && error->code == VG_ROOMS_ERROR_INVALID)
        vg_reply_error (req, SOUP_STATUS_UNPROCESSABLE_ENTITY, "ice_restart_unsupported", "%s",
                        error->message);
      else
        vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "bad_sdpfrag", "%s",
                        error ? error->message : "the fragment is not UTF-8");
      return;
    }
  vg_reply_empty (req, SOUP_STATUS_NO_CONTENT);
}

static void
delete_here (VgRequest *req, gpointer user_data)
{
  VgParticipant *p = session_for_request (req);
  if (!p)
    return;
  vg_participant_leave (p);
  vg_reply_empty (req, SOUP_STATUS_OK);
}
