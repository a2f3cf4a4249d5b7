/* gstvgagent.h: GstVgAgent, the abstract base class of the voxgate agent
 * elements (openairealtime, echoagent). */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* Both pads carry mono S16LE at this rate; the output is paced in periods
 * of GST_VG_AGENT_PERIOD_MS. */
#define GST_VG_AGENT_RATE 24000
#define GST_VG_AGENT_PERIOD_MS 20
#define GST_VG_AGENT_CAPS                                                                          \
  "audio/x-raw, format=(string)S16LE, layout=(string)interleaved, "                                \
  "rate=(int)24000, channels=(int)1"

#define GST_TYPE_VG_AGENT (gst_vg_agent_get_type ())
G_DECLARE_DERIVABLE_TYPE (GstVgAgent, gst_vg_agent, GST, VG_AGENT, GstElement)

/**
 * GST_VG_AGENT_SINK_PAD:
 * @agent: a #GstVgAgent
 *
 * The sink pad (the user's audio). Owned by the element.
 */
#define GST_VG_AGENT_SINK_PAD(agent) (gst_vg_agent_get_sink_pad (GST_VG_AGENT (agent)))

/**
 * GstVgAgentPlayed:
 * @audio: audio (not only silence) left the src pad since the last report
 * @audio_time: monotonic time (g_get_monotonic_time()) of the first of those
 *   periods, 0 without @audio
 * @drained: the latest period emptied the playout queue
 * @cut: gst_vg_agent_cut_playback() ran after the latest reported period:
 *   the state those periods imply is already out of date
 *
 * What the paced output played, as reported to #GstVgAgentClass.played:
 * when the queue drains, and when audio plays while the last posted state
 * is not "speaking" (so an agent that needs to know when its answer is
 * first heard posts another state when the answer starts, as every agent
 * does with "thinking").
 */
typedef struct
{
  gboolean audio;
  gint64 audio_time;
  gboolean drained;
  gboolean cut;
} GstVgAgentPlayed;

/**
 * GstVgAgentClass:
 * @parent_class: the parent class
 * @start: READY->PAUSED, on the state-change thread, after the playout
 *   exists and before the pads are activated. Connect, load models, set
 *   the first state. Return FALSE to fail the state change.
 * @stop: PAUSED->READY, on the state-change thread, after the pads were
 *   deactivated. When it returns no work of the session may run any more.
 * @get_playout_ms: how much agent audio the playout queue holds before it
 *   drops (default 120000). Called once per start, state-change thread.
 * @handle_audio: user audio, on the sink streaming thread. @buffer is
 *   borrowed (the base unrefs it). Must not block on the network.
 * @turn_ended: EOS on the sink pad (the user's turn ended), on the sink
 *   streaming thread. The output keeps running.
 * @discard_input: flush-stop on the sink pad, on the sink streaming thread:
 *   drop input buffered but not yet handled. Optional.
 * @handle_text: the send-text action signal: the user typed @text.
 *   Owner context (see below). Optional.
 * @interrupt: the cancel-response action signal. Owner context. The
 *   default cuts the playback (gst_vg_agent_cut_playback()) and posts
 *   "listening".
 * @function_result: the send-function-result action signal, the answer to
 *   a #GstVgAgent::function-call. Owner context. Optional.
 * @played: what the paced output played (see #GstVgAgentPlayed). Owner
 *   context. The default posts "speaking" on audio (unless @cut) and
 *   "listening" once drained.
 * @respond: the respond action signal: speak now, without user input,
 *   following @instructions (%NULL or empty: the session's own). Owner
 *   context. The default posts a non-fatal realtime-error
 *   "respond_unsupported", so that an application waiting for a greeting
 *   learns that none comes.
 *
 * Owner context: when the subclass gave one with
 * gst_vg_agent_set_owner_context(), these vfuncs run there, one at a time,
 * never after stop() returned; otherwise on the thread that emitted the
 * signal (the src streaming thread for @played).
 */
struct _GstVgAgentClass
{
  GstElementClass parent_class;

  gboolean (*start) (GstVgAgent *agent);
  void (*stop) (GstVgAgent *agent);
  guint (*get_playout_ms) (GstVgAgent *agent);

  GstFlowReturn (*handle_audio) (GstVgAgent *agent, GstBuffer *buffer);
  void (*turn_ended) (GstVgAgent *agent);
  void (*discard_input) (GstVgAgent *agent);

  void (*handle_text) (GstVgAgent *agent, const char *text);
  void (*interrupt) (GstVgAgent *agent);
  void (*function_result) (GstVgAgent *agent, const char *call_id, const char *output_json);
  void (*played) (GstVgAgent *agent, const GstVgAgentPlayed *played);
  void (*respond) (GstVgAgent *agent, const char *instructions);

  /*< private >*/
  gpointer _gst_reserved[GST_PADDING - 1];
};

GstPad *gst_vg_agent_get_sink_pad (GstVgAgent *agent);

void gst_vg_agent_set_owner_context (GstVgAgent *agent, GMainContext *context);

/**
 * GstVgAgentOwnerFunc:
 * @agent: the agent
 * @data: what was given to gst_vg_agent_run_in_owner()
 *
 * Work handed to the owner context.
 */
typedef void (*GstVgAgentOwnerFunc) (GstVgAgent *agent, gpointer data);
void gst_vg_agent_run_in_owner (GstVgAgent *agent, GstVgAgentOwnerFunc func, gpointer data,
                                GDestroyNotify free_data);

gboolean gst_vg_agent_queue_audio (GstVgAgent *agent, const char *item_id, const guint8 *pcm,
                                   gsize len);
void gst_vg_agent_cut_playback (GstVgAgent *agent);
gsize gst_vg_agent_get_queued_bytes (GstVgAgent *agent);
void gst_vg_agent_get_item_samples (GstVgAgent *agent, const char *item_id, guint64 *played,
                                    guint64 *received);

void gst_vg_agent_set_state (GstVgAgent *agent, const char *state);
char *gst_vg_agent_dup_state (GstVgAgent *agent);
void gst_vg_agent_post_transcript (GstVgAgent *agent, const char *role, const char *item_id,
                                   const char *text, gboolean final);
void gst_vg_agent_post_error (GstVgAgent *agent, const char *code, const char *message,
                              gboolean fatal);
void gst_vg_agent_call_function (GstVgAgent *agent, const char *call_id, const char *name,
                                 const char *arguments);

G_END_DECLS
