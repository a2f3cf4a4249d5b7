/* Each resource's handlers register their routes through one function. */
#pragma once

#include "api/router.h"

G_BEGIN_DECLS

void vg_health_routes_register (VgRouter *router, VgApp *app);
void vg_metrics_routes_register (VgRouter *router, VgApp *app);
void vg_token_routes_register (VgRouter *router, VgApp *app);
void vg_web_routes_register (VgRouter *router, VgApp *app);
/* The room API: REST (rooms-api.c) and LiveKit's Twirp RoomService (twirp.c). */
void vg_room_api_routes_register (VgRouter *router, VgApp *app);
void vg_twirp_routes_register (VgRouter *router, VgApp *app);
/* LiveKit's Egress over Twirp (egress-twirp.c). */
void vg_egress_routes_register (VgRouter *router, VgApp *app);
/* WHIP, WHEP and their sessions (api/handlers/whip.c). */
void vg_rooms_routes_register (VgRouter *router, VgApp *app);
/* The data API: subtopics, conversations, users, analytics (api/handlers/data-*.c). */
void vg_data_api_routes_register (VgRouter *router, VgApp *app);

G_END_DECLS
