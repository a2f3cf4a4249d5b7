/* webrtcbin's "get-stats" replies read into a participant's audio quality
 * and the metrics (gateway/rooms/media-stats.h), and the room's window of
 * agent response times (latency-window.h). The replies are built as
 * webrtcbin builds them (a structure of GstWebRTCStats structures); the
 * room tests check the same against a real webrtcbin. */
#define GST_USE_UNSTABLE_API
#include "gateway/rooms/media-stats.h"
#include "gateway/rooms/latency-window.h"
#include <gst/webrtc/webrtc.h>
#include <string.h>

static void
add_entry (GstStructure *reply, const char *id, GstStructure *entry)
{
  gst_structure_set (reply, id, GST_TYPE_STRUCTURE, entry, NULL);
  gst_structure_free (entry);
}

/* A reply of one publisher: inbound audio, outbound audio, and the peer's
 * receiver report (round trip) once rtt > 0. */
static GstStructure *
make_reply (guint64 received, gint64 lost, guint64 bytes_in, double jitter, guint64 bytes_out,
            double rtt)
{
  GstStructure *reply = gst_structure_new_empty ("application/x-webrtc-stats");
  add_entry (reply, "codec-stats",
             gst_structure_new ("codec-stats", "type", GST_TYPE_WEBRTC_STATS_TYPE,
                                GST_WEBRTC_STATS_CODEC, "payload-type", G_TYPE_UINT, 111, NULL));
  add_entry (reply, "rtp-inbound-stream-stats_1",
             gst_structure_new ("rtp-inbound-stream-stats", "type", GST_TYPE_WEBRTC_STATS_TYPE,
                                GST_WEBRTC_STATS_INBOUND_RTP, "packets-received", G_TYPE_UINT64,
                                received, "packets-lost", G_TYPE_INT64, lost, "bytes-received",
                                G_TYPE_UINT64, bytes_in, "jitter", G_TYPE_DOUBLE, jitter, NULL));
  add_entry (reply, "rtp-outbound-stream-stats_2",
             gst_structure_new ("rtp-outbound-stream-stats", "type", GST_TYPE_WEBRTC_STATS_TYPE,
                                GST_WEBRTC_STATS_OUTBOUND_RTP, "packets-sent", G_TYPE_UINT64,
                                (guint64)100, "bytes-sent", G_TYPE_UINT64, bytes_out, NULL));
  if (rtt > 0)
    add_entry (reply, "rtp-remote-inbound-stream-stats_2",
               gst_structure_new ("rtp-remote-inbound-stream-stats", "type",
                                  GST_TYPE_WEBRTC_STATS_TYPE, GST_WEBRTC_STATS_REMOTE_INBOUND_RTP,
                                  "round-trip-time", G_TYPE_DOUBLE, rtt, "packets-lost",
                                  G_TYPE_INT64, (gint64)0, NULL));
  return reply;
}

typedef struct
{
  VgMetrics *metrics;
  VgRoomsMetrics rm;
} Fixture;

static void
fixture_init (Fixture *f)
{
  f->metrics = vg_metrics_new ();
  vg_rooms_metrics_register (&f->rm, f->metrics);
}

static void
fixture_clear (Fixture *f)
{
  vg_metrics_free (f->metrics);
}

static void
test_parse (void)
{
  GstStructure *reply = make_reply (500, 25, 40000, 0.004, 30000, 0.012);
  VgMediaSample s;
  vg_media_sample_parse (reply, &s);
  g_assert_true (s.has_inbound);
  g_assert_true (s.has_outbound);
  g_assert_cmpuint (s.packets_received, ==, 500);
  g_assert_cmpuint (s.packets_lost, ==, 25);
  g_assert_cmpuint (s.bytes_received, ==, 40000);
  g_assert_cmpuint (s.bytes_sent, ==, 30000);
  g_assert_cmpfloat_with_epsilon (s.jitter_seconds, 0.004, 1e-12);
  g_assert_cmpfloat_with_epsilon (s.round_trip_seconds, 0.012, 1e-12);
  gst_structure_free (reply);

  /* A listener: no inbound audio; no receiver report yet; duplicates make
   * webrtcbin's packets-lost negative, which is no loss. */
  reply = make_reply (10, -3, 800, 0.001, 30000, 0);
  gst_structure_remove_field (reply, "rtp-inbound-stream-stats_1");
  vg_media_sample_parse (reply, &s);
  g_assert_false (s.has_inbound);
  g_assert_true (s.has_outbound);
  g_assert_cmpfloat (s.jitter_seconds, <, 0);
  g_assert_cmpfloat (s.round_trip_seconds, <, 0);
  gst_structure_free (reply);
  reply = make_reply (10, -3, 800, 0.001, 30000, 0);
  vg_media_sample_parse (reply, &s);
  g_assert_cmpuint (s.packets_lost, ==, 0);
  gst_structure_free (reply);

  /* webrtcbin 1.22's shape: the loss only in the nested rtpsource statistics. */
  reply = make_reply (10, 0, 800, 0.001, 30000, 0);
  GstStructure *in = NULL;
  gst_structure_get (reply, "rtp-inbound-stream-stats_1", GST_TYPE_STRUCTURE, &in, NULL);
  gst_structure_remove_field (in, "packets-lost");
  GstStructure *source
      = gst_structure_new ("application/x-rtp-source-stats", "packets-lost", G_TYPE_INT, 31, NULL);
  gst_structure_set (in, "gst-rtpsource-stats", GST_TYPE_STRUCTURE, source, NULL);
  gst_structure_free (source);
  add_entry (reply, "rtp-inbound-stream-stats_1", in);
  vg_media_sample_parse (reply, &s);
  g_assert_cmpuint (s.packets_lost, ==, 31);
  gst_structure_free (reply);

  /* No reply (the element stopped): nothing, and no crash. */
  vg_media_sample_parse (NULL, &s);
  g_assert_false (s.has_inbound || s.has_outbound);
}

static double
series (Fixture *f, VgMetric *m)
{
  return vg_metric_get (m, NULL);
}

static void
test_update_counts_increases (void)
{
  Fixture f;
  fixture_init (&f);
  VgMediaStats stats;
  vg_media_stats_init (&stats);
  g_assert_cmpuint (stats.samples, ==, 0);
  g_assert_cmpfloat (stats.bitrate_in_bps, <, 0);

  /* The counters exist at 0 before any session. */
  g_autofree char *text = vg_metrics_render (f.metrics);
  g_assert_nonnull (strstr (text, "\nvoxgate_webrtc_packets_lost_total 0\n"));
  g_assert_nonnull (strstr (text, "\nvoxgate_webrtc_packets_received_total 0\n"));
  g_assert_nonnull (strstr (text, "voxgate_agent_errors_total{kind=\"realtime\"} 0\n"));

  gint64 t0 = 1000000000;
  VgMediaSample s;
  GstStructure *reply = make_reply (250, 5, 20000, 0.003, 15000, 0);
  vg_media_sample_parse (reply, &s);
  vg_media_stats_update (&stats, &s, t0, &f.rm);
  gst_structure_free (reply);
  g_assert_cmpfloat (series (&f, f.rm.packets_received), ==, 250);
  g_assert_cmpfloat (series (&f, f.rm.packets_lost), ==, 5);
  g_assert_cmpfloat (series (&f, f.rm.bytes_received), ==, 20000);
  g_assert_cmpfloat (series (&f, f.rm.bytes_sent), ==, 15000);
  g_assert_cmpfloat (vg_metric_get (f.rm.jitter_seconds, NULL), ==, 1); /* one observation */
  g_assert_cmpfloat (vg_metric_get (f.rm.round_trip_seconds, NULL), ==, 0);
  g_assert_cmpfloat (stats.bitrate_in_bps, <, 0); /* one sample: no rate yet */

  /* Five seconds later: 40 kbit/s in, 24 kbit/s out, 10 more lost, a round trip. */
  reply = make_reply (500, 15, 45000, 0.006, 30000, 0.020);
  vg_media_sample_parse (reply, &s);
  vg_media_stats_update (&stats, &s, t0 + 5 * G_USEC_PER_SEC, &f.rm);
  gst_structure_free (reply);
  g_assert_cmpfloat (series (&f, f.rm.packets_received), ==, 500);
  g_assert_cmpfloat (series (&f, f.rm.packets_lost), ==, 15);
  g_assert_cmpfloat_with_epsilon (stats.bitrate_in_bps, 40000, 1e-6);
  g_assert_cmpfloat_with_epsilon (stats.bitrate_out_bps, 24000, 1e-6);
  g_assert_cmpfloat (vg_metric_get (f.rm.round_trip_seconds, NULL), ==, 1);
  g_assert_cmpfloat_with_epsilon (stats.last.round_trip_seconds, 0.020, 1e-12);
  g_assert_cmpfloat_with_epsilon (vg_media_stats_loss_ratio (&stats), 15.0 / 515, 1e-12);
  g_assert_cmpuint (stats.samples, ==, 2);

  /* Counters that go back (a stream left the reply) add nothing and are
   * kept; the last known round trip stays when a reply has none. */
  reply = make_reply (100, 1, 1000, 0.001, 30000, 0);
  vg_media_sample_parse (reply, &s);
  vg_media_stats_update (&stats, &s, t0 + 10 * G_USEC_PER_SEC, &f.rm);
  gst_structure_free (reply);
  g_assert_cmpfloat (series (&f, f.rm.packets_received), ==, 500);
  g_assert_cmpfloat (series (&f, f.rm.packets_lost), ==, 15);
  g_assert_cmpuint (stats.last.packets_received, ==, 500);
  g_assert_cmpfloat_with_epsilon (stats.last.round_trip_seconds, 0.020, 1e-12);

  /* The histograms render with their buckets (jitter 3 ms, 6 ms, 1 ms). */
  g_free (text);
  text = vg_metrics_render (f.metrics);
  g_assert_nonnull (strstr (text, "voxgate_webrtc_jitter_seconds_bucket{le=\"0.005\"} 2\n"));
  g_assert_nonnull (strstr (text, "voxgate_webrtc_jitter_seconds_count 3\n"));
  g_assert_nonnull (strstr (text, "voxgate_webrtc_round_trip_seconds_bucket{le=\"0.025\"} 1\n"));
  fixture_clear (&f);
}

static void
test_update_without_metrics (void)
{
  VgMediaStats stats;
  VgMediaSample s;
  vg_media_stats_init (&stats);
  GstStructure *reply = make_reply (10, 0, 100, 0.001, 100, 0.01);
  vg_media_sample_parse (reply, &s);
  vg_media_stats_update (&stats, &s, 1, NULL);
  gst_structure_free (reply);
  g_assert_cmpuint (stats.last.packets_received, ==, 10);
  g_assert_cmpfloat (vg_media_stats_loss_ratio (&stats), ==, 0);
}

static void
test_latency_window (void)
{
  VgLatencyWindow w;
  VgLatencySummary sum;
  vg_latency_window_init (&w);
  vg_latency_window_summarize (&w, &sum);
  g_assert_cmpuint (sum.count, ==, 0);
  g_assert_cmpfloat (sum.p50, <, 0);
  g_assert_cmpfloat (sum.last, <, 0);

  for (guint i = 1; i <= 10; i++)
    vg_latency_window_add (&w, i / 10.0);
  vg_latency_window_summarize (&w, &sum);
  g_assert_cmpuint (sum.count, ==, 10);
  g_assert_cmpfloat_with_epsilon (sum.last, 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (sum.p50, 0.5, 1e-12); /* nearest rank: the 5th of 10 */
  g_assert_cmpfloat_with_epsilon (sum.p95, 1.0, 1e-12);

  /* Bounded: only the last VG_LATENCY_WINDOW_SIZE count for percentiles. */
  for (guint i = 0; i < VG_LATENCY_WINDOW_SIZE; i++)
    vg_latency_window_add (&w, 2.0);
  vg_latency_window_summarize (&w, &sum);
  g_assert_cmpuint (sum.count, ==, 10 + VG_LATENCY_WINDOW_SIZE);
  g_assert_cmpfloat_with_epsilon (sum.p50, 2.0, 1e-12);
  vg_latency_window_clear (&w);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/media-stats/parse", test_parse);
  g_test_add_func ("/media-stats/update-counts-increases", test_update_counts_increases);
  g_test_add_func ("/media-stats/update-without-metrics", test_update_without_metrics);
  g_test_add_func ("/media-stats/latency-window", test_latency_window);
  return g_test_run ();
}
