/* Rooms and participants as JSON, in the two shapes the API speaks: the REST
 * shape (snake_case) and LiveKit's proto3 JSON (camelCase, int64 as strings). */
#pragma once

#include <json-glib/json-glib.h>
#include "gateway/rooms/rooms.h"
#include "gateway/rooms/room-events.h"

G_BEGIN_DECLS

typedef enum
{
  VG_JSON_REST,
  VG_JSON_PROTO,
} VgJsonShape;

void vg_room_json (JsonBuilder *b, VgRoom *room, VgJsonShape shape);
/* The REST room with its agent's response times and its participants
 * (GET /api/rooms/{room}). */
void vg_room_detail_json (JsonBuilder *b, VgRoom *room);
void vg_participant_json (JsonBuilder *b, VgParticipant *participant, VgJsonShape shape);
/* {"rooms":[...]} and {"participants":[...]}: the list replies of both APIs. */
JsonNode *vg_rooms_list_json (GPtrArray *rooms, VgJsonShape shape);
JsonNode *vg_participants_list_json (GPtrArray *participants, VgJsonShape shape);

G_END_DECLS
