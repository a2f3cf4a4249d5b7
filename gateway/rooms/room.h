/* One room, as the registry sees it: made with everything it needs
 * (VgRoomSetup), it owns its pipeline, agent, routing graph, event
 * publisher and participants, and tells its registry only what VgRoomHost
 * lists. The registry's own state stays in registry.c.
 *
 * Threading: the main context given in the setup runs every function here
 * and the host's functions. */
#pragma once

#include <gst/gst.h>
#include "gateway/core/events.h"
#include "gateway/rooms/rooms.h"
#include "gateway/rooms/rooms-metrics.h"

G_BEGIN_DECLS

/* What a room tells its registry. */
typedef struct
{
  /* A participant's session id starts or stops being a WHIP resource. */
  void (*session_added) (VgRooms *rooms, VgParticipant *p);
  void (*session_removed) (VgRooms *rooms, VgParticipant *p);
  /* Participants joined or left: the gauges. */
  void (*participants_changed) (VgRooms *rooms);
  /* Work off the main context (a pipeline or participant stopping) began
   * or ended; the registry waits for it when it is freed. */
  void (*teardown_started) (VgRooms *rooms);
  void (*teardown_finished) (VgRooms *rooms);
  /* The room stayed empty past its timeout: the registry deletes it. */
  void (*empty) (VgRooms *rooms, VgRoom *room);
  /* A number for a participant's element names, unique in the registry. */
  guint (*next_participant_serial) (VgRooms *rooms);
  /* The agent hooks set on the registry (NULL when none) and their data. */
  const VgAgentHooks *(*agent_hooks) (VgRooms *rooms, gpointer *data);
  /* For the room's recordings (recorders.h): the room starts closing, a
   * participant leaves, the agent posted a message. */
  void (*room_closing) (VgRooms *rooms, VgRoom *room);
  void (*participant_leaving) (VgRooms *rooms, VgParticipant *p);
  void (*agent_message) (VgRooms *rooms, VgRoom *room, const GstStructure *s);
} VgRoomHost;

/* Strings are copied; the rest is borrowed from the registry, which
 * outlives its rooms' teardowns. */
typedef struct
{
  const char *name, *template_name, *metadata;
  gint64 subtopic_id; /* <= 0 = none */
  guint max_participants, empty_timeout_s;
  GMainContext *context;
  const VgRoomsSettings *settings;
  const VgRoomsMetrics *metrics;
  VgEvents *events; /* may be NULL */
  const VgRoomHost *host;
  VgRooms *rooms; /* given back to host's functions */
} VgRoomSetup;

/* Builds the agent and starts the pipeline. */
VgRoom *vg_room_new (const VgRoomSetup *setup, GError **error);
VgRoom *vg_room_ref (VgRoom *room);
void vg_room_unref (VgRoom *room);
/* Publishes room_started: the registry calls it once the room is listed. */
void vg_room_publish_started (VgRoom *room);
/* Answers a pending tool call (vg_rooms_answer_tool_call). */
gboolean vg_room_answer_tool_call (VgRoom *room, const char *call_id, const char *output_json);
/* vg_rooms_set_subtopic. */
gboolean vg_room_set_subtopic (VgRoom *room, gint64 subtopic_id);
/* vg_rooms_set_agent_instructions and vg_rooms_agent_respond. */
gboolean vg_room_set_agent_instructions (VgRoom *room, const char *instructions);
gboolean vg_room_agent_respond (VgRoom *room, const char *instructions);
gboolean vg_room_leave_after_reply (VgRoom *room, const char *identity, guint timeout_ms);
/* Removes every participant and stops the pipeline; wait = block until stopped. */
void vg_room_close (VgRoom *room, gboolean wait);

G_END_DECLS
