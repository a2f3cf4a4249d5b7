/* See webrtc-promise.h. A webrtcbin's unanswered promises are a set in its
 * qdata. Each entry is finished (func, its reference dropped, notify) by
 * whoever takes it out of the set under the lock: on_change for a reply,
 * set_expire_all for the rest; nothing is called under the lock.
 *
 * The promise's own change data is the set, borrowed, with no destroy
 * notify: GStreamer 1.22's gst_promise_expire clears the change data but not
 * its notify, which then runs with NULL at free. The set outlives every
 * change callback: it is freed with webrtcbin, after the last promise
 * webrtcbin could reply to has been expired. */
#include "gateway/rooms/webrtc-promise.h"

typedef struct
{
  GMutex lock;
  GPtrArray *waiting; /* Entry *, owned: the promises not replied yet */
} PromiseSet;

typedef struct
{
  GstPromise *promise; /* a reference */
  GstPromiseChangeFunc func;
  gpointer data;
  GDestroyNotify notify;
} Entry;

G_LOCK_DEFINE_STATIC (sets); /* creating a webrtcbin's set */

static G_DEFINE_QUARK (vg - webrtc - promises, set);

static void
entry_finish (Entry *e)
{
  gst_promise_unref (e->promise);
  if (e->notify)
    e->notify (e->data);
  g_free (e);
}

static void
set_clear (gpointer data)
{
  PromiseSet *set = data;
  g_mutex_clear (&set->lock);
  g_ptr_array_unref (set->waiting);
}

/* Takes every entry out of set, expires its promise (on_change then finds
 * nothing to do) and finishes it, outside the lock. */
static void
set_expire_all (PromiseSet *set)
{
  g_mutex_lock (&set->lock);
  GPtrArray *left = set->waiting;
  set->waiting = g_ptr_array_new ();
  g_mutex_unlock (&set->lock);
  for (guint i = 0; i < left->len; i++)
    {
      Entry *e = g_ptr_array_index (left, i);
      gst_promise_expire (e->promise);
      entry_finish (e);
    }
  g_ptr_array_unref (left);
}

/* webrtcbin's finalization. */
static void
set_release_on_finalize (gpointer data)
{
  set_expire_all (data);
  g_rc_box_release_full (data, set_clear);
}

/* A new reference to webrtc's set, made on first use when create is TRUE. */
static PromiseSet *
set_get (GstElement *webrtc, gboolean create)
{
  G_LOCK (sets);
  PromiseSet *set = g_object_get_qdata (G_OBJECT (webrtc), set_quark ());
  if (!set && create)
    {
      set = g_rc_box_new0 (PromiseSet);
      g_mutex_init (&set->lock);
      set->waiting = g_ptr_array_new ();
      g_object_set_qdata_full (G_OBJECT (webrtc), set_quark (), set, set_release_on_finalize);
    }
  if (set)
    g_rc_box_acquire (set);
  G_UNLOCK (sets);
  return set;
}

/* The replying thread, or set_expire_all's (the entry is gone by then). */
static void
on_change (GstPromise *promise, gpointer data)
{
  PromiseSet *set = data;
  Entry *e = NULL;
  g_mutex_lock (&set->lock);
  for (guint i = 0; i < set->waiting->len && !e; i++)
    if (((Entry *)g_ptr_array_index (set->waiting, i))->promise == promise)
      e = g_ptr_array_steal_index_fast (set->waiting, i);
  g_mutex_unlock (&set->lock);
  if (!e)
    return;
  if (e->func)
    e->func (promise, e->data);
  entry_finish (e);
}

GstPromise *
vg_webrtc_promise_new (GstElement *webrtc, GstPromiseChangeFunc func, gpointer data,
                       GDestroyNotify notify)
{
  PromiseSet *set = set_get (webrtc, TRUE);
  Entry *e = g_new0 (Entry, 1);
  GstPromise *promise = gst_promise_new_with_change_func (on_change, set, NULL);
  e->promise = gst_promise_ref (promise);
  e->func = func;
  e->data = data;
  e->notify = notify;
  g_mutex_lock (&set->lock);
  g_ptr_array_add (set->waiting, e);
  g_mutex_unlock (&set->lock);
  g_rc_box_release_full (set, set_clear);
  return promise;
}

void
vg_webrtc_promises_expire (GstElement *webrtc)
{
  PromiseSet *set = set_get (webrtc, FALSE);
  if (!set)
    return;
  set_expire_all (set);
  g_rc_box_release_full (set, set_clear);
}

guint
vg_webrtc_promises_pending (GstElement *webrtc)
{
  PromiseSet *set = set_get (webrtc, FALSE);
  if (!set)
    return 0;
  g_mutex_lock (&set->lock);
  guint n = set->waiting->len;
  g_mutex_unlock (&set->lock);
  g_rc_box_release_full (set, set_clear);
  return n;
}
