/* See webrtc-stop.h for the races this ordering avoids. Threads: everything
 * here runs on the caller's worker thread, except on_pc_thread_parked, which
 * runs on webrtcbin's pc thread and holds it until the worker lets it go. */
#include "gateway/rooms/webrtc-stop.h"

/* How long the worker waits for webrtcbin's pc thread to reach the task that
 * holds it. It only waits for the tasks queued before (a few ms each); a
 * thread that does not get there in this time is stuck, and the stop goes
 * on without holding it rather than hang with it. */
#define PARK_TIMEOUT_US (5 * G_TIME_SPAN_SECOND)

/* element and every element inside it, each with a reference. */
static GPtrArray *
collect_elements (GstElement *element)
{
  GPtrArray *all = g_ptr_array_new_with_free_func (gst_object_unref);
  g_ptr_array_add (all, gst_object_ref (element));
  if (!GST_IS_BIN (element))
    return all;
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (element));
  GValue item = G_VALUE_INIT;
  gboolean done = FALSE;
  while (!done)
    switch (gst_iterator_next (it, &item))
      {
        case GST_ITERATOR_OK:
          g_ptr_array_add (all, g_value_dup_object (&item));
          g_value_reset (&item);
          break;
        case GST_ITERATOR_RESYNC:
          /* Children changed meanwhile: start again. */
          g_ptr_array_set_size (all, 1);
          gst_iterator_resync (it);
          break;
        default:
          done = TRUE;
          break;
      }
  g_value_unset (&item);
  gst_iterator_free (it);
  return all;
}

static gboolean
made_by (GstElement *element, const char *factory_name)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  return factory && g_str_equal (GST_OBJECT_NAME (factory), factory_name);
}

static GstPadProbeReturn
drop_data (GstPad *pad, GstPadProbeInfo *info, gpointer unused)
{
  return GST_PAD_PROBE_DROP;
}

/* From here on sctpdec gets no SCTP packets, so no stream can deliver data
 * and make it add a source pad (and start that pad's task) while it stops.
 * Taking the sink pad's stream lock waits for a packet already inside. */
static void
cut_sctp_input (GPtrArray *elements)
{
  for (guint i = 0; i < elements->len; i++)
    {
      GstElement *e = g_ptr_array_index (elements, i);
      if (!made_by (e, "sctpdec"))
        continue;
      GstPad *sink = gst_element_get_static_pad (e, "sink");
      if (!sink)
        continue;
      gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                         drop_data, NULL, NULL);
      GST_PAD_STREAM_LOCK (sink);
      GST_PAD_STREAM_UNLOCK (sink);
      gst_object_unref (sink);
    }
}

/* ---- holding webrtcbin's pc thread ---- */

typedef enum
{
  PARK_WAITING,  /* the worker waits for the pc thread to arrive */
  PARK_HELD,     /* the pc thread waits for the worker to let it go */
  PARK_RELEASED, /* the worker is done; also: the pc thread never came */
} ParkState;

typedef struct
{
  GMutex lock;
  GCond cond;
  ParkState state;
} PcPark;

static void
pc_park_clear (gpointer data)
{
  PcPark *park = data;
  g_mutex_clear (&park->lock);
  g_cond_clear (&park->cond);
}

static void
pc_park_release_ref (gpointer data)
{
  g_rc_box_release_full (data, pc_park_clear);
}

/* webrtcbin's pc thread, as the reply of the "get-stats" task queued by
 * hold_pc_thread (or the worker itself when webrtcbin is already closed:
 * the reply then carries an error and nothing is held). Waits, holding no
 * lock of webrtcbin's, until release_pc_thread. */
static void
on_pc_thread_parked (GstPromise *promise, gpointer data)
{
  PcPark *park = data;
  const GstStructure *reply = gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED
                                  ? gst_promise_get_reply (promise)
                                  : NULL;
  gboolean on_pc_thread = reply && !gst_structure_has_field (reply, "error");
  g_mutex_lock (&park->lock);
  if (park->state == PARK_WAITING)
    {
      park->state = on_pc_thread ? PARK_HELD : PARK_RELEASED;
      g_cond_broadcast (&park->cond);
      while (park->state == PARK_HELD)
        g_cond_wait (&park->cond, &park->lock);
    }
  g_mutex_unlock (&park->lock);
}

/* Queues a task on webrtcbin's pc thread and waits until the thread runs it
 * and stays there. Returns the hold to pass to release_pc_thread, or NULL
 * when there is no thread to hold (webrtcbin below READY or closed) or it
 * did not come within PARK_TIMEOUT_US. */
static PcPark *
hold_pc_thread (GstElement *webrtc)
{
  GstState state;
  GST_OBJECT_LOCK (webrtc);
  state = GST_STATE (webrtc);
  GST_OBJECT_UNLOCK (webrtc);
  if (state < GST_STATE_READY)
    return NULL; /* the pc thread starts at NULL -> READY */

  PcPark *park = g_rc_box_new0 (PcPark);
  g_mutex_init (&park->lock);
  g_cond_init (&park->cond);
  park->state = PARK_WAITING;
  GstPromise *promise = gst_promise_new_with_change_func (
      on_pc_thread_parked, g_rc_box_acquire (park), pc_park_release_ref);
  g_signal_emit_by_name (webrtc, "get-stats", NULL, promise);
  gst_promise_unref (promise);

  gint64 deadline = g_get_monotonic_time () + PARK_TIMEOUT_US;
  g_mutex_lock (&park->lock);
  while (park->state == PARK_WAITING)
    if (!g_cond_wait_until (&park->cond, &park->lock, deadline))
      {
        park->state = PARK_RELEASED; /* if it comes later, it does not stay */
        g_warning ("rooms: %s's pc thread did not come within %d s; stopping it unheld",
                   GST_OBJECT_NAME (webrtc), (int)(PARK_TIMEOUT_US / G_TIME_SPAN_SECOND));
      }
  gboolean held = park->state == PARK_HELD;
  g_mutex_unlock (&park->lock);
  if (!held)
    {
      pc_park_release_ref (park);
      return NULL;
    }
  return park;
}

static void
release_pc_thread (PcPark *park)
{
  if (!park)
    return;
  g_mutex_lock (&park->lock);
  park->state = PARK_RELEASED;
  g_cond_broadcast (&park->cond);
  g_mutex_unlock (&park->lock);
  pc_park_release_ref (park);
}

/* ---- stopping ---- */

static void
set_all (GPtrArray *elements, GstState state)
{
  for (guint i = 0; i < elements->len; i++)
    gst_element_set_state (g_ptr_array_index (elements, i), state);
}

guint
vg_webrtc_stop (GstElement *webrtc)
{
  GPtrArray *inside = collect_elements (webrtc);
  cut_sctp_input (inside);
  g_ptr_array_unref (inside);

  /* Every streaming thread inside stops here, the SCTP elements included
   * (webrtcbin unlocks and starts them once DTLS is up), while none of
   * webrtcbin's own tasks can run. */
  PcPark *park = hold_pc_thread (webrtc);
  gst_element_set_state (webrtc, GST_STATE_READY);
  release_pc_thread (park);

  /* READY -> NULL ends the pc thread (tasks still queued are dropped). */
  gst_element_set_state (webrtc, GST_STATE_NULL);
  /* Elements webrtcbin keeps locked (SCTP before DTLS was up) and any the
   * last tasks created are not stopped by its state change. */
  inside = collect_elements (webrtc);
  set_all (inside, GST_STATE_NULL);
  g_ptr_array_unref (inside);
  return vg_element_count_live_tasks (webrtc);
}

/* The pads of element and every element inside it whose task is started,
 * each with a reference. A paused task's thread ends when its pad is
 * disposed; a started one that waits for data never does. */
static GPtrArray *
pads_with_live_tasks (GstElement *element)
{
  GPtrArray *all = collect_elements (element);
  GPtrArray *pads = g_ptr_array_new_with_free_func (gst_object_unref);
  for (guint i = 0; i < all->len; i++)
    {
      GstElement *e = g_ptr_array_index (all, i);
      GST_OBJECT_LOCK (e);
      for (GList *l = e->pads; l; l = l->next)
        {
          GstTask *task = GST_PAD_TASK (l->data);
          if (task && gst_task_get_state (task) == GST_TASK_STARTED)
            g_ptr_array_add (pads, gst_object_ref (l->data));
        }
      GST_OBJECT_UNLOCK (e);
    }
  g_ptr_array_unref (all);
  return pads;
}

guint
vg_element_count_live_tasks (GstElement *element)
{
  GPtrArray *pads = pads_with_live_tasks (element);
  for (guint i = 0; i < pads->len; i++)
    {
      GstPad *pad = g_ptr_array_index (pads, i);
      GstObject *parent = gst_pad_get_parent (pad);
      /* A task started after its element stopped waits for data that will
       * not come. Its element's own flush-start (called directly: the pad
       * is inactive, so it refuses events) empties what it waits on (sctpdec
       * and sctpenc flush their queues); then it is stopped. A task that
       * ignores it stays, and is reported. */
      g_warning ("rooms: %s:%s kept its task after the stop; flushing it",
                 parent ? GST_OBJECT_NAME (parent) : "?", GST_OBJECT_NAME (pad));
      GstPadEventFunction flush = GST_PAD_EVENTFUNC (pad);
      if (flush && parent && GST_PAD_IS_SRC (pad))
        {
          flush (pad, parent, gst_event_new_flush_start ());
          gst_pad_stop_task (pad);
        }
      gst_clear_object (&parent);
    }
  g_ptr_array_unref (pads);
  pads = pads_with_live_tasks (element);
  guint live = pads->len;
  g_ptr_array_unref (pads);
  return live;
}
