/* vg-realtime-bench: N openairealtime instances in one process against a
 * Realtime server (the fake one from tests/realtime-server), each fed paced
 * 24 kHz audio (1 s of tone, then 2 s of quiet, so every instance takes a
 * turn every 3 s and hears a reply). One feeder timer on the main thread
 * pushes the input of all instances (like a room mixer would), so every
 * thread counted belongs to the plugin or GStreamer, not to the harness.
 * Prints one JSON object on its last line. */
#include <gst/gst.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <dirent.h>

#define RATE 24000
#define PERIOD_MS 20
#define CYCLE_MS 3000
#define SPEECH_MS 1000

typedef struct
{
  GstElement *pipeline;
  GstElement *agent;
  GstPad *feeder; /* our src pad linked to the agent's sink */
  guint phase_ms;
  GstClockTime pts;
} Instance;

static gint responses, errors, listening;
static GPtrArray *instances;
static GstBuffer *tone_buf, *quiet_buf;

static guint
count_threads (void)
{
  DIR *d = opendir ("/proc/self/task");
  struct dirent *e;
  guint n = 0;

  while (d && (e = readdir (d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  if (d)
    closedir (d);
  return n;
}

static double
rss_mb (void)
{
  long pages = 0, resident = 0;
  FILE *f = fopen ("/proc/self/statm", "r");

  if (f)
    {
      if (fscanf (f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
      fclose (f);
    }
  return resident * (double)sysconf (_SC_PAGESIZE) / (1024.0 * 1024.0);
}

static double
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec
         + ru.ru_stime.tv_usec / 1e6;
}

static GstBusSyncReply
on_bus (GstBus *bus, GstMessage *msg, gpointer data)
{
  const GstStructure *s = gst_message_get_structure (msg);

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    g_atomic_int_inc (&errors);
  else if (s && gst_structure_has_name (s, "realtime-usage"))
    g_atomic_int_inc (&responses);
  else if (s && gst_structure_has_name (s, "realtime-state")
           && g_strcmp0 (gst_structure_get_string (s, "state"), "listening") == 0)
    g_atomic_int_inc (&listening);
  gst_message_unref (msg);
  return GST_BUS_DROP;
}

static GstBuffer *
make_buffer (double amplitude)
{
  guint n = RATE * PERIOD_MS / 1000, i;
  GstBuffer *buf = gst_buffer_new_allocate (NULL, n * 2, NULL);
  GstMapInfo map;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (i = 0; i < n; i++)
    ((gint16 *)map.data)[i] = (gint16)(amplitude * 32767 * sin (2 * G_PI * 440.0 * i / RATE));
  gst_buffer_unmap (buf, &map);
  return buf;
}

static Instance *
instance_new (const char *url, guint index)
{
  Instance *in = g_new0 (Instance, 1);
  GstElement *sink;
  GstCaps *caps;
  GstSegment segment;
  g_autofree char *name = g_strdup_printf ("agent%u", index);

  in->pipeline = gst_pipeline_new (NULL);
  in->agent = gst_element_factory_make ("openairealtime", name);
  sink = gst_element_factory_make ("fakesink", NULL);
  g_assert (in->agent && sink);
  g_object_set (in->agent, "url", url, "api-key", "sk-bench", "silence-duration-ms", 300, NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add_many (GST_BIN (in->pipeline), in->agent, sink, NULL);
  gst_element_link (in->agent, sink);
  gst_bus_set_sync_handler (gst_element_get_bus (in->pipeline), on_bus, NULL, NULL);
  gst_object_unref (gst_element_get_bus (in->pipeline)); /* get_bus returned a ref */

  in->feeder = gst_pad_new ("feeder", GST_PAD_SRC);
  gst_pad_set_active (in->feeder, TRUE);
  gst_pad_link (in->feeder, gst_element_get_static_pad (in->agent, "sink"));
  gst_object_unref (gst_pad_get_peer (in->feeder));
  gst_element_set_state (in->pipeline, GST_STATE_PLAYING);
  gst_pad_push_event (in->feeder, gst_event_new_stream_start ("bench"));
  caps = gst_caps_from_string ("audio/x-raw,format=S16LE,layout=interleaved,rate=24000,"
                               "channels=1");
  gst_pad_push_event (in->feeder, gst_event_new_caps (caps));
  gst_caps_unref (caps);
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_push_event (in->feeder, gst_event_new_segment (&segment));
  in->phase_ms = g_random_int_range (0, CYCLE_MS / PERIOD_MS) * PERIOD_MS;
  return in;
}

static void
instance_free (Instance *in)
{
  gst_element_set_state (in->pipeline, GST_STATE_NULL);
  gst_pad_set_active (in->feeder, FALSE);
  gst_object_unref (in->feeder);
  gst_object_unref (in->pipeline);
  g_free (in);
}

/* The paced input of every instance: 20 ms per instance every 20 ms. */
static gboolean
feed (gpointer data)
{
  guint i;

  for (i = 0; i < instances->len; i++)
    {
      Instance *in = g_ptr_array_index (instances, i);
      GstBuffer *buf;

      buf = gst_buffer_copy (in->phase_ms < SPEECH_MS ? tone_buf : quiet_buf);
      GST_BUFFER_PTS (buf) = in->pts;
      GST_BUFFER_DURATION (buf) = PERIOD_MS * GST_MSECOND;
      in->pts += PERIOD_MS * GST_MSECOND;
      in->phase_ms = (in->phase_ms + PERIOD_MS) % CYCLE_MS;
      gst_pad_push (in->feeder, buf);
    }
  return G_SOURCE_CONTINUE;
}

static guint64
sum_counter (const char *property)
{
  guint64 sum = 0, v;
  guint i;

  for (i = 0; i < instances->len; i++)
    {
      g_object_get (((Instance *)g_ptr_array_index (instances, i))->agent, property, &v, NULL);
      sum += v;
    }
  return sum;
}

static gboolean
quit_cb (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static void
run_for (guint ms)
{
  GMainLoop *loop = g_main_loop_new (NULL, FALSE);

  g_timeout_add (ms, quit_cb, loop);
  g_main_loop_run (loop);
  g_main_loop_unref (loop);
}

int
main (int argc, char **argv)
{
  gint n = 200, seconds = 20;
  g_autofree char *url = NULL;
  GOptionEntry entries[] = {
    { "instances", 'n', 0, G_OPTION_ARG_INT, &n, "Number of openairealtime instances", "N" },
    { "seconds", 's', 0, G_OPTION_ARG_INT, &seconds, "Measured duration", "S" },
    { "url", 'u', 0, G_OPTION_ARG_STRING, &url, "Realtime server URL", "URL" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- openairealtime benchmark");
  g_autoptr (GError) error = NULL;
  guint threads_base, threads_one, threads_all, i;
  guint64 dropped0;
  double rss_base, rss_all, cpu0, cpu1;
  gint64 t0, t1;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || url == NULL || n < 1 || seconds < 1)
    {
      g_printerr ("usage: vg-realtime-bench --url ws://127.0.0.1:PORT/v1/realtime [-n N] [-s S]\n");
      return 2;
    }
  gst_init (&argc, &argv);
  tone_buf = make_buffer (0.3);
  quiet_buf = make_buffer (0.0);
  instances = g_ptr_array_new_with_free_func ((GDestroyNotify)instance_free);
  g_timeout_add (PERIOD_MS, feed, NULL);

  /* Warm up the registry, the clock and libsoup with one instance. */
  g_ptr_array_add (instances, instance_new (url, 0));
  run_for (1500);
  threads_one = count_threads ();
  g_ptr_array_set_size (instances, 0);
  run_for (200);
  threads_base = count_threads ();
  rss_base = rss_mb ();

  for (i = 0; i < (guint)n; i++)
    g_ptr_array_add (instances, instance_new (url, i));
  run_for (3000); /* connect and settle */
  g_atomic_int_set (&responses, 0);
  dropped0 = sum_counter ("dropped-input-bytes");
  cpu0 = cpu_seconds ();
  t0 = g_get_monotonic_time ();
  run_for (seconds * 1000);
  cpu1 = cpu_seconds ();
  t1 = g_get_monotonic_time ();
  threads_all = count_threads ();
  rss_all = rss_mb ();

  {
    double wall = (t1 - t0) / 1e6;
    double cpu_pct = (cpu1 - cpu0) / wall * 100.0;
    guint64 dropped = sum_counter ("dropped-input-bytes") - dropped0;
    guint64 bad = sum_counter ("bad-frames");
    g_printerr ("instances %d, %.1f s: cpu %.2f%% of a core in total, %.3f%% per instance; "
                "threads %u with 1 instance, %u with %d (%u idle); rss %.1f MiB -> %.1f MiB; "
                "responses %d; errors %d\n",
                n, wall, cpu_pct, cpu_pct / n, threads_one, threads_all, n, threads_base, rss_base,
                rss_all, g_atomic_int_get (&responses), g_atomic_int_get (&errors));
    printf ("{\"instances\":%d,\"seconds\":%.1f,\"cpu_percent_total\":%.2f,"
            "\"cpu_percent_per_instance\":%.4f,\"threads_idle\":%u,\"threads_1_instance\":%u,"
            "\"threads_n_instances\":%u,\"threads_per_instance\":%.2f,\"io_threads\":1,"
            "\"rss_mib_per_instance\":%.3f,\"responses\":%d,\"errors\":%d,"
            "\"dropped_input_bytes\":%" G_GUINT64_FORMAT ",\"bad_frames\":%" G_GUINT64_FORMAT "}\n",
            n, wall, cpu_pct, cpu_pct / n, threads_base, threads_one, threads_all,
            (threads_all - threads_base) / (double)n, (rss_all - rss_base) / n,
            g_atomic_int_get (&responses), g_atomic_int_get (&errors), dropped, bad);
  }
  g_ptr_array_unref (instances);
  gst_buffer_unref (tone_buf);
  gst_buffer_unref (quiet_buf);
  return 0;
}
