/* One room: its pipeline, agent, routing graph and participants; see room.h.
 *
 * Owns the pipeline, the agent's elements, the graph, the event publisher
 * and a reference to each participant (join order; those still stopping
 * when the room closed move to closing). A join runs: registry -> room
 * (vg_room_join: checks, then makes the participant with all it needs) ->
 * participant (offer, elements, negotiation, graph node) -> graph. The
 * participant answers through participant_host only.
 *
 * Tool calls: with agent hooks set (rooms.h), a realtime-function-call is
 * remembered in pending_calls and handed to the hook; the answer
 * (vg_room_answer_tool_call) reaches the agent, the participants and the
 * event bus together, so each sees the call with its real result once.
 *
 * Greeting: when a publisher connects, the learner_ready hook gets it; the
 * composed session comes back through vg_room_set_agent_instructions and
 * vg_room_agent_respond (the agent's property and action signal).
 *
 * Threading: the main context runs everything here except
 * agent_output_probe (a streaming thread: one atomic, a metric and the
 * latency window, each under its own short lock),
 * room_stopped (a GStreamer worker: hands over to the main context) and
 * stop_pipeline (that worker, or the caller of vg_room_close (wait)). */
#include "gateway/rooms/room.h"
#include "gateway/rooms/participant.h"
#include "gateway/rooms/room-events.h"
#include "gateway/rooms/room-graph.h"
#include "gateway/rooms/agent-binding.h"
#include "gateway/rooms/latency-window.h"
#include <json-glib/json-glib.h>

struct _VgRoom
{
  guint refcount;
  VgRooms *rooms; /* given back to host */
  const VgRoomHost *host;
  const VgRoomsSettings *settings;
  const VgRoomsMetrics *metrics;
  VgRoomEvents *events;
  GMainContext *context;
  char *name, *template_name, *metadata;
  gint64 subtopic_id; /* 0 = none; given at creation, moved by vg_room_set_subtopic */
  gint64 created_at;
  guint max_participants, empty_timeout_s;

  GstPipeline *pipeline;
  GstElement *agent_bin, *agent; /* agent may be NULL (loopback) */
  GstElement *agent_mixer, *agent_tee;
  VgRoomGraph *graph;
  VgGraphNode *agent_node;
  const char *agent_state; /* static string or NULL */
  gint64 user_turn_end_us; /* atomic; 0 = no turn waiting for the agent's voice */
  VgLatencyWindow agent_latency; /* end of the user's turn to the agent's voice */

  GHashTable *pending_calls; /* call id -> PendingCall*, owned: handed to the hooks, unanswered */
  GPtrArray *participants;   /* VgParticipant*, owned refs, join order */
  GPtrArray *closing;      /* participants still in the pipeline when it closed */
  GSource *bus_source, *tick_source, *empty_source;
  GSource *latency_source; /* a pending latency recalculation */
  guint ticks;
  gboolean closed;

  /* vg_room_leave_after_reply: who leaves once the agent's reply has
   * played (speaking, then listening), or at leave_source's timeout. */
  char *leave_identity;
  gboolean leave_heard_speaking;
  GSource *leave_source;
};

/* More unanswered calls than this means the executor is stuck: answer at once. */
#define PENDING_CALLS_MAX 32

typedef struct
{
  char *name, *arguments;
  gint64 since_us; /* monotonic: when it was handed to the hooks */
} PendingCall;

static void
pending_call_free (gpointer data)
{
  PendingCall *c = data;
  g_free (c->name);
  g_free (c->arguments);
  g_free (c);
}

static void drop_participant (VgRoom *room, VgParticipant *p, VgLeaveReason reason);
static void leave_on_state (VgRoom *room, const char *state);
static gboolean was_announced (VgParticipant *p);

static GSource *
attach_timeout (VgRoom *room, guint ms, GSourceFunc fn)
{
  GSource *source = g_timeout_source_new (ms);
  g_source_set_callback (source, fn, room, NULL);
  g_source_attach (source, room->context);
  return source;
}

static void
clear_source (GSource **source)
{
  if (*source)
    {
      g_source_destroy (*source);
      g_source_unref (*source);
      *source = NULL;
    }
}

/* ---- accessors ---- */

const char *
vg_room_get_name (VgRoom *room)
{
  return room->name;
}

const char *
vg_room_get_template (VgRoom *room)
{
  return room->template_name;
}

const char *
vg_room_get_metadata (VgRoom *room)
{
  return room->metadata;
}

void
vg_room_set_metadata (VgRoom *room, const char *metadata)
{
  g_free (room->metadata);
  room->metadata = g_strdup (metadata);
}

gint64
vg_room_get_subtopic_id (VgRoom *room)
{
  return room->subtopic_id;
}

gint64
vg_room_get_created_at (VgRoom *room)
{
  return room->created_at;
}

guint
vg_room_get_max_participants (VgRoom *room)
{
  return room->max_participants;
}

guint
vg_room_get_empty_timeout (VgRoom *room)
{
  return room->empty_timeout_s;
}

guint
vg_room_count_participants (VgRoom *room)
{
  return room->participants->len;
}

GPtrArray *
vg_room_list_participants (VgRoom *room)
{
  /* Borrowed pointers: the copy must not keep the original's free function,
   * or freeing the list would unref every participant. */
  GPtrArray *list = g_ptr_array_copy (room->participants, NULL, NULL);
  g_ptr_array_set_free_func (list, NULL);
  return list;
}

VgParticipant *
vg_room_lookup_participant (VgRoom *room, const char *identity)
{
  for (guint i = 0; i < room->participants->len; i++)
    {
      VgParticipant *p = g_ptr_array_index (room->participants, i);
      if (g_strcmp0 (vg_participant_get_identity (p), identity) == 0)
        return p;
    }
  return NULL;
}

GstPipeline *
vg_room_get_pipeline (VgRoom *room)
{
  return room->pipeline;
}

GstElement *
vg_room_get_agent (VgRoom *room)
{
  return room->agent;
}

/* ---- events ---- */

static void
describe (VgRoom *room, VgRoomInfo *out)
{
  *out = (VgRoomInfo){
    .name = room->name,
    .template_name = room->template_name,
    .metadata = room->metadata,
    .subtopic_id = room->subtopic_id,
    .created_at = room->created_at,
    .empty_timeout_s = room->empty_timeout_s,
    .max_participants = room->max_participants,
    .num_participants = room->participants->len,
  };
}

/* p may be NULL (a room event). */
static void
publish (VgRoom *room, VgEventType type, VgParticipant *p)
{
  VgRoomInfo info;
  VgParticipantInfo pinfo;
  if (!vg_room_events_enabled (room->events))
    return;
  describe (room, &info);
  if (p)
    vg_participant_describe (p, &pinfo);
  vg_room_events_publish (room->events, type, &info, p ? &pinfo : NULL);
}

void
vg_room_broadcast (VgRoom *room, const char *json)
{
  for (guint i = 0; i < room->participants->len; i++)
    vg_participant_send_event (g_ptr_array_index (room->participants, i), json);
}

static void
send_error_event (VgParticipant *p, const char *code, const char *message)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "error");
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, FALSE);
  vg_participant_send_event (p, text);
}

static void
participant_client_event (VgRoom *room, VgParticipant *participant, const char *json)
{
  const char *code = NULL;
  g_autofree char *typed = NULL;
  if (!vg_agent_apply_client_event (room->agent, json, &code, &typed))
    send_error_event (participant, code, "the event was not applied");
  else if (typed && vg_room_events_enabled (room->events))
    {
      VgRoomInfo info;
      describe (room, &info);
      vg_room_events_publish_typed_text (room->events, &info,
                                         vg_participant_get_session_id (participant), typed);
    }
}

static const char *
struct_string_or_empty (const GstStructure *s, const char *field)
{
  const char *v = gst_structure_get_string (s, field);
  return v ? v : "";
}

static void
publish_agent_message (VgRoom *room, const GstStructure *s)
{
  VgRoomInfo info;
  if (!vg_room_events_enabled (room->events))
    return;
  describe (room, &info);
  vg_room_events_publish_agent_message (room->events, &info, s);
}

/* The room's publishing learner (the first in join order), or NULL. */
static VgParticipant *
learner (VgRoom *room)
{
  for (guint i = 0; i < room->participants->len; i++)
    {
      VgParticipant *p = g_ptr_array_index (room->participants, i);
      if (vg_participant_get_kind (p) == VG_PARTICIPANT_PUBLISHER)
        return p;
    }
  return NULL;
}

/* What the room teaches p (may be NULL): the room's subtopic, else p's
 * token's (rooms.h, VgAgentLearner). */
static gint64
learner_subtopic (VgRoom *room, VgParticipant *p)
{
  if (room->subtopic_id > 0 || !p)
    return room->subtopic_id;
  VgParticipantInfo info;
  vg_participant_describe (p, &info);
  return MAX (info.subtopic_id, 0);
}

/* TRUE when the hooks took the call (it is then pending). */
static gboolean
hand_to_hooks (VgRoom *room, const GstStructure *s)
{
  gpointer data = NULL;
  const VgAgentHooks *hooks = room->host->agent_hooks (room->rooms, &data);
  const char *call_id = gst_structure_get_string (s, "call-id");
  if (!hooks || !hooks->tool_call || !call_id || !*call_id)
    return FALSE;
  if (g_hash_table_contains (room->pending_calls, call_id))
    return FALSE;
  gboolean busy = g_hash_table_size (room->pending_calls) >= PENDING_CALLS_MAX;
  PendingCall *pending = g_new0 (PendingCall, 1);
  pending->name = g_strdup (struct_string_or_empty (s, "name"));
  pending->arguments = g_strdup (struct_string_or_empty (s, "arguments"));
  pending->since_us = g_get_monotonic_time ();
  g_hash_table_insert (room->pending_calls, g_strdup (call_id), pending);
  if (busy)
    {
      g_warning ("rooms: %s: tool call %s refused: %u calls unanswered", room->name, call_id,
                 PENDING_CALLS_MAX);
      vg_room_answer_tool_call (room, call_id,
                                "{\"error\":\"the gateway is still busy with earlier tool calls; "
                                "try again shortly\"}");
      return TRUE;
    }
  VgParticipant *p = learner (room);
  VgAgentToolCall call = {
    .room = room->name,
    .template_name = room->template_name,
    .subtopic_id = learner_subtopic (room, p),
    .identity = p ? vg_participant_get_identity (p) : NULL,
    .display_name = p ? vg_participant_get_name (p) : NULL,
    .call_id = call_id,
    .name = pending->name,
    .arguments = pending->arguments,
  };
  hooks->tool_call (data, &call);
  return TRUE;
}

gboolean
vg_room_answer_tool_call (VgRoom *room, const char *call_id, const char *output_json)
{
  gpointer key = NULL, value = NULL;
  if (room->closed || !call_id || !output_json
      || !g_hash_table_steal_extended (room->pending_calls, call_id, &key, &value))
    return FALSE;
  g_autofree char *id = key;
  PendingCall *pending = value;
  if (room->metrics->agent_tool_seconds)
    vg_metric_observe (room->metrics->agent_tool_seconds, NULL,
                       (g_get_monotonic_time () - pending->since_us) / 1e6);
  gboolean sent = vg_agent_send_function_result (room->agent, id, output_json);
  g_autofree char *event = vg_agent_tool_event (pending->name, pending->arguments, output_json);
  vg_room_broadcast (room, event);
  if (vg_room_events_enabled (room->events))
    {
      VgRoomInfo info;
      describe (room, &info);
      vg_room_events_publish_tool_call (room->events, &info, pending->name, pending->arguments,
                                        output_json);
    }
  pending_call_free (pending);
  return sent;
}

gboolean
vg_room_set_subtopic (VgRoom *room, gint64 subtopic_id)
{
  if (room->closed || subtopic_id <= 0)
    return FALSE;
  room->subtopic_id = subtopic_id;
  return TRUE;
}

gboolean
vg_room_set_agent_instructions (VgRoom *room, const char *instructions)
{
  if (room->closed || !room->agent || !instructions
      || !g_object_class_find_property (G_OBJECT_GET_CLASS (room->agent), "instructions"))
    return FALSE;
  g_object_set (room->agent, "instructions", instructions, NULL);
  return TRUE;
}

gboolean
vg_room_agent_respond (VgRoom *room, const char *instructions)
{
  if (room->closed || !room->agent || !g_signal_lookup ("respond", G_OBJECT_TYPE (room->agent)))
    return FALSE;
  g_signal_emit_by_name (room->agent, "respond", instructions);
  return TRUE;
}

static void
handle_agent_message (VgRoom *room, GstMessage *msg)
{
  const GstStructure *s = gst_message_get_structure (msg);
  if (!s)
    return;
  room->host->agent_message (room->rooms, room, s);
  if (gst_structure_has_name (s, "realtime-usage"))
    {
      publish_agent_message (room, s);
      return;
    }
  if (gst_structure_has_name (s, "realtime-error") && room->metrics->agent_errors)
    vg_metric_add (room->metrics->agent_errors, (const char *const[]){ "realtime", NULL }, 1);
  const char *state = NULL;
  g_autofree char *event = vg_agent_event_from_message (s, &state);
  if (!event)
    return;
  if (state)
    {
      /* "thinking" follows the end of the user's turn; the agent's first
       * voice after it closes the response time (see agent_output_probe). */
      if (g_str_equal (state, "thinking"))
        __atomic_store_n (&room->user_turn_end_us, g_get_monotonic_time (), __ATOMIC_RELAXED);
      room->agent_state = state;
      leave_on_state (room, state);
    }
  if (gst_message_has_name (msg, "realtime-function-call"))
    {
      if (hand_to_hooks (room, s))
        return; /* broadcast and published with the result, when answered */
      vg_agent_answer_function_call (room->agent, s);
    }
  vg_room_broadcast (room, event);
  publish_agent_message (room, s);
}

/* The name of object's ancestor that is a direct child of the pipeline. */
static const char *
participant_top_name (VgRoom *room, GstObject *object)
{
  GstObject *top = object;
  while (top && GST_OBJECT_PARENT (top) && GST_OBJECT_PARENT (top) != GST_OBJECT (room->pipeline))
    top = GST_OBJECT_PARENT (top);
  return top ? GST_OBJECT_NAME (top) : NULL;
}

/* The participant whose elements include object, or NULL (also for one that
 * is already leaving: its elements report errors while they stop). */
static VgParticipant *
participant_of_object (VgRoom *room, GstObject *object)
{
  const char *name = participant_top_name (room, object);
  if (!name)
    return NULL;
  for (guint i = 0; i < room->participants->len; i++)
    {
      VgParticipant *p = g_ptr_array_index (room->participants, i);
      if (g_str_has_prefix (name, vg_participant_get_element_prefix (p)))
        return p;
    }
  return NULL;
}

static gboolean
recalculate_latency (gpointer data)
{
  VgRoom *room = data;
  g_clear_pointer (&room->latency_source, g_source_unref);
  gst_bin_recalculate_latency (GST_BIN (room->pipeline));
  return G_SOURCE_REMOVE;
}

static gboolean
on_bus_message (GstBus *bus, GstMessage *msg, gpointer data)
{
  VgRoom *room = data;
  switch (GST_MESSAGE_TYPE (msg))
    {
      case GST_MESSAGE_ELEMENT:
        handle_agent_message (room, msg);
        break;
      case GST_MESSAGE_LATENCY:
        /* Each mixer times out on a missing input after the latency it learnt
         * from its last latency query. The pipeline does not query again by
         * itself when the graph changes (a participant's decoder starts, a
         * link is added), and a mixer left with an old, shorter latency drops
         * every buffer that arrives after it, for good: silence. A join
         * posts several (links, decoder, jitterbuffer): one query answers
         * them all, so they are coalesced into one idle recalculation. */
        if (!room->latency_source)
          {
            room->latency_source = g_idle_source_new ();
            g_source_set_callback (room->latency_source, recalculate_latency, room, NULL);
            g_source_attach (room->latency_source, room->context);
          }
        break;
      case GST_MESSAGE_ERROR:
        {
          g_autoptr (GError) error = NULL;
          gst_message_parse_error (msg, &error, NULL);
          VgParticipant *p = participant_of_object (room, GST_MESSAGE_SRC (msg));
          g_warning ("rooms: %s: %s: %s", room->name, GST_MESSAGE_SRC_NAME (msg), error->message);
          const char *top = participant_top_name (room, GST_MESSAGE_SRC (msg));
          if (p)
            drop_participant (room, p, VG_LEAVE_ERROR);
          else if (top && (g_str_has_prefix (top, "agent") || g_str_has_prefix (top, "room-")))
            {
              /* The agent or the room's own elements failed: tell the clients. */
              if (room->metrics->agent_errors)
                vg_metric_add (room->metrics->agent_errors,
                               (const char *const[]){ "pipeline", NULL }, 1);
              g_autofree char *event = g_strdup_printf (
                  "{\"type\":\"error\",\"code\":\"agent_failed\",\"message\":\"the room's agent "
                  "pipeline stopped\"}");
              vg_room_broadcast (room, event);
            }
          break;
        }
      default:
        break;
    }
  return G_SOURCE_CONTINUE;
}

static GstPadProbeReturn
agent_output_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  VgRoom *room = data;
  gint64 start = __atomic_load_n (&room->user_turn_end_us, __ATOMIC_RELAXED);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  if (!start || GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_GAP))
    return GST_PAD_PROBE_OK;
  GstMapInfo map;
  gboolean voiced = FALSE;
  if (gst_buffer_map (buffer, &map, GST_MAP_READ))
    {
      for (gsize i = 0; i < map.size && !voiced; i++)
        voiced = map.data[i] != 0;
      gst_buffer_unmap (buffer, &map);
    }
  if (voiced
      && __atomic_compare_exchange_n (&room->user_turn_end_us, &start, 0, FALSE, __ATOMIC_RELAXED,
                                      __ATOMIC_RELAXED))
    {
      double seconds = (g_get_monotonic_time () - start) / 1e6;
      vg_latency_window_add (&room->agent_latency, seconds);
      if (room->metrics->agent_response_seconds)
        vg_metric_observe (room->metrics->agent_response_seconds, NULL, seconds);
    }
  return GST_PAD_PROBE_OK;
}

void
vg_room_get_agent_latency (VgRoom *room, VgLatencySummary *out)
{
  vg_latency_window_summarize (&room->agent_latency, out);
}

/* ---- lifecycle ---- */

void
vg_room_publish_started (VgRoom *room)
{
  publish (room, VG_EVENT_ROOM_STARTED, NULL);
}

static gboolean
empty_timeout (gpointer data)
{
  VgRoom *room = data;
  g_message ("rooms: closing %s, empty for %u s", room->name, room->empty_timeout_s);
  clear_source (&room->empty_source);
  room->host->empty (room->rooms, room);
  return G_SOURCE_REMOVE;
}

static void
arm_empty_timeout (VgRoom *room)
{
  clear_source (&room->empty_source);
  if (!room->closed && room->participants->len == 0)
    room->empty_source
        = attach_timeout (room, MAX (room->empty_timeout_s, 1) * 1000, empty_timeout);
}

static gboolean
room_tick (gpointer data)
{
  VgRoom *room = data;
  room->ticks++;
  gboolean stats = room->ticks % MAX (room->settings->stats_interval_s, 1) == 0;
  gint64 now = g_get_monotonic_time ();
  /* A tick may drop participants: walk a copy that holds them. */
  GPtrArray *list = g_ptr_array_new ();
  for (guint i = 0; i < room->participants->len; i++)
    g_ptr_array_add (list, vg_participant_ref (g_ptr_array_index (room->participants, i)));
  for (guint i = 0; i < list->len; i++)
    {
      vg_participant_tick (g_ptr_array_index (list, i), now, stats);
      vg_participant_unref (g_ptr_array_index (list, i));
    }
  g_ptr_array_unref (list);
  return G_SOURCE_CONTINUE;
}

/* Makes an element straight into bin, which owns it (no leak on a later failure). */
static GstElement *
make_in (GstBin *bin, const char *factory, const char *name, GError **error)
{
  GstElement *e = vg_element_make (factory, name, error);
  if (e)
    gst_bin_add (bin, e);
  return e;
}

static gboolean
build_agent (VgRoom *room, GError **error)
{
  GstBin *bin = GST_BIN (room->pipeline);
  room->agent_bin = vg_agent_bin_load (room->settings->pipelines_dir, room->template_name, error);
  if (!room->agent_bin)
    return FALSE;
  gst_object_set_name (GST_OBJECT (room->agent_bin), "agent-bin");
  room->agent = vg_agent_bin_get_agent (room->agent_bin);
  vg_agent_configure (room->agent, room->settings);
  gpointer hooks_data = NULL;
  const VgAgentHooks *hooks = room->host->agent_hooks (room->rooms, &hooks_data);
  if (hooks && hooks->tools)
    vg_agent_set_tools (room->agent, hooks->tools (hooks_data, room->template_name));

  gst_bin_add (bin, room->agent_bin);
  GstElement *in_caps, *conv, *res, *out_caps;
  if (!(room->agent_mixer = vg_mixer_new ("agent-mix", error)))
    return FALSE;
  gst_bin_add (bin, room->agent_mixer);
  if (!(in_caps = make_in (bin, "capsfilter", "agent-incaps", error))
      || !(conv = make_in (bin, "audioconvert", "agent-conv", error))
      || !(res = make_in (bin, "audioresample", "agent-res", error))
      || !(out_caps = make_in (bin, "capsfilter", "agent-outcaps", error))
      || !(room->agent_tee = make_in (bin, "tee", "agent-tee", error)))
    return FALSE;
  GstCaps *caps = gst_caps_from_string (VG_ROOM_AUDIO_CAPS);
  g_object_set (in_caps, "caps", caps, NULL);
  g_object_set (out_caps, "caps", caps, NULL);
  gst_caps_unref (caps);
  g_object_set (room->agent_tee, "allow-not-linked", TRUE, NULL);
  if (!gst_element_link_many (room->agent_mixer, in_caps, room->agent_bin, conv, res, out_caps,
                              room->agent_tee, NULL))
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_PIPELINE,
                   "the agent template %s does not take and give raw audio", room->template_name);
      return FALSE;
    }
  GstPad *out = gst_element_get_static_pad (conv, "sink");
  gst_pad_add_probe (out, GST_PAD_PROBE_TYPE_BUFFER, agent_output_probe, room, NULL);
  gst_object_unref (out);
  return TRUE;
}

VgRoom *
vg_room_new (const VgRoomSetup *setup, GError **error)
{
  const char *name = setup->name, *template_name = setup->template_name;
  VgRoom *room = g_new0 (VgRoom, 1);
  room->refcount = 1;
  room->rooms = setup->rooms;
  room->host = setup->host;
  room->settings = setup->settings;
  room->metrics = setup->metrics;
  room->events = vg_room_events_new (setup->events);
  room->context = g_main_context_ref (setup->context);
  room->name = g_strdup (name);
  room->template_name = g_strdup (template_name);
  room->metadata = g_strdup (setup->metadata);
  room->subtopic_id = MAX (setup->subtopic_id, 0);
  room->created_at = g_get_real_time () / G_USEC_PER_SEC;
  room->max_participants = setup->max_participants;
  room->empty_timeout_s = setup->empty_timeout_s;
  room->participants = g_ptr_array_new_with_free_func ((GDestroyNotify)vg_participant_unref);
  room->closing = g_ptr_array_new_with_free_func ((GDestroyNotify)vg_participant_unref);
  room->pending_calls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, pending_call_free);
  vg_latency_window_init (&room->agent_latency);
  g_autofree char *pipeline_name = g_strdup_printf ("room-%s", name);
  room->pipeline = GST_PIPELINE (gst_object_ref_sink (gst_pipeline_new (pipeline_name)));
  room->graph = vg_room_graph_new (GST_BIN (room->pipeline), room->context);

  if (!build_agent (room, error))
    {
      vg_room_close (room, TRUE);
      vg_room_unref (room);
      return NULL;
    }
  /* The agent's output is paced (its mixer, or the element's playout). */
  room->agent_node
      = vg_room_graph_attach (room->graph, "agent", room->agent_tee, room->agent_mixer, NULL, TRUE);

  GstBus *bus = gst_pipeline_get_bus (room->pipeline);
  room->bus_source = gst_bus_create_watch (bus);
  g_source_set_callback (room->bus_source, G_SOURCE_FUNC (on_bus_message), room, NULL);
  g_source_attach (room->bus_source, room->context);
  gst_object_unref (bus);

  if (gst_element_set_state (GST_ELEMENT (room->pipeline), GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE)
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_PIPELINE,
                   "the pipeline of room %s does not start (agent template %s)", name,
                   template_name);
      vg_room_close (room, TRUE);
      vg_room_unref (room);
      return NULL;
    }
  room->tick_source = attach_timeout (room, 1000, room_tick);
  arm_empty_timeout (room);
  return room;
}

VgRoom *
vg_room_ref (VgRoom *room)
{
  room->refcount++;
  return room;
}

void
vg_room_unref (VgRoom *room)
{
  if (--room->refcount > 0)
    return;
  g_ptr_array_unref (room->participants);
  g_ptr_array_unref (room->closing);
  g_hash_table_unref (room->pending_calls);
  vg_latency_window_clear (&room->agent_latency);
  vg_room_graph_free (room->graph);
  g_clear_object (&room->agent);
  g_clear_object (&room->agent_bin);
  g_clear_object (&room->pipeline);
  g_free (room->name);
  g_free (room->template_name);
  g_free (room->metadata);
  g_free (room->leave_identity);
  vg_room_events_free (room->events);
  g_main_context_unref (room->context);
  g_free (room);
}

/* Each webrtcbin closes a loop in the element graph (it is both the source
 * and the sink of its participant's audio), which GstBin's state change
 * cannot sort: stop the participants first, then the rest of the pipeline. */
static void
stop_pipeline (GstElement *pipeline, gpointer data)
{
  VgRoom *room = data;
  for (guint i = 0; i < room->closing->len; i++)
    vg_participant_stop_media (g_ptr_array_index (room->closing, i));
  gst_element_set_state (pipeline, GST_STATE_NULL);
}

static gboolean
unref_room_idle (gpointer data)
{
  VgRoom *room = data;
  /* Participants hold the room: let them go first. */
  g_ptr_array_set_size (room->closing, 0);
  room->host->teardown_finished (room->rooms);
  vg_room_unref (room);
  return G_SOURCE_REMOVE;
}

static void
room_stopped (gpointer data)
{
  /* On a GStreamer thread; the room belongs to the main context. */
  VgRoom *room = data;
  GSource *source = g_idle_source_new ();
  g_source_set_callback (source, unref_room_idle, room, NULL);
  g_source_attach (source, room->context);
  g_source_unref (source);
}

void
vg_room_close (VgRoom *room, gboolean wait)
{
  if (room->closed)
    return;
  room->closed = TRUE;
  room->host->room_closing (room->rooms, room);
  clear_source (&room->bus_source);
  clear_source (&room->tick_source);
  clear_source (&room->empty_source);
  clear_source (&room->latency_source);
  clear_source (&room->leave_source);
  for (guint i = 0; i < room->participants->len; i++)
    {
      VgParticipant *p = g_ptr_array_index (room->participants, i);
      room->host->session_removed (room->rooms, p);
      if (was_announced (p))
        publish (room, VG_EVENT_PARTICIPANT_LEFT, p);
      vg_participant_close (p);
    }
  /* The participants move to closing; released with the room. */
  GPtrArray *tmp = room->closing;
  room->closing = room->participants;
  room->participants = tmp;
  room->host->participants_changed (room->rooms);
  publish (room, VG_EVENT_ROOM_FINISHED, NULL);
  if (wait)
    {
      stop_pipeline (GST_ELEMENT (room->pipeline), room);
      g_ptr_array_set_size (room->closing, 0);
    }
  else
    {
      room->host->teardown_started (room->rooms);
      gst_element_call_async (GST_ELEMENT (room->pipeline), stop_pipeline, vg_room_ref (room),
                              room_stopped);
    }
}

/* ---- participants ---- */

static gboolean
was_announced (VgParticipant *p)
{
  VgParticipantInfo info;
  vg_participant_describe (p, &info);
  return info.announced;
}

static gboolean
participant_stopped (gpointer data)
{
  VgParticipant *p = data;
  VgRoom *room = vg_participant_get_room (p);
  room->host->teardown_finished (room->rooms);
  vg_participant_unref (p);
  return G_SOURCE_REMOVE;
}

static void
drop_participant (VgRoom *room, VgParticipant *p, VgLeaveReason reason)
{
  guint index;
  if (!g_ptr_array_find (room->participants, p, &index))
    return; /* already leaving */
  g_message ("rooms: %s/%s leaves (%s)", room->name, vg_participant_get_identity (p),
             vg_leave_reason_to_string (reason));
  if (room->metrics->participants_removed)
    {
      const char *labels[] = { vg_leave_reason_to_string (reason), NULL };
      vg_metric_add (room->metrics->participants_removed, labels, 1);
    }
  room->host->session_removed (room->rooms, p);
  room->host->participant_leaving (room->rooms, p);
  /* The array's reference moves to the teardown, released in participant_stopped. */
  g_ptr_array_steal_index (room->participants, index);
  if (was_announced (p))
    publish (room, VG_EVENT_PARTICIPANT_LEFT, p);
  vg_participant_close (p);
  room->host->participants_changed (room->rooms);
  arm_empty_timeout (room);

  room->host->teardown_started (room->rooms);
  vg_participant_teardown (p, participant_stopped, p);
}

/* ---- leaving after the agent's reply ---- */

static void
leave_now (VgRoom *room, const char *why)
{
  g_autofree char *identity = g_steal_pointer (&room->leave_identity);
  clear_source (&room->leave_source);
  VgParticipant *p = identity ? vg_room_lookup_participant (room, identity) : NULL;
  if (!p)
    return; /* left meanwhile */
  g_message ("rooms: %s/%s leaves after the agent's reply (%s)", room->name, identity, why);
  vg_participant_ref (p);
  drop_participant (room, p, VG_LEAVE_CLIENT);
  vg_participant_unref (p);
}

static gboolean
leave_timeout (gpointer data)
{
  leave_now (data, "timeout");
  return G_SOURCE_REMOVE;
}

static void
leave_on_state (VgRoom *room, const char *state)
{
  if (!room->leave_identity)
    return;
  if (g_str_equal (state, "speaking"))
    room->leave_heard_speaking = TRUE;
  /* listening after speaking: the reply's audio has been played out. */
  else if (room->leave_heard_speaking && g_str_equal (state, "listening"))
    leave_now (room, "reply played");
}

gboolean
vg_room_leave_after_reply (VgRoom *room, const char *identity, guint timeout_ms)
{
  if (room->closed || !vg_room_lookup_participant (room, identity))
    return FALSE;
  g_free (room->leave_identity);
  room->leave_identity = g_strdup (identity);
  room->leave_heard_speaking = FALSE;
  clear_source (&room->leave_source);
  room->leave_source = attach_timeout (room, timeout_ms, leave_timeout);
  return TRUE;
}

/* What a participant may tell its room (participant.h). */

/* A publisher's audio path is up: the hooks may open the session (the
 * tutor's greeting). Listeners only hear the room, so they are not greeted. */
static void
learner_ready (VgRoom *room, VgParticipant *p)
{
  gpointer data = NULL;
  const VgAgentHooks *hooks = room->host->agent_hooks (room->rooms, &data);
  if (!hooks || !hooks->learner_ready || room->closed || !room->agent
      || vg_participant_get_kind (p) != VG_PARTICIPANT_PUBLISHER)
    return;
  VgParticipantInfo info;
  vg_participant_describe (p, &info);
  VgAgentLearner learner = {
    .room = room->name,
    .template_name = room->template_name,
    .subtopic_id = learner_subtopic (room, p),
    .identity = info.identity,
    .display_name = info.name,
  };
  hooks->learner_ready (data, &learner);
}

static void
participant_connected (VgRoom *room, VgParticipant *p)
{
  publish (room, VG_EVENT_PARTICIPANT_JOINED, p);
  learner_ready (room, p);
}

static const char *
agent_state (VgRoom *room)
{
  return room->agent_state;
}

static const VgParticipantHost participant_host = {
  .connected = participant_connected,
  .leave = drop_participant,
  .client_event = participant_client_event,
  .agent_state = agent_state,
};

VgParticipant *
vg_room_join (VgRoom *room, const VgJoinRequest *request, VgJoinCallback callback,
              gpointer user_data, GError **error)
{
  if (room->closed)
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_CLOSED, "room %s is closing", room->name);
      return NULL;
    }
  VgParticipant *previous = vg_room_lookup_participant (room, request->identity);
  guint others = room->participants->len - (previous ? 1 : 0);
  if (room->max_participants && others >= room->max_participants)
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_FULL, "room %s is full (%u participants)",
                   room->name, room->max_participants);
      return NULL;
    }
  g_autofree char *prefix
      = g_strdup_printf ("p%u-", room->host->next_participant_serial (room->rooms));
  VgParticipantSetup setup = {
    .pipeline = GST_BIN (room->pipeline),
    .graph = room->graph,
    .context = room->context,
    .settings = room->settings,
    .metrics = room->metrics,
    .room_name = room->name,
    .template_name = room->template_name,
    .element_prefix = prefix,
    .host = &participant_host,
    .room = vg_room_ref (room),
    .room_release = (GDestroyNotify)vg_room_unref,
  };
  VgParticipant *p = vg_participant_new (&setup, request, error);
  if (!p)
    return NULL;
  if (previous)
    drop_participant (room, previous, VG_LEAVE_REPLACED);

  g_ptr_array_add (room->participants, p);
  room->host->session_added (room->rooms, p);
  clear_source (&room->empty_source);
  room->host->participants_changed (room->rooms);
  if (!vg_participant_start (p, callback, user_data, error))
    {
      vg_participant_ref (p);
      drop_participant (room, p, VG_LEAVE_ERROR);
      vg_participant_unref (p);
      return NULL;
    }
  return p;
}

gboolean
vg_room_remove_participant (VgRoom *room, const char *identity, GError **error)
{
  VgParticipant *p = vg_room_lookup_participant (room, identity);
  if (!p)
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_NOT_FOUND, "no participant %s in room %s",
                   identity, room->name);
      return FALSE;
    }
  drop_participant (room, p, VG_LEAVE_CLIENT);
  return TRUE;
}
