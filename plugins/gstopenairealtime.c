/* gstopenairealtime.c: element glue of openairealtime, a GstVgAgent:
 * properties, the session (start/stop) and the input path. Server events
 * are handled in gstopenairealtime-events.c, the action signals in
 * gstopenairealtime-actions.c; the socket and the conversation state live
 * on the shared I/O thread, the owner context given to GstVgAgent. */
#include "gstopenairealtime.h"
#include "vg-agent-messages.h"
#include "vg-rt-events.h"

#include <string.h>

GST_DEBUG_CATEGORY (gst_openai_realtime_debug);
#define GST_CAT_DEFAULT gst_openai_realtime_debug

#define DEFAULT_URL "wss://api.openai.com/v1/realtime"
#define DEFAULT_MODEL "gpt-realtime"
#define DEFAULT_VOICE "marin"
#define DEFAULT_INSTRUCTIONS ""
#define DEFAULT_TURN_DETECTION VG_RT_TURN_DETECTION_SERVER_VAD
#define DEFAULT_VAD_THRESHOLD 0.5
#define DEFAULT_PREFIX_PADDING_MS 300
#define DEFAULT_SILENCE_DURATION_MS 500
#define DEFAULT_EAGERNESS "auto"
#define DEFAULT_INTERRUPT_RESPONSE TRUE
#define DEFAULT_TRANSCRIPTION_MODEL "gpt-4o-mini-transcribe"
#define DEFAULT_NOISE_REDUCTION "near_field"
#define DEFAULT_APPEND_MS 100
#define DEFAULT_MAX_SEND_QUEUE_MS 2000
#define DEFAULT_MAX_PLAYOUT_MS 120000
#define DEFAULT_RECONNECT_MAX_MS 30000
#define DEFAULT_STALL_TIMEOUT_MS 20000

enum
{
  PROP_0,
  PROP_URL,
  PROP_API_KEY,
  PROP_MODEL,
  PROP_VOICE,
  PROP_INSTRUCTIONS,
  PROP_TURN_DETECTION,
  PROP_VAD_THRESHOLD,
  PROP_PREFIX_PADDING_MS,
  PROP_SILENCE_DURATION_MS,
  PROP_EAGERNESS,
  PROP_INTERRUPT_RESPONSE,
  PROP_TRANSCRIPTION_MODEL,
  PROP_NOISE_REDUCTION,
  PROP_TOOLS,
  PROP_APPEND_MS,
  PROP_MAX_SEND_QUEUE_MS,
  PROP_MAX_PLAYOUT_MS,
  PROP_RECONNECT_MAX_MS,
  PROP_STALL_TIMEOUT_MS,
  PROP_DROPPED_INPUT_BYTES,
  PROP_BAD_FRAMES,
};

G_DEFINE_TYPE (GstOpenAiRealtime, gst_openai_realtime, GST_TYPE_VG_AGENT);
GST_ELEMENT_REGISTER_DEFINE (openairealtime, "openairealtime", GST_RANK_NONE,
                             GST_TYPE_OPENAI_REALTIME);

#define GST_TYPE_OPENAI_REALTIME_TURN_DETECTION (gst_openai_realtime_turn_detection_get_type ())
static GType
gst_openai_realtime_turn_detection_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { VG_RT_TURN_DETECTION_SERVER_VAD, "Server-side voice activity detection", "server-vad" },
    { VG_RT_TURN_DETECTION_SEMANTIC_VAD, "Semantic turn detection", "semantic-vad" },
    { VG_RT_TURN_DETECTION_NONE, "None: the application commits turns", "none" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstOpenAiRealtimeTurnDetection", values));
  return type;
}

/* ---- client callbacks (I/O thread) ---- */

static void
client_connecting (gpointer data, guint attempt)
{
  GstOpenAiRealtime *self = data;

  /* After a first session, the state says the conversation is resuming. */
  gst_vg_agent_set_state (data, self->sessions > 0 ? "reconnecting" : "connecting");
  GST_INFO_OBJECT (data, "connecting (attempt %u)", attempt);
}

static void
client_opened (gpointer data)
{
  GST_INFO_OBJECT (data, "connected, waiting for session.created");
}

static void
client_event (gpointer data, const char *type, JsonObject *event)
{
  gst_openai_realtime_handle_event (data, type, event);
}

static void
client_bad_frame (gpointer data, const char *reason)
{
  gst_openai_realtime_handle_bad_frame (data, reason);
}

static void
client_closed (gpointer data, VgRtCloseKind kind, guint http_status, const char *reason)
{
  GstOpenAiRealtime *self = data;

  if (kind == VG_RT_CLOSE_FATAL)
    {
      self->response_active = FALSE;
      self->response_create_pending = FALSE;
      self->response_requested = FALSE;
      self->fatal = TRUE;
      gst_vg_agent_set_state (GST_VG_AGENT (self), "error");
      gst_vg_agent_post_error (GST_VG_AGENT (self),
                               http_status == 401 ? "invalid_api_key" : "connection_refused",
                               reason, TRUE);
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_AUTHORIZED,
                         ("The Realtime API refused the connection (HTTP %u)", http_status),
                         ("%s", reason));
      return;
    }
  GST_WARNING_OBJECT (self, "%s", reason);
  if (kind == VG_RT_CLOSE_STALLED)
    gst_vg_agent_post_error (GST_VG_AGENT (self), "server_stalled", reason, FALSE);
  else if (http_status == 429)
    gst_vg_agent_post_error (GST_VG_AGENT (self), "rate_limited", reason, FALSE);
  gst_openai_realtime_connection_lost (self);
}

static gboolean
client_expecting (gpointer data)
{
  return gst_openai_realtime_expecting (data);
}

static const VgRtClientCallbacks client_callbacks = {
  client_connecting, client_opened, client_event, client_bad_frame, client_closed, client_expecting,
};

/* ---- input: sink streaming thread ---- */

static void
flush_input (GstOpenAiRealtime *self)
{
  if (self->pending_input->len == 0)
    return;
  self->appended_bytes += self->pending_input->len;
  vg_rt_client_send (
      self->client, vg_rt_build_append (self->pending_input->data, self->pending_input->len), TRUE);
  g_byte_array_set_size (self->pending_input, 0);
}

static GstFlowReturn
gst_openai_realtime_handle_audio (GstVgAgent *agent, GstBuffer *buf)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (agent);
  GstMapInfo map;
  guint chunk_bytes;
  gsize off = 0;

  if (self->client == NULL)
    return GST_FLOW_FLUSHING;
  GST_OBJECT_LOCK (self);
  chunk_bytes = self->append_ms * (VG_RT_RATE / 1000) * 2;
  GST_OBJECT_UNLOCK (self);

  /* Never blocks: the client queues (bounded) and the I/O thread sends. */
  gst_buffer_map (buf, &map, GST_MAP_READ);
  while (off < map.size)
    {
      gsize n = MIN (map.size - off, chunk_bytes - self->pending_input->len);

      g_byte_array_append (self->pending_input, map.data + off, n);
      off += n;
      if (self->pending_input->len >= chunk_bytes)
        flush_input (self);
    }
  gst_buffer_unmap (buf, &map);
  return GST_FLOW_OK;
}

/* Input ended: with manual turns this is the end of the user's turn. */
static void
gst_openai_realtime_turn_ended (GstVgAgent *agent)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (agent);
  gboolean manual;

  GST_OBJECT_LOCK (self);
  manual = self->settings.turn_detection == VG_RT_TURN_DETECTION_NONE;
  GST_OBJECT_UNLOCK (self);
  if (self->client == NULL)
    return;
  flush_input (self);
  if (manual)
    {
      vg_rt_client_send (self->client, vg_rt_build_simple ("input_audio_buffer.commit"), FALSE);
      vg_rt_client_send (self->client, vg_rt_build_simple ("response.create"), FALSE);
    }
}

static void
gst_openai_realtime_discard_input (GstVgAgent *agent)
{
  g_byte_array_set_size (GST_OPENAI_REALTIME (agent)->pending_input, 0);
}

/* ---- the session: state-change thread ---- */

static char *
build_url (GstOpenAiRealtime *self)
{
  const char *sep = strchr (self->url, '?') ? "&" : "?";

  if (strstr (self->url, "model=") != NULL || self->model == NULL || self->model[0] == '\0')
    return g_strdup (self->url);
  return g_strdup_printf ("%s%smodel=%s", self->url, sep, self->model);
}

static guint
gst_openai_realtime_get_playout_ms (GstVgAgent *agent)
{
  guint ms;

  GST_OBJECT_LOCK (agent);
  ms = GST_OPENAI_REALTIME (agent)->max_playout_ms;
  GST_OBJECT_UNLOCK (agent);
  return ms;
}

static gboolean
gst_openai_realtime_start (GstVgAgent *agent)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (agent);
  VgRtClient *client;
  guint reconnect_max_ms, stall_timeout_ms;
  g_autofree char *url = NULL;
  g_autofree char *key = NULL;
  gsize queue_bytes;

  GST_OBJECT_LOCK (self);
  url = build_url (self);
  key = g_strdup (self->api_key ? self->api_key : g_getenv ("OPENAI_API_KEY"));
  queue_bytes = (gsize)self->max_send_queue_ms * VG_RT_RATE * 2 / 1000 * 4 / 3;
  reconnect_max_ms = self->reconnect_max_ms;
  stall_timeout_ms = self->stall_timeout_ms;
  self->bad_frames = 0;
  GST_OBJECT_UNLOCK (self);

  if (key == NULL || key[0] == '\0')
    GST_WARNING_OBJECT (self, "no api-key and no OPENAI_API_KEY: the server will refuse us");

  /* Nothing of the session runs yet: the conversation state is ours until
   * the client starts. */
  self->io = vg_io_context_ref_default ();
  gst_openai_realtime_reset_conversation (self);
  client = vg_rt_client_new (self->io, &client_callbacks, self, queue_bytes);
  GST_OBJECT_LOCK (self);
  self->client = client;
  GST_OBJECT_UNLOCK (self);
  g_byte_array_set_size (self->pending_input, 0);
  self->appended_bytes = 0;
  gst_vg_agent_set_owner_context (agent, vg_io_context_get_main_context (self->io));
  vg_rt_client_start (client, url, key, reconnect_max_ms, stall_timeout_ms);
  if (key)
    memset (key, 0, strlen (key));
  return TRUE;
}

static gboolean
cancel_timers_in_io (gpointer data)
{
  gst_openai_realtime_cancel_timers (data);
  return G_SOURCE_REMOVE;
}

static void
gst_openai_realtime_stop (GstVgAgent *agent)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (agent);
  VgRtClient *client = self->client;

  if (client == NULL)
    return;
  /* Both synchronous: afterwards no action, played report or client
   * callback runs any more, and the conversation state is ours again. */
  gst_vg_agent_set_owner_context (agent, NULL);
  vg_rt_client_stop (client);
  vg_io_context_invoke_sync (self->io, cancel_timers_in_io, self);
  GST_OBJECT_LOCK (self);
  self->client = NULL;
  GST_OBJECT_UNLOCK (self);
  gst_openai_realtime_reset_conversation (self);
  vg_rt_client_free (client);
  vg_io_context_unref (self->io);
  self->io = NULL;
}

/* ---- live session changes: I/O thread ---- */

static void
update_session (GstVgAgent *agent, gpointer data)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (agent);
  VgRtSessionFields fields = GPOINTER_TO_UINT (data);
  g_autoptr (GError) error = NULL;
  char *update;

  /* Before the first session.created the whole configuration, with these
   * values, is still to be sent; after a lost connection this update waits
   * behind the next session's own (harmless). */
  if (self->client == NULL || self->sessions == 0)
    return;
  GST_OBJECT_LOCK (self);
  update = vg_rt_session_update_build_fields (&self->settings, fields, &error);
  GST_OBJECT_UNLOCK (self);
  if (update == NULL)
    {
      GST_WARNING_OBJECT (self, "session.update not sent: %s", error->message);
      return;
    }
  GST_INFO_OBJECT (self, "session changed: sending session.update");
  gst_openai_realtime_send (self, update);
}

/* ---- GObject ---- */

/* Object lock held. */
static void
set_string (char **field, const GValue *value)
{
  g_free (*field);
  *field = g_value_dup_string (value);
}

static void
gst_openai_realtime_set_property (GObject *object, guint prop_id, const GValue *value,
                                  GParamSpec *pspec)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (object);
  VgRtSessionSettings *s = &self->settings;
  VgRtSessionFields live = 0;

  /* Checked before taking the lock: the warning runs the application's log
   * handler. */
  if (prop_id == PROP_TOOLS)
    {
      const char *text = g_value_get_string (value);
      g_autoptr (GError) error = NULL;

      if (text != NULL && text[0] != '\0' && !vg_rt_tools_validate (text, &error))
        {
          g_warning ("openairealtime: ignoring invalid tools: %s", error->message);
          return;
        }
    }

  GST_OBJECT_LOCK (self);
  switch (prop_id)
    {
      case PROP_URL:
        set_string (&self->url, value);
        if (self->url == NULL)
          self->url = g_strdup (DEFAULT_URL);
        break;
      case PROP_API_KEY:
        if (self->api_key)
          memset (self->api_key, 0, strlen (self->api_key));
        g_free (self->api_key);
        self->api_key = g_value_dup_string (value);
        break;
      case PROP_MODEL:
        set_string (&self->model, value);
        break;
      case PROP_VOICE:
        set_string (&s->voice, value);
        break;
      case PROP_INSTRUCTIONS:
        set_string (&s->instructions, value);
        live = VG_RT_SESSION_INSTRUCTIONS;
        break;
      case PROP_TURN_DETECTION:
        s->turn_detection = g_value_get_enum (value);
        break;
      case PROP_VAD_THRESHOLD:
        s->vad_threshold = g_value_get_double (value);
        break;
      case PROP_PREFIX_PADDING_MS:
        s->prefix_padding_ms = g_value_get_uint (value);
        break;
      case PROP_SILENCE_DURATION_MS:
        s->silence_duration_ms = g_value_get_uint (value);
        break;
      case PROP_EAGERNESS:
        set_string (&s->eagerness, value);
        break;
      case PROP_INTERRUPT_RESPONSE:
        s->interrupt_response = g_value_get_boolean (value);
        break;
      case PROP_TRANSCRIPTION_MODEL:
        set_string (&s->transcription_model, value);
        break;
      case PROP_NOISE_REDUCTION:
        set_string (&s->noise_reduction, value);
        break;
      case PROP_TOOLS:
        set_string (&s->tools_json, value);
        live = VG_RT_SESSION_TOOLS;
        break;
      case PROP_APPEND_MS:
        self->append_ms = g_value_get_uint (value);
        break;
      case PROP_MAX_SEND_QUEUE_MS:
        self->max_send_queue_ms = g_value_get_uint (value);
        break;
      case PROP_MAX_PLAYOUT_MS:
        self->max_playout_ms = g_value_get_uint (value);
        break;
      case PROP_RECONNECT_MAX_MS:
        self->reconnect_max_ms = g_value_get_uint (value);
        break;
      case PROP_STALL_TIMEOUT_MS:
        self->stall_timeout_ms = g_value_get_uint (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
  if (self->client == NULL)
    live = 0; /* not started: the next session is configured with the new value */
  GST_OBJECT_UNLOCK (self);
  /* The conversation belongs to the I/O thread: the update is sent from
   * there, built from the values current when it runs. */
  if (live != 0)
    gst_vg_agent_run_in_owner (GST_VG_AGENT (self), update_session, GUINT_TO_POINTER (live), NULL);
}

static void
gst_openai_realtime_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (object);
  VgRtSessionSettings *s = &self->settings;

  GST_OBJECT_LOCK (self);
  switch (prop_id)
    {
      case PROP_URL:
        g_value_set_string (value, self->url);
        break;
      case PROP_API_KEY:
        /* Write-only in effect: never hand the secret back out. */
        g_value_set_string (value, self->api_key ? "(set)" : NULL);
        break;
      case PROP_MODEL:
        g_value_set_string (value, self->model);
        break;
      case PROP_VOICE:
        g_value_set_string (value, s->voice);
        break;
      case PROP_INSTRUCTIONS:
        g_value_set_string (value, s->instructions);
        break;
      case PROP_TURN_DETECTION:
        g_value_set_enum (value, s->turn_detection);
        break;
      case PROP_VAD_THRESHOLD:
        g_value_set_double (value, s->vad_threshold);
        break;
      case PROP_PREFIX_PADDING_MS:
        g_value_set_uint (value, s->prefix_padding_ms);
        break;
      case PROP_SILENCE_DURATION_MS:
        g_value_set_uint (value, s->silence_duration_ms);
        break;
      case PROP_EAGERNESS:
        g_value_set_string (value, s->eagerness);
        break;
      case PROP_INTERRUPT_RESPONSE:
        g_value_set_boolean (value, s->interrupt_response);
        break;
      case PROP_TRANSCRIPTION_MODEL:
        g_value_set_string (value, s->transcription_model);
        break;
      case PROP_NOISE_REDUCTION:
        g_value_set_string (value, s->noise_reduction);
        break;
      case PROP_TOOLS:
        g_value_set_string (value, s->tools_json);
        break;
      case PROP_APPEND_MS:
        g_value_set_uint (value, self->append_ms);
        break;
      case PROP_MAX_SEND_QUEUE_MS:
        g_value_set_uint (value, self->max_send_queue_ms);
        break;
      case PROP_MAX_PLAYOUT_MS:
        g_value_set_uint (value, self->max_playout_ms);
        break;
      case PROP_RECONNECT_MAX_MS:
        g_value_set_uint (value, self->reconnect_max_ms);
        break;
      case PROP_STALL_TIMEOUT_MS:
        g_value_set_uint (value, self->stall_timeout_ms);
        break;
      case PROP_DROPPED_INPUT_BYTES:
        /* The client's own lock nests inside: it calls nothing back. */
        g_value_set_uint64 (value,
                            self->client ? vg_rt_client_get_dropped_audio_bytes (self->client) : 0);
        break;
      case PROP_BAD_FRAMES:
        g_value_set_uint64 (value, self->bad_frames);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_openai_realtime_finalize (GObject *object)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (object);

  g_free (self->url);
  if (self->api_key)
    memset (self->api_key, 0, strlen (self->api_key));
  g_free (self->api_key);
  g_free (self->model);
  vg_rt_session_settings_clear (&self->settings);
  gst_openai_realtime_reset_conversation (self);
  g_byte_array_unref (self->pending_input);
  g_hash_table_unref (self->known_items);
  g_hash_table_unref (self->user_text);
  g_string_free (self->assistant_text, TRUE);
  G_OBJECT_CLASS (gst_openai_realtime_parent_class)->finalize (object);
}

static void
string_free (gpointer data)
{
  g_string_free (data, TRUE);
}

static void
gst_openai_realtime_init (GstOpenAiRealtime *self)
{
  VgRtSessionSettings *s = &self->settings;

  GST_PAD_SET_PROXY_ALLOCATION (GST_VG_AGENT_SINK_PAD (self));

  self->url = g_strdup (DEFAULT_URL);
  self->model = g_strdup (DEFAULT_MODEL);
  s->voice = g_strdup (DEFAULT_VOICE);
  s->instructions = g_strdup (DEFAULT_INSTRUCTIONS);
  s->turn_detection = DEFAULT_TURN_DETECTION;
  s->vad_threshold = DEFAULT_VAD_THRESHOLD;
  s->prefix_padding_ms = DEFAULT_PREFIX_PADDING_MS;
  s->silence_duration_ms = DEFAULT_SILENCE_DURATION_MS;
  s->eagerness = g_strdup (DEFAULT_EAGERNESS);
  s->interrupt_response = DEFAULT_INTERRUPT_RESPONSE;
  s->transcription_model = g_strdup (DEFAULT_TRANSCRIPTION_MODEL);
  s->noise_reduction = g_strdup (DEFAULT_NOISE_REDUCTION);
  self->append_ms = DEFAULT_APPEND_MS;
  self->max_send_queue_ms = DEFAULT_MAX_SEND_QUEUE_MS;
  self->max_playout_ms = DEFAULT_MAX_PLAYOUT_MS;
  self->reconnect_max_ms = DEFAULT_RECONNECT_MAX_MS;
  self->stall_timeout_ms = DEFAULT_STALL_TIMEOUT_MS;

  self->pending_input = g_byte_array_new ();
  g_queue_init (&self->history);
  g_queue_init (&self->pending_responds);
  self->known_items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->user_text = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, string_free);
  self->assistant_text = g_string_new (NULL);
  self->interrupt_response = TRUE;
}

#define RW (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)
/* Sent to the running session as a session.update when changed. */
#define RW_LIVE (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)

static void
gst_openai_realtime_class_init (GstOpenAiRealtimeClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstVgAgentClass *agent_class = GST_VG_AGENT_CLASS (klass);

  gobject_class->set_property = gst_openai_realtime_set_property;
  gobject_class->get_property = gst_openai_realtime_get_property;
  gobject_class->finalize = gst_openai_realtime_finalize;
  agent_class->start = gst_openai_realtime_start;
  agent_class->stop = gst_openai_realtime_stop;
  agent_class->get_playout_ms = gst_openai_realtime_get_playout_ms;
  agent_class->handle_audio = gst_openai_realtime_handle_audio;
  agent_class->turn_ended = gst_openai_realtime_turn_ended;
  agent_class->discard_input = gst_openai_realtime_discard_input;
  agent_class->handle_text = gst_openai_realtime_handle_text;
  agent_class->interrupt = gst_openai_realtime_interrupt;
  agent_class->function_result = gst_openai_realtime_function_result;
  agent_class->played = gst_openai_realtime_played;
  agent_class->respond = gst_openai_realtime_respond;

  g_object_class_install_property (
      gobject_class, PROP_URL,
      g_param_spec_string ("url", "URL",
                           "Realtime API WebSocket URL; ?model= is added unless present",
                           DEFAULT_URL, RW));
  g_object_class_install_property (
      gobject_class, PROP_API_KEY,
      g_param_spec_string ("api-key", "API key",
                           "API key sent as a Bearer token (default: $OPENAI_API_KEY); never logged"
                           " or read back",
                           NULL, RW));
  g_object_class_install_property (
      gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model", "Realtime model name", DEFAULT_MODEL, RW));
  g_object_class_install_property (
      gobject_class, PROP_VOICE,
      g_param_spec_string ("voice", "Voice", "Output voice (fixed once audio was produced)",
                           DEFAULT_VOICE, RW));
  g_object_class_install_property (gobject_class, PROP_INSTRUCTIONS,
                                   g_param_spec_string ("instructions", "Instructions",
                                                        "System instructions of the session; "
                                                        "changes reach a running session",
                                                        DEFAULT_INSTRUCTIONS, RW_LIVE));
  g_object_class_install_property (
      gobject_class, PROP_TURN_DETECTION,
      g_param_spec_enum ("turn-detection", "Turn detection",
                         "How the end of a user turn is found (none: EOS on the sink commits)",
                         GST_TYPE_OPENAI_REALTIME_TURN_DETECTION, DEFAULT_TURN_DETECTION, RW));
  g_object_class_install_property (gobject_class, PROP_VAD_THRESHOLD,
                                   g_param_spec_double ("vad-threshold", "VAD threshold",
                                                        "server-vad activation threshold", 0.0, 1.0,
                                                        DEFAULT_VAD_THRESHOLD, RW));
  g_object_class_install_property (
      gobject_class, PROP_PREFIX_PADDING_MS,
      g_param_spec_uint ("prefix-padding-ms", "Prefix padding",
                         "server-vad audio kept before detected speech, in ms", 0, 10000,
                         DEFAULT_PREFIX_PADDING_MS, RW));
  g_object_class_install_property (gobject_class, PROP_SILENCE_DURATION_MS,
                                   g_param_spec_uint ("silence-duration-ms", "Silence duration",
                                                      "server-vad silence that ends a turn, in ms",
                                                      0, 10000, DEFAULT_SILENCE_DURATION_MS, RW));
  g_object_class_install_property (
      gobject_class, PROP_EAGERNESS,
      g_param_spec_string ("eagerness", "Eagerness",
                           "semantic-vad eagerness: low, medium, high or auto", DEFAULT_EAGERNESS,
                           RW));
  g_object_class_install_property (
      gobject_class, PROP_INTERRUPT_RESPONSE,
      g_param_spec_boolean ("interrupt-response", "Interrupt response",
                            "Let the server cancel a response when the user starts speaking "
                            "(else the element sends response.cancel on barge-in)",
                            DEFAULT_INTERRUPT_RESPONSE, RW));
  g_object_class_install_property (
      gobject_class, PROP_TRANSCRIPTION_MODEL,
      g_param_spec_string ("transcription-model", "Transcription model",
                           "Model transcribing the user's audio; empty disables user transcripts",
                           DEFAULT_TRANSCRIPTION_MODEL, RW));
  g_object_class_install_property (
      gobject_class, PROP_NOISE_REDUCTION,
      g_param_spec_string ("noise-reduction", "Noise reduction",
                           "Input noise reduction: near_field, far_field or empty for none",
                           DEFAULT_NOISE_REDUCTION, RW));
  g_object_class_install_property (
      gobject_class, PROP_TOOLS,
      g_param_spec_string ("tools", "Tools",
                           "Function tools as a JSON array of {type,name,description,parameters} "
                           "(invalid JSON is ignored); changes reach a running session",
                           NULL, RW_LIVE));
  g_object_class_install_property (gobject_class, PROP_APPEND_MS,
                                   g_param_spec_uint ("append-ms", "Append size",
                                                      "Audio per input_audio_buffer.append, in ms",
                                                      10, 1000, DEFAULT_APPEND_MS, RW));
  g_object_class_install_property (
      gobject_class, PROP_MAX_SEND_QUEUE_MS,
      g_param_spec_uint ("max-send-queue-ms", "Send queue bound",
                         "Input audio queued for the socket before the oldest is dropped, in ms",
                         100, 60000, DEFAULT_MAX_SEND_QUEUE_MS, RW));
  g_object_class_install_property (
      gobject_class, PROP_MAX_PLAYOUT_MS,
      g_param_spec_uint ("max-playout-ms", "Playout queue bound",
                         "Model audio buffered for playback before new audio is dropped, in ms",
                         1000, 600000, DEFAULT_MAX_PLAYOUT_MS, RW));
  g_object_class_install_property (
      gobject_class, PROP_RECONNECT_MAX_MS,
      g_param_spec_uint ("reconnect-max-ms", "Reconnect backoff cap",
                         "Upper bound of the exponential reconnect backoff, in ms", 250, 600000,
                         DEFAULT_RECONNECT_MAX_MS, RW));
  g_object_class_install_property (
      gobject_class, PROP_STALL_TIMEOUT_MS,
      g_param_spec_uint ("stall-timeout-ms", "Stall timeout",
                         "Reconnect when the server sends nothing for this long while a response"
                         " is expected, in ms (0: never)",
                         0, 600000, DEFAULT_STALL_TIMEOUT_MS, RW));
  g_object_class_install_property (
      gobject_class, PROP_DROPPED_INPUT_BYTES,
      g_param_spec_uint64 ("dropped-input-bytes", "Dropped input",
                           "Bytes of input audio frames dropped (disconnected or queue full)", 0,
                           G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (
      gobject_class, PROP_BAD_FRAMES,
      g_param_spec_uint64 ("bad-frames", "Bad frames",
                           "Server frames ignored as malformed (bad JSON, base64, unknown item)", 0,
                           G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_set_static_metadata (element_class, "OpenAI Realtime agent",
                                         "Filter/Audio/Network",
                                         "Streams audio to the OpenAI Realtime API and plays the "
                                         "model's voice back in real time",
                                         "voxgate");
  gst_type_mark_as_plugin_api (GST_TYPE_OPENAI_REALTIME_TURN_DETECTION, 0);
  GST_DEBUG_CATEGORY_INIT (gst_openai_realtime_debug, "openairealtime", 0,
                           "OpenAI Realtime agent element");
}
