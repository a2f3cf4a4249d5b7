/* gstechoagent.c: echoagent, the offline agent. An energy VAD cuts the
 * input into turns; each finished turn is played back through the paced
 * output of GstVgAgent, which posts the same realtime-state messages as for
 * openairealtime, so the gateway treats both agents alike. Speaking again
 * stops the playback (barge-in). No owner context: the turn state belongs
 * to the sink streaming thread, send-text and respond (a beep) run on the
 * caller's thread. */
#include "gstechoagent.h"
#include "vg-energy-vad.h"

#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_echo_agent_debug);
#define GST_CAT_DEFAULT gst_echo_agent_debug

#define RATE GST_VG_AGENT_RATE
#define PREROLL_MS 200
#define DEFAULT_THRESHOLD 0.02
#define DEFAULT_SILENCE_MS 500
#define DEFAULT_MIN_SPEECH_MS 100
#define DEFAULT_MAX_TURN_MS 30000
/* What respond plays: a short beep, enough to be heard and measured. */
#define RESPOND_MS 300
#define RESPOND_HZ 660.0

enum
{
  PROP_0,
  PROP_THRESHOLD,
  PROP_SILENCE_MS,
  PROP_MIN_SPEECH_MS,
  PROP_MAX_TURN_MS,
};

struct _GstEchoAgent
{
  GstVgAgent parent;

  /* properties (object lock) */
  double threshold;
  guint silence_ms;
  guint min_speech_ms;
  guint max_turn_ms;

  /* sink streaming thread */
  VgEnergyVad vad;
  GByteArray *preroll; /* recent quiet audio, prepended to a turn */
  GByteArray *turn;
  guint turns;

  gint typed;     /* atomic: typed messages so far (send-text) */
  gint responses; /* atomic: respond calls so far */
};

G_DEFINE_TYPE (GstEchoAgent, gst_echo_agent, GST_TYPE_VG_AGENT);
GST_ELEMENT_REGISTER_DEFINE (echoagent, "echoagent", GST_RANK_NONE, GST_TYPE_ECHO_AGENT);

static void
on_speech_started (GstEchoAgent *self)
{
  if (gst_vg_agent_get_queued_bytes (GST_VG_AGENT (self)) > 0)
    {
      GST_INFO_OBJECT (self, "user speaks again: stopping the playback");
      gst_vg_agent_cut_playback (GST_VG_AGENT (self));
    }
  gst_vg_agent_set_state (GST_VG_AGENT (self), "listening");
  g_byte_array_set_size (self->turn, 0);
  g_byte_array_append (self->turn, self->preroll->data, self->preroll->len);
}

static void
on_speech_stopped (GstEchoAgent *self)
{
  GstVgAgent *agent = GST_VG_AGENT (self);
  g_autofree char *user_item = NULL, *reply_item = NULL, *text = NULL;
  double seconds = self->turn->len / 2.0 / RATE;

  self->turns++;
  user_item = g_strdup_printf ("echo_user_%u", self->turns);
  reply_item = g_strdup_printf ("echo_reply_%u", self->turns);
  text = g_strdup_printf ("(echo) %.1f s of audio", seconds);
  GST_INFO_OBJECT (self, "turn %u: %.2f s", self->turns, seconds);
  gst_vg_agent_set_state (agent, "thinking");
  gst_vg_agent_post_transcript (agent, "user", user_item, text, TRUE);
  if (!gst_vg_agent_queue_audio (agent, reply_item, self->turn->data, self->turn->len))
    GST_WARNING_OBJECT (self, "playout queue full, turn dropped");
  gst_vg_agent_post_transcript (agent, "assistant", reply_item, text, TRUE);
  g_byte_array_set_size (self->turn, 0);
}

static void
keep_preroll (GstEchoAgent *self, const guint8 *data, gsize len)
{
  gsize max = RATE * 2 * PREROLL_MS / 1000;

  g_byte_array_append (self->preroll, data, len);
  if (self->preroll->len > max)
    g_byte_array_remove_range (self->preroll, 0, self->preroll->len - max);
}

/* Sink streaming thread. */
static GstFlowReturn
gst_echo_agent_handle_audio (GstVgAgent *agent, GstBuffer *buf)
{
  GstEchoAgent *self = GST_ECHO_AGENT (agent);
  GstMapInfo map;
  const gint16 *samples;
  gsize n, done = 0, max_turn_bytes;

  GST_OBJECT_LOCK (self);
  max_turn_bytes = (gsize)self->max_turn_ms * RATE * 2 / 1000;
  GST_OBJECT_UNLOCK (self);
  gst_buffer_map (buf, &map, GST_MAP_READ);
  samples = (const gint16 *)map.data;
  n = map.size / 2;
  GST_LOG_OBJECT (self, "%" G_GSIZE_FORMAT " samples, speaking %d", n, self->vad.speaking);
  while (done < n)
    {
      gsize consumed = 0;
      guint64 pos;
      VgVadEvent ev;
      gboolean was_speaking = self->vad.speaking;

      ev = vg_energy_vad_process (&self->vad, samples + done, n - done, &consumed, &pos);
      if (was_speaking)
        {
          if (self->turn->len < max_turn_bytes)
            g_byte_array_append (self->turn, (const guint8 *)(samples + done),
                                 MIN (consumed * 2, max_turn_bytes - self->turn->len));
        }
      else
        keep_preroll (self, (const guint8 *)(samples + done), consumed * 2);
      done += consumed;
      if (ev == VG_VAD_SPEECH_STARTED)
        on_speech_started (self);
      else if (ev == VG_VAD_SPEECH_STOPPED)
        on_speech_stopped (self);
    }
  gst_buffer_unmap (buf, &map);
  return GST_FLOW_OK;
}

/* Sink streaming thread: the end of input ends a turn in progress. */
static void
gst_echo_agent_turn_ended (GstVgAgent *agent)
{
  GstEchoAgent *self = GST_ECHO_AGENT (agent);

  if (self->vad.speaking)
    {
      self->vad.speaking = FALSE;
      on_speech_stopped (self);
    }
}

/* State-change thread, before the pads are activated. */
static gboolean
gst_echo_agent_start (GstVgAgent *agent)
{
  GstEchoAgent *self = GST_ECHO_AGENT (agent);

  GST_OBJECT_LOCK (self);
  vg_energy_vad_init (&self->vad, RATE, self->threshold, self->min_speech_ms, self->silence_ms);
  GST_OBJECT_UNLOCK (self);
  g_byte_array_set_size (self->turn, 0);
  g_byte_array_set_size (self->preroll, 0);
  self->turns = 0;
  gst_vg_agent_set_state (agent, "listening");
  return TRUE;
}

/* A turn is at most max-turn-ms; room for one more behind it. */
static guint
gst_echo_agent_get_playout_ms (GstVgAgent *agent)
{
  guint ms;

  GST_OBJECT_LOCK (agent);
  ms = GST_ECHO_AGENT (agent)->max_turn_ms + 5000;
  GST_OBJECT_UNLOCK (agent);
  return ms;
}

static void
gst_echo_agent_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstEchoAgent *self = GST_ECHO_AGENT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id)
    {
      case PROP_THRESHOLD:
        self->threshold = g_value_get_double (value);
        break;
      case PROP_SILENCE_MS:
        self->silence_ms = g_value_get_uint (value);
        break;
      case PROP_MIN_SPEECH_MS:
        self->min_speech_ms = g_value_get_uint (value);
        break;
      case PROP_MAX_TURN_MS:
        self->max_turn_ms = g_value_get_uint (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_echo_agent_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstEchoAgent *self = GST_ECHO_AGENT (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id)
    {
      case PROP_THRESHOLD:
        g_value_set_double (value, self->threshold);
        break;
      case PROP_SILENCE_MS:
        g_value_set_uint (value, self->silence_ms);
        break;
      case PROP_MIN_SPEECH_MS:
        g_value_set_uint (value, self->min_speech_ms);
        break;
      case PROP_MAX_TURN_MS:
        g_value_set_uint (value, self->max_turn_ms);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_echo_agent_finalize (GObject *object)
{
  GstEchoAgent *self = GST_ECHO_AGENT (object);

  g_byte_array_unref (self->turn);
  g_byte_array_unref (self->preroll);
  G_OBJECT_CLASS (gst_echo_agent_parent_class)->finalize (object);
}

static void
gst_echo_agent_init (GstEchoAgent *self)
{
  self->threshold = DEFAULT_THRESHOLD;
  self->silence_ms = DEFAULT_SILENCE_MS;
  self->min_speech_ms = DEFAULT_MIN_SPEECH_MS;
  self->max_turn_ms = DEFAULT_MAX_TURN_MS;
  self->turn = g_byte_array_new ();
  self->preroll = g_byte_array_new ();
}

#define RW (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)

/* A typed message gets a typed answer: the same text, marked as an echo. As
 * with openairealtime, the typed text itself is not posted as a user
 * transcript: the sender already has it. Called from any thread. */
static void
gst_echo_agent_send_text (GstVgAgent *agent, const char *text)
{
  GstEchoAgent *self = GST_ECHO_AGENT (agent);
  guint n;
  g_autofree char *reply_item = NULL, *reply = NULL;

  if (!text || !*text || !g_utf8_validate (text, -1, NULL))
    {
      gst_vg_agent_post_error (agent, "invalid_text", "send-text needs non-empty UTF-8 text",
                               FALSE);
      return;
    }
  n = g_atomic_int_add (&self->typed, 1) + 1;
  reply_item = g_strdup_printf ("echo_text_reply_%u", n);
  reply = g_strdup_printf ("(echo) %s", text);
  gst_vg_agent_post_transcript (agent, "assistant", reply_item, reply, TRUE);
}

/* The respond action: no model to follow the instructions, so the reply
 * is a beep. Its transcript names only the instructions' length: they hold
 * the composed session prompt (learner data included), which must not reach
 * the learner's page or the store as words the tutor said. The base's
 * played reports post speaking, then listening. Queued behind an answer
 * still playing. Any thread (no owner context). */
static void
gst_echo_agent_respond (GstVgAgent *agent, const char *instructions)
{
  GstEchoAgent *self = GST_ECHO_AGENT (agent);
  guint n = g_atomic_int_add (&self->responses, 1) + 1, samples = RATE * RESPOND_MS / 1000, i;
  g_autofree gint16 *pcm = g_new (gint16, samples);
  g_autofree char *item = g_strdup_printf ("echo_respond_%u", n);
  g_autofree char *text = NULL;

  for (i = 0; i < samples; i++)
    {
      /* 10 ms ramps: no click at either end. */
      double ramp = MIN (1.0, MIN (i, samples - i) / (RATE / 100.0));

      pcm[i] = (gint16)(8000 * ramp * sin (2 * G_PI * RESPOND_HZ * i / RATE));
    }
  text = g_strdup_printf ("(echo) a reply without input (%u characters of instructions)",
                          instructions ? (guint)g_utf8_strlen (instructions, -1) : 0);
  if (!gst_vg_agent_queue_audio (agent, item, (const guint8 *)pcm, samples * 2))
    GST_WARNING_OBJECT (self, "playout queue full, respond dropped");
  gst_vg_agent_post_transcript (agent, "assistant", item, text, TRUE);
}

static void
gst_echo_agent_class_init (GstEchoAgentClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstVgAgentClass *agent_class = GST_VG_AGENT_CLASS (klass);

  gobject_class->set_property = gst_echo_agent_set_property;
  gobject_class->get_property = gst_echo_agent_get_property;
  gobject_class->finalize = gst_echo_agent_finalize;
  agent_class->start = gst_echo_agent_start;
  agent_class->get_playout_ms = gst_echo_agent_get_playout_ms;
  agent_class->handle_audio = gst_echo_agent_handle_audio;
  agent_class->turn_ended = gst_echo_agent_turn_ended;
  agent_class->handle_text = gst_echo_agent_send_text;
  agent_class->respond = gst_echo_agent_respond;

  g_object_class_install_property (
      gobject_class, PROP_THRESHOLD,
      g_param_spec_double ("threshold", "VAD threshold",
                           "RMS level (fraction of full scale) above which audio is speech", 0.0,
                           1.0, DEFAULT_THRESHOLD, RW));
  g_object_class_install_property (gobject_class, PROP_SILENCE_MS,
                                   g_param_spec_uint ("silence-ms", "Silence",
                                                      "Silence that ends a user turn, in ms", 20,
                                                      10000, DEFAULT_SILENCE_MS, RW));
  g_object_class_install_property (
      gobject_class, PROP_MIN_SPEECH_MS,
      g_param_spec_uint ("min-speech-ms", "Minimum speech",
                         "Loud audio needed before a turn starts, in ms", 10, 5000,
                         DEFAULT_MIN_SPEECH_MS, RW));
  g_object_class_install_property (
      gobject_class, PROP_MAX_TURN_MS,
      g_param_spec_uint ("max-turn-ms", "Maximum turn",
                         "Longest turn recorded for playback (the rest is not echoed), in ms", 1000,
                         300000, DEFAULT_MAX_TURN_MS, RW));
  gst_element_class_set_static_metadata (element_class, "Echo agent", "Filter/Audio",
                                         "Offline agent: plays each user turn back, posting the "
                                         "same messages as openairealtime",
                                         "voxgate");
  GST_DEBUG_CATEGORY_INIT (gst_echo_agent_debug, "echoagent", 0, "Offline echo agent");
}
