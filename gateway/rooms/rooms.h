/* Rooms over WebRTC: the registry of live rooms and the participants in them.
 *
 * Each room owns one GstPipeline holding its agent (a bin built from a
 * template in pipelines/) and one webrtcbin per participant; audio is routed
 * mix-minus (see room-graph.c). The registry is the internal interface the
 * WHIP/WHEP handlers and the room API use.
 *
 * Threading: every function here runs on the main context the registry was
 * created on; callbacks are invoked there too. GStreamer threads never call
 * into this interface directly (participant.c marshals their signals). */
#pragma once

#include <glib.h>
#include <gst/gst.h>
#include "gateway/core/app.h"
#include "gateway/rooms/media-stats.h"
#include "gateway/rooms/latency-window.h"

G_BEGIN_DECLS

#define VG_ROOMS_ERROR (vg_rooms_error_quark ())
GQuark vg_rooms_error_quark (void);

typedef enum
{
  VG_ROOMS_ERROR_NOT_FOUND,     /* no such room or session */
  VG_ROOMS_ERROR_EXISTS,        /* a room with that name exists */
  VG_ROOMS_ERROR_INVALID,       /* a bad name, template name or argument */
  VG_ROOMS_ERROR_FULL,          /* max_participants reached */
  VG_ROOMS_ERROR_BAD_SDP,       /* the offer does not parse */
  VG_ROOMS_ERROR_NO_AUDIO,      /* the offer has no usable audio m-line */
  VG_ROOMS_ERROR_NO_OPUS,       /* the audio m-line does not offer Opus */
  VG_ROOMS_ERROR_PIPELINE,      /* an element is missing or the template fails */
  VG_ROOMS_ERROR_NEGOTIATION,   /* webrtcbin refused the offer */
  VG_ROOMS_ERROR_CLOSED,        /* the room or participant went away meanwhile */
  VG_ROOMS_ERROR_NO_CANDIDATES, /* ICE gathered nothing (e.g. the port range is in use) */
} VgRoomsError;

/* What the registry reads from [rooms] [webrtc] [agent]; see
 * vg_rooms_settings_init_from_config(). Strings are owned. */
typedef struct
{
  gboolean auto_create;
  guint empty_timeout_s;       /* close a room this long after it became empty */
  guint max_participants;      /* 0 = unlimited */
  char *stun_server;           /* "stun://host:port" or NULL */
  char *turn_server;           /* "turn(s)://user:pass@host:port" or NULL */
  guint ice_port_min;          /* local UDP ports for ICE; both 0 = any */
  guint ice_port_max;
  char *nat_address;           /* public address of a 1:1 NAT, or NULL */
  gboolean keep_private_host;  /* with nat_address: advertise the private ones too */
  char **ice_addresses;        /* local addresses ICE gathers on; NULL = all */
  gboolean shared_ice;         /* webrtcbins share libnice agents (shared-ice.h) */
  guint jitter_latency_ms;     /* webrtcbin jitterbuffer latency */
  guint disconnect_timeout_ms; /* disconnected (or silent) this long = removed */
  guint join_timeout_ms;       /* answered but never connected this long = removed */
  guint ice_gather_timeout_ms; /* longest wait for ICE gathering before answering */
  guint stats_interval_s;      /* webrtcbin statistics -> metrics this often (>= 1) */
  char *pipelines_dir;         /* where agent templates live */
  char *default_pipeline;      /* template file name, e.g. "echo.pipeline" */
  /* Agent element properties applied when the template's element has them. */
  char *agent_url, *agent_model, *agent_voice, *agent_instructions;
  /* [recording]: every room records its composite from creation when
   * enabled; recording_dir is the default directory (room-recorder.h). */
  gboolean recording_enabled;
  char *recording_dir;
} VgRoomsSettings;

void vg_rooms_settings_init_defaults (VgRoomsSettings *settings);
void vg_rooms_settings_init_from_config (VgRoomsSettings *settings, VgConfig *config);
void vg_rooms_settings_clear (VgRoomsSettings *settings);

typedef struct _VgRooms VgRooms;
typedef struct _VgRoom VgRoom;
typedef struct _VgParticipant VgParticipant;

/* The registry of a process: reads the settings from app->config and
 * registers its metrics in app->metrics. Store the result in app->rooms. */
VgRooms *vg_rooms_new (VgApp *app);
/* The same from explicit settings (copied); metrics may be NULL. */
VgRooms *vg_rooms_new_with_settings (const VgRoomsSettings *settings, VgMetrics *metrics);
/* Closes every room and waits for their pipelines to stop. */
void vg_rooms_free (VgRooms *rooms);

const VgRoomsSettings *vg_rooms_get_settings (VgRooms *rooms);

typedef struct
{
  const char *template_name; /* NULL = the configured default */
  guint max_participants;    /* 0 = the configured default */
  gint empty_timeout_s;      /* < 0 = the configured default */
  const char *metadata;      /* free text kept with the room, may be NULL */
  gint64 subtopic_id;        /* what is taught here, for the conversation record; <= 0 = none */
} VgRoomOptions;

/* Checks an offer as vg_room_join will (parses, an audio m-line with Opus),
 * so a refused offer creates no room. */
gboolean vg_rooms_check_offer (const char *offer_sdp, GError **error);

/* Creates a room (options may be NULL). Returns it (owned by the registry). */
VgRoom *vg_rooms_create (VgRooms *rooms, const char *name, const VgRoomOptions *options,
                         GError **error);
/* The room named name, or NULL. Borrowed: valid until the main loop runs. */
VgRoom *vg_rooms_lookup (VgRooms *rooms, const char *name);
/* The room, created with default options when auto_create is on. */
VgRoom *vg_rooms_lookup_or_create (VgRooms *rooms, const char *name, GError **error);
/* All rooms, sorted by name; borrowed pointers, free the array. */
GPtrArray *vg_rooms_list (VgRooms *rooms);
/* Removes every participant and closes the room. */
gboolean vg_rooms_delete (VgRooms *rooms, const char *name, GError **error);
guint vg_rooms_count (VgRooms *rooms);

/* A function call of a room's agent, as the tool executor sees it. Strings
 * are borrowed for the duration of the hook call. */
typedef struct
{
  const char *room, *template_name;
  /* What the room teaches its learner now (see VgAgentLearner); after a
   * vg_rooms_set_subtopic, the subtopic it moved to. 0 = none. */
  gint64 subtopic_id;
  const char *identity;     /* the room's (first) publishing learner, NULL when none */
  const char *display_name; /* that learner's name from its token, NULL when none */
  const char *call_id, *name, *arguments; /* arguments: the model's JSON text, unchecked */
} VgAgentToolCall;

/* A publishing participant whose audio path just came up (ICE and DTLS
 * connected), as the tutor sees it. Strings are borrowed for the duration
 * of the hook call. */
typedef struct
{
  const char *room, *template_name;
  /* The room's subtopic (given at its creation, or moved by
   * vg_rooms_set_subtopic) when it has one, else the one the participant's
   * token asked for; 0 = none. The conversation recorder applies the same
   * rule, so the session, its tools and its record agree. */
  gint64 subtopic_id;
  const char *identity;
  const char *display_name; /* from the token, NULL when none */
} VgAgentLearner;

/* What the composition root lends the rooms to run their agents' tools and
 * open their sessions. All run on the main context and must not block:
 * tool_call queues the work, which answers later with
 * vg_rooms_answer_tool_call; learner_ready queues the greeting, which comes
 * back through vg_rooms_set_agent_instructions and vg_rooms_agent_respond. */
typedef struct
{
  void (*tool_call) (gpointer data, const VgAgentToolCall *call);
  /* The tools (a JSON array text, the agent's "tools" property) for a new
   * room's agent, or NULL for none; borrowed, valid while the hooks are set. */
  const char *(*tools) (gpointer data, const char *template_name);
  /* Once per publishing participant, when its audio path is up: every
   * publisher of a room is greeted as it arrives (a rejoin under the same
   * identity is a new participant, greeted again). May be NULL. */
  void (*learner_ready) (gpointer data, const VgAgentLearner *learner);
} VgAgentHooks;

/* Sets (or with NULL clears) the hooks; hooks and data must outlive them.
 * Without hooks every call is answered with a "no such tool" error. */
void vg_rooms_set_agent_hooks (VgRooms *rooms, const VgAgentHooks *hooks, gpointer data);
/* Answers a call handed to tool_call: the agent gets output_json as the
 * function result, the participants a "tool" event carrying it, the event
 * bus an agent_tool_call event with it. FALSE when the room, its agent or
 * the call is gone (closed meanwhile, or answered already). */
gboolean vg_rooms_answer_tool_call (VgRooms *rooms, const char *room_name, const char *call_id,
                                    const char *output_json);

/* Moves the room to another subtopic (the tutor's switch_subtopic): the
 * room's later tool calls, greetings and conversation records, and its
 * events, carry it. FALSE when the room is gone or subtopic_id <= 0. */
gboolean vg_rooms_set_subtopic (VgRooms *rooms, const char *room_name, gint64 subtopic_id);

/* Sets the room's agent's "instructions" (a live agent updates its session).
 * FALSE when the room or its agent is gone, or the agent has no such
 * property. */
gboolean vg_rooms_set_agent_instructions (VgRooms *rooms, const char *room_name,
                                          const char *instructions);
/* Asks the room's agent to speak now (its "respond" action signal) with
 * these instructions for that one response. FALSE when the room or its
 * agent is gone, or the agent has no such signal. */
gboolean vg_rooms_agent_respond (VgRooms *rooms, const char *room_name, const char *instructions);
/* Removes the participant (as a DELETE would: reason "client", its
 * conversation completed) once the agent's next reply has been played: on
 * its next "listening" state after "speaking", so the learner hears the
 * tutor's goodbye; or after timeout_ms if that never comes. One pending
 * leave per room; a second call replaces it. FALSE when the room or the
 * participant is gone. */
gboolean vg_rooms_leave_after_reply (VgRooms *rooms, const char *room_name, const char *identity,
                                     guint timeout_ms);

/* A participant by its session id (the WHIP resource), or NULL. */
VgParticipant *vg_rooms_lookup_session (VgRooms *rooms, const char *session_id);

const char *vg_room_get_name (VgRoom *room);
const char *vg_room_get_template (VgRoom *room);
const char *vg_room_get_metadata (VgRoom *room);
void vg_room_set_metadata (VgRoom *room, const char *metadata);
gint64 vg_room_get_subtopic_id (VgRoom *room); /* 0 = none */
gint64 vg_room_get_created_at (VgRoom *room); /* unix seconds */
guint vg_room_get_max_participants (VgRoom *room);
guint vg_room_get_empty_timeout (VgRoom *room);
guint vg_room_count_participants (VgRoom *room);
/* Participants in join order; borrowed pointers, free the array. */
GPtrArray *vg_room_list_participants (VgRoom *room);
VgParticipant *vg_room_lookup_participant (VgRoom *room, const char *identity);
/* Starts removing the participant; it leaves the list at once. */
gboolean vg_room_remove_participant (VgRoom *room, const char *identity, GError **error);
/* Sends a JSON text on every participant's "events" channel. */
void vg_room_broadcast (VgRoom *room, const char *json);
/* The room's pipeline (for tests and diagnostics); borrowed. */
GstPipeline *vg_room_get_pipeline (VgRoom *room);
/* The room's agent's response times (end of the user's turn to its first
 * voiced audio), over the last VG_LATENCY_WINDOW_SIZE turns. */
void vg_room_get_agent_latency (VgRoom *room, VgLatencySummary *out);
/* The agent element (the template's element named "agent"), or NULL. Borrowed. */
GstElement *vg_room_get_agent (VgRoom *room);

typedef enum
{
  VG_PARTICIPANT_PUBLISHER, /* WHIP: sends and receives audio */
  VG_PARTICIPANT_LISTENER,  /* WHEP: receives the room mix */
} VgParticipantKind;

typedef enum
{
  VG_PARTICIPANT_JOINING,
  VG_PARTICIPANT_ACTIVE,
  VG_PARTICIPANT_DISCONNECTED,
} VgParticipantState;

typedef struct
{
  VgParticipantKind kind;
  const char *identity;
  const char *name; /* may be NULL */
  const char *offer_sdp;
  gint64 request_time_us; /* g_get_monotonic_time () when the request came in; 0 = now */
  gint64 subtopic_id;     /* asked for by the participant's token; <= 0 = none */
} VgJoinRequest;

/* Called once on the main context: either answer_sdp (the complete answer,
 * candidates included) or error. The participant stays in the room after a
 * successful answer until it leaves or times out. */
typedef void (*VgJoinCallback) (VgParticipant *participant, const char *answer_sdp,
                                const GError *error, gpointer user_data);

/* Validates the offer and starts negotiation. Returns the participant
 * (owned by the room) or NULL with error for refusals known at once (full,
 * bad SDP, no audio, no Opus). A participant with the same identity is
 * replaced. */
VgParticipant *vg_room_join (VgRoom *room, const VgJoinRequest *request, VgJoinCallback callback,
                             gpointer user_data, GError **error);

const char *vg_participant_get_session_id (VgParticipant *participant);
const char *vg_participant_get_identity (VgParticipant *participant);
const char *vg_participant_get_name (VgParticipant *participant);
VgParticipantKind vg_participant_get_kind (VgParticipant *participant);
VgParticipantState vg_participant_get_state (VgParticipant *participant);
const char *vg_participant_state_to_string (VgParticipantState state);
gint64 vg_participant_get_joined_at (VgParticipant *participant); /* unix seconds */
VgRoom *vg_participant_get_room (VgParticipant *participant);
/* The entity tag of the ICE session (quoted, for the ETag header). */
const char *vg_participant_get_etag (VgParticipant *participant);
/* Adds the candidates of a trickle-ice-sdpfrag body. */
gboolean vg_participant_add_ice_sdpfrag (VgParticipant *participant, const char *sdpfrag,
                                         GError **error);
/* Sends a JSON text on the participant's "events" channel (dropped if it is not open). */
void vg_participant_send_event (VgParticipant *participant, const char *json);
/* Mutes the participant's audio into the room (MutePublishedTrack): the
 * others and the agent hear silence until it is unmuted. */
void vg_participant_set_muted (VgParticipant *participant, gboolean muted);
gboolean vg_participant_get_muted (VgParticipant *participant);
/* Seconds from the request to ICE connected, < 0 until connected. */
double vg_participant_get_connect_seconds (VgParticipant *participant);
/* webrtcbin's statistics at the last sample (every stats_interval_s while
 * connected; sampled_at_us 0 before the first); borrowed, valid while the
 * participant is. */
const VgMediaStats *vg_participant_get_media_stats (VgParticipant *participant);
/* Leaves: the same as vg_room_remove_participant. */
void vg_participant_leave (VgParticipant *participant);

G_END_DECLS
