/* test-webrtc-promise.c: promises given to webrtcbin are answered or expired
 * (webrtc-promise.h), including those of tasks webrtcbin drops when its pc
 * thread ends with them still queued — which freed them unanswered and
 * failed a CI run with GStreamer's "gst_promise_free: runtime check failed"
 * (fatal here, as in every test). */
#include "gateway/rooms/webrtc-promise.h"
#include "gateway/rooms/webrtc-stop.h"

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean parked;   /* the pc thread waits in park_here */
  gboolean released; /* the test let it go */
  gint replied;      /* atomic: the tracked promise's func ran */
  gint notified;     /* atomic: its data was released */
} Probe;

static void
probe_init (Probe *probe)
{
  g_mutex_init (&probe->lock);
  g_cond_init (&probe->cond);
  probe->parked = probe->released = FALSE;
  probe->replied = probe->notified = 0;
}

static void
probe_clear (Probe *probe)
{
  g_mutex_clear (&probe->lock);
  g_cond_clear (&probe->cond);
}

/* webrtcbin's pc thread: stays in this reply until the test releases it. */
static void
park_here (GstPromise *promise, gpointer data)
{
  Probe *probe = data;
  g_mutex_lock (&probe->lock);
  probe->parked = TRUE;
  g_cond_broadcast (&probe->cond);
  while (!probe->released)
    g_cond_wait (&probe->cond, &probe->lock);
  g_mutex_unlock (&probe->lock);
}

static void
on_reply (GstPromise *promise, gpointer data)
{
  Probe *probe = data;
  g_assert_nonnull (gst_promise_get_reply (promise));
  g_atomic_int_inc (&probe->replied);
}

static void
on_release (gpointer data)
{
  Probe *probe = data;
  g_atomic_int_inc (&probe->notified);
}

static GstElement *
webrtcbin_ready (void)
{
  GstElement *webrtc = gst_element_factory_make ("webrtcbin", NULL);
  g_assert_nonnull (webrtc);
  gst_object_ref_sink (webrtc);
  /* NULL -> READY starts the pc thread. */
  g_assert_cmpint (gst_element_set_state (webrtc, GST_STATE_READY), ==, GST_STATE_CHANGE_SUCCESS);
  return webrtc;
}

/* A reply runs func once, and the promise leaves the set. */
static void
test_replied (void)
{
  GstElement *webrtc = webrtcbin_ready ();
  Probe probe;
  probe_init (&probe);

  GstPromise *promise = vg_webrtc_promise_new (webrtc, on_reply, &probe, on_release);
  g_assert_cmpuint (vg_webrtc_promises_pending (webrtc), ==, 1);
  g_signal_emit_by_name (webrtc, "get-stats", NULL, promise);
  gst_promise_unref (promise);
  /* notify comes after func, on the pc thread. */
  for (guint i = 0; i < 500 && !g_atomic_int_get (&probe.notified); i++)
    g_usleep (10 * 1000);
  g_assert_cmpint (g_atomic_int_get (&probe.notified), ==, 1);
  g_assert_cmpint (g_atomic_int_get (&probe.replied), ==, 1);
  g_assert_cmpuint (vg_webrtc_promises_pending (webrtc), ==, 0);

  g_assert_cmpuint (vg_webrtc_stop (webrtc), ==, 0);
  gst_object_unref (webrtc);
  probe_clear (&probe);
}

static gpointer
set_null (gpointer data)
{
  gst_element_set_state (data, GST_STATE_NULL);
  return NULL;
}

/* The pc thread is held in one task while a second is queued behind it and
 * webrtcbin goes to NULL: the loop quits after the first, and the second is
 * dropped with the thread's context. Its promise is expired, its func does
 * not run, its data is released, and nothing warns. */
static void
test_dropped_task (void)
{
  GstElement *webrtc = webrtcbin_ready ();
  Probe park, dropped;
  probe_init (&park);
  probe_init (&dropped);

  GstPromise *hold = gst_promise_new_with_change_func (park_here, &park, NULL);
  g_signal_emit_by_name (webrtc, "get-stats", NULL, hold);
  g_mutex_lock (&park.lock);
  while (!park.parked)
    g_cond_wait (&park.cond, &park.lock);
  g_mutex_unlock (&park.lock);

  GstPromise *promise = vg_webrtc_promise_new (webrtc, on_reply, &dropped, on_release);
  g_signal_emit_by_name (webrtc, "get-stats", NULL, promise);
  gst_promise_unref (promise); /* as every caller does: webrtcbin's now */
  GThread *stopper = g_thread_new ("set-null", set_null, webrtc);
  /* The stop marks webrtcbin closed and quits its loop, then waits for the
   * thread; this lets the held task end (no check can see the stop start:
   * the sleep makes it likely that the drop, not a closed-reply, is what is
   * tested; either way the promise must end answered). */
  g_usleep (100 * 1000);
  g_mutex_lock (&park.lock);
  park.released = TRUE;
  g_cond_broadcast (&park.cond);
  g_mutex_unlock (&park.lock);
  g_thread_join (stopper);

  /* Dropped, the promise is still pending, kept by the set (without it,
   * webrtcbin's drop freed it pending: the warning, fatal here). */
  gboolean was_dropped = g_atomic_int_get (&dropped.replied) == 0;
  if (!was_dropped)
    g_test_message ("the queued task ran before the stop (replied as closed)");
  g_assert_cmpuint (vg_webrtc_promises_pending (webrtc), ==, was_dropped ? 1 : 0);
  g_assert_cmpint (g_atomic_int_get (&dropped.notified), ==, was_dropped ? 0 : 1);
  vg_webrtc_promises_expire (webrtc);
  g_assert_cmpuint (vg_webrtc_promises_pending (webrtc), ==, 0);
  g_assert_cmpint (g_atomic_int_get (&dropped.notified), ==, 1);
  g_assert_cmpint (g_atomic_int_get (&dropped.replied), ==, was_dropped ? 0 : 1);
  gst_promise_unref (hold);
  gst_object_unref (webrtc);
  probe_clear (&park);
  probe_clear (&dropped);
}

/* A promise made after the stop (nobody will run its task) is expired when
 * webrtcbin goes. */
static void
test_expired_at_finalize (void)
{
  GstElement *webrtc = webrtcbin_ready ();
  Probe probe;
  probe_init (&probe);
  g_assert_cmpuint (vg_webrtc_stop (webrtc), ==, 0);

  GstPromise *promise = vg_webrtc_promise_new (webrtc, on_reply, &probe, on_release);
  gst_promise_unref (promise);
  g_assert_cmpuint (vg_webrtc_promises_pending (webrtc), ==, 1);
  gst_object_unref (webrtc);
  g_assert_cmpint (g_atomic_int_get (&probe.replied), ==, 0);
  g_assert_cmpint (g_atomic_int_get (&probe.notified), ==, 1);
  probe_clear (&probe);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rooms/webrtc-promise/replied", test_replied);
  g_test_add_func ("/rooms/webrtc-promise/dropped-task", test_dropped_task);
  g_test_add_func ("/rooms/webrtc-promise/expired-at-finalize", test_expired_at_finalize);
  return g_test_run ();
}
