/* The metrics registry and its text format. */
#include "gateway/core/metrics.h"

#include <string.h>

static void
test_counter_gauge (void)
{
  VgMetrics *m = vg_metrics_new ();
  const char *const names[] = { "route", "code", NULL };
  VgMetric *c = vg_metrics_register (m, VG_METRIC_COUNTER, "t_requests_total", "Requests", names, NULL);
  VgMetric *g = vg_metrics_register (m, VG_METRIC_GAUGE, "t_rooms", "Rooms", NULL, NULL);
  const char *a[] = { "/x", "200", NULL };
  const char *b[] = { "/x \"q\"\\\n", "500", NULL };
  g_autofree char *text = NULL;

  vg_metric_add (c, a, 1);
  vg_metric_add (c, a, 2);
  vg_metric_add (c, b, 1);
  vg_metric_set (g, NULL, 4);
  vg_metric_add (g, NULL, -1);
  g_assert_cmpfloat (vg_metric_get (c, a), ==, 3);
  g_assert_cmpfloat (vg_metric_get (g, NULL), ==, 3);
  g_assert_true (vg_metrics_register (m, VG_METRIC_GAUGE, "t_rooms", "Rooms", NULL, NULL) == g);

  text = vg_metrics_render (m);
  g_assert_nonnull (strstr (text, "# TYPE t_requests_total counter\n"));
  g_assert_nonnull (strstr (text, "t_requests_total{route=\"/x\",code=\"200\"} 3\n"));
  g_assert_nonnull (strstr (text, "t_requests_total{route=\"/x \\\"q\\\"\\\\\\n\",code=\"500\"} 1\n"));
  g_assert_nonnull (strstr (text, "t_rooms 3\n"));
  vg_metrics_free (m);
}

static void
test_histogram (void)
{
  VgMetrics *m = vg_metrics_new ();
  static const double buckets[] = { 0.1, 1, -1 };
  VgMetric *h = vg_metrics_register (m, VG_METRIC_HISTOGRAM, "t_seconds", "Latency", NULL, buckets);
  g_autofree char *text = NULL;

  vg_metric_observe (h, NULL, 0.05);
  vg_metric_observe (h, NULL, 0.1);
  vg_metric_observe (h, NULL, 0.5);
  vg_metric_observe (h, NULL, 7);
  text = vg_metrics_render (m);
  g_assert_nonnull (strstr (text, "t_seconds_bucket{le=\"0.1\"} 2\n"));
  g_assert_nonnull (strstr (text, "t_seconds_bucket{le=\"1\"} 3\n"));
  g_assert_nonnull (strstr (text, "t_seconds_bucket{le=\"+Inf\"} 4\n"));
  g_assert_nonnull (strstr (text, "t_seconds_sum 7.65\n"));
  g_assert_nonnull (strstr (text, "t_seconds_count 4\n"));
  vg_metrics_free (m);
}

static void
test_cardinality_bound (void)
{
  VgMetrics *m = vg_metrics_new ();
  const char *const names[] = { "peer", NULL };
  VgMetric *c = vg_metrics_register (m, VG_METRIC_COUNTER, "t_total", "x", names, NULL);
  VgMetric *dropped = vg_metrics_register (m, VG_METRIC_COUNTER, "voxgate_metrics_dropped_series_total", "", NULL, NULL);
  const char *family[] = { "t_total", NULL };

  for (int i = 0; i < 1500; i++)
    {
      char v[16];
      const char *values[] = { v, NULL };
      g_snprintf (v, sizeof v, "%d", i);
      vg_metric_add (c, values, 1);
    }
  g_assert_cmpfloat (vg_metric_get (dropped, family), ==, 500);
  vg_metrics_free (m);
}

static void
collect_extra (GString *out, gpointer user_data)
{
  g_string_append (out, "# TYPE t_extra gauge\nt_extra 1\n");
}

static void
test_collectors_and_process (void)
{
  VgMetrics *m = vg_metrics_new ();
  g_autofree char *text = NULL;

  vg_metrics_add_collector (m, collect_extra, NULL);
  vg_metrics_add_collector (m, vg_metrics_collect_process, NULL);
  text = vg_metrics_render (m);
  g_assert_nonnull (strstr (text, "t_extra 1\n"));
  g_assert_nonnull (strstr (text, "process_resident_memory_bytes "));
  g_assert_nonnull (strstr (text, "process_open_fds "));
  g_assert_nonnull (strstr (text, "process_threads 1\n"));
  g_assert_nonnull (strstr (text, "process_cpu_seconds_total "));
  vg_metrics_free (m);
}

static gpointer
hammer (gpointer data)
{
  VgMetric *c = data;
  const char *v[] = { "x", NULL };
  for (int i = 0; i < 100000; i++)
    vg_metric_add (c, v, 1);
  return NULL;
}

static void
test_threads (void)
{
  VgMetrics *m = vg_metrics_new ();
  const char *const names[] = { "k", NULL };
  VgMetric *c = vg_metrics_register (m, VG_METRIC_COUNTER, "t_total", "x", names, NULL);
  GThread *t[4];
  const char *v[] = { "x", NULL };

  for (int i = 0; i < 4; i++)
    t[i] = g_thread_new ("hammer", hammer, c);
  for (int i = 0; i < 4; i++)
    g_thread_join (t[i]);
  g_assert_cmpfloat (vg_metric_get (c, v), ==, 400000);
  vg_metrics_free (m);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/metrics/counter-gauge", test_counter_gauge);
  g_test_add_func ("/metrics/histogram", test_histogram);
  g_test_add_func ("/metrics/cardinality-bound", test_cardinality_bound);
  g_test_add_func ("/metrics/collectors-and-process", test_collectors_and_process);
  g_test_add_func ("/metrics/threads", test_threads);
  return g_test_run ();
}
