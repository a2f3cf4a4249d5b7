/* Lifecycle events of rooms and participants, published by the room code and
 * consumed by whoever cares (webhooks, the store, metrics) without the room
 * code knowing them. Emitted and delivered on the main context; a handler must
 * not block (queue the work instead). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  VG_EVENT_ROOM_STARTED,
  VG_EVENT_PARTICIPANT_JOINED,
  VG_EVENT_TRACK_PUBLISHED,
  VG_EVENT_TRACK_UNPUBLISHED,
  VG_EVENT_PARTICIPANT_LEFT,
  VG_EVENT_ROOM_FINISHED,
  /* The room's agent (from its bus messages), for recording and analytics. */
  VG_EVENT_AGENT_TRANSCRIPT,
  VG_EVENT_AGENT_TOOL_CALL,
  VG_EVENT_AGENT_USAGE,
  VG_EVENT_AGENT_INTERRUPTED,
  /* Recordings (gateway/egress), sent as LiveKit's egress webhooks. */
  VG_EVENT_EGRESS_STARTED,
  VG_EVENT_EGRESS_UPDATED,
  VG_EVENT_EGRESS_ENDED,
} VgEventType;

/* TRUE for the events LiveKit sends as webhooks (rooms, participants, tracks, egress). */
gboolean vg_event_type_is_lifecycle (VgEventType type);

/* LiveKit's name of the event, e.g. "participant_joined". */
const char *vg_event_type_name (VgEventType type);

/* A snapshot taken when the event happened; strings are borrowed for the
 * duration of the handler call. Participant and track fields are NULL/0 for
 * room events. */
typedef struct
{
  VgEventType type;
  gint64 time_us; /* g_get_real_time () */
  const char *room;
  const char *room_sid;
  const char *room_metadata;
  const char *room_pipeline; /* the agent's pipeline template, e.g. "tutor.pipeline" */
  gint64 room_subtopic_id;   /* the subtopic taught in the room, 0 = none */
  gint64 room_created_at;    /* unix seconds */
  guint room_empty_timeout;
  guint room_max_participants;
  guint room_num_participants;
  const char *identity;
  const char *participant_sid;
  const char *participant_name;
  const char *participant_state; /* JOINING, ACTIVE, DISCONNECTED */
  gint64 participant_joined_at;  /* unix seconds */
  gboolean participant_is_publisher;
  gint64 participant_subtopic_id; /* asked for in the participant's token, 0 = none */
  const char *track_sid;
  gboolean track_muted;
  /* Participant joined/left: connection figures. */
  double connect_seconds; /* POST to ICE connected, < 0 unknown */
  guint64 packets_lost;
  double jitter_ms;
  /* Agent events (room-wide). */
  const char *role; /* transcript: "user" or "assistant" */
  const char *item_id;
  const char *text;
  gboolean final;
  gboolean truncated;
  const char *tool_name, *tool_arguments, *tool_result; /* JSON texts */
  guint64 tokens_in, tokens_out;
  double response_latency_ms; /* usage: end of user speech to first agent audio, < 0 unknown */
  double audio_seconds;       /* transcript: length of the turn's audio, < 0 unknown */
  /* Egress events: LiveKit's EgressInfo as proto3 JSON (the webhook's
   * "egressInfo"); room is its room, the other room fields are unset. */
  const char *egress_info_json;
} VgEvent;

typedef void (*VgEventHandler) (const VgEvent *event, gpointer user_data);

typedef struct _VgEvents VgEvents;

VgEvents *vg_events_new (void);
void vg_events_free (VgEvents *events);
void vg_events_subscribe (VgEvents *events, VgEventHandler handler, gpointer user_data);
void vg_events_unsubscribe (VgEvents *events, VgEventHandler handler, gpointer user_data);
/* Delivers to every subscriber in subscription order; fills in time_us when 0. */
void vg_events_emit (VgEvents *events, const VgEvent *event);

G_END_DECLS
