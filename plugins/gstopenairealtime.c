/* gstopenairealtime.c: element glue of openairealtime: properties, signals,
 * pads, state changes and the input path. Server events are handled in
 * gstopenairealtime-events.c; the socket lives on the shared I/O thread. */
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

#define CAPS_STR                                                                                   \
  "audio/x-raw, format=(string)S16LE, layout=(string)interleaved, "                                \
  "rate=(int)24000, channels=(int)1"

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
  PROP_FLUSH_DOWNSTREAM,
  PROP_DROPPED_INPUT_BYTES,
  PROP_BAD_FRAMES,
};

enum
{
  SIGNAL_FUNCTION_CALL,
  SIGNAL_SEND_FUNCTION_RESULT,
  SIGNAL_SEND_TEXT,
  SIGNAL_CANCEL_RESPONSE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];
guint gst_openai_realtime_function_call_signal;

static GstStaticPadTemplate sink_template
    = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (CAPS_STR));
static GstStaticPadTemplate src_template
    = GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (CAPS_STR));

G_DEFINE_TYPE (GstOpenAiRealtime, gst_openai_realtime, GST_TYPE_ELEMENT);
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

  g_rec_mutex_lock (&self->state_lock);
  if (!self->stopped)
    gst_openai_realtime_set_state (self, "connecting");
  g_rec_mutex_unlock (&self->state_lock);
  GST_INFO_OBJECT (self, "connecting (attempt %u)", attempt);
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

  g_rec_mutex_lock (&self->state_lock);
  if (self->stopped)
    {
      g_rec_mutex_unlock (&self->state_lock);
      return;
    }
  /* Whatever was queued for playback belongs to a session that is gone. */
  self->response_active = FALSE;
  self->response_create_pending = FALSE;
  if (kind == VG_RT_CLOSE_FATAL)
    {
      self->fatal = TRUE;
      gst_openai_realtime_set_state (self, "error");
      vg_agent_post_error (GST_ELEMENT (self),
                           http_status == 401 ? "invalid_api_key" : "connection_refused", reason,
                           TRUE);
      GST_ELEMENT_ERROR (self, RESOURCE, NOT_AUTHORIZED,
                         ("The Realtime API refused the connection (HTTP %u)", http_status),
                         ("%s", reason));
    }
  else
    {
      GST_WARNING_OBJECT (self, "%s", reason);
      gst_openai_realtime_set_state (self, "connecting");
    }
  g_rec_mutex_unlock (&self->state_lock);
}

static const VgRtClientCallbacks client_callbacks = {
  client_connecting, client_opened, client_event, client_bad_frame, client_closed,
};

/* ---- input ---- */

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
gst_openai_realtime_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (parent);
  GstMapInfo map;
  guint chunk_bytes;
  gsize off = 0;

  if (self->client == NULL)
    {
      gst_buffer_unref (buf);
      return GST_FLOW_FLUSHING;
    }
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
  gst_buffer_unref (buf);
  return GST_FLOW_OK;
}

static gboolean
gst_openai_realtime_sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (parent);
  gboolean manual;

  switch (GST_EVENT_TYPE (event))
    {
      case GST_EVENT_EOS:
        /* Input ended: with manual turns this is the end of the user's turn;
         * the output keeps running (it is a live source of its own). */
        GST_OBJECT_LOCK (self);
        manual = self->settings.turn_detection == VG_RT_TURN_DETECTION_NONE;
        GST_OBJECT_UNLOCK (self);
        if (self->client != NULL)
          {
            flush_input (self);
            if (manual)
              {
                vg_rt_client_send (self->client, vg_rt_build_simple ("input_audio_buffer.commit"),
                                   FALSE);
                vg_rt_client_send (self->client, vg_rt_build_simple ("response.create"), FALSE);
              }
          }
        gst_event_unref (event);
        return TRUE;
      case GST_EVENT_FLUSH_STOP:
        g_byte_array_set_size (self->pending_input, 0);
        gst_event_unref (event);
        return TRUE;
      case GST_EVENT_CAPS:
      case GST_EVENT_SEGMENT:
      case GST_EVENT_STREAM_START:
      case GST_EVENT_FLUSH_START:
      case GST_EVENT_GAP:
        /* The input and output are different streams: nothing to forward. */
        gst_event_unref (event);
        return TRUE;
      default:
        return gst_pad_event_default (pad, parent, event);
    }
}

/* ---- state changes ---- */

static char *
build_url (GstOpenAiRealtime *self)
{
  const char *sep = strchr (self->url, '?') ? "&" : "?";

  if (strstr (self->url, "model=") != NULL || self->model == NULL || self->model[0] == '\0')
    return g_strdup (self->url);
  return g_strdup_printf ("%s%smodel=%s", self->url, sep, self->model);
}

static gboolean
start (GstOpenAiRealtime *self)
{
  g_autofree char *url = NULL;
  g_autofree char *key = NULL;
  gsize queue_bytes;

  GST_OBJECT_LOCK (self);
  url = build_url (self);
  key = g_strdup (self->api_key ? self->api_key : g_getenv ("OPENAI_API_KEY"));
  queue_bytes = (gsize)self->max_send_queue_ms * VG_RT_RATE * 2 / 1000 * 4 / 3;
  self->playout = vg_playout_new (VG_RT_RATE, self->max_playout_ms);
  GST_OBJECT_UNLOCK (self);

  if (key == NULL || key[0] == '\0')
    GST_WARNING_OBJECT (self, "no api-key and no OPENAI_API_KEY: the server will refuse us");

  self->paced = vg_paced_src_new (GST_ELEMENT (self), self->srcpad, self->playout, VG_RT_RATE,
                                  VG_RT_PERIOD_MS, gst_openai_realtime_on_played, self);
  self->io = vg_io_context_ref_default ();
  g_rec_mutex_lock (&self->state_lock);
  self->stopped = FALSE;
  gst_openai_realtime_reset_conversation (self);
  self->client = vg_rt_client_new (self->io, &client_callbacks, self, queue_bytes);
  g_rec_mutex_unlock (&self->state_lock);
  g_byte_array_set_size (self->pending_input, 0);
  self->appended_bytes = 0;
  self->bad_frames = 0;
  vg_rt_client_start (self->client, url, key, self->reconnect_max_ms);
  if (key)
    memset (key, 0, strlen (key));
  return TRUE;
}

static void
stop (GstOpenAiRealtime *self)
{
  VgRtClient *client;

  g_rec_mutex_lock (&self->state_lock);
  self->stopped = TRUE;
  client = self->client;
  g_rec_mutex_unlock (&self->state_lock);
  if (client == NULL)
    return;
  /* Synchronous: no callback runs after this. Not under state_lock, which
   * the I/O thread takes in the callbacks. */
  vg_rt_client_stop (client);
  g_rec_mutex_lock (&self->state_lock);
  self->client = NULL;
  gst_openai_realtime_reset_conversation (self);
  g_rec_mutex_unlock (&self->state_lock);
  vg_rt_client_free (client);
  vg_io_context_unref (self->io);
  self->io = NULL;
}

/* EOS from the application (gst-launch-1.0 -e, a recorder stopping) ends
 * the output too, which otherwise stays live: without it a muxer behind the
 * agent never finishes its file. The input still gets it (a turn in progress
 * ends). Runs with the element's state lock held, so the output exists or
 * not for the whole call. */
static gboolean
gst_openai_realtime_send_event (GstElement *element, GstEvent *event)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (element);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->paced != NULL)
    vg_paced_src_finish (self->paced);
  return GST_ELEMENT_CLASS (gst_openai_realtime_parent_class)->send_event (element, event);
}

static gboolean
gst_openai_realtime_set_clock (GstElement *element, GstClock *clock)
{
  gboolean ret = GST_ELEMENT_CLASS (gst_openai_realtime_parent_class)->set_clock (element, clock);

  vg_paced_src_clock_changed (GST_OPENAI_REALTIME (element)->paced);
  return ret;
}

static GstStateChangeReturn
gst_openai_realtime_change_state (GstElement *element, GstStateChange transition)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (element);
  GstStateChangeReturn ret;

  switch (transition)
    {
      case GST_STATE_CHANGE_READY_TO_PAUSED:
        if (!start (self))
          return GST_STATE_CHANGE_FAILURE;
        break;
      case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
        vg_paced_src_set_playing (self->paced, TRUE);
        break;
      case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
        vg_paced_src_set_playing (self->paced, FALSE);
        break;
      default:
        break;
    }

  ret = GST_ELEMENT_CLASS (gst_openai_realtime_parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition)
    {
      case GST_STATE_CHANGE_READY_TO_PAUSED:
      case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
        ret = GST_STATE_CHANGE_NO_PREROLL; /* live output */
        break;
      case GST_STATE_CHANGE_PAUSED_TO_READY:
        stop (self);
        g_clear_pointer (&self->paced, vg_paced_src_free);
        g_clear_pointer (&self->playout, vg_playout_free);
        break;
      default:
        break;
    }
  return ret;
}

/* ---- GObject ---- */

static void
set_string (GstOpenAiRealtime *self, char **field, const GValue *value)
{
  GST_OBJECT_LOCK (self);
  g_free (*field);
  *field = g_value_dup_string (value);
  GST_OBJECT_UNLOCK (self);
}

static void
gst_openai_realtime_set_property (GObject *object, guint prop_id, const GValue *value,
                                  GParamSpec *pspec)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (object);
  VgRtSessionSettings *s = &self->settings;

  switch (prop_id)
    {
      case PROP_URL:
        set_string (self, &self->url, value);
        if (self->url == NULL)
          self->url = g_strdup (DEFAULT_URL);
        break;
      case PROP_API_KEY:
        GST_OBJECT_LOCK (self);
        if (self->api_key)
          memset (self->api_key, 0, strlen (self->api_key));
        g_free (self->api_key);
        self->api_key = g_value_dup_string (value);
        GST_OBJECT_UNLOCK (self);
        break;
      case PROP_MODEL:
        set_string (self, &self->model, value);
        break;
      case PROP_VOICE:
        set_string (self, &s->voice, value);
        break;
      case PROP_INSTRUCTIONS:
        set_string (self, &s->instructions, value);
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
        set_string (self, &s->eagerness, value);
        break;
      case PROP_INTERRUPT_RESPONSE:
        s->interrupt_response = g_value_get_boolean (value);
        break;
      case PROP_TRANSCRIPTION_MODEL:
        set_string (self, &s->transcription_model, value);
        break;
      case PROP_NOISE_REDUCTION:
        set_string (self, &s->noise_reduction, value);
        break;
      case PROP_TOOLS:
        {
          const char *text = g_value_get_string (value);
          g_autoptr (GError) error = NULL;

          if (text != NULL && text[0] != '\0' && !vg_rt_tools_validate (text, &error))
            {
              g_warning ("openairealtime: ignoring invalid tools: %s", error->message);
              break;
            }
          set_string (self, &s->tools_json, value);
          break;
        }
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
      case PROP_FLUSH_DOWNSTREAM:
        g_atomic_int_set (&self->flush_downstream, g_value_get_boolean (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
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
      case PROP_FLUSH_DOWNSTREAM:
        g_value_set_boolean (value, g_atomic_int_get (&self->flush_downstream));
        break;
      case PROP_DROPPED_INPUT_BYTES:
        GST_OBJECT_UNLOCK (self);
        g_rec_mutex_lock (&self->state_lock);
        g_value_set_uint64 (value,
                            self->client ? vg_rt_client_get_dropped_audio_bytes (self->client) : 0);
        g_rec_mutex_unlock (&self->state_lock);
        return;
      case PROP_BAD_FRAMES:
        GST_OBJECT_UNLOCK (self);
        g_rec_mutex_lock (&self->state_lock);
        g_value_set_uint64 (value, self->bad_frames);
        g_rec_mutex_unlock (&self->state_lock);
        return;
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
  g_rec_mutex_clear (&self->state_lock);
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

  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad, gst_openai_realtime_chain);
  gst_pad_set_event_function (self->sinkpad, gst_openai_realtime_sink_event);
  GST_PAD_SET_PROXY_ALLOCATION (self->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);

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

  self->pending_input = g_byte_array_new ();
  g_rec_mutex_init (&self->state_lock);
  g_queue_init (&self->history);
  self->known_items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->user_text = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, string_free);
  self->assistant_text = g_string_new (NULL);
  self->interrupt_response = TRUE;
}

#define RW (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)

static void
gst_openai_realtime_class_init (GstOpenAiRealtimeClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_openai_realtime_set_property;
  gobject_class->get_property = gst_openai_realtime_get_property;
  gobject_class->finalize = gst_openai_realtime_finalize;
  element_class->change_state = gst_openai_realtime_change_state;
  element_class->set_clock = gst_openai_realtime_set_clock;
  element_class->send_event = gst_openai_realtime_send_event;

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
                                                        "System instructions of the session",
                                                        DEFAULT_INSTRUCTIONS, RW));
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
                           "Function tools as a JSON array of {type,name,description,parameters}",
                           NULL, RW));
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
      gobject_class, PROP_FLUSH_DOWNSTREAM,
      g_param_spec_boolean (
          "flush-downstream", "Flush downstream on barge-in",
          "Also flush downstream elements on barge-in (for a local speaker; "
          "breaks recording muxers such as wavenc)",
          FALSE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
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

  /**
   * GstOpenAiRealtime::function-call:
   * @call_id: the call id to answer with send-function-result
   * @name: the function name
   * @arguments: the arguments as a JSON text
   *
   * Emitted on the element's I/O thread when the model calls a tool.
   */
  signals[SIGNAL_FUNCTION_CALL]
      = g_signal_new ("function-call", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
  gst_openai_realtime_function_call_signal = signals[SIGNAL_FUNCTION_CALL];
  signals[SIGNAL_SEND_FUNCTION_RESULT] = g_signal_new_class_handler (
      "send-function-result", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_openai_realtime_send_function_result), NULL, NULL, NULL, G_TYPE_NONE, 2,
      G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_SEND_TEXT] = g_signal_new_class_handler (
      "send-text", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_openai_realtime_send_text), NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_CANCEL_RESPONSE] = g_signal_new_class_handler (
      "cancel-response", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_openai_realtime_cancel_response), NULL, NULL, NULL, G_TYPE_NONE, 0);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "OpenAI Realtime agent",
                                         "Filter/Audio/Network",
                                         "Streams audio to the OpenAI Realtime API and plays the "
                                         "model's voice back in real time",
                                         "voxgate");
  gst_type_mark_as_plugin_api (GST_TYPE_OPENAI_REALTIME_TURN_DETECTION, 0);
  GST_DEBUG_CATEGORY_INIT (gst_openai_realtime_debug, "openairealtime", 0,
                           "OpenAI Realtime agent element");
}
