/* What rooms publish on the event bus (events.h): their lifecycle and their
 * agent's activity. Every room event leaves through one VgRoomEvents, made
 * with the room; the room hands it snapshots taken on the main context, so
 * this file reads neither the room nor its participants. */
#pragma once

#include <gst/gst.h>
#include "gateway/core/events.h"
#include "gateway/rooms/rooms.h"
#include "gateway/rooms/participant.h"

G_BEGIN_DECLS

/* LiveKit-style ids: "RM_…" (unique per room instance), "PA_…", "TR_…". Caller frees. */
char *vg_room_dup_sid (VgRoom *room);
char *vg_participant_dup_sid (VgParticipant *participant);
char *vg_participant_dup_track_sid (VgParticipant *participant);

/* The room's side of an event; strings are borrowed. */
typedef struct
{
  const char *name, *template_name, *metadata;
  gint64 subtopic_id; /* 0 = none */
  gint64 created_at;  /* unix seconds */
  guint empty_timeout_s, max_participants, num_participants;
} VgRoomInfo;

/* One room's publisher. Main context only. */
typedef struct _VgRoomEvents VgRoomEvents;

/* bus may be NULL: then nothing is published. The bus outlives the publisher. */
VgRoomEvents *vg_room_events_new (VgEvents *bus);
void vg_room_events_free (VgRoomEvents *events);
/* Whether anything listens: callers may skip building snapshots. */
gboolean vg_room_events_enabled (VgRoomEvents *events);

/* A room or participant event (participant NULL for room events).
 * PARTICIPANT_JOINED is followed by TRACK_PUBLISHED for a publisher. */
void vg_room_events_publish (VgRoomEvents *events, VgEventType type, const VgRoomInfo *room,
                             const VgParticipantInfo *participant);
/* A message a participant typed (it reached the agent): a final user transcript. */
void vg_room_events_publish_typed_text (VgRoomEvents *events, const VgRoomInfo *room,
                                        const char *session_id, const char *text);
/* An agent bus message (realtime-transcript, -function-call, -usage, ...). */
void vg_room_events_publish_agent_message (VgRoomEvents *events, const VgRoomInfo *room,
                                           const GstStructure *message);

/* A tool call of the agent with the result it was given (JSON texts). */
void vg_room_events_publish_tool_call (VgRoomEvents *events, const VgRoomInfo *room,
                                       const char *name, const char *arguments, const char *result);

G_END_DECLS
