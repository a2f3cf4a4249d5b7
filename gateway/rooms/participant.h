/* One participant, as its room sees it: made with everything it needs
 * (VgParticipantSetup), it adds its elements to the room's pipeline, its
 * node to the room's graph, and tells its room only what VgParticipantHost
 * lists. It knows nothing of room.c; the room knows it through this header.
 *
 * Threading: every function here runs on the main context given in the
 * setup, and so do the host's functions. The participant marshals
 * webrtcbin's signals and promises (its threads) to that context. */
#pragma once

#include <gst/gst.h>
#include "gateway/rooms/rooms.h"
#include "gateway/rooms/rooms-metrics.h"
#include "gateway/rooms/room-graph.h"
#include "gateway/rooms/media-stats.h"

G_BEGIN_DECLS

typedef enum
{
  VG_LEAVE_CLIENT,       /* DELETE or the room API */
  VG_LEAVE_REPLACED,     /* the same identity joined again */
  VG_LEAVE_DISCONNECTED, /* ICE/DTLS failed, or disconnected past the timeout */
  VG_LEAVE_SILENT,       /* no media past the timeout */
  VG_LEAVE_JOIN_TIMEOUT, /* never connected */
  VG_LEAVE_ERROR,        /* an element of the participant failed */
  VG_LEAVE_ROOM_CLOSED,
  VG_LEAVE_CERTIFICATE, /* the peer's DTLS certificate is not the offer's fingerprint */
} VgLeaveReason;
const char *vg_leave_reason_to_string (VgLeaveReason reason);

/* What a participant tells its room, on the main context, never after
 * vg_participant_close(). */
typedef struct
{
  /* The peer connection is up for the first time: participant_joined. */
  void (*connected) (VgRoom *room, VgParticipant *p);
  /* The participant must leave (failure, timeout, or the client asked). */
  void (*leave) (VgRoom *room, VgParticipant *p, VgLeaveReason reason);
  /* A text the client sent on the "events" data channel, for the agent. */
  void (*client_event) (VgRoom *room, VgParticipant *p, const char *json);
  /* The agent's current state ("listening", ...) or NULL, for the session message. */
  const char *(*agent_state) (VgRoom *room);
} VgParticipantHost;

/* Given by the room at creation; borrowed pointers that outlive the
 * participant's use of them (the room keeps its pipeline and graph until
 * its participants are stopped; the registry's settings and metrics
 * outlive its rooms). Strings are copied. */
typedef struct
{
  GstBin *pipeline;
  VgRoomGraph *graph;
  GMainContext *context;
  const VgRoomsSettings *settings;
  const VgRoomsMetrics *metrics;
  const char *room_name, *template_name;
  const char *element_prefix; /* of all its elements' names, unique in the pipeline ("p12-") */
  const VgParticipantHost *host;
  /* Given back to host's functions and by vg_participant_get_room(). The
   * participant owns it (also when vg_participant_new fails) and gives it
   * to room_release when it is freed: a room outlives its participants. */
  VgRoom *room;
  GDestroyNotify room_release;
} VgParticipantSetup;

/* A snapshot for events and logs; strings are borrowed from the participant. */
typedef struct
{
  const char *session_id, *identity, *name;
  VgParticipantKind kind;
  VgParticipantState state;
  gint64 joined_at; /* unix seconds */
  gboolean muted;
  gboolean announced;     /* participant_joined was published: left follows only then */
  double connect_seconds; /* request to ICE connected, < 0 until announced */
  gint64 subtopic_id;     /* from the join request, 0 = none */
  const VgMediaStats *media; /* webrtcbin's statistics at the last sample */
} VgParticipantInfo;

/* Parses the offer and builds the elements (not yet in the pipeline). */
VgParticipant *vg_participant_new (const VgParticipantSetup *setup, const VgJoinRequest *request,
                                   GError **error);
VgParticipant *vg_participant_ref (VgParticipant *p);
void vg_participant_unref (VgParticipant *p);
/* Adds the elements to the running pipeline, starts negotiation, and
 * attaches the participant's node to the graph. callback answers the join. */
gboolean vg_participant_start (VgParticipant *p, VgJoinCallback callback, gpointer user_data,
                               GError **error);
void vg_participant_describe (VgParticipant *p, VgParticipantInfo *out);
/* The prefix of the names of all the participant's elements ("p12-"). */
const char *vg_participant_get_element_prefix (VgParticipant *p);
/* The participant's node in the room graph, NULL before start or once leaving. */
VgGraphNode *vg_participant_get_graph_node (VgParticipant *p);
/* Periodic checks (timeouts, statistics); may call host->leave. */
void vg_participant_tick (VgParticipant *p, gint64 now_us, gboolean sample_stats);
/* Stops timers and callbacks; a pending join callback gets a CLOSED error. */
void vg_participant_close (VgParticipant *p);
/* After close: detaches from the graph, sets the elements to NULL off the
 * main context and removes them from the pipeline; done runs on the main
 * context afterwards. */
void vg_participant_teardown (VgParticipant *p, GSourceFunc done, gpointer user_data);
/* Stops the elements on the calling thread (the room's pipeline stopping,
 * not the main context); the graph goes with the room. */
void vg_participant_stop_media (VgParticipant *p);

G_END_DECLS
