/* One participant: a webrtcbin with its receive chain (publishers) and its
 * send chain (mix-minus mixer ! opusenc ! rtpopuspay), negotiated by WHIP or
 * WHEP, with the "events" data channel; see participant.h. Owns its elements,
 * graph node, offer and pending join callback, and a room reference it only
 * hands back to its host; borrows the room's pipeline and graph.
 *
 * webrtcbin emits its signals and resolves its promises on its own threads.
 * Those handlers only link a pad (pad-added), gate the send path, record
 * statistics, or hand the work to the main context through
 * participant_invoke(); every state change and every call to the host
 * happens there. */
#define GST_USE_UNSTABLE_API /* webrtcbin's library: stable in practice since 1.16 */
#include "gateway/rooms/participant.h"
#include "gateway/rooms/participant-media.h"
#include "gateway/rooms/sdp-offer.h"
#include "gateway/rooms/sdp-candidates.h"
#include <gst/webrtc/webrtc.h>
#include <json-glib/json-glib.h>
#include <string.h>

struct _VgParticipant
{
  gint refcount;
  VgRoom *room; /* owned, opaque: given back to host */
  GDestroyNotify room_release;
  const VgParticipantHost *host;
  GstBin *pipeline;   /* borrowed: the room's */
  VgRoomGraph *graph; /* borrowed: the room's */
  const VgRoomsSettings *settings;
  const VgRoomsMetrics *metrics;
  GMainContext *context;
  char *room_name, *template_name;
  char *session_id, *identity, *name, *etag, *prefix;
  gint64 subtopic_id; /* from the join request, 0 = none */
  VgParticipantKind kind;
  VgParticipantState state;
  gint64 joined_at;
  gint64 request_time_us;
  gint64 state_since_us;
  VgOffer offer;

  VgParticipantMedia media;
  VgGraphNode *node;
  GstWebRTCDataChannel *events; /* main context only */
  GQueue pending_events;        /* main context: sent before the channel opened */

  VgJoinCallback join_callback;
  gpointer join_data;
  GSourceFunc teardown_done;
  gpointer teardown_data;
  GSource *gather_timeout;
  gboolean answer_ready; /* the local description is set */
  gboolean closed;
  gboolean session_sent;
  gboolean announced;       /* participant_joined was published */
  double connect_seconds;   /* request to first ICE connected, < 0 before */
};

static void participant_finish_answer (VgParticipant *p);

VgParticipant *
vg_participant_ref (VgParticipant *p)
{
  g_atomic_int_inc (&p->refcount);
  return p;
}

void
vg_participant_unref (VgParticipant *p)
{
  if (!g_atomic_int_dec_and_test (&p->refcount))
    return;
  vg_participant_media_clear (&p->media);
  g_clear_object (&p->events);
  g_queue_clear_full (&p->pending_events, g_free);
  vg_offer_clear (&p->offer);
  g_free (p->session_id);
  g_free (p->identity);
  g_free (p->name);
  g_free (p->etag);
  g_free (p->prefix);
  g_free (p->room_name);
  g_free (p->template_name);
  p->room_release (p->room);
  g_main_context_unref (p->context);
  g_free (p);
}

static void
closure_unref (gpointer data, GClosure *closure)
{
  vg_participant_unref (data);
}

static void
promise_data_unref (gpointer data)
{
  vg_participant_unref (data);
}

/* ---- marshalling to the main context ---- */

typedef void (*ParticipantFunc) (VgParticipant *p, gpointer arg);

typedef struct
{
  VgParticipant *p;
  ParticipantFunc fn;
  gpointer arg;
  GDestroyNotify arg_free;
} Invocation;

static gboolean
invocation_run (gpointer data)
{
  Invocation *inv = data;
  if (!inv->p->closed)
    inv->fn (inv->p, inv->arg);
  return G_SOURCE_REMOVE;
}

static void
invocation_free (gpointer data)
{
  Invocation *inv = data;
  if (inv->arg_free && inv->arg)
    inv->arg_free (inv->arg);
  vg_participant_unref (inv->p);
  g_free (inv);
}

/* From any thread: runs fn (p, arg) on the main context unless p closed by then. */
static void
participant_invoke (VgParticipant *p, ParticipantFunc fn, gpointer arg, GDestroyNotify arg_free)
{
  Invocation *inv = g_new0 (Invocation, 1);
  inv->p = vg_participant_ref (p);
  inv->fn = fn;
  inv->arg = arg;
  inv->arg_free = arg_free;
  GSource *source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, invocation_run, inv, invocation_free);
  g_source_attach (source, p->context);
  g_source_unref (source);
}

/* ---- accessors ---- */

const char *
vg_participant_get_session_id (VgParticipant *p)
{
  return p->session_id;
}

const char *
vg_participant_get_identity (VgParticipant *p)
{
  return p->identity;
}

const char *
vg_participant_get_name (VgParticipant *p)
{
  return p->name;
}

VgParticipantKind
vg_participant_get_kind (VgParticipant *p)
{
  return p->kind;
}

VgParticipantState
vg_participant_get_state (VgParticipant *p)
{
  return p->state;
}

const char *
vg_participant_state_to_string (VgParticipantState state)
{
  switch (state)
    {
      case VG_PARTICIPANT_JOINING:
        return "joining";
      case VG_PARTICIPANT_ACTIVE:
        return "active";
      case VG_PARTICIPANT_DISCONNECTED:
        return "disconnected";
    }
  return "unknown";
}

gint64
vg_participant_get_joined_at (VgParticipant *p)
{
  return p->joined_at;
}

double
vg_participant_get_connect_seconds (VgParticipant *p)
{
  return p->announced ? p->connect_seconds : -1;
}

gboolean
vg_participant_get_muted (VgParticipant *p)
{
  return g_atomic_int_get (&p->media.muted);
}

void
vg_participant_set_muted (VgParticipant *p, gboolean muted)
{
  g_atomic_int_set (&p->media.muted, muted ? 1 : 0);
}

VgRoom *
vg_participant_get_room (VgParticipant *p)
{
  return p->room;
}

const char *
vg_participant_get_etag (VgParticipant *p)
{
  return p->etag;
}

VgGraphNode *
vg_participant_get_graph_node (VgParticipant *p)
{
  return p->node;
}

const char *
vg_participant_get_element_prefix (VgParticipant *p)
{
  return p->prefix;
}

void
vg_participant_describe (VgParticipant *p, VgParticipantInfo *out)
{
  *out = (VgParticipantInfo){
    .session_id = p->session_id,
    .identity = p->identity,
    .name = p->name,
    .kind = p->kind,
    .state = p->state,
    .joined_at = p->joined_at,
    .muted = vg_participant_get_muted (p),
    .announced = p->announced,
    .connect_seconds = vg_participant_get_connect_seconds (p),
    .subtopic_id = p->subtopic_id,
    .media = &p->media.stats,
  };
}

const VgMediaStats *
vg_participant_get_media_stats (VgParticipant *p)
{
  return &p->media.stats;
}

const char *
vg_leave_reason_to_string (VgLeaveReason reason)
{
  static const char *const names[]
      = { "client",       "replaced", "disconnected", "silent",
          "join_timeout", "error",    "room_closed",  "certificate_mismatch" };
  return reason < G_N_ELEMENTS (names) ? names[reason] : "unknown";
}

/* Main context: the room removes p (at once, or not at all if it is already leaving). */
static void
leave (VgParticipant *p, VgLeaveReason reason)
{
  p->host->leave (p->room, p, reason);
}

static void
set_state (VgParticipant *p, VgParticipantState state)
{
  if (p->state == state)
    return;
  g_debug ("rooms: %s/%s %s -> %s", p->room_name, p->identity,
           vg_participant_state_to_string (p->state), vg_participant_state_to_string (state));
  p->state = state;
  p->state_since_us = g_get_monotonic_time ();
}

/* ---- creation ---- */

/* As webrtcbin decides it: "a=ice-lite" at the session or a media level. */
static gboolean
offer_is_ice_lite (const GstSDPMessage *sdp)
{
  if (gst_sdp_message_get_attribute_val (sdp, "ice-lite"))
    return TRUE;
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++)
    if (gst_sdp_media_get_attribute_val (gst_sdp_message_get_media (sdp, i), "ice-lite"))
      return TRUE;
  return FALSE;
}

VgParticipant *
vg_participant_new (const VgParticipantSetup *setup, const VgJoinRequest *request, GError **error)
{
  VgOffer offer;
  if (!vg_offer_parse (request->offer_sdp, &offer, error))
    {
      setup->room_release (setup->room);
      return NULL;
    }

  VgParticipant *p = g_new0 (VgParticipant, 1);
  p->refcount = 1;
  p->room = setup->room;
  p->room_release = setup->room_release;
  p->host = setup->host;
  p->pipeline = setup->pipeline;
  p->graph = setup->graph;
  p->settings = setup->settings;
  p->metrics = setup->metrics;
  p->context = g_main_context_ref (setup->context);
  p->room_name = g_strdup (setup->room_name);
  p->template_name = g_strdup (setup->template_name);
  p->session_id = g_uuid_string_random ();
  p->identity = g_strdup (request->identity);
  p->name = g_strdup (request->name);
  p->subtopic_id = MAX (request->subtopic_id, 0);
  p->kind = request->kind;
  p->state = VG_PARTICIPANT_JOINING;
  p->state_since_us = g_get_monotonic_time ();
  p->joined_at = g_get_real_time () / G_USEC_PER_SEC;
  p->request_time_us
      = request->request_time_us ? request->request_time_us : g_get_monotonic_time ();
  p->offer = offer;
  p->prefix = g_strdup (setup->element_prefix);
  g_autofree char *tag = g_uuid_string_random ();
  p->etag = g_strdup_printf ("\"%.8s\"", tag);

  /* An ice-lite offerer makes webrtcbin take the controlling ICE role,
   * which is agent-wide: such a peer gets an agent of its own, not the
   * shared one (shared-ice.h). The copy only lives through the build. */
  VgRoomsSettings own_ice = *p->settings;
  if (offer_is_ice_lite (offer.sdp))
    own_ice.shared_ice = FALSE;
  if (!vg_participant_media_build (&p->media, p->prefix, p->kind == VG_PARTICIPANT_PUBLISHER,
                                   offer.opus_pt, &own_ice, error))
    {
      vg_participant_unref (p);
      return NULL;
    }
  return p;
}

/* ---- webrtcbin signals (GStreamer threads) ---- */

static void
on_pad_added (GstElement *webrtc, GstPad *pad, gpointer data)
{
  VgParticipant *p = data;
  if (GST_PAD_DIRECTION (pad) == GST_PAD_SRC)
    vg_participant_media_link_incoming (&p->media, pad);
}

static void
handle_connection_state (VgParticipant *p, gpointer arg)
{
  GstWebRTCPeerConnectionState state = GPOINTER_TO_INT (arg);
  switch (state)
    {
      case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED:
        if (p->state == VG_PARTICIPANT_JOINING)
          {
            p->connect_seconds = (g_get_monotonic_time () - p->request_time_us) / 1e6;
            if (p->metrics->connect_seconds)
              vg_metric_observe (p->metrics->connect_seconds, NULL, p->connect_seconds);
            if (p->metrics->participants_joined)
              vg_metric_add (
                  p->metrics->participants_joined,
                  (const char *const[]){
                      p->kind == VG_PARTICIPANT_PUBLISHER ? "publisher" : "listener", NULL },
                  1);
          }
        set_state (p, VG_PARTICIPANT_ACTIVE);
        if (!p->announced && !p->closed)
          {
            p->announced = TRUE;
            p->host->connected (p->room, p);
          }
        break;
      case GST_WEBRTC_PEER_CONNECTION_STATE_DISCONNECTED:
        if (p->state == VG_PARTICIPANT_ACTIVE)
          set_state (p, VG_PARTICIPANT_DISCONNECTED);
        break;
      case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED:
        leave (p, VG_LEAVE_DISCONNECTED);
        break;
      default:
        break;
    }
}

static void
handle_certificate_mismatch (VgParticipant *p, gpointer arg)
{
  g_warning ("rooms: %s/%s presented a DTLS certificate that is not the offer's fingerprint",
             p->room_name, p->identity);
  leave (p, VG_LEAVE_CERTIFICATE);
}

/* webrtcbin's thread. The certificate is checked before the participant's
 * media opens: a peer whose certificate is not the one its offer announced
 * hears and sends nothing, and is removed. */
static void
on_connection_state (GObject *webrtc, GParamSpec *pspec, gpointer data)
{
  VgParticipant *p = data;
  GstWebRTCPeerConnectionState state;
  g_object_get (webrtc, "connection-state", &state, NULL);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
    {
      g_autofree char *pem = vg_participant_media_peer_certificate (&p->media);
      if (!vg_offer_certificate_matches (&p->offer, pem))
        {
          participant_invoke (p, handle_certificate_mismatch, NULL, NULL);
          return;
        }
    }
  /* Here, not on the main context: the mixer's output opens at once. */
  vg_participant_media_set_connected (&p->media,
                                      state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED);
  participant_invoke (p, handle_connection_state, GINT_TO_POINTER (state), NULL);
}

static void
handle_gathering_state (VgParticipant *p, gpointer arg)
{
  if (GPOINTER_TO_INT (arg) == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE && p->answer_ready)
    participant_finish_answer (p);
}

static void
on_gathering_state (GObject *webrtc, GParamSpec *pspec, gpointer data)
{
  GstWebRTCICEGatheringState state;
  g_object_get (webrtc, "ice-gathering-state", &state, NULL);
  participant_invoke (data, handle_gathering_state, GINT_TO_POINTER (state), NULL);
}

/* ---- the "events" data channel ---- */

static void
send_session_event (VgParticipant *p)
{
  if (p->session_sent)
    return;
  p->session_sent = TRUE;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "session");
  json_builder_set_member_name (b, "session_id");
  json_builder_add_string_value (b, p->session_id);
  json_builder_set_member_name (b, "room");
  json_builder_add_string_value (b, p->room_name);
  json_builder_set_member_name (b, "identity");
  json_builder_add_string_value (b, p->identity);
  json_builder_set_member_name (b, "agent");
  json_builder_add_string_value (b, p->template_name);
  const char *state = p->host->agent_state (p->room);
  if (state)
    {
      json_builder_set_member_name (b, "agent_state");
      json_builder_add_string_value (b, state);
    }
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, FALSE);
  vg_participant_send_event (p, text);
}

/* The agent speaks first as soon as the audio path is up, which is before
 * the client's "events" channel opens: what the room sends meanwhile (the
 * greeting's transcript, states) waits here, bounded, and follows the
 * session message in order. */
#define PENDING_EVENTS_MAX 32

static void
handle_channel_open (VgParticipant *p, gpointer arg)
{
  send_session_event (p);
  char *json;
  while ((json = g_queue_pop_head (&p->pending_events)))
    {
      vg_participant_send_event (p, json);
      g_free (json);
    }
}

static void
on_channel_open (GstWebRTCDataChannel *channel, gpointer data)
{
  participant_invoke (data, handle_channel_open, NULL, NULL);
}

static void
handle_channel_message (VgParticipant *p, gpointer arg)
{
  p->host->client_event (p->room, p, arg);
}

static void
on_channel_message (GstWebRTCDataChannel *channel, const char *text, gpointer data)
{
  if (text)
    participant_invoke (data, handle_channel_message, g_strdup (text), g_free);
}

static void
handle_data_channel (VgParticipant *p, gpointer arg)
{
  GstWebRTCDataChannel *channel = arg;
  g_autofree char *label = NULL;
  g_object_get (channel, "label", &label, NULL);
  if (g_strcmp0 (label, "events") != 0 || p->events)
    return; /* other channels are the client's business; we do not answer them */
  p->events = g_object_ref (channel);
  g_signal_connect_data (channel, "on-open", G_CALLBACK (on_channel_open), vg_participant_ref (p),
                         closure_unref, 0);
  g_signal_connect_data (channel, "on-message-string", G_CALLBACK (on_channel_message),
                         vg_participant_ref (p), closure_unref, 0);
  GstWebRTCDataChannelState ready;
  g_object_get (channel, "ready-state", &ready, NULL);
  if (ready == GST_WEBRTC_DATA_CHANNEL_STATE_OPEN)
    handle_channel_open (p, NULL);
}

static void
on_data_channel (GstElement *webrtc, GstWebRTCDataChannel *channel, gpointer data)
{
  participant_invoke (data, handle_data_channel, g_object_ref (channel), g_object_unref);
}

void
vg_participant_send_event (VgParticipant *p, const char *json)
{
  if (p->closed)
    return;
  GstWebRTCDataChannelState ready = GST_WEBRTC_DATA_CHANNEL_STATE_CONNECTING;
  if (p->events)
    g_object_get (p->events, "ready-state", &ready, NULL);
  if (ready == GST_WEBRTC_DATA_CHANNEL_STATE_CONNECTING)
    {
      if (g_queue_get_length (&p->pending_events) == PENDING_EVENTS_MAX)
        g_free (g_queue_pop_head (&p->pending_events));
      g_queue_push_tail (&p->pending_events, g_strdup (json));
      return;
    }
  if (ready != GST_WEBRTC_DATA_CHANNEL_STATE_OPEN)
    return;
  g_signal_emit_by_name (p->events, "send-string", json);
}

/* ---- negotiation: offer in, answer (after ICE gathering) out ---- */

static void
clear_gather_timeout (VgParticipant *p)
{
  if (p->gather_timeout)
    {
      g_source_destroy (p->gather_timeout);
      g_source_unref (p->gather_timeout);
      p->gather_timeout = NULL;
    }
}

static void
finish_join (VgParticipant *p, const char *answer, const GError *error)
{
  VgJoinCallback cb = p->join_callback;
  gpointer data = p->join_data;
  p->join_callback = NULL;
  clear_gather_timeout (p);
  if (cb)
    cb (p, answer, error, data);
}

static void
fail_join (VgParticipant *p, const char *message)
{
  g_autoptr (GError) error
      = g_error_new (VG_ROOMS_ERROR, VG_ROOMS_ERROR_NEGOTIATION, "negotiation failed: %s", message);
  vg_participant_ref (p);
  finish_join (p, NULL, error);
  leave (p, VG_LEAVE_ERROR);
  vg_participant_unref (p);
}

static void
participant_finish_answer (VgParticipant *p)
{
  if (!p->join_callback)
    return;
  GstWebRTCSessionDescription *local = NULL;
  g_object_get (p->media.webrtc, "local-description", &local, NULL);
  if (!local)
    {
      fail_join (p, "no local description");
      return;
    }
  /* webrtcbin keeps its own local description; the client is told the
   * addresses it can reach, mapped on a copy. */
  GstSDPMessage *sdp = NULL;
  gst_sdp_message_copy (local->sdp, &sdp);
  gst_webrtc_session_description_free (local);
  if (p->settings->nat_address)
    vg_sdp_map_host_candidates (sdp, p->settings->nat_address, p->settings->keep_private_host);
  guint candidates = vg_sdp_count_candidates (sdp);
  g_autofree char *text = gst_sdp_message_as_text (sdp);
  gst_sdp_message_free (sdp);
  if (candidates == 0)
    {
      /* Without a candidate the client could never connect: say why now
       * rather than time out later. */
      g_autoptr (GError) error = g_error_new (
          VG_ROOMS_ERROR, VG_ROOMS_ERROR_NO_CANDIDATES,
          "ICE gathered no candidate: every UDP port in [webrtc] ice_port_min..ice_port_max "
          "may be in use, or no local address is usable");
      g_warning ("rooms: %s (%s)", error->message, p->identity);
      vg_participant_ref (p);
      finish_join (p, NULL, error);
      leave (p, VG_LEAVE_ERROR);
      vg_participant_unref (p);
      return;
    }
  finish_join (p, text, NULL);
}

static gboolean
gather_timeout (gpointer data)
{
  VgParticipant *p = data;
  clear_gather_timeout (p);
  /* Answer with the candidates gathered so far; the rest would need trickle. */
  participant_finish_answer (p);
  return G_SOURCE_REMOVE;
}

static void
handle_answer_created (VgParticipant *p, gpointer arg)
{
  GstPromise *promise = arg;
  const GstStructure *reply = gst_promise_get_reply (promise);
  GstWebRTCSessionDescription *answer = NULL;
  if (reply)
    gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, NULL);
  if (!answer)
    {
      fail_join (p, "webrtcbin created no answer");
      return;
    }
  g_signal_emit_by_name (p->media.webrtc, "set-local-description", answer, NULL);
  gst_webrtc_session_description_free (answer);
  p->answer_ready = TRUE;

  GstWebRTCICEGatheringState gathering;
  g_object_get (p->media.webrtc, "ice-gathering-state", &gathering, NULL);
  if (gathering == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    {
      participant_finish_answer (p);
      return;
    }
  guint timeout = p->settings->ice_gather_timeout_ms;
  p->gather_timeout = g_timeout_source_new (timeout);
  g_source_set_callback (p->gather_timeout, gather_timeout, p, NULL);
  g_source_attach (p->gather_timeout, p->context);
}

static void
on_answer_created (GstPromise *promise, gpointer data)
{
  participant_invoke (data, handle_answer_created, gst_promise_ref (promise),
                      (GDestroyNotify)gst_promise_unref);
}

static void
handle_remote_set (VgParticipant *p, gpointer arg)
{
  GstPromise *promise = arg;
  const GstStructure *reply = gst_promise_get_reply (promise);
  if (reply && gst_structure_has_field (reply, "error"))
    {
      GError *error = NULL;
      gst_structure_get (reply, "error", G_TYPE_ERROR, &error, NULL);
      fail_join (p, error ? error->message : "the offer was refused");
      g_clear_error (&error);
      return;
    }
  GstPromise *next = gst_promise_new_with_change_func (on_answer_created, vg_participant_ref (p),
                                                       promise_data_unref);
  g_signal_emit_by_name (p->media.webrtc, "create-answer", NULL, next);
  gst_promise_unref (next);
}

static void
on_remote_set (GstPromise *promise, gpointer data)
{
  participant_invoke (data, handle_remote_set, gst_promise_ref (promise),
                      (GDestroyNotify)gst_promise_unref);
}

static void
connect_webrtc_signal (VgParticipant *p, const char *signal, GCallback cb)
{
  /* The closure owns a reference: GSignal keeps it until no emission uses it. */
  g_signal_connect_data (p->media.webrtc, signal, cb, vg_participant_ref (p), closure_unref, 0);
}

gboolean
vg_participant_start (VgParticipant *p, VgJoinCallback callback, gpointer user_data, GError **error)
{
  p->join_callback = callback;
  p->join_data = user_data;
  connect_webrtc_signal (p, "pad-added", G_CALLBACK (on_pad_added));
  connect_webrtc_signal (p, "notify::connection-state", G_CALLBACK (on_connection_state));
  connect_webrtc_signal (p, "notify::ice-gathering-state", G_CALLBACK (on_gathering_state));
  connect_webrtc_signal (p, "on-data-channel", G_CALLBACK (on_data_channel));

  if (!vg_participant_media_add_to (&p->media, p->pipeline, error))
    return FALSE;

  GstSDPMessage *copy = NULL;
  gst_sdp_message_copy (p->offer.sdp, &copy);
  GstWebRTCSessionDescription *offer
      = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, copy);
  GstPromise *promise = gst_promise_new_with_change_func (on_remote_set, vg_participant_ref (p),
                                                          promise_data_unref);
  g_signal_emit_by_name (p->media.webrtc, "set-remote-description", offer, promise);
  gst_webrtc_session_description_free (offer);
  gst_promise_unref (promise);

  g_autofree char *label = g_strconcat (p->prefix, p->identity, NULL);
  p->node = vg_room_graph_attach (p->graph, label, p->media.tee, p->media.mixer, p->media.mix_into,
                                  FALSE);
  return TRUE;
}

/* ---- trickle ICE ---- */

gboolean
vg_participant_add_ice_sdpfrag (VgParticipant *p, const char *sdpfrag, GError **error)
{
  VgSdpFrag frag;
  if (!vg_sdp_parse_frag (sdpfrag, &frag, error))
    return FALSE;
  gint mline = vg_offer_frag_mline (&p->offer, frag.ufrag);
  if (mline == VG_OFFER_FRAG_RESTART)
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_INVALID, "ICE restarts are not supported");
      vg_sdp_frag_clear (&frag);
      return FALSE;
    }
  /* A transport bundled away has no candidates to add (the offerer drops
   * it once it reads the answer); the others go to their section's m-line,
   * which webrtcbin maps to the bundle's transport when bundled. */
  for (guint i = 0; mline >= 0 && i < frag.candidates->len; i++)
    g_signal_emit_by_name (p->media.webrtc, "add-ice-candidate", (guint)mline,
                           (const char *)g_ptr_array_index (frag.candidates, i));
  vg_sdp_frag_clear (&frag);
  return TRUE;
}

/* ---- statistics, timeouts ---- */

static void
handle_stats (VgParticipant *p, gpointer arg)
{
  vg_participant_media_record_stats (&p->media, gst_promise_get_reply (arg), p->metrics);
}

/* webrtcbin's thread: the reply goes to the main context, where the room
 * API reads the participant's statistics. */
static void
on_stats (GstPromise *promise, gpointer data)
{
  participant_invoke (data, handle_stats, gst_promise_ref (promise),
                      (GDestroyNotify)gst_promise_unref);
}

void
vg_participant_tick (VgParticipant *p, gint64 now_us, gboolean sample_stats)
{
  gint64 timeout_us = (gint64)p->settings->disconnect_timeout_ms * 1000;
  if (p->state == VG_PARTICIPANT_JOINING
      && now_us - p->state_since_us > (gint64)p->settings->join_timeout_ms * 1000)
    {
      leave (p, VG_LEAVE_JOIN_TIMEOUT);
      return;
    }
  if (p->state == VG_PARTICIPANT_DISCONNECTED && now_us - p->state_since_us > timeout_us)
    {
      leave (p, VG_LEAVE_DISCONNECTED);
      return;
    }
  /* A peer that vanishes may leave ICE "connected" for a long time (no consent
   * checks in this libnice); a publisher's silence is the faster signal. */
  if (p->state == VG_PARTICIPANT_ACTIVE && p->kind == VG_PARTICIPANT_PUBLISHER)
    {
      gint64 last = vg_participant_media_last_rx_us (&p->media);
      gint64 since = MAX (last, p->state_since_us);
      if (now_us - since > timeout_us)
        {
          leave (p, VG_LEAVE_SILENT);
          return;
        }
    }
  if (sample_stats && p->state == VG_PARTICIPANT_ACTIVE)
    {
      GstPromise *promise
          = gst_promise_new_with_change_func (on_stats, vg_participant_ref (p), promise_data_unref);
      g_signal_emit_by_name (p->media.webrtc, "get-stats", NULL, promise);
      gst_promise_unref (promise);
    }
}

/* ---- leaving ---- */

void
vg_participant_leave (VgParticipant *p)
{
  leave (p, VG_LEAVE_CLIENT);
}

void
vg_participant_close (VgParticipant *p)
{
  if (p->closed)
    return;
  if (p->join_callback)
    {
      g_autoptr (GError) error = g_error_new (VG_ROOMS_ERROR, VG_ROOMS_ERROR_CLOSED,
                                              "the participant left before it was answered");
      finish_join (p, NULL, error);
    }
  p->closed = TRUE;
  set_state (p, VG_PARTICIPANT_DISCONNECTED);
  clear_gather_timeout (p);
  if (p->events)
    {
      g_signal_handlers_disconnect_by_func (p->events, on_channel_message, p);
      g_signal_handlers_disconnect_by_func (p->events, on_channel_open, p);
    }
  if (p->media.webrtc)
    {
      g_signal_handlers_disconnect_by_func (p->media.webrtc, on_pad_added, p);
      g_signal_handlers_disconnect_by_func (p->media.webrtc, on_connection_state, p);
      g_signal_handlers_disconnect_by_func (p->media.webrtc, on_gathering_state, p);
      g_signal_handlers_disconnect_by_func (p->media.webrtc, on_data_channel, p);
    }
}

void
vg_participant_stop_media (VgParticipant *p)
{
  vg_participant_media_stop (&p->media);
}

static void
participant_detached (gpointer data)
{
  VgParticipant *p = data;
  vg_participant_media_stop_async (&p->media, p->context, p->teardown_done, p->teardown_data);
}

void
vg_participant_teardown (VgParticipant *p, GSourceFunc done, gpointer user_data)
{
  VgGraphNode *node = p->node;
  p->node = NULL;
  p->teardown_done = done;
  p->teardown_data = user_data;
  if (node)
    vg_room_graph_detach (p->graph, node, participant_detached, p);
  else
    participant_detached (p);
}
