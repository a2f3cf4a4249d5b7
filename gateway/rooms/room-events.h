/* What rooms publish on the event bus (events.h): their lifecycle and their
 * agent's activity, as snapshots taken on the main context. */
#pragma once

#include <gst/gst.h>
#include "gateway/core/events.h"
#include "gateway/rooms/rooms.h"

G_BEGIN_DECLS

/* LiveKit-style ids: "RM_…" (unique per room instance), "PA_…", "TR_…". Caller frees. */
char *vg_room_dup_sid (VgRoom *room);
char *vg_participant_dup_sid (VgParticipant *participant);
char *vg_participant_dup_track_sid (VgParticipant *participant);

/* A room or participant event (participant may be NULL for room events).
 * PARTICIPANT_JOINED is followed by TRACK_PUBLISHED for a publisher. */
void vg_room_publish (VgRoom *room, VgEventType type, VgParticipant *participant);
/* A message a participant typed (it reached the agent): a final user transcript. */
void vg_room_publish_typed_text (VgRoom *room, VgParticipant *participant, const char *text);
/* An agent bus message (realtime-transcript, -function-call, -usage, ...). */
void vg_room_publish_agent_message (VgRoom *room, const GstStructure *message);

G_END_DECLS
