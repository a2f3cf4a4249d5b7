/* vg-main-context.c: see vg-main-context.h. */
#include "vg-main-context.h"

typedef struct
{
  GSourceFunc func;
  gpointer data;
  GMutex lock;
  GCond cond;
  gboolean done;
} SyncCall;

static gboolean
run_sync_call (gpointer data)
{
  SyncCall *call = data;

  call->func (call->data);
  g_mutex_lock (&call->lock);
  call->done = TRUE;
  g_cond_signal (&call->cond);
  g_mutex_unlock (&call->lock);
  return G_SOURCE_REMOVE;
}

void
vg_main_context_invoke_sync (GMainContext *context, GSourceFunc func, gpointer data)
{
  SyncCall call = { func, data };

  if (g_main_context_is_owner (context))
    {
      func (data);
      return;
    }
  g_mutex_init (&call.lock);
  g_cond_init (&call.cond);
  g_main_context_invoke (context, run_sync_call, &call);
  g_mutex_lock (&call.lock);
  while (!call.done)
    g_cond_wait (&call.cond, &call.lock);
  g_mutex_unlock (&call.lock);
  g_mutex_clear (&call.lock);
  g_cond_clear (&call.cond);
}
