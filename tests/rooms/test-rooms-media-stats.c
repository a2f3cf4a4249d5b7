/* A participant's audio quality from a real webrtcbin's statistics: a test
 * client that drops every 10th RTP packet it sends shows about 10 % loss in
 * its participant's statistics and in the metrics, a clean one in the same
 * room shows none; round trip, jitter and bitrate are sampled (every second
 * here, rooms-fixture.c). */
#include "rooms-fixture.h"
#include "gateway/rooms/participant.h"
#include <string.h>
#include <sys/resource.h>

#define CONNECT_TIMEOUT_MS 10000

static VgTestClient *
join (VgRoomsFixture *f, const char *label, guint drop_every)
{
  VgTestClientOptions o = { .tone_hz = 440, .drop_every = drop_every };
  VgTestClient *c = vg_rooms_fixture_client (f, label, &o);
  g_autoptr (GError) error = NULL;
  g_assert_true (vg_test_client_start (c, &error));
  g_assert_no_error (error);
  if (!vg_test_client_wait_connected (c, CONNECT_TIMEOUT_MS))
    g_error ("%s did not connect: %s", label, vg_test_client_get_error (c));
  return c;
}

typedef struct
{
  VgParticipant *lossy, *clean;
} Pair;

/* Enough packets counted, and a round trip known, for both. */
static gboolean
sampled_enough (gpointer data)
{
  Pair *pair = data;
  const VgMediaStats *a = vg_participant_get_media_stats (pair->lossy);
  const VgMediaStats *b = vg_participant_get_media_stats (pair->clean);
  return a->last.packets_received >= 250 && b->last.packets_received >= 250
         && a->last.round_trip_seconds > 0 && b->last.round_trip_seconds > 0
         && a->bitrate_in_bps > 0 && b->bitrate_out_bps > 0;
}

static void
describe (const char *who, const VgMediaStats *m)
{
  g_test_message ("%s: %u samples, %" G_GUINT64_FORMAT " received, %" G_GUINT64_FORMAT
                  " lost (%.1f %%), jitter %.2f ms, round trip %.2f ms, in %.1f kbit/s, out "
                  "%.1f kbit/s",
                  who, m->samples, m->last.packets_received, m->last.packets_lost,
                  vg_media_stats_loss_ratio (m) * 100, m->last.jitter_seconds * 1000,
                  m->last.round_trip_seconds * 1000, m->bitrate_in_bps / 1000,
                  m->bitrate_out_bps / 1000);
}

static void
test_loss_is_sampled_and_exported (void)
{
  VgRoomsFixture f;
  vg_rooms_fixture_init (&f, NULL, "loopback.pipeline", 15000);
  f.room = g_strdup ("quality");
  VgTestClient *lossy = join (&f, "lossy", 10);
  VgTestClient *clean = join (&f, "clean", 0);
  VgRoom *room = vg_rooms_lookup (f.rooms, "quality");
  g_assert_nonnull (room);
  Pair pair
      = { vg_room_lookup_participant (room, "lossy"), vg_room_lookup_participant (room, "clean") };
  g_assert_nonnull (pair.lossy);
  g_assert_nonnull (pair.clean);

  /* RTCP receiver reports (the round trip) come every few seconds. */
  gboolean ok = vg_test_wait_until (sampled_enough, &pair, 20000);
  const VgMediaStats *a = vg_participant_get_media_stats (pair.lossy);
  const VgMediaStats *b = vg_participant_get_media_stats (pair.clean);
  describe ("lossy", a);
  describe ("clean", b);
  g_assert_true (ok);

  /* One packet in ten never left the client. */
  g_assert_cmpfloat (vg_media_stats_loss_ratio (a), >, 0.07);
  g_assert_cmpfloat (vg_media_stats_loss_ratio (a), <, 0.13);
  /* Loopback UDP loses nothing unless the machine is overloaded. */
  g_assert_cmpfloat (vg_media_stats_loss_ratio (b), <, 0.02);
  /* Opus at the client's 32 kbit/s (payload only: no RTP/UDP headers). */
  g_assert_cmpfloat (b->bitrate_in_bps, >, 10000);
  g_assert_cmpfloat (b->bitrate_in_bps, <, 80000);
  g_assert_cmpfloat (a->last.jitter_seconds, >=, 0);
  g_assert_cmpfloat (a->last.jitter_seconds, <, 0.1);
  g_assert_cmpfloat (a->last.round_trip_seconds, <, 0.5); /* loopback */
  g_assert_cmpuint (a->sampled_at_real, >, 0);

  /* The metrics have the sum of both, in families without labels. */
  double lost
      = vg_metric_get (vg_metrics_register (f.metrics, VG_METRIC_COUNTER,
                                            "voxgate_webrtc_packets_lost_total", "", NULL, NULL),
                       NULL);
  double received = vg_metric_get (vg_metrics_register (f.metrics, VG_METRIC_COUNTER,
                                                        "voxgate_webrtc_packets_received_total", "",
                                                        NULL, NULL),
                                   NULL);
  g_test_message ("metrics: %.0f received, %.0f lost", received, lost);
  g_assert_cmpfloat (lost, >=, (double)a->last.packets_lost);
  g_assert_cmpfloat (received, >=, (double)(a->last.packets_received + b->last.packets_received));
  g_autofree char *text = vg_metrics_render (f.metrics);
  g_assert_null (strstr (text, "voxgate_webrtc_round_trip_seconds_count 0\n"));
  g_assert_nonnull (strstr (text, "voxgate_webrtc_round_trip_seconds_count "));
  g_assert_nonnull (strstr (text, "voxgate_participants_joined_total{kind=\"publisher\"} 2\n"));
  g_assert_null (strstr (text, "voxgate_webrtc_received_bytes_total 0\n"));
  g_assert_null (strstr (text, "voxgate_webrtc_sent_bytes_total 0\n"));
  /* No label carries a session, identity or room. */
  g_assert_null (strstr (text, "lossy"));
  g_assert_null (strstr (text, "quality"));

  vg_test_client_free (lossy);
  vg_test_client_free (clean);
  vg_rooms_fixture_clear (&f);
}

static double
cpu_seconds (void)
{
  struct rusage u;
  getrusage (RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

typedef struct
{
  VgParticipant *p;
  guint until;
} SampleWait;

static gboolean
sampled (gpointer data)
{
  SampleWait *w = data;
  return vg_participant_get_media_stats (w->p)->samples >= w->until;
}

/* What sampling costs: the process's CPU time (webrtcbin's statistics walk
 * on its thread, the reply read on the main context) for back-to-back
 * samples of one connected publisher, less the CPU the running room uses
 * meanwhile anyway (measured just before, for as long). */
static void
test_sampling_cost (void)
{
  enum
  {
    SAMPLES = 200
  };
  VgRoomsFixture f;
  vg_rooms_fixture_init (&f, NULL, "loopback.pipeline", 15000);
  f.room = g_strdup ("cost");
  VgTestClient *c = join (&f, "speaker", 0);
  VgParticipant *p = vg_room_lookup_participant (vg_rooms_lookup (f.rooms, "cost"), "speaker");
  SampleWait w = { p, 1 };
  g_assert_true (vg_test_wait_until (sampled, &w, 10000));

  gint64 t0 = g_get_monotonic_time ();
  double c0 = cpu_seconds ();
  vg_test_run_for (2000);
  double idle_rate = (cpu_seconds () - c0) / ((g_get_monotonic_time () - t0) / 1e6);

  t0 = g_get_monotonic_time ();
  c0 = cpu_seconds ();
  for (guint i = 0; i < SAMPLES; i++)
    {
      w.until = vg_participant_get_media_stats (p)->samples + 1;
      vg_participant_tick (p, g_get_monotonic_time (), TRUE);
      g_assert_true (vg_test_wait_until (sampled, &w, 5000));
    }
  double wall = (g_get_monotonic_time () - t0) / 1e6;
  double cost = (cpu_seconds () - c0 - idle_rate * wall) / SAMPLES;
  g_test_message ("stats sampling: %.0f us of CPU per sample (%u samples in %.2f s; the room "
                  "alone uses %.1f %% of a core); at one sample per 5 s a session costs %.4f %% "
                  "of a core",
                  cost * 1e6, SAMPLES, wall, idle_rate * 100, cost / 5 * 100);
  /* A sample is a statistics walk, not a busy loop: well under 10 ms. */
  g_assert_cmpfloat (cost, <, 0.01);

  vg_test_client_free (c);
  vg_rooms_fixture_clear (&f);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rooms/media-stats/loss-sampled-and-exported",
                   test_loss_is_sampled_and_exported);
  g_test_add_func ("/rooms/media-stats/sampling-cost", test_sampling_cost);
  return g_test_run ();
}
