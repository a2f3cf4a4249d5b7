/* gstvgagent-output.c: the agent audio of GstVgAgent on its way out: the
 * playout queue subclasses fill, the barge-in cut, and what the paced
 * output reports as played (folded into one pending report per element for
 * an owner context, however far behind it is). */
#include "gstvgagent-private.h"

#include <string.h>

#define GST_CAT_DEFAULT vg_agent_debug

void
gst_vg_agent_default_played (GstVgAgent *self, const GstVgAgentPlayed *played)
{
  if (played->audio && !played->cut)
    gst_vg_agent_set_state (self, "speaking");
  if (played->drained)
    gst_vg_agent_set_state (self, "listening");
}

/* Owner context. */
static void
report_played (GstVgAgent *self, gpointer unused)
{
  GstVgAgentPrivate *priv = PRIV (self);
  GstVgAgentPlayed played;

  g_mutex_lock (&priv->lock);
  played = priv->played;
  played.cut = priv->played_epoch != priv->cut_epoch;
  memset (&priv->played, 0, sizeof priv->played);
  priv->played_scheduled = FALSE;
  g_mutex_unlock (&priv->lock);
  GST_VG_AGENT_GET_CLASS (self)->played (self, &played);
}

/* Src push thread, after each period that played audio or drained the
 * queue. Audio is only news while the posted state is not "speaking": 50
 * reports a second per speaking agent would keep the owner thread busy for
 * nothing. With an owner context, periods are folded into one pending
 * report (at most one queued per element, however far behind it is). */
void
gst_vg_agent_on_played (gpointer data, const VgPlayoutPop *pop)
{
  GstVgAgent *self = data;
  GstVgAgentPrivate *priv = PRIV (self);
  gint64 now = g_get_monotonic_time ();
  gboolean audio = pop->audio_bytes > 0, news, schedule;

  g_mutex_lock (&priv->lock);
  news = pop->drained || (audio && g_strcmp0 (priv->state, "speaking") != 0);
  if (!priv->has_owner)
    {
      GstVgAgentPlayed played = { audio, audio ? now : 0, pop->drained, FALSE };

      g_mutex_unlock (&priv->lock);
      if (news)
        GST_VG_AGENT_GET_CLASS (self)->played (self, &played);
      return;
    }
  /* A pending report takes every period, so that it ends as the output
   * does. */
  if (!news && !priv->played_scheduled)
    {
      g_mutex_unlock (&priv->lock);
      return;
    }
  if (audio)
    {
      if (!priv->played.audio)
        priv->played.audio_time = now;
      priv->played.audio = TRUE;
    }
  priv->played.drained = pop->drained;
  priv->played_epoch = priv->cut_epoch;
  schedule = !priv->played_scheduled && priv->context != NULL;
  priv->played_scheduled |= schedule;
  g_mutex_unlock (&priv->lock);
  if (schedule)
    gst_vg_agent_run_in_owner (self, report_played, NULL, NULL);
}

/**
 * gst_vg_agent_queue_audio:
 * @agent: a #GstVgAgent
 * @item_id: the agent's item (utterance) this audio belongs to
 * @pcm: mono S16LE at %GST_VG_AGENT_RATE
 * @len: bytes in @pcm
 *
 * Queues agent audio for the paced output. Any thread, while started.
 *
 * Returns: %FALSE when the queue was full and the audio dropped
 */
gboolean
gst_vg_agent_queue_audio (GstVgAgent *agent, const char *item_id, const guint8 *pcm, gsize len)
{
  GstVgAgentPrivate *priv = PRIV (agent);
  gboolean ok = FALSE;

  g_mutex_lock (&priv->lock);
  if (priv->playout != NULL)
    ok = vg_playout_push (priv->playout, item_id, pcm, len);
  g_mutex_unlock (&priv->lock);
  return ok;
}

/**
 * gst_vg_agent_cut_playback:
 * @agent: a #GstVgAgent
 *
 * Barge-in: drops the queued agent audio, so the next period is silence.
 * Downstream is left alone (flushing would reset muxers such as wavenc)
 * unless #GstVgAgent:flush-downstream is set. Any thread, never blocks.
 */
void
gst_vg_agent_cut_playback (GstVgAgent *agent)
{
  GstVgAgentPrivate *priv = PRIV (agent);
  gboolean downstream;

  GST_OBJECT_LOCK (agent);
  downstream = priv->flush_downstream;
  GST_OBJECT_UNLOCK (agent);
  g_mutex_lock (&priv->lock);
  priv->cut_epoch++;
  /* Only marks the flush: the push thread sends it, never this one. */
  if (priv->paced != NULL)
    vg_paced_src_flush (priv->paced, downstream);
  g_mutex_unlock (&priv->lock);
}

/**
 * gst_vg_agent_get_queued_bytes:
 * @agent: a #GstVgAgent
 *
 * Returns: bytes of agent audio waiting to be played. Any thread.
 */
gsize
gst_vg_agent_get_queued_bytes (GstVgAgent *agent)
{
  GstVgAgentPrivate *priv = PRIV (agent);
  gsize n = 0;

  g_mutex_lock (&priv->lock);
  if (priv->playout != NULL)
    n = vg_playout_get_queued_bytes (priv->playout);
  g_mutex_unlock (&priv->lock);
  return n;
}

/**
 * gst_vg_agent_get_item_samples:
 * @agent: a #GstVgAgent
 * @item_id: an item given to gst_vg_agent_queue_audio()
 * @played: (out): samples of @item_id that left the src pad
 * @received: (out): samples of @item_id queued so far
 *
 * What was heard of an item, for truncating it on barge-in. Any thread.
 */
void
gst_vg_agent_get_item_samples (GstVgAgent *agent, const char *item_id, guint64 *played,
                               guint64 *received)
{
  GstVgAgentPrivate *priv = PRIV (agent);

  *played = *received = 0;
  g_mutex_lock (&priv->lock);
  if (priv->playout != NULL)
    {
      *played = vg_playout_get_played_samples (priv->playout, item_id);
      *received = vg_playout_get_received_samples (priv->playout, item_id);
    }
  g_mutex_unlock (&priv->lock);
}
