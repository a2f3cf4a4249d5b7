/* Mix-minus routing of a room; see room-graph.h. */
#include "gateway/rooms/room-graph.h"
#include "gateway/rooms/rooms.h"

typedef struct _VgGraphLink VgGraphLink;

struct _VgGraphNode
{
  VgRoomGraph *graph;
  char *label;
  GstElement *tee;      /* owned ref or NULL */
  GstElement *mixer;    /* owned ref or NULL */
  GstElement *mix_into; /* owned ref or NULL: the mixer is always in the path */
  gboolean paced;       /* tee carries a continuous clock-paced stream */
  gboolean mixing;      /* the mixer is linked into mix_into and running */
  VgGraphLink *bypass;  /* while not mixing: the paced source's link into mix_into */
  gulong hold_probe;    /* while the bypass is being removed: mixer output dropped */
  GPtrArray *spare_pads; /* owned: mixer sink pads no link uses, kept for the next */
  gboolean detaching;
  guint pending; /* links still being unlinked while detaching */
  VgGraphDetachedFunc done;
  gpointer done_data;
};

struct _VgGraphLink
{
  VgRoomGraph *graph;
  VgGraphNode *src, *sink;
  GstPad *tee_pad;        /* request pad of src->tee */
  GstElement *sink_owner; /* sink->mixer, or sink->mix_into for a bypass */
  GstPad *sink_pad;       /* request pad of sink_owner */
  gboolean unlinking;
};

struct _VgRoomGraph
{
  GstBin *bin;
  GMainContext *context;
  GPtrArray *nodes; /* VgGraphNode*, owned */
  GPtrArray *links; /* VgGraphLink*, owned */
};

GstElement *
vg_element_make (const char *factory, const char *name, GError **error)
{
  GstElement *element = gst_element_factory_make (factory, name);
  if (!element)
    g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_PIPELINE,
                 "GStreamer element '%s' is not available", factory);
  return element;
}

GstElement *
vg_mixer_new (const char *name, GError **error)
{
  /* force-live: the mixer produces its 10 ms periods from the clock, silence
   * included, whichever inputs come and go; no silent source (and its
   * thread) is needed to keep it running. */
  GstElement *mixer
      = gst_element_factory_make_full ("audiomixer", "name", name, "force-live", TRUE, NULL);
  if (!mixer)
    g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_PIPELINE,
                 "GStreamer element 'audiomixer' is not available");
  return mixer;
}

void
vg_mixer_start_late (GstElement *mixer)
{
  /* GStreamer 1.22's aggregator applies its start time ("zero", or "set" to
   * the running time of the moment) only when its first input buffer
   * arrives. A live mixer started in a running pipeline times out before
   * that: its first deadline, running time 0 plus its latency, is long past.
   * It then takes its output position from the segment start, 0, and
   * produces every 10 ms period of the room's past as fast as it can (each
   * clock wait returns at once), encoded downstream, before it catches up;
   * the start time it is given later is ignored (the position is already
   * set). CPU in proportion to the room's age. "first" makes it wait for
   * its first input buffer, and start at that buffer's running time: the
   * present. (From 1.26, "first" on a force-live aggregator starts at the
   * current running time without waiting.) No mixer starts without an input:
   * the graph starts one to hear a source (and the agent's never stops). */
  gst_util_set_object_arg (G_OBJECT (mixer), "start-time-selection", "first");
}

void
vg_room_graph_latency_changed (GstBin *bin)
{
  gst_element_post_message (GST_ELEMENT (bin), gst_message_new_latency (GST_OBJECT (bin)));
}

VgRoomGraph *
vg_room_graph_new (GstBin *bin, GMainContext *context)
{
  VgRoomGraph *graph = g_new0 (VgRoomGraph, 1);
  graph->bin = gst_object_ref (bin);
  graph->context = g_main_context_ref (context);
  graph->nodes = g_ptr_array_new ();
  graph->links = g_ptr_array_new ();
  return graph;
}

static void
node_free (VgGraphNode *node)
{
  /* The pads stay in the mixer (it holds them) until it is disposed. */
  g_ptr_array_unref (node->spare_pads);
  g_clear_object (&node->tee);
  g_clear_object (&node->mixer);
  g_clear_object (&node->mix_into);
  g_free (node->label);
  g_free (node);
}

static void
link_free (VgGraphLink *link)
{
  g_clear_object (&link->tee_pad);
  g_clear_object (&link->sink_pad);
  g_clear_object (&link->sink_owner);
  g_free (link);
}

void
vg_room_graph_free (VgRoomGraph *graph)
{
  if (!graph)
    return;
  for (guint i = 0; i < graph->links->len; i++)
    link_free (g_ptr_array_index (graph->links, i));
  g_ptr_array_unref (graph->links);
  for (guint i = 0; i < graph->nodes->len; i++)
    node_free (g_ptr_array_index (graph->nodes, i));
  g_ptr_array_unref (graph->nodes);
  gst_object_unref (graph->bin);
  g_main_context_unref (graph->context);
  g_free (graph);
}

guint
vg_room_graph_count_links (VgRoomGraph *graph)
{
  return graph->links->len;
}

/* An agent set to flush-downstream flushes on barge-in (by default it only
 * drops what it had not played, and sends no flush). The flush stops at the
 * link: a mixer whose only input flushed would flush its
 * whole output into the listener's webrtcbin, and it expects flush-start and
 * flush-stop from one thread, which a playout ticker does not give. */
static GstPadProbeReturn
keep_flush_in_link (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GstEventType type = GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info));
  return type == GST_EVENT_FLUSH_START || type == GST_EVENT_FLUSH_STOP ? GST_PAD_PROBE_DROP
                                                                       : GST_PAD_PROBE_OK;
}

/* A mixer's sink pads are never released while the mixer runs: GStreamer
 * 1.22.0's audioaggregator (fixed in 1.22.7) lets go of its lock in the
 * middle of walking its pad list to mix each pad's buffer, without a
 * reference, so a pad released then is used after it is freed, and so is
 * its list node: the mixer's thread then locks freed memory, or writes into
 * whatever reuses it. That hung the churn (docs/RELIABILITY.md, "The
 * teardown hang": every leaving publisher releases a pad of the agent's
 * mixer and of every other participant's). A pad its link no longer uses
 * is kept (unlinked, it only costs a look per mix) and given to the next
 * link into the same mixer; the spare pads go with the mixer. A funnel
 * (mix_into) has no such walk: its pads are released. */
static GstPad *
mixer_sink_pad (VgGraphNode *sink, GstElement *sink_owner)
{
  while (sink_owner == sink->mixer && sink->spare_pads->len)
    {
      GstPad *pad = g_ptr_array_steal_index (sink->spare_pads, sink->spare_pads->len - 1);
      if (!GST_PAD_IS_EOS (pad))
        return pad;
      /* A pad that saw EOS (a source that ended) would stay ignored: it
       * stays in the mixer, unused. Sources do not end during a room. */
      gst_object_unref (pad);
    }
  return gst_element_request_pad_simple (sink_owner, "sink_%u");
}

/* Links src's tee to a request pad of sink_owner (sink's mixer or, for a
 * bypass, its mix_into). */
static VgGraphLink *
graph_link_to (VgRoomGraph *graph, VgGraphNode *src, VgGraphNode *sink, GstElement *sink_owner)
{
  VgGraphLink *link = g_new0 (VgGraphLink, 1);
  link->graph = graph;
  link->src = src;
  link->sink = sink;
  link->sink_owner = gst_object_ref (sink_owner);
  g_ptr_array_add (graph->links, link);
  link->tee_pad = gst_element_request_pad_simple (src->tee, "src_%u");
  link->sink_pad = mixer_sink_pad (sink, sink_owner);
  gboolean ok = link->tee_pad && link->sink_pad;
  if (ok)
    {
      gst_pad_add_probe (link->tee_pad, GST_PAD_PROBE_TYPE_EVENT_FLUSH, keep_flush_in_link, NULL,
                         NULL);
      ok = gst_pad_link (link->tee_pad, link->sink_pad) == GST_PAD_LINK_OK;
    }
  if (!ok)
    g_warning ("rooms: cannot link %s to %s", src->label, sink->label);
  vg_room_graph_latency_changed (graph->bin);
  return link;
}

static void link_start_unlink (VgGraphLink *link);

static GstPadProbeReturn
drop_buffers (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  return GST_PAD_PROBE_DROP;
}

/* Main context: node's mixer goes into its path, ahead of a second input.
 * The mixer starts now, its output held back until the bypass link is gone,
 * so the two never interleave in the funnel. */
static void
node_start_mixing (VgRoomGraph *graph, VgGraphNode *node)
{
  node->mixing = TRUE;
  GstPad *funnel_pad = gst_element_request_pad_simple (node->mix_into, "sink_%u");
  GstPad *mixer_src = gst_element_get_static_pad (node->mixer, "src");
  if (node->bypass)
    node->hold_probe
        = gst_pad_add_probe (mixer_src, GST_PAD_PROBE_TYPE_BUFFER, drop_buffers, NULL, NULL);
  if (!funnel_pad || gst_pad_link (mixer_src, funnel_pad) != GST_PAD_LINK_OK)
    g_warning ("rooms: cannot link the mixer of %s", node->label);
  gst_clear_object (&funnel_pad); /* the funnel keeps it */
  gst_object_unref (mixer_src);
  vg_mixer_start_late (node->mixer);
  gst_element_set_locked_state (node->mixer, FALSE);
  gst_element_sync_state_with_parent (node->mixer);
  if (node->bypass)
    {
      /* The paced source now reaches the mixer like any other (unless it is
       * leaving: the room is closing). */
      if (!node->bypass->src->detaching)
        graph_link_to (graph, node->bypass->src, node, node->mixer);
      link_start_unlink (node->bypass);
    }
}

/* Main context: the bypass link of node is gone; the mixer's output flows. */
static void
node_bypass_removed (VgGraphNode *node)
{
  node->bypass = NULL;
  if (node->hold_probe)
    {
      GstPad *mixer_src = gst_element_get_static_pad (node->mixer, "src");
      gst_pad_remove_probe (mixer_src, node->hold_probe);
      gst_object_unref (mixer_src);
      node->hold_probe = 0;
    }
}

static guint
count_sources_for (VgRoomGraph *graph, VgGraphNode *node, VgGraphNode **only)
{
  guint n = 0;
  for (guint i = 0; i < graph->nodes->len; i++)
    {
      VgGraphNode *other = g_ptr_array_index (graph->nodes, i);
      if (other != node && !other->detaching && other->tee)
        {
          n++;
          *only = other;
        }
    }
  return n;
}

VgGraphNode *
vg_room_graph_attach (VgRoomGraph *graph, const char *label, GstElement *tee, GstElement *mixer,
                      GstElement *mix_into, gboolean paced)
{
  VgGraphNode *node = g_new0 (VgGraphNode, 1);
  node->graph = graph;
  node->spare_pads = g_ptr_array_new_with_free_func (gst_object_unref);
  node->label = g_strdup (label);
  node->tee = tee ? gst_object_ref (tee) : NULL;
  node->mixer = mixer ? gst_object_ref (mixer) : NULL;
  node->mix_into = mix_into ? gst_object_ref (mix_into) : NULL;
  node->paced = paced;
  node->mixing = mixer && !mix_into;

  /* A mixer whose only input is a paced source (the agent) would add a
   * thread and a copy to a stream that is already continuous: the source
   * feeds the funnel directly until a second input arrives. */
  VgGraphNode *only = NULL;
  if (node->mixer && !node->mixing)
    {
      if (count_sources_for (graph, node, &only) == 1 && only->paced)
        node->bypass = graph_link_to (graph, only, node, node->mix_into);
      else
        node_start_mixing (graph, node);
    }

  for (guint i = 0; i < graph->nodes->len; i++)
    {
      VgGraphNode *other = g_ptr_array_index (graph->nodes, i);
      if (other->detaching)
        continue;
      if (node->tee && other->mixer)
        {
          if (!other->mixing)
            node_start_mixing (graph, other);
          graph_link_to (graph, node, other, other->mixer);
        }
      if (other->tee && node->mixer && node->mixing)
        graph_link_to (graph, other, node, node->mixer);
    }
  g_ptr_array_add (graph->nodes, node);
  return node;
}

gboolean
vg_room_graph_node_is_mixing (VgGraphNode *node)
{
  return node->mixing;
}

static void
node_link_done (VgGraphNode *node)
{
  if (!node->detaching || --node->pending > 0)
    return;
  VgRoomGraph *graph = node->graph;
  g_ptr_array_remove (graph->nodes, node);
  VgGraphDetachedFunc done = node->done;
  gpointer data = node->done_data;
  node_free (node);
  if (done)
    done (data);
}

/* Main context: the tee pad is unlinked; give the pads back. */
static gboolean
link_finish (gpointer data)
{
  VgGraphLink *link = data;
  VgRoomGraph *graph = link->graph;

  /* A link that failed to form may lack either pad. A mixer's pad, unlinked
   * by tee_pad_idle, is kept (see mixer_sink_pad). */
  if (link->sink_pad && link->sink_owner == link->sink->mixer
      && !gst_pad_is_linked (link->sink_pad))
    g_ptr_array_add (link->sink->spare_pads, g_steal_pointer (&link->sink_pad));
  else if (link->sink_pad)
    gst_element_release_request_pad (link->sink_owner, link->sink_pad);
  if (link->tee_pad)
    gst_element_release_request_pad (link->src->tee, link->tee_pad);
  if (link->sink->bypass == link)
    node_bypass_removed (link->sink);

  g_ptr_array_remove (graph->links, link);
  VgGraphNode *src = link->src, *sink = link->sink;
  link_free (link);
  node_link_done (src);
  if (sink != src)
    node_link_done (sink);
  return G_SOURCE_REMOVE;
}

/* Any thread: no buffer is travelling through the tee pad now. */
static GstPadProbeReturn
tee_pad_idle (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  VgGraphLink *link = data;
  GstPad *peer = pad ? gst_pad_get_peer (pad) : NULL; /* NULL: a link that never formed */
  if (peer)
    {
      gst_pad_unlink (pad, peer);
      gst_object_unref (peer);
    }
  GSource *source = g_idle_source_new ();
  g_source_set_callback (source, link_finish, link, NULL);
  g_source_attach (source, link->graph->context);
  g_source_unref (source);
  return GST_PAD_PROBE_REMOVE;
}

static void
link_start_unlink (VgGraphLink *link)
{
  if (link->unlinking)
    return;
  link->unlinking = TRUE;
  if (link->tee_pad)
    gst_pad_add_probe (link->tee_pad, GST_PAD_PROBE_TYPE_IDLE, tee_pad_idle, link, NULL);
  else
    tee_pad_idle (NULL, NULL, link);
}

void
vg_room_graph_detach (VgRoomGraph *graph, VgGraphNode *node, VgGraphDetachedFunc done,
                      gpointer user_data)
{
  g_return_if_fail (!node->detaching);
  node->detaching = TRUE;
  node->done = done;
  node->done_data = user_data;
  /* Hold one count ourselves so a synchronous probe cannot finish early. */
  node->pending = 1;
  GPtrArray *mine = g_ptr_array_new ();
  for (guint i = 0; i < graph->links->len; i++)
    {
      VgGraphLink *link = g_ptr_array_index (graph->links, i);
      if (link->src == node || link->sink == node)
        g_ptr_array_add (mine, link);
    }
  /* Links already unlinking (their other end is detaching too) are waited for. */
  node->pending += mine->len;
  for (guint i = 0; i < mine->len; i++)
    link_start_unlink (g_ptr_array_index (mine, i));
  g_ptr_array_unref (mine);
  node_link_done (node);
}
