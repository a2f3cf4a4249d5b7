/* Internals shared by rooms.c (registry), room.c (one room), participant.c
 * and their helpers. Not for the API layer: it uses gateway/rooms.h. */
#pragma once

#include "gateway/rooms/room-events.h"

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include "gateway/rooms/rooms.h"
#include "gateway/rooms/room-graph.h"
#include "gateway/core/metrics.h"
#include "gateway/rooms/sdp-offer.h"

G_BEGIN_DECLS

/* A participant that never gets connected is removed after this long. */
#define VG_PARTICIPANT_JOIN_TIMEOUT_MS 30000

/* The registry's metric families (any may be NULL without a registry). */
typedef struct
{
  VgMetric *rooms, *participants;
  VgMetric *connect_seconds, *agent_response_seconds;
  VgMetric *packets_lost, *jitter_seconds;
  VgMetric *participants_removed; /* {reason} */
} VgRoomsMetrics;

struct _VgRooms
{
  VgRoomsSettings settings;
  VgMetrics *metrics;
  VgRoomsMetrics m;
  GMainContext *context;
  GHashTable *rooms;    /* name -> VgRoom* (owned ref) */
  GHashTable *sessions; /* session id -> VgParticipant* (borrowed) */
  guint participant_serial;
  guint pending_teardowns; /* rooms and participants still stopping */
  GThread *warm_up;        /* loads plugins and the DTLS certificate at start */
  VgEvents *events;        /* where lifecycle and agent events go; may be NULL */
};

/* Room lifecycle, room.c */
VgRoom *vg_room_new (VgRooms *rooms, const char *name, const char *template_name,
                     guint max_participants, guint empty_timeout_s, const char *metadata,
                     GError **error);
VgRoom *vg_room_ref (VgRoom *room);
void vg_room_unref (VgRoom *room);
/* Removes every participant and stops the pipeline; wait = block until stopped. */
void vg_room_close (VgRoom *room, gboolean wait);
VgRooms *vg_room_get_rooms (VgRoom *room);

/* Called by participants on the main context. */
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
void vg_room_drop_participant (VgRoom *room, VgParticipant *participant, VgLeaveReason reason);
/* A client event from a participant's data channel, for the agent. */
void vg_room_client_event (VgRoom *room, VgParticipant *participant, const char *json);
const char *vg_room_get_agent_state (VgRoom *room);

/* Participant, participant.c */
VgParticipant *vg_participant_new (VgRoom *room, const VgJoinRequest *request, GError **error);
VgParticipant *vg_participant_ref (VgParticipant *p);
void vg_participant_unref (VgParticipant *p);
/* Adds the elements to the running pipeline and starts negotiation. */
gboolean vg_participant_start (VgParticipant *p, VgJoinCallback callback, gpointer user_data,
                               GError **error);
GstElement *vg_participant_get_tee (VgParticipant *p); /* NULL for listeners */
GstElement *vg_participant_get_mixer (VgParticipant *p);
GstElement *vg_participant_get_mix_into (VgParticipant *p); /* the mixer's downstream funnel */
void vg_participant_set_graph_node (VgParticipant *p, VgGraphNode *node);
VgGraphNode *vg_participant_get_graph_node (VgParticipant *p);
/* TRUE once participant_joined was published (left follows only then). */
gboolean vg_participant_was_announced (VgParticipant *p);
/* The prefix of the names of all the participant's elements ("p12-"). */
const char *vg_participant_get_element_prefix (VgParticipant *p);
/* Stops timers and callbacks; a pending join callback gets a CLOSED error. */
void vg_participant_close (VgParticipant *p);
/* Sets the elements to NULL off the main context and removes them from the
 * pipeline; done runs on the main context afterwards. */
void vg_participant_teardown (VgParticipant *p, GSourceFunc done, gpointer user_data);
/* Stops the elements on the calling thread (room closing, not the main context). */
void vg_participant_stop_media (VgParticipant *p);
/* Periodic checks from the room (main context): timeouts, stats. */
void vg_participant_tick (VgParticipant *p, gint64 now_us, gboolean sample_stats);

G_END_DECLS
