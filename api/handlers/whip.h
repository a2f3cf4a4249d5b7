/* What WHIP (publish) and WHEP (listen) share: one offer/answer exchange
 * that creates a participant, and the session resource it leaves behind. */
#pragma once

#include "api/http.h"
#include "gateway/core/jwt.h"
#include "gateway/rooms/rooms.h"

G_BEGIN_DECLS

/* Offers larger than this are refused (413): real offers are a few KiB. */
#define VG_WHIP_MAX_OFFER_BYTES (64 * 1024)

/* Handles a POST whose token is already verified (claims): checks the body,
 * finds or creates the room, joins, and answers 201 with the SDP answer,
 * Location, ETag and Link headers, asynchronously. */
void vg_whip_answer_offer (VgRequest *req, VgParticipantKind kind, const char *room_name,
                           const VgClaims *claims);

/* The Link header values announcing the configured STUN/TURN servers. */
GPtrArray *vg_whip_ice_server_links (const VgRoomsSettings *settings);

/* Replies 503 and returns NULL when the process runs without rooms. */
VgRooms *vg_whip_rooms_or_reply (VgRequest *req);

/* The other handlers of the group, registered by vg_rooms_routes_register. */
void vg_whep_handle_post (VgRequest *req, gpointer user_data);
void vg_sessions_handle_patch (VgRequest *req, gpointer user_data);
void vg_sessions_handle_delete (VgRequest *req, gpointer user_data);

G_END_DECLS
