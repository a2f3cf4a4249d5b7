/* The room graph against a running mixer, without WebRTC: sources join and
 * leave the agent's mixer while it mixes, as every publisher of a room does.
 *
 * GStreamer 1.22.0's audioaggregator walks its pad list with its lock let go
 * around each pad's mix, so a sink pad released meanwhile is used after it
 * is freed (the churn's hang, docs/RELIABILITY.md "The teardown hang"). The
 * graph therefore never releases a sink pad of a mixer: it keeps a pad its
 * link leaves and gives it to the next link. Asserted here: no pad is
 * removed from the running mixer, the pads are reused (their number stays
 * at the most links it had at once), and the mixer keeps producing while
 * sources come and go (under MALLOC_PERTURB_, which meson sets, releasing
 * pads as before crashed or hung this loop). */
#include "gateway/rooms/room-graph.h"
#include <gst/gst.h>

typedef struct
{
  GstElement *pipeline;
  VgRoomGraph *graph;
  GstElement *mixer;
  gint removed_pads; /* atomic: the mixer's pad-removed */
  gint buffers_out;  /* atomic: buffers the mixer produced */
} Fixture;

static void
on_pad_removed (GstElement *mixer, GstPad *pad, gpointer data)
{
  Fixture *f = data;
  g_atomic_int_inc (&f->removed_pads);
}

static GstPadProbeReturn
count_out (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Fixture *f = data;
  g_atomic_int_inc (&f->buffers_out);
  return GST_PAD_PROBE_OK;
}

/* audiotestsrc is-live ! room caps ! tee, in the pipeline (the graph links
 * elements of one bin) and running. Returns the tee; parts gets all three. */
static GstElement *
add_source (Fixture *f, const char *name, GstElement *parts[3])
{
  g_autofree char *src_name = g_strconcat (name, "-src", NULL);
  g_autofree char *caps_name = g_strconcat (name, "-caps", NULL);
  g_autofree char *tee_name = g_strconcat (name, "-tee", NULL);
  parts[0] = gst_element_factory_make_full ("audiotestsrc", "name", src_name, "is-live", TRUE,
                                            "samplesperbuffer", 480, NULL);
  parts[1] = gst_element_factory_make ("capsfilter", caps_name);
  parts[2] = gst_element_factory_make ("tee", tee_name);
  GstCaps *caps = gst_caps_from_string (VG_ROOM_AUDIO_CAPS);
  g_object_set (parts[1], "caps", caps, NULL);
  gst_caps_unref (caps);
  g_object_set (parts[2], "allow-not-linked", TRUE, NULL);
  gst_bin_add_many (GST_BIN (f->pipeline), parts[0], parts[1], parts[2], NULL);
  g_assert_true (gst_element_link_many (parts[0], parts[1], parts[2], NULL));
  for (int i = 2; i >= 0; i--)
    gst_element_sync_state_with_parent (parts[i]);
  /* Flowing before its pads are requested, as a participant's tee is: a
   * pad requested while the tee forwards stream-start may miss it (a tee
   * race, not the graph's). */
  GstPad *in = gst_element_get_static_pad (parts[2], "sink");
  gint64 deadline = g_get_monotonic_time () + G_TIME_SPAN_SECOND;
  while (!gst_pad_has_current_caps (in) && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  g_assert_true (gst_pad_has_current_caps (in));
  gst_object_unref (in);
  return gst_object_ref (parts[2]);
}

static void
remove_source (Fixture *f, GstElement *parts[3])
{
  for (int i = 0; i < 3; i++)
    {
      gst_element_set_locked_state (parts[i], TRUE);
      gst_element_set_state (parts[i], GST_STATE_NULL);
      gst_bin_remove (GST_BIN (f->pipeline), parts[i]);
    }
}

static void
on_detached (gpointer data)
{
  *(gboolean *)data = TRUE;
}

static void
iterate (void)
{
  if (!g_main_context_iteration (NULL, FALSE))
    g_usleep (1000);
}

static void
run_until (gboolean *flag, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * G_TIME_SPAN_MILLISECOND;
  while (!*flag && g_get_monotonic_time () < deadline)
    iterate ();
}

static void
run_for (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;
  while (g_get_monotonic_time () < end)
    iterate ();
}

static void
test_sources_come_and_go_while_mixing (void)
{
  Fixture f = { 0 };
  f.pipeline = gst_pipeline_new ("graph");
  g_autoptr (GError) error = NULL;
  f.mixer = vg_mixer_new ("agent-mix", &error);
  g_assert_no_error (error);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add_many (GST_BIN (f.pipeline), f.mixer, sink, NULL);
  g_assert_true (gst_element_link (f.mixer, sink));
  g_signal_connect (f.mixer, "pad-removed", G_CALLBACK (on_pad_removed), &f);
  GstPad *out = gst_element_get_static_pad (f.mixer, "src");
  gst_pad_add_probe (out, GST_PAD_PROBE_TYPE_BUFFER, count_out, &f, NULL);
  gst_object_unref (out);
  f.graph = vg_room_graph_new (GST_BIN (f.pipeline), g_main_context_default ());
  /* The agent's node: its mixer hears every source and is already running. */
  vg_room_graph_attach (f.graph, "agent", NULL, f.mixer, NULL, FALSE);
  g_assert_cmpint (gst_element_set_state (f.pipeline, GST_STATE_PLAYING), !=,
                   GST_STATE_CHANGE_FAILURE);

  /* One source stays, the others overlap it one at a time: at most two
   * links into the mixer at once. */
  GstElement *steady[3];
  GstElement *steady_tee = add_source (&f, "steady", steady);
  vg_room_graph_attach (f.graph, "steady", steady_tee, NULL, NULL, TRUE);
  const char *env = g_getenv ("VG_GRAPH_CYCLES");
  guint cycles = env ? (guint)g_ascii_strtoull (env, NULL, 10) : 150;
  for (guint i = 0; i < cycles; i++)
    {
      g_autofree char *name = g_strdup_printf ("s%u", i);
      GstElement *parts[3];
      GstElement *tee = add_source (&f, name, parts);
      VgGraphNode *node = vg_room_graph_attach (f.graph, name, tee, NULL, NULL, FALSE);
      run_for (i % 7); /* a few mixing periods, or none */
      gboolean detached = FALSE;
      vg_room_graph_detach (f.graph, node, on_detached, &detached);
      run_until (&detached, 5000);
      g_assert_true (detached);
      remove_source (&f, parts);
      gst_object_unref (tee);
    }
  gint before = g_atomic_int_get (&f.buffers_out);
  run_for (200);
  GstState state;
  gst_element_get_state (f.mixer, &state, NULL, 0);
  g_test_message ("%u sources came and went: mixer has %u sink pads, %d removed while running, "
                  "%d buffers out",
                  cycles, f.mixer->numsinkpads, g_atomic_int_get (&f.removed_pads),
                  g_atomic_int_get (&f.buffers_out));
  g_assert_cmpint (state, ==, GST_STATE_PLAYING);
  g_assert_cmpint (g_atomic_int_get (&f.removed_pads), ==, 0);
  g_assert_cmpuint (f.mixer->numsinkpads, <=, 2);
  /* Still mixing: 10 ms periods, 200 ms. */
  g_assert_cmpint (g_atomic_int_get (&f.buffers_out) - before, >=, 10);

  gst_element_set_state (f.pipeline, GST_STATE_NULL);
  vg_room_graph_free (f.graph);
  gst_object_unref (steady_tee);
  gst_object_unref (f.pipeline);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rooms/graph/sources-come-and-go-while-mixing",
                   test_sources_come_and_go_while_mixing);
  return g_test_run ();
}
