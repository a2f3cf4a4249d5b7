/* gstvgagent.c: GstVgAgent, what every voxgate agent element shares: the
 * pads, the playout queue and its paced output, barge-in, the
 * realtime-state and transcript messages, the action signals, clocking and
 * state changes. Subclasses supply the conversation: start/stop a session,
 * audio in, a turn ended, text in, interrupt, a function result.
 *
 * Threads and who owns what:
 * - the state-change thread runs start()/stop() and creates and frees the
 *   playout and paced output (priv->lock guards the pointers, so that
 *   action signals and set_clock may look at them from anywhere);
 * - the sink streaming thread runs handle_audio, turn_ended and
 *   discard_input; what a subclass keeps for them is its own (no lock);
 * - the src side is the shared ticker and push pool of vg-paced-src.c: it
 *   pops the playout and reports what it played;
 * - the owner context: a subclass whose conversation state lives on a
 *   thread of its own (openairealtime: the shared I/O thread) names that
 *   thread's GMainContext with gst_vg_agent_set_owner_context(). Action
 *   signals (send-text, respond, send-function-result, cancel-response),
 *   work a subclass hands over (gst_vg_agent_run_in_owner()) and the
 *   played reports are then handed to it as idle sources, each holding a
 *   ref on the element and the session generation it belongs to, so that
 *   the conversation state is only ever touched there, one call at a time,
 *   and nothing of a stopped session runs. Without an owner context they
 *   run on the calling thread.
 * - application threads set properties (object lock) and emit signals.
 *
 * No lock of the element is held while a bus message is posted, a signal
 * is emitted or an event or buffer is pushed: application code may call
 * back into the element from a bus sync handler or a signal handler. */
#include "gstvgagent-private.h"
#include "vg-agent-messages.h"

/**
 * SECTION:gstvgagent
 * @title: GstVgAgent
 * @short_description: Base class for voxgate agent elements
 *
 * An agent element has a sink pad taking the user's audio and a live src
 * pad playing the agent's voice at real time, both mono S16LE at
 * %GST_VG_AGENT_RATE. A subclass implements the #GstVgAgentClass vfuncs
 * for its conversation and fills the output with
 * gst_vg_agent_queue_audio(); the base paces it, cuts it on barge-in
 * (gst_vg_agent_cut_playback(), #GstVgAgent:flush-downstream), posts the
 * realtime-state, realtime-transcript, realtime-error and
 * realtime-function-call messages of vg-agent-messages.h, and provides the
 * send-text, respond, cancel-response, send-function-result and
 * function-call signals. tests/plugin/test-vgagent.c holds a minimal subclass.
 */

GST_DEBUG_CATEGORY (vg_agent_debug);
#define GST_CAT_DEFAULT vg_agent_debug
/* Used by vg-paced-src.c, which is only used by this class. */
GST_DEBUG_CATEGORY (vg_paced_src_debug);

#define DEFAULT_PLAYOUT_MS 120000

enum
{
  PROP_0,
  PROP_FLUSH_DOWNSTREAM,
};

enum
{
  SIGNAL_FUNCTION_CALL,
  SIGNAL_SEND_FUNCTION_RESULT,
  SIGNAL_SEND_TEXT,
  SIGNAL_CANCEL_RESPONSE,
  SIGNAL_RESPOND,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_VG_AGENT_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE (
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_VG_AGENT_CAPS));

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (GstVgAgent, gst_vg_agent, GST_TYPE_ELEMENT);

GstVgAgentPrivate *
gst_vg_agent_priv (gpointer agent)
{
  return gst_vg_agent_get_instance_private (GST_VG_AGENT (agent));
}

/* ---- messages and signals ---- */

/**
 * gst_vg_agent_set_state:
 * @agent: a #GstVgAgent
 * @state: connecting, listening, thinking, speaking or error
 *
 * Posts a realtime-state message when @state differs from the last one.
 * Any thread; no lock is held while posting, so calls racing on two threads
 * may post in another order than they changed the state: where that
 * matters, post from one thread (the owner context).
 */
void
gst_vg_agent_set_state (GstVgAgent *agent, const char *state)
{
  GstVgAgentPrivate *priv = PRIV (agent);
  gboolean changed;

  g_mutex_lock (&priv->lock);
  changed = g_strcmp0 (priv->state, state) != 0;
  if (changed)
    {
      g_free (priv->state);
      priv->state = g_strdup (state);
    }
  g_mutex_unlock (&priv->lock);
  if (!changed)
    return;
  GST_DEBUG_OBJECT (agent, "state %s", state);
  vg_agent_post_state (GST_ELEMENT (agent), state);
}

/**
 * gst_vg_agent_dup_state:
 * @agent: a #GstVgAgent
 *
 * Returns: (transfer full) (nullable): the last posted state, %NULL when
 * none was posted since the element started
 */
char *
gst_vg_agent_dup_state (GstVgAgent *agent)
{
  GstVgAgentPrivate *priv = PRIV (agent);
  char *state;

  g_mutex_lock (&priv->lock);
  state = g_strdup (priv->state);
  g_mutex_unlock (&priv->lock);
  return state;
}

/**
 * gst_vg_agent_post_transcript:
 * @agent: a #GstVgAgent
 * @role: user or assistant
 * @item_id: the item the text belongs to
 * @text: the whole text of the item so far
 * @final: the item's text is complete
 *
 * Posts a realtime-transcript message. Any thread.
 */
void
gst_vg_agent_post_transcript (GstVgAgent *agent, const char *role, const char *item_id,
                              const char *text, gboolean final)
{
  vg_agent_post_transcript (GST_ELEMENT (agent), role, item_id, text, final);
}

/**
 * gst_vg_agent_post_error:
 * @agent: a #GstVgAgent
 * @code: a machine-readable code
 * @message: what happened
 * @fatal: the session is over
 *
 * Posts a realtime-error message. Any thread.
 */
void
gst_vg_agent_post_error (GstVgAgent *agent, const char *code, const char *message, gboolean fatal)
{
  vg_agent_post_error (GST_ELEMENT (agent), code, message, fatal);
}

/**
 * gst_vg_agent_call_function:
 * @agent: a #GstVgAgent
 * @call_id: the id send-function-result will answer
 * @name: the function
 * @arguments: (nullable): its arguments as JSON text
 *
 * Posts realtime-function-call, then emits #GstVgAgent::function-call. Call
 * it with no lock held (the handler may call back into the element); from
 * the owner context when there is one.
 */
void
gst_vg_agent_call_function (GstVgAgent *agent, const char *call_id, const char *name,
                            const char *arguments)
{
  vg_agent_post_function_call (GST_ELEMENT (agent), call_id, name, arguments);
  g_signal_emit (agent, signals[SIGNAL_FUNCTION_CALL], 0, call_id, name,
                 arguments ? arguments : "{}");
}

static void
do_text (GstVgAgent *self, gpointer text)
{
  GstVgAgentClass *klass = GST_VG_AGENT_GET_CLASS (self);

  if (klass->handle_text != NULL)
    klass->handle_text (self, text);
}

static void
gst_vg_agent_send_text (GstVgAgent *self, const char *text)
{
  gst_vg_agent_run_in_owner (self, do_text, g_strdup (text), g_free);
}

static void
do_interrupt (GstVgAgent *self, gpointer unused)
{
  GST_VG_AGENT_GET_CLASS (self)->interrupt (self);
}

static void
gst_vg_agent_cancel_response (GstVgAgent *self)
{
  gst_vg_agent_run_in_owner (self, do_interrupt, NULL, NULL);
}

static void
do_function_result (GstVgAgent *self, gpointer data)
{
  char **args = data; /* call id, output */
  GstVgAgentClass *klass = GST_VG_AGENT_GET_CLASS (self);

  if (klass->function_result != NULL)
    klass->function_result (self, args[0], args[1]);
  else
    GST_WARNING_OBJECT (self, "this agent calls no functions: result dropped");
}

static void
gst_vg_agent_send_function_result (GstVgAgent *self, const char *call_id, const char *output)
{
  char **args = g_new0 (char *, 3);

  args[0] = g_strdup (call_id);
  args[1] = g_strdup (output);
  gst_vg_agent_run_in_owner (self, do_function_result, args, (GDestroyNotify)g_strfreev);
}

static void
do_respond (GstVgAgent *self, gpointer instructions)
{
  GST_VG_AGENT_GET_CLASS (self)->respond (self, instructions);
}

static void
gst_vg_agent_respond (GstVgAgent *self, const char *instructions)
{
  gst_vg_agent_run_in_owner (self, do_respond, g_strdup (instructions), g_free);
}

/* ---- pads ---- */

static GstFlowReturn
gst_vg_agent_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  GstVgAgent *self = GST_VG_AGENT (parent);
  GstVgAgentClass *klass = GST_VG_AGENT_GET_CLASS (self);
  GstFlowReturn ret = klass->handle_audio ? klass->handle_audio (self, buf) : GST_FLOW_OK;

  gst_buffer_unref (buf);
  return ret;
}

static gboolean
gst_vg_agent_sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstVgAgent *self = GST_VG_AGENT (parent);
  GstVgAgentClass *klass = GST_VG_AGENT_GET_CLASS (self);

  switch (GST_EVENT_TYPE (event))
    {
      case GST_EVENT_EOS:
        /* The end of the user's turn; the output is a live source of its
         * own and keeps running. */
        if (klass->turn_ended != NULL)
          klass->turn_ended (self);
        break;
      case GST_EVENT_FLUSH_STOP:
        if (klass->discard_input != NULL)
          klass->discard_input (self);
        break;
      case GST_EVENT_CAPS:
      case GST_EVENT_SEGMENT:
      case GST_EVENT_STREAM_START:
      case GST_EVENT_FLUSH_START:
      case GST_EVENT_GAP:
        /* The input and output are different streams: nothing to forward. */
        break;
      default:
        return gst_pad_event_default (pad, parent, event);
    }
  gst_event_unref (event);
  return TRUE;
}

/**
 * gst_vg_agent_get_sink_pad:
 * @agent: a #GstVgAgent
 *
 * Returns: (transfer none): the sink pad
 */
GstPad *
gst_vg_agent_get_sink_pad (GstVgAgent *agent)
{
  return PRIV (agent)->sinkpad;
}

/* ---- element ---- */

/* State-change thread. */
static gboolean
start_session (GstVgAgent *self)
{
  GstVgAgentPrivate *priv = PRIV (self);
  GstVgAgentClass *klass = GST_VG_AGENT_GET_CLASS (self);
  guint ms = klass->get_playout_ms ? klass->get_playout_ms (self) : DEFAULT_PLAYOUT_MS;
  VgPlayout *playout = vg_playout_new (GST_VG_AGENT_RATE, ms);
  VgPacedSrc *paced
      = vg_paced_src_new (GST_ELEMENT (self), priv->srcpad, playout, GST_VG_AGENT_RATE,
                          GST_VG_AGENT_PERIOD_MS, gst_vg_agent_on_played, self);

  g_mutex_lock (&priv->lock);
  priv->playout = playout;
  priv->paced = paced;
  g_clear_pointer (&priv->state, g_free);
  g_mutex_unlock (&priv->lock);
  return klass->start == NULL || klass->start (self);
}

/* State-change thread, pads inactive: nothing pops the playout. */
static void
stop_session (GstVgAgent *self, gboolean started)
{
  GstVgAgentPrivate *priv = PRIV (self);
  GstVgAgentClass *klass = GST_VG_AGENT_GET_CLASS (self);
  VgPlayout *playout;
  VgPacedSrc *paced;

  if (started && klass->stop != NULL)
    klass->stop (self);
  g_mutex_lock (&priv->lock);
  playout = g_steal_pointer (&priv->playout);
  paced = g_steal_pointer (&priv->paced);
  g_clear_pointer (&priv->state, g_free);
  g_mutex_unlock (&priv->lock);
  /* Outside the lock: freeing waits for a push job, which reports to us. */
  g_clear_pointer (&paced, vg_paced_src_free);
  g_clear_pointer (&playout, vg_playout_free);
}

static void
set_playing (GstVgAgent *self, gboolean playing)
{
  GstVgAgentPrivate *priv = PRIV (self);

  g_mutex_lock (&priv->lock);
  if (priv->paced != NULL)
    vg_paced_src_set_playing (priv->paced, playing);
  g_mutex_unlock (&priv->lock);
}

static GstStateChangeReturn
gst_vg_agent_change_state (GstElement *element, GstStateChange transition)
{
  GstVgAgent *self = GST_VG_AGENT (element);
  GstStateChangeReturn ret;

  switch (transition)
    {
      case GST_STATE_CHANGE_READY_TO_PAUSED:
        if (!start_session (self))
          {
            stop_session (self, FALSE);
            return GST_STATE_CHANGE_FAILURE;
          }
        break;
      case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
        set_playing (self, TRUE);
        break;
      case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
        set_playing (self, FALSE);
        break;
      default:
        break;
    }

  ret = GST_ELEMENT_CLASS (gst_vg_agent_parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition)
    {
      case GST_STATE_CHANGE_READY_TO_PAUSED:
      case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
        ret = GST_STATE_CHANGE_NO_PREROLL; /* live output */
        break;
      case GST_STATE_CHANGE_PAUSED_TO_READY:
        stop_session (self, TRUE);
        break;
      default:
        break;
    }
  return ret;
}

/* EOS from the application (gst-launch-1.0 -e, a recorder stopping) ends
 * the output too, which otherwise stays live: without it a muxer behind the
 * agent never finishes its file. The input still gets it (a turn in progress
 * ends). */
static gboolean
gst_vg_agent_send_event (GstElement *element, GstEvent *event)
{
  GstVgAgentPrivate *priv = PRIV (element);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
    {
      g_mutex_lock (&priv->lock);
      if (priv->paced != NULL)
        vg_paced_src_finish (priv->paced); /* marks it: the push thread pushes */
      g_mutex_unlock (&priv->lock);
    }
  return GST_ELEMENT_CLASS (gst_vg_agent_parent_class)->send_event (element, event);
}

static gboolean
gst_vg_agent_set_clock (GstElement *element, GstClock *clock)
{
  GstVgAgentPrivate *priv = PRIV (element);
  gboolean ret = GST_ELEMENT_CLASS (gst_vg_agent_parent_class)->set_clock (element, clock);

  g_mutex_lock (&priv->lock);
  vg_paced_src_clock_changed (priv->paced);
  g_mutex_unlock (&priv->lock);
  return ret;
}

/* An agent without a conversation of its own to cancel just stops talking. */
static void
default_interrupt (GstVgAgent *self)
{
  gst_vg_agent_cut_playback (self);
  gst_vg_agent_set_state (self, "listening");
}

/* An application that asks for a greeting waits for it: say that none
 * comes rather than stay silent. */
static void
default_respond (GstVgAgent *self, const char *instructions)
{
  GST_WARNING_OBJECT (self, "this agent cannot speak unprompted: respond ignored");
  gst_vg_agent_post_error (self, "respond_unsupported", "this agent cannot speak unprompted",
                           FALSE);
}

/* flush-downstream is the only property: read at each cut, any thread. */
static void
gst_vg_agent_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  if (prop_id != PROP_FLUSH_DOWNSTREAM)
    {
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
    }
  GST_OBJECT_LOCK (object);
  PRIV (object)->flush_downstream = g_value_get_boolean (value);
  GST_OBJECT_UNLOCK (object);
}

static void
gst_vg_agent_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  if (prop_id != PROP_FLUSH_DOWNSTREAM)
    {
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
    }
  GST_OBJECT_LOCK (object);
  g_value_set_boolean (value, PRIV (object)->flush_downstream);
  GST_OBJECT_UNLOCK (object);
}

static void
gst_vg_agent_finalize (GObject *object)
{
  GstVgAgentPrivate *priv = PRIV (object);

  g_free (priv->state);
  if (priv->context != NULL)
    g_main_context_unref (priv->context);
  g_mutex_clear (&priv->lock);
  G_OBJECT_CLASS (gst_vg_agent_parent_class)->finalize (object);
}

static void
gst_vg_agent_init (GstVgAgent *self)
{
  GstVgAgentPrivate *priv = PRIV (self);

  g_mutex_init (&priv->lock);
  priv->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (priv->sinkpad, gst_vg_agent_chain);
  gst_pad_set_event_function (priv->sinkpad, gst_vg_agent_sink_event);
  gst_element_add_pad (GST_ELEMENT (self), priv->sinkpad);
  priv->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_use_fixed_caps (priv->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), priv->srcpad);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}

static void
gst_vg_agent_class_init (GstVgAgentClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  gobject_class->set_property = gst_vg_agent_set_property;
  gobject_class->get_property = gst_vg_agent_get_property;
  gobject_class->finalize = gst_vg_agent_finalize;
  element_class->change_state = gst_vg_agent_change_state;
  element_class->set_clock = gst_vg_agent_set_clock;
  element_class->send_event = gst_vg_agent_send_event;
  klass->interrupt = default_interrupt;
  klass->played = gst_vg_agent_default_played;
  klass->respond = default_respond;

  g_object_class_install_property (
      gobject_class, PROP_FLUSH_DOWNSTREAM,
      g_param_spec_boolean (
          "flush-downstream", "Flush downstream on barge-in",
          "Also flush downstream elements on barge-in (for a local speaker; "
          "breaks recording muxers such as wavenc)",
          FALSE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));

  /**
   * GstVgAgent::function-call:
   * @agent: the agent
   * @call_id: the call id to answer with send-function-result
   * @name: the function name
   * @arguments: the arguments as a JSON text
   *
   * Emitted when the model calls a tool, in the agent's owner context
   * (openairealtime: its I/O thread), with no lock of the element held.
   */
  signals[SIGNAL_FUNCTION_CALL]
      = g_signal_new ("function-call", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
  /**
   * GstVgAgent::send-function-result:
   * @agent: the agent
   * @call_id: the call id of the function-call
   * @output_json: the result as a JSON text
   *
   * Action signal: answers a function-call. Any thread.
   */
  signals[SIGNAL_SEND_FUNCTION_RESULT] = g_signal_new_class_handler (
      "send-function-result", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_vg_agent_send_function_result), NULL, NULL, NULL, G_TYPE_NONE, 2,
      G_TYPE_STRING, G_TYPE_STRING);
  /**
   * GstVgAgent::send-text:
   * @agent: the agent
   * @text: what the user typed
   *
   * Action signal: a typed user message. Any thread.
   */
  signals[SIGNAL_SEND_TEXT] = g_signal_new_class_handler (
      "send-text", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_vg_agent_send_text), NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * GstVgAgent::cancel-response:
   * @agent: the agent
   *
   * Action signal: stops the current answer and its playback. Any thread.
   */
  signals[SIGNAL_CANCEL_RESPONSE] = g_signal_new_class_handler (
      "cancel-response", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_vg_agent_cancel_response), NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * GstVgAgent::respond:
   * @agent: the agent
   * @instructions: (nullable): how to answer this time (openairealtime:
   *   response.instructions, which override the session's instructions for
   *   this response only); %NULL or empty for the session's own
   *
   * Action signal: the agent speaks now, without user input (a greeting
   * once the user's audio path is up). An answer already under way is not
   * cut: the new one follows it. Agents that cannot speak unprompted post
   * a non-fatal realtime-error "respond_unsupported". Any thread; the
   * work runs in the owner context.
   */
  signals[SIGNAL_RESPOND] = g_signal_new_class_handler (
      "respond", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (gst_vg_agent_respond), NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_type_mark_as_plugin_api (GST_TYPE_VG_AGENT, 0);
  GST_DEBUG_CATEGORY_INIT (vg_agent_debug, "vgagent", 0, "voxgate agent base class");
  GST_DEBUG_CATEGORY_INIT (vg_paced_src_debug, "vgpacedsrc", 0, "Real-time audio playout");
}
