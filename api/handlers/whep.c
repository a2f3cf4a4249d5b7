/* WHEP: POST /api/rooms/{room}/whep with a receive-only offer creates a
 * listener that hears the whole room (agent and every publisher). Only
 * monitors may listen: an admin token, or a hidden or recorder grant. */
#include "api/handlers/whip.h"
#include "api/auth.h"
#include "api/handlers/room-api.h"

void
vg_whep_handle_post (VgRequest *req, gpointer user_data)
{
  const char *room = vg_request_param (req, "room");
  VgClaims claims;
  if (!vg_room_api_check_name (req, room))
    return;
  if (!vg_auth_require (req, VG_GRANT_NONE, room, &claims))
    return;
  if (!claims.video.room_admin && !claims.video.hidden && !claims.video.recorder)
    vg_reply_error (req, SOUP_STATUS_FORBIDDEN, "permission_denied",
                    "listening needs an admin token or a hidden or recorder grant");
  else
    vg_whip_answer_offer (req, VG_PARTICIPANT_LISTENER, room, &claims);
  vg_claims_clear (&claims);
}
