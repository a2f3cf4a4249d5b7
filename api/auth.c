/* Bearer-token authentication for every authenticated endpoint. */
#include "api/auth.h"

#include <string.h>

static const char *
lookup_secret (const char *api_key, gpointer user_data)
{
  VgConfig *cfg = user_data;
  /* One key pair today; the lookup is where a key ring would plug in. */
  if (g_str_equal (api_key, vg_config_get_string (cfg, "auth", "api_key")))
    return vg_config_get_string (cfg, "auth", "api_secret");
  return NULL;
}

static gboolean
has_grants (const VgClaims *c, VgGrant required)
{
  const VgVideoGrant *g = &c->video;

  if ((required & VG_GRANT_ROOM_JOIN) && !g->room_join)
    return FALSE;
  if ((required & VG_GRANT_ROOM_CREATE) && !g->room_create)
    return FALSE;
  if ((required & VG_GRANT_ROOM_LIST) && !g->room_list)
    return FALSE;
  if ((required & VG_GRANT_ROOM_ADMIN) && !g->room_admin)
    return FALSE;
  if ((required & VG_GRANT_ROOM_RECORD) && !g->room_record)
    return FALSE;
  if ((required & VG_GRANT_CAN_PUBLISH) && !g->can_publish)
    return FALSE;
  return TRUE;
}

guint
vg_auth_check (VgApp *app, const char *authorization, VgGrant required, const char *room,
               VgClaims *claims, const char **reason_code, const char **reason_message)
{
  const char *token;
  VgJwtStatus status;

  memset (claims, 0, sizeof *claims);
  if (!authorization || g_ascii_strncasecmp (authorization, "Bearer ", 7) != 0)
    {
      *reason_code = "token_missing";
      *reason_message = "a bearer token is required";
      return 401;
    }
  token = authorization + 7;
  while (*token == ' ')
    token++;
  status = vg_jwt_verify (token, strlen (token), lookup_secret, app->config, g_get_real_time () / G_USEC_PER_SEC,
                          claims);
  if (status != VG_JWT_OK)
    {
      *reason_code = vg_jwt_status_code (status);
      *reason_message = vg_jwt_status_message (status);
      return 401;
    }
  if (!has_grants (claims, required))
    {
      *reason_code = "permission_denied";
      *reason_message = "the token lacks a required grant";
      vg_claims_clear (claims);
      return 403;
    }
  /* A room-scoped operation (room != NULL) needs a token for that room: as in
   * LiveKit, roomJoin, roomAdmin, hidden and recorder apply to the room in
   * the token's claim, so a token without a room claim acts on no room.
   * roomCreate, roomList and roomRecord are not scoped: their callers pass
   * room = NULL. */
  if (room && g_strcmp0 (claims->video.room, room) != 0)
    {
      *reason_code = "wrong_room";
      *reason_message = claims->video.room ? "the token is for another room"
                                           : "the token names no room (video.room)";
      vg_claims_clear (claims);
      return 403;
    }
  *reason_code = "ok";
  *reason_message = "authorized";
  return 200;
}

gboolean
vg_auth_require (VgRequest *req, VgGrant required, const char *room, VgClaims *claims)
{
  const char *header = vg_request_header (req, "Authorization");
  g_autofree char *from_query = NULL;
  const char *reason, *message;
  guint status;

  if (!header && vg_request_query (req, "access_token"))
    header = from_query = g_strconcat ("Bearer ", vg_request_query (req, "access_token"), NULL);
  status = vg_auth_check (vg_request_app (req), header, required, room, claims, &reason, &message);
  if (status == 200)
    return TRUE;
  if (status == 401)
    vg_reply_header (req, "WWW-Authenticate", "Bearer");
  vg_reply_error (req, status, reason, "%s", message);
  return FALSE;
}

char *
vg_auth_mint (VgApp *app, const VgClaims *claims)
{
  return vg_jwt_mint (claims, vg_config_get_string (app->config, "auth", "api_key"),
                      vg_config_get_string (app->config, "auth", "api_secret"));
}
