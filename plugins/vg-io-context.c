/* vg-io-context.c: lazily started, refcounted I/O thread. All libsoup objects
 * of the plugin are created and used on this thread only, so 200 agents cost
 * one thread, not 200. */
#include "vg-io-context.h"
#include "vg-main-context.h"

struct _VgIoContext
{
  gint refcount; /* guarded by io_lock */
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  SoupSession *session;
  GMutex ready_lock;
  GCond ready_cond;
  gboolean ready;
};

static GMutex io_lock;
static VgIoContext *default_io;

static gpointer
io_thread_main (gpointer data)
{
  VgIoContext *io = data;

  g_main_context_push_thread_default (io->context);
  /* One session for all connections: WebSocket connections leave the pool
   * after the handshake, so the limits only bound concurrent handshakes. */
  io->session = soup_session_new_with_options ("max-conns", 1024, "max-conns-per-host", 1024,
                                               "timeout", 30, NULL);
  g_mutex_lock (&io->ready_lock);
  io->ready = TRUE;
  g_cond_broadcast (&io->ready_cond);
  g_mutex_unlock (&io->ready_lock);

  g_main_loop_run (io->loop);

  g_clear_object (&io->session);
  /* Let pending finalizers (closed connections, cancelled sources) run. */
  while (g_main_context_iteration (io->context, FALSE))
    ;
  g_main_context_pop_thread_default (io->context);
  return NULL;
}

VgIoContext *
vg_io_context_ref_default (void)
{
  VgIoContext *io;

  g_mutex_lock (&io_lock);
  if (default_io == NULL)
    {
      io = g_new0 (VgIoContext, 1);
      io->context = g_main_context_new ();
      io->loop = g_main_loop_new (io->context, FALSE);
      g_mutex_init (&io->ready_lock);
      g_cond_init (&io->ready_cond);
      io->thread = g_thread_new ("vg-realtime-io", io_thread_main, io);
      g_mutex_lock (&io->ready_lock);
      while (!io->ready)
        g_cond_wait (&io->ready_cond, &io->ready_lock);
      g_mutex_unlock (&io->ready_lock);
      default_io = io;
    }
  io = default_io;
  io->refcount++;
  g_mutex_unlock (&io_lock);
  return io;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
vg_io_context_unref (VgIoContext *io)
{
  gboolean last;

  g_return_if_fail (io != NULL);
  g_return_if_fail (!vg_io_context_is_current (io));

  g_mutex_lock (&io_lock);
  last = --io->refcount == 0;
  if (last && default_io == io)
    default_io = NULL;
  g_mutex_unlock (&io_lock);
  if (!last)
    return;

  g_main_context_invoke (io->context, quit_loop, io->loop);
  g_thread_join (io->thread);
  g_main_loop_unref (io->loop);
  g_main_context_unref (io->context);
  g_mutex_clear (&io->ready_lock);
  g_cond_clear (&io->ready_cond);
  g_free (io);
}

GMainContext *
vg_io_context_get_main_context (VgIoContext *io)
{
  return io->context;
}

SoupSession *
vg_io_context_get_session (VgIoContext *io)
{
  g_return_val_if_fail (vg_io_context_is_current (io), NULL);
  return io->session;
}

gboolean
vg_io_context_is_current (VgIoContext *io)
{
  return g_main_context_is_owner (io->context);
}

void
vg_io_context_invoke (VgIoContext *io, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  g_main_context_invoke_full (io->context, G_PRIORITY_DEFAULT, func, data, notify);
}

void
vg_io_context_invoke_sync (VgIoContext *io, GSourceFunc func, gpointer data)
{
  vg_main_context_invoke_sync (io->context, func, data);
}

guint
vg_io_context_thread_count (void)
{
  guint n;

  g_mutex_lock (&io_lock);
  n = default_io != NULL ? 1 : 0;
  g_mutex_unlock (&io_lock);
  return n;
}
