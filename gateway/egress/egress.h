/* LiveKit's Egress on voxgate's recording engine (gateway/rooms/room-recorder.h).
 *
 * VgEgress watches every recording of the rooms (those started through it
 * and the automatic ones of [recording] enabled) through the registry's
 * recording observer, and for each state change:
 *  - keeps the recording's EgressInfo (the running ones and the last
 *    VG_EGRESS_ENDED_KEPT ended ones) for ListEgress;
 *  - publishes egress_started (STARTING), egress_updated (ACTIVE, ENDING) and
 *    egress_ended (COMPLETE, FAILED) on the event bus, which the webhooks
 *    send with the EgressInfo;
 *  - records the recording in the store (a row when it starts, its files,
 *    status and conversation when it ends).
 *
 * Threads: everything here runs on the main context (the registry's), as the
 * observer's callbacks do. */
#pragma once

#include <json-glib/json-glib.h>
#include "gateway/core/app.h"
#include "gateway/rooms/room-recorder.h"
#include "gateway/rooms/rooms.h"

G_BEGIN_DECLS

#define VG_EGRESS_ENDED_KEPT 1000

typedef struct _VgEgress VgEgress;

/* Sets itself as rooms' recording observer. app->store may be NULL
 * (nothing is stored). */
VgEgress *vg_egress_new (VgApp *app, VgRooms *rooms);
/* Call after vg_rooms_free: the rooms report the recordings they end while
 * closing to the observer. */
void vg_egress_free (VgEgress *egress);

/* Starts a recording of room_name; returns its egress id (caller frees) or
 * NULL with the registry's error (VG_ROOMS_ERROR_NOT_FOUND, _INVALID,
 * _PIPELINE). */
char *vg_egress_start (VgEgress *egress, const char *room_name, const VgRecordingSpec *spec,
                       GError **error);
/* Ends a running recording; VG_ROOMS_ERROR_NOT_FOUND when it is not running. */
gboolean vg_egress_stop (VgEgress *egress, const char *egress_id, GError **error);

/* One egress as LiveKit's EgressInfo (proto3 JSON), or NULL when unknown. */
JsonNode *vg_egress_info_json (VgEgress *egress, const char *egress_id);
/* LiveKit's ListEgressResponse {"items": [...]}, oldest first: each filter
 * may be NULL/FALSE (room_name, egress_id, only the running ones). */
JsonNode *vg_egress_list_json (VgEgress *egress, const char *room_name, const char *egress_id,
                               gboolean active_only);
/* TRUE while the recording is not yet COMPLETE or FAILED. */
gboolean vg_egress_is_running (VgEgress *egress, const char *egress_id);

G_END_DECLS
