/* gstvgagent-handoff.c: how GstVgAgent hands work to the owner context of
 * a subclass (see gstvgagent.c for the threads): action signals and played
 * reports become idle sources on that context, each holding a ref on the
 * element and the generation (session) it belongs to. */
#include "gstvgagent-private.h"
#include "vg-main-context.h"

#include <string.h>

#define GST_CAT_DEFAULT vg_agent_debug

typedef struct
{
  GstVgAgent *self; /* owned ref: the element outlives the queued call */
  guint generation;
  GstVgAgentOwnerFunc func;
  gpointer data;
  GDestroyNotify free_data;
} Handoff;

/* Owner context. */
static gboolean
handoff_run (gpointer data)
{
  Handoff *h = data;
  GstVgAgentPrivate *priv = PRIV (h->self);
  gboolean current;

  g_mutex_lock (&priv->lock);
  current = h->generation == priv->generation && priv->context != NULL;
  g_mutex_unlock (&priv->lock);
  /* A stale call belongs to a stopped session. A current one may run while
   * stop() waits: set_owner_context() waits for it. */
  if (current)
    h->func (h->self, h->data);
  return G_SOURCE_REMOVE;
}

static void
handoff_free (gpointer data)
{
  Handoff *h = data;

  if (h->free_data != NULL)
    h->free_data (h->data);
  gst_object_unref (h->self);
  g_free (h);
}

/**
 * gst_vg_agent_run_in_owner:
 * @agent: a #GstVgAgent
 * @func: what to run
 * @data: (transfer full): its data, freed with @free_data afterwards
 * @free_data: (nullable): frees @data
 *
 * Runs @func in the owner context, as the action signals do: queued (even
 * from the owner thread, so that it never runs inside a half-done event
 * handler) and only if the session it was queued for still runs; dropped
 * while the element is not started. Without an owner context (the subclass
 * never called gst_vg_agent_set_owner_context()) it runs at once on the
 * calling thread. For subclasses whose properties change the conversation
 * (openairealtime: instructions in PLAYING). Any thread.
 */
void
gst_vg_agent_run_in_owner (GstVgAgent *agent, GstVgAgentOwnerFunc func, gpointer data,
                           GDestroyNotify free_data)
{
  GstVgAgentPrivate *priv = PRIV (agent);
  Handoff *h;
  GSource *source;

  g_mutex_lock (&priv->lock);
  if (!priv->has_owner || priv->context == NULL)
    {
      gboolean direct = !priv->has_owner;

      g_mutex_unlock (&priv->lock);
      if (direct)
        func (agent, data);
      else
        GST_DEBUG_OBJECT (agent, "not started: action dropped");
      if (free_data != NULL)
        free_data (data);
      return;
    }
  h = g_new (Handoff, 1);
  h->self = gst_object_ref (agent);
  h->generation = priv->generation;
  h->func = func;
  h->data = data;
  h->free_data = free_data;
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, handoff_run, h, handoff_free);
  g_source_attach (source, priv->context);
  g_source_unref (source);
  g_mutex_unlock (&priv->lock);
}

static gboolean
nothing (gpointer unused)
{
  return G_SOURCE_REMOVE;
}

/**
 * gst_vg_agent_set_owner_context:
 * @agent: a #GstVgAgent
 * @context: (nullable): the context that owns the conversation state
 *
 * From start(), names the context in which the owner-context vfuncs of
 * #GstVgAgentClass run from now on; from stop(), with %NULL, ends that:
 * when it returns, none runs or will run (work queued meanwhile is
 * dropped). The context must keep being iterated until then. Once called,
 * actions arriving while no context is set (the element is not started)
 * are dropped. State-change thread.
 */
void
gst_vg_agent_set_owner_context (GstVgAgent *agent, GMainContext *context)
{
  GstVgAgentPrivate *priv = PRIV (agent);
  GMainContext *old;

  g_mutex_lock (&priv->lock);
  old = priv->context;
  priv->context = context != NULL ? g_main_context_ref (context) : NULL;
  priv->has_owner = TRUE;
  priv->generation++;
  memset (&priv->played, 0, sizeof priv->played);
  priv->played_scheduled = FALSE;
  g_mutex_unlock (&priv->lock);
  if (old == NULL)
    return;
  /* A call that passed its generation check may still run: wait for it
   * (and drop the ones queued behind it). */
  vg_main_context_invoke_sync (old, nothing, NULL);
  g_main_context_unref (old);
}
