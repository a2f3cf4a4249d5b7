/* vg-paced-src.c: real-time playout without a thread per element.
 *
 * Like a live GstBaseSrc, each period (audio or silence) is pushed when it is
 * due on the pipeline clock and timestamped in running time. Model audio
 * arrives in bursts faster than real time; this is where it gets paced, and
 * where "played" is counted, since a sample leaves here when it is due.
 *
 * Instead of a pad task per element (200 agents = 200 threads), one shared
 * ticker thread wakes every TICK and hands the elements that are due to a
 * small shared pool of push threads. An element whose downstream blocks
 * holds one pool thread and skips ticks (it resyncs later); the others keep
 * their pace on the remaining pool threads. Threads: 1 + MAX_PUSH_THREADS
 * per process, whatever the number of elements. */
#include "vg-paced-src.h"

GST_DEBUG_CATEGORY_EXTERN (vg_paced_src_debug);
#define GST_CAT_DEFAULT vg_paced_src_debug

/* When an element fell this far behind (blocked downstream), resync to now
 * instead of pushing a backlog of silence. */
#define MAX_LAG (500 * GST_MSECOND)
#define TICK_US 5000
#define MAX_PUSH_THREADS 4
/* Periods pushed at most per tick by one element when catching up. */
#define MAX_CATCH_UP 4

struct _VgPacedSrc
{
  GstElement *element; /* not owned: the element owns us */
  GstPad *srcpad;
  VgPlayout *playout;
  guint rate;
  GstClockTime period;
  gsize period_bytes;
  VgPacedSrcPlayedFunc played;
  gpointer user_data;

  GMutex lock;
  GstClockTime next_ts;
  gboolean need_segment;
  gboolean need_caps;
  gboolean active;     /* src pad active in push mode */
  gboolean flow_error; /* stop pushing after a fatal flow return or EOS */
  gboolean eos_pending; /* the application ended the stream */

  /* guarded by sched.lock */
  gboolean scheduled; /* in sched.sources */
  gboolean busy;      /* a push job runs or is queued */
  gint64 due_us;      /* monotonic time when the next period is due */

  /* guarded by lock: a barge-in asked for a downstream flush, which the
   * next push job sends (flush-downstream) */
  gboolean flush_pending;
};

/* ---- the shared scheduler ---- */

static struct
{
  GMutex lock;
  GCond cond;         /* a push job finished */
  GCond tick_cond;    /* wakes the ticker to quit */
  guint users;        /* VgPacedSrc objects alive */
  GPtrArray *sources; /* playing VgPacedSrc */
  GThread *ticker;
  GThreadPool *pool;
  gboolean quit;
} sched;

static gint64 push_due_periods (VgPacedSrc *src);

static void
push_job (gpointer data, gpointer unused)
{
  VgPacedSrc *src = data;
  gint64 due_us = push_due_periods (src);

  g_mutex_lock (&sched.lock);
  src->due_us = due_us;
  src->busy = FALSE;
  g_cond_broadcast (&sched.cond);
  g_mutex_unlock (&sched.lock);
}

static gpointer
ticker_main (gpointer unused)
{
  gint64 next = g_get_monotonic_time ();

  g_mutex_lock (&sched.lock);
  while (!sched.quit)
    {
      gint64 now = g_get_monotonic_time ();
      guint i;

      for (i = 0; i < sched.sources->len; i++)
        {
          VgPacedSrc *src = g_ptr_array_index (sched.sources, i);

          /* Busy: still pushing (blocked downstream), skip this tick. Not
           * due yet (within half a tick): nothing to do. */
          if (src->busy || src->due_us > now + TICK_US / 2)
            continue;
          src->busy = TRUE;
          g_thread_pool_push (sched.pool, src, NULL);
        }
      next += TICK_US;
      if (next < g_get_monotonic_time ())
        next = g_get_monotonic_time () + TICK_US;
      while (!sched.quit && g_cond_wait_until (&sched.tick_cond, &sched.lock, next))
        ;
    }
  g_mutex_unlock (&sched.lock);
  return NULL;
}

static void
sched_ref (void)
{
  g_mutex_lock (&sched.lock);
  if (sched.users++ == 0)
    {
      sched.sources = g_ptr_array_new ();
      sched.pool = g_thread_pool_new (push_job, NULL, MAX_PUSH_THREADS, FALSE, NULL);
      sched.quit = FALSE;
      sched.ticker = g_thread_new ("vg-playout-tick", ticker_main, NULL);
    }
  g_mutex_unlock (&sched.lock);
}

static void
sched_unref (void)
{
  GThread *ticker = NULL;
  GThreadPool *pool = NULL;

  g_mutex_lock (&sched.lock);
  if (--sched.users == 0)
    {
      sched.quit = TRUE;
      g_cond_broadcast (&sched.tick_cond);
      ticker = g_steal_pointer (&sched.ticker);
      pool = g_steal_pointer (&sched.pool);
    }
  g_mutex_unlock (&sched.lock);
  if (ticker == NULL)
    return;
  g_thread_join (ticker);
  g_thread_pool_free (pool, FALSE, TRUE);
  g_mutex_lock (&sched.lock);
  if (sched.users == 0)
    g_clear_pointer (&sched.sources, g_ptr_array_unref);
  g_mutex_unlock (&sched.lock);
}

static void
sched_set (VgPacedSrc *src, gboolean on, gboolean wait_idle)
{
  g_mutex_lock (&sched.lock);
  if (on && !src->scheduled)
    {
      src->due_us = 0;
      g_ptr_array_add (sched.sources, src);
    }
  else if (!on && src->scheduled)
    g_ptr_array_remove_fast (sched.sources, src);
  src->scheduled = on;
  /* Only when the pad is flushing can a running push be waited for: it
   * returns at once then. */
  while (wait_idle && src->busy)
    g_cond_wait (&sched.cond, &sched.lock);
  g_mutex_unlock (&sched.lock);
}

/* ---- pushing ---- */

static void
push_period (VgPacedSrc *src, GstClockTime ts)
{
  GstBuffer *buf;
  GstMapInfo map;
  VgPlayoutPop pop;
  GstFlowReturn ret;
  gboolean flush, eos;

  g_mutex_lock (&src->lock);
  flush = src->flush_pending;
  src->flush_pending = FALSE;
  g_mutex_unlock (&src->lock);
  if (flush)
    {
      /* Opt-in (flush-downstream): empties downstream queues and sink ring
       * buffers. Sent from here, the streaming thread, so that flush-start
       * and flush-stop are never interleaved with a push or each other. */
      gst_pad_push_event (src->srcpad, gst_event_new_flush_start ());
      gst_pad_push_event (src->srcpad, gst_event_new_flush_stop (FALSE));
      src->need_segment = TRUE;
    }

  if (src->need_caps)
    {
      g_autofree char *stream_id = gst_pad_create_stream_id (src->srcpad, src->element, NULL);
      GstCaps *caps = gst_caps_new_simple ("audio/x-raw", "format", G_TYPE_STRING, "S16LE",
                                           "layout", G_TYPE_STRING, "interleaved", "rate",
                                           G_TYPE_INT, src->rate, "channels", G_TYPE_INT, 1, NULL);

      gst_pad_push_event (src->srcpad, gst_event_new_stream_start (stream_id));
      gst_pad_push_event (src->srcpad, gst_event_new_caps (caps));
      gst_caps_unref (caps);
      src->need_caps = FALSE;
      src->need_segment = TRUE;
    }
  if (src->need_segment)
    {
      GstSegment segment;

      gst_segment_init (&segment, GST_FORMAT_TIME);
      gst_pad_push_event (src->srcpad, gst_event_new_segment (&segment));
      src->need_segment = FALSE;
    }

  g_mutex_lock (&src->lock);
  eos = src->eos_pending;
  g_mutex_unlock (&src->lock);
  if (eos)
    {
      /* What is still queued is not played: the application (gst-launch -e,
       * a recorder) wants the stream to end now. */
      gst_pad_push_event (src->srcpad, gst_event_new_eos ());
      src->flow_error = TRUE;
      return;
    }

  buf = gst_buffer_new_allocate (NULL, src->period_bytes, NULL);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  vg_playout_pop (src->playout, map.data, map.size, &pop);
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = ts;
  GST_BUFFER_DURATION (buf) = src->period;
  if (pop.audio_bytes == 0)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_GAP);
  if (pop.audio_bytes > 0 || pop.drained)
    src->played (src->user_data, &pop);
  vg_playout_pop_clear (&pop);

  ret = gst_pad_push (src->srcpad, buf);
  if (ret == GST_FLOW_OK || ret == GST_FLOW_FLUSHING || ret == GST_FLOW_NOT_LINKED)
    return; /* barge-in flush, or nothing downstream yet: keep the pace */
  GST_DEBUG_OBJECT (src->element, "stopping playout: %s", gst_flow_get_name (ret));
  src->flow_error = TRUE;
  if (ret < GST_FLOW_EOS)
    GST_ELEMENT_FLOW_ERROR (src->element, ret);
}

/* Pushes the periods that are due; returns when the next one will be (in
 * monotonic time) so that the ticker does not wake us before. */
static gint64
push_due_periods (VgPacedSrc *src)
{
  GstClock *clock;
  GstClockTime base, now, due;
  guint n;

  /* The stream lock is what pad deactivation waits for. */
  GST_PAD_STREAM_LOCK (src->srcpad);
  /* A flushing pad is being deactivated (our own opt-in flush pushes
   * flush-start and flush-stop together within one job). */
  if (!src->active || src->flow_error || GST_PAD_IS_FLUSHING (src->srcpad)
      || (clock = gst_element_get_clock (src->element)) == NULL)
    {
      GST_PAD_STREAM_UNLOCK (src->srcpad);
      return g_get_monotonic_time () + src->period / GST_USECOND;
    }
  base = gst_element_get_base_time (src->element);
  now = gst_clock_get_time (clock);
  gst_object_unref (clock);
  now = now > base ? now - base : 0;

  g_mutex_lock (&src->lock);
  if (!GST_CLOCK_TIME_IS_VALID (src->next_ts))
    src->next_ts = now;
  else if (now > src->next_ts + src->period + MAX_LAG)
    {
      GST_WARNING_OBJECT (src->element, "playout fell behind by %" GST_TIME_FORMAT ", resyncing",
                          GST_TIME_ARGS (now - src->next_ts));
      src->next_ts = now - src->period;
    }
  for (n = 0; n < MAX_CATCH_UP && !src->flow_error && now >= src->next_ts + src->period; n++)
    {
      GstClockTime ts = src->next_ts;

      src->next_ts += src->period;
      g_mutex_unlock (&src->lock);
      push_period (src, ts);
      g_mutex_lock (&src->lock);
    }
  due = src->next_ts + src->period;
  g_mutex_unlock (&src->lock);
  GST_PAD_STREAM_UNLOCK (src->srcpad);
  return g_get_monotonic_time () + (due > now ? (gint64)((due - now) / GST_USECOND) : 0);
}

static gboolean
paced_src_activate_mode (GstPad *pad, GstObject *parent, GstPadMode mode, gboolean active)
{
  VgPacedSrc *src = gst_pad_get_element_private (pad);

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  g_mutex_lock (&src->lock);
  src->active = active;
  if (active)
    {
      src->next_ts = GST_CLOCK_TIME_NONE;
      src->need_caps = TRUE;
      src->flow_error = FALSE;
    }
  src->flush_pending = FALSE;
  src->eos_pending = FALSE;
  g_mutex_unlock (&src->lock);
  if (!active)
    sched_set (src, FALSE, TRUE); /* the pad is flushing: a push returns at once */
  return TRUE;
}

static gboolean
paced_src_query (GstPad *pad, GstObject *parent, GstQuery *query)
{
  VgPacedSrc *src = gst_pad_get_element_private (pad);

  switch (GST_QUERY_TYPE (query))
    {
      case GST_QUERY_LATENCY:
        /* A period is produced when it is due, like a capture device. */
        gst_query_set_latency (query, TRUE, src->period, src->period);
        return TRUE;
      case GST_QUERY_SCHEDULING:
        gst_query_set_scheduling (query, GST_SCHEDULING_FLAG_SEQUENTIAL, 1, -1, 0);
        gst_query_add_scheduling_mode (query, GST_PAD_MODE_PUSH);
        return TRUE;
      default:
        return gst_pad_query_default (pad, parent, query);
    }
}

static gboolean
paced_src_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  /* Upstream events (latency, QoS, reconfigure, seeks) do not apply to
   * generated live audio. */
  gst_event_unref (event);
  return TRUE;
}

VgPacedSrc *
vg_paced_src_new (GstElement *element, GstPad *srcpad, VgPlayout *playout, guint rate,
                  guint period_ms, VgPacedSrcPlayedFunc played, gpointer user_data)
{
  VgPacedSrc *src = g_new0 (VgPacedSrc, 1);

  src->element = element;
  src->srcpad = srcpad;
  src->playout = playout;
  src->rate = rate;
  src->period = period_ms * GST_MSECOND;
  src->period_bytes = (gsize)rate * period_ms / 1000 * 2;
  src->played = played;
  src->user_data = user_data;
  src->next_ts = GST_CLOCK_TIME_NONE;
  g_mutex_init (&src->lock);
  sched_ref ();
  gst_pad_set_element_private (srcpad, src);
  gst_pad_set_activatemode_function (srcpad, paced_src_activate_mode);
  gst_pad_set_query_function (srcpad, paced_src_query);
  gst_pad_set_event_function (srcpad, paced_src_event);
  return src;
}

void
vg_paced_src_free (VgPacedSrc *src)
{
  if (src == NULL)
    return;
  sched_set (src, FALSE, TRUE);
  sched_unref ();
  g_mutex_clear (&src->lock);
  g_free (src);
}

void
vg_paced_src_set_playing (VgPacedSrc *src, gboolean playing)
{
  /* Never waits: going to PAUSED, a push may be blocked in a prerolling
   * sink until the state change completes. */
  sched_set (src, playing, FALSE);
}

void
vg_paced_src_flush (VgPacedSrc *src, gboolean downstream)
{
  gsize dropped = vg_playout_flush (src->playout);

  GST_DEBUG_OBJECT (src->element, "barge-in: dropped %" G_GSIZE_FORMAT " queued bytes%s", dropped,
                    downstream ? ", flushing downstream" : "");
  if (!downstream)
    return;
  g_mutex_lock (&src->lock);
  src->flush_pending = TRUE;
  g_mutex_unlock (&src->lock);
}

void
vg_paced_src_finish (VgPacedSrc *src)
{
  g_mutex_lock (&src->lock);
  src->eos_pending = TRUE;
  g_mutex_unlock (&src->lock);
}

void
vg_paced_src_clock_changed (VgPacedSrc *src)
{
  if (src == NULL)
    return;
  /* Running time on the new clock starts afresh. */
  g_mutex_lock (&src->lock);
  src->next_ts = GST_CLOCK_TIME_NONE;
  g_mutex_unlock (&src->lock);
}
