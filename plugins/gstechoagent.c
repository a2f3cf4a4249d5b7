/* gstechoagent.c: echoagent, the offline agent. An energy VAD cuts the
 * input into turns; each finished turn is played back through the same
 * paced output as openairealtime, and the same realtime-state and
 * realtime-transcript messages are posted, so the gateway treats both
 * agents alike. Speaking again stops the playback (barge-in). */
#include "gstechoagent.h"
#include "vg-agent-messages.h"

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_echo_agent_debug);
#define GST_CAT_DEFAULT gst_echo_agent_debug

#define RATE 24000
#define PERIOD_MS 20
#define PREROLL_MS 200
#define DEFAULT_THRESHOLD 0.02
#define DEFAULT_SILENCE_MS 500
#define DEFAULT_MIN_SPEECH_MS 100
#define DEFAULT_MAX_TURN_MS 30000

#define CAPS_STR                                                                                   \
  "audio/x-raw, format=(string)S16LE, layout=(string)interleaved, "                                \
  "rate=(int)24000, channels=(int)1"

enum
{
  PROP_0,
  PROP_THRESHOLD,
  PROP_SILENCE_MS,
  PROP_MIN_SPEECH_MS,
  PROP_MAX_TURN_MS,
  PROP_FLUSH_DOWNSTREAM,
};

struct _GstEchoAgent
{
  GstElement parent;
  GstPad *sinkpad;
  GstPad *srcpad;

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

  gint typed;            /* atomic: typed messages so far (send-text) */
  gint flush_downstream; /* atomic gboolean: read at barge-in */

  VgPlayout *playout;
  VgPacedSrc *paced;
  GMutex state_lock;
  char *state;
  char *playing_item;
};

static GstStaticPadTemplate sink_template
    = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (CAPS_STR));
static GstStaticPadTemplate src_template
    = GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (CAPS_STR));

G_DEFINE_TYPE (GstEchoAgent, gst_echo_agent, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (echoagent, "echoagent", GST_RANK_NONE, GST_TYPE_ECHO_AGENT);

static void
set_state (GstEchoAgent *self, const char *state)
{
  gboolean changed;

  g_mutex_lock (&self->state_lock);
  changed = g_strcmp0 (self->state, state) != 0;
  if (changed)
    {
      g_free (self->state);
      self->state = g_strdup (state);
    }
  g_mutex_unlock (&self->state_lock);
  if (changed)
    vg_agent_post_state (GST_ELEMENT (self), state);
}

static void
on_played (gpointer data, const VgPlayoutPop *pop)
{
  GstEchoAgent *self = data;

  if (pop->audio_bytes > 0)
    set_state (self, "speaking");
  if (pop->drained)
    set_state (self, "listening");
}

static void
on_speech_started (GstEchoAgent *self)
{
  if (vg_playout_get_queued_bytes (self->playout) > 0)
    {
      GST_INFO_OBJECT (self, "user speaks again: stopping the playback");
      vg_paced_src_flush (self->paced, g_atomic_int_get (&self->flush_downstream));
    }
  set_state (self, "listening");
  g_byte_array_set_size (self->turn, 0);
  g_byte_array_append (self->turn, self->preroll->data, self->preroll->len);
}

static void
on_speech_stopped (GstEchoAgent *self)
{
  g_autofree char *user_item = NULL, *reply_item = NULL, *text = NULL;
  double seconds = self->turn->len / 2.0 / RATE;

  self->turns++;
  user_item = g_strdup_printf ("echo_user_%u", self->turns);
  reply_item = g_strdup_printf ("echo_reply_%u", self->turns);
  text = g_strdup_printf ("(echo) %.1f s of audio", seconds);
  GST_INFO_OBJECT (self, "turn %u: %.2f s", self->turns, seconds);
  set_state (self, "thinking");
  vg_agent_post_transcript (GST_ELEMENT (self), "user", user_item, text, TRUE);
  if (!vg_playout_push (self->playout, reply_item, self->turn->data, self->turn->len))
    GST_WARNING_OBJECT (self, "playout queue full, turn dropped");
  vg_agent_post_transcript (GST_ELEMENT (self), "assistant", reply_item, text, TRUE);
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

static GstFlowReturn
gst_echo_agent_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  GstEchoAgent *self = GST_ECHO_AGENT (parent);
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
  gst_buffer_unref (buf);
  return GST_FLOW_OK;
}

static gboolean
gst_echo_agent_sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstEchoAgent *self = GST_ECHO_AGENT (parent);

  switch (GST_EVENT_TYPE (event))
    {
      case GST_EVENT_EOS:
        /* End of input ends a turn in progress; the output stays live. */
        if (self->vad.speaking)
          {
            self->vad.speaking = FALSE;
            on_speech_stopped (self);
          }
        gst_event_unref (event);
        return TRUE;
      case GST_EVENT_CAPS:
      case GST_EVENT_SEGMENT:
      case GST_EVENT_STREAM_START:
      case GST_EVENT_FLUSH_START:
      case GST_EVENT_FLUSH_STOP:
      case GST_EVENT_GAP:
        gst_event_unref (event);
        return TRUE;
      default:
        return gst_pad_event_default (pad, parent, event);
    }
}

/* EOS from the application (gst-launch-1.0 -e, a recorder stopping) ends
 * the output too, which otherwise stays live: without it a muxer behind the
 * agent never finishes its file. The input still gets it (a turn in progress
 * ends). Runs with the element's state lock held, so the output exists or
 * not for the whole call. */
static gboolean
gst_echo_agent_send_event (GstElement *element, GstEvent *event)
{
  GstEchoAgent *self = GST_ECHO_AGENT (element);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->paced != NULL)
    vg_paced_src_finish (self->paced);
  return GST_ELEMENT_CLASS (gst_echo_agent_parent_class)->send_event (element, event);
}

static gboolean
gst_echo_agent_set_clock (GstElement *element, GstClock *clock)
{
  gboolean ret = GST_ELEMENT_CLASS (gst_echo_agent_parent_class)->set_clock (element, clock);

  vg_paced_src_clock_changed (GST_ECHO_AGENT (element)->paced);
  return ret;
}

static GstStateChangeReturn
gst_echo_agent_change_state (GstElement *element, GstStateChange transition)
{
  GstEchoAgent *self = GST_ECHO_AGENT (element);
  GstStateChangeReturn ret;

  switch (transition)
    {
      case GST_STATE_CHANGE_READY_TO_PAUSED:
        GST_OBJECT_LOCK (self);
        vg_energy_vad_init (&self->vad, RATE, self->threshold, self->min_speech_ms,
                            self->silence_ms);
        GST_OBJECT_UNLOCK (self);
        g_byte_array_set_size (self->turn, 0);
        g_byte_array_set_size (self->preroll, 0);
        self->turns = 0;
        self->playout = vg_playout_new (RATE, self->max_turn_ms + 5000);
        self->paced = vg_paced_src_new (element, self->srcpad, self->playout, RATE, PERIOD_MS,
                                        on_played, self);
        set_state (self, "listening");
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
  ret = GST_ELEMENT_CLASS (gst_echo_agent_parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;
  switch (transition)
    {
      case GST_STATE_CHANGE_READY_TO_PAUSED:
      case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
        ret = GST_STATE_CHANGE_NO_PREROLL;
        break;
      case GST_STATE_CHANGE_PAUSED_TO_READY:
        g_clear_pointer (&self->paced, vg_paced_src_free);
        g_clear_pointer (&self->playout, vg_playout_free);
        g_mutex_lock (&self->state_lock);
        g_clear_pointer (&self->state, g_free);
        g_mutex_unlock (&self->state_lock);
        break;
      default:
        break;
    }
  return ret;
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
      case PROP_FLUSH_DOWNSTREAM:
        g_atomic_int_set (&self->flush_downstream, g_value_get_boolean (value));
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
      case PROP_FLUSH_DOWNSTREAM:
        g_value_set_boolean (value, g_atomic_int_get (&self->flush_downstream));
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
  g_free (self->state);
  g_mutex_clear (&self->state_lock);
  G_OBJECT_CLASS (gst_echo_agent_parent_class)->finalize (object);
}

static void
gst_echo_agent_init (GstEchoAgent *self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad, gst_echo_agent_chain);
  gst_pad_set_event_function (self->sinkpad, gst_echo_agent_sink_event);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);

  self->threshold = DEFAULT_THRESHOLD;
  self->silence_ms = DEFAULT_SILENCE_MS;
  self->min_speech_ms = DEFAULT_MIN_SPEECH_MS;
  self->max_turn_ms = DEFAULT_MAX_TURN_MS;
  self->turn = g_byte_array_new ();
  self->preroll = g_byte_array_new ();
  g_mutex_init (&self->state_lock);
}

#define RW (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)

/* A typed message gets a typed answer: the same text, marked as an echo. As
 * with openairealtime, the typed text itself is not posted as a user
 * transcript: the sender already has it. Called from any thread. */
static void
gst_echo_agent_send_text (GstEchoAgent *self, const char *text)
{
  guint n;
  g_autofree char *reply_item = NULL, *reply = NULL;

  if (!text || !*text || !g_utf8_validate (text, -1, NULL))
    {
      vg_agent_post_error (GST_ELEMENT (self), "invalid_text",
                           "send-text needs non-empty UTF-8 text", FALSE);
      return;
    }
  n = g_atomic_int_add (&self->typed, 1) + 1;
  reply_item = g_strdup_printf ("echo_text_reply_%u", n);
  reply = g_strdup_printf ("(echo) %s", text);
  vg_agent_post_transcript (GST_ELEMENT (self), "assistant", reply_item, reply, TRUE);
}

static void
gst_echo_agent_class_init (GstEchoAgentClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_echo_agent_set_property;
  gobject_class->get_property = gst_echo_agent_get_property;
  gobject_class->finalize = gst_echo_agent_finalize;
  element_class->change_state = gst_echo_agent_change_state;
  element_class->set_clock = gst_echo_agent_set_clock;
  element_class->send_event = gst_echo_agent_send_event;

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
  g_object_class_install_property (
      gobject_class, PROP_FLUSH_DOWNSTREAM,
      g_param_spec_boolean (
          "flush-downstream", "Flush downstream on barge-in",
          "Also flush downstream elements on barge-in (for a local speaker; "
          "breaks recording muxers such as wavenc)",
          FALSE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));

  /* The same action signal as openairealtime, so a typed message works offline too. */
  g_signal_new_class_handler (
      "send-text", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_echo_agent_send_text), NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Echo agent", "Filter/Audio",
                                         "Offline agent: plays each user turn back, posting the "
                                         "same messages as openairealtime",
                                         "voxgate");
  GST_DEBUG_CATEGORY_INIT (gst_echo_agent_debug, "echoagent", 0, "Offline echo agent");
}
