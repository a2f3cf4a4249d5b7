/* Audio quality from webrtcbin's statistics; see media-stats.h. */
#define GST_USE_UNSTABLE_API /* webrtcbin's library: stable in practice since 1.16 */
#include "gateway/rooms/media-stats.h"
#include <gst/webrtc/webrtc.h>

void
vg_media_stats_init (VgMediaStats *stats)
{
  *stats = (VgMediaStats){
    .last = { .jitter_seconds = -1, .round_trip_seconds = -1 },
    .bitrate_in_bps = -1,
    .bitrate_out_bps = -1,
  };
}

/* A numeric field of whatever integer or floating type webrtcbin used
 * (they differ between fields and releases). */
static gboolean
get_number (const GstStructure *s, const char *field, double *out)
{
  const GValue *v = gst_structure_get_value (s, field);
  if (!v || !g_value_type_transformable (G_VALUE_TYPE (v), G_TYPE_DOUBLE))
    return FALSE;
  GValue d = G_VALUE_INIT;
  g_value_init (&d, G_TYPE_DOUBLE);
  gboolean ok = g_value_transform (v, &d);
  *out = g_value_get_double (&d);
  g_value_unset (&d);
  return ok && *out == *out; /* not NaN */
}

static guint64
get_count (const GstStructure *s, const char *field)
{
  double v = 0;
  return get_number (s, field, &v) && v > 0 ? (guint64)v : 0;
}

/* webrtcbin 1.22 leaves packets-lost out of inbound-rtp; the rtpsource's
 * own statistics it nests have it (expected - received; negative with
 * duplicates, which is no loss). */
static guint64
inbound_lost (const GstStructure *s)
{
  const GstStructure *source = NULL;
  if (gst_structure_has_field (s, "packets-lost"))
    return get_count (s, "packets-lost");
  if (gst_structure_get (s, "gst-rtpsource-stats", GST_TYPE_STRUCTURE, &source, NULL) && source)
    {
      guint64 lost = get_count (source, "packets-lost");
      gst_structure_free ((GstStructure *)source);
      return lost;
    }
  return 0;
}

void
vg_media_sample_parse (const GstStructure *reply, VgMediaSample *out)
{
  *out = (VgMediaSample){ .jitter_seconds = -1, .round_trip_seconds = -1 };
  for (gint i = 0; reply && i < gst_structure_n_fields (reply); i++)
    {
      const GValue *v = gst_structure_get_value (reply, gst_structure_nth_field_name (reply, i));
      if (!GST_VALUE_HOLDS_STRUCTURE (v))
        continue;
      const GstStructure *s = gst_value_get_structure (v);
      GstWebRTCStatsType type;
      if (!gst_structure_get (s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL))
        continue;
      double x;
      switch (type)
        {
          case GST_WEBRTC_STATS_INBOUND_RTP:
            out->has_inbound = TRUE;
            out->packets_received += get_count (s, "packets-received");
            out->packets_lost += inbound_lost (s);
            out->bytes_received += get_count (s, "bytes-received");
            if (get_number (s, "jitter", &x) && x >= 0)
              out->jitter_seconds = MAX (out->jitter_seconds, x);
            break;
          case GST_WEBRTC_STATS_OUTBOUND_RTP:
            out->has_outbound = TRUE;
            out->bytes_sent += get_count (s, "bytes-sent");
            break;
          case GST_WEBRTC_STATS_REMOTE_INBOUND_RTP:
            /* Only once the peer's receiver report answers one of our sender
             * reports (LSR/DLSR); 0 before. */
            if (get_number (s, "round-trip-time", &x) && x > 0)
              out->round_trip_seconds = MAX (out->round_trip_seconds, x);
            break;
          default:
            break;
        }
    }
}

static void
add_increase (VgMetric *metric, guint64 now, guint64 before)
{
  if (metric && now > before)
    vg_metric_add (metric, NULL, (double)(now - before));
}

static double
bitrate (guint64 now, guint64 before, double seconds)
{
  return now >= before && seconds > 0 ? (double)(now - before) * 8 / seconds : -1;
}

void
vg_media_stats_update (VgMediaStats *stats, const VgMediaSample *sample, gint64 now_us,
                       const VgRoomsMetrics *metrics)
{
  static const VgRoomsMetrics none = { 0 };
  const VgRoomsMetrics *m = metrics ? metrics : &none;
  const VgMediaSample *before = &stats->last;
  double seconds = stats->sampled_at_us ? (now_us - stats->sampled_at_us) / 1e6 : 0;

  if (sample->has_inbound)
    {
      add_increase (m->packets_received, sample->packets_received, before->packets_received);
      add_increase (m->packets_lost, sample->packets_lost, before->packets_lost);
      add_increase (m->bytes_received, sample->bytes_received, before->bytes_received);
      stats->bitrate_in_bps
          = before->has_inbound ? bitrate (sample->bytes_received, before->bytes_received, seconds)
                                : -1;
      if (sample->jitter_seconds >= 0 && m->jitter_seconds)
        vg_metric_observe (m->jitter_seconds, NULL, sample->jitter_seconds);
    }
  if (sample->has_outbound)
    {
      add_increase (m->bytes_sent, sample->bytes_sent, before->bytes_sent);
      stats->bitrate_out_bps
          = before->has_outbound ? bitrate (sample->bytes_sent, before->bytes_sent, seconds) : -1;
    }
  if (sample->round_trip_seconds > 0 && m->round_trip_seconds)
    vg_metric_observe (m->round_trip_seconds, NULL, sample->round_trip_seconds);

  VgMediaSample next = *sample;
  /* Counters never go back: a stream that ended leaves the reply, and what
   * it counted stays counted. */
  next.packets_received = MAX (sample->packets_received, before->packets_received);
  next.packets_lost = MAX (sample->packets_lost, before->packets_lost);
  next.bytes_received = MAX (sample->bytes_received, before->bytes_received);
  next.bytes_sent = MAX (sample->bytes_sent, before->bytes_sent);
  next.has_inbound = sample->has_inbound || before->has_inbound;
  next.has_outbound = sample->has_outbound || before->has_outbound;
  if (next.round_trip_seconds < 0)
    next.round_trip_seconds = before->round_trip_seconds; /* the last one known */
  stats->last = next;
  stats->sampled_at_us = now_us;
  stats->sampled_at_real = g_get_real_time () / G_USEC_PER_SEC;
  stats->samples++;
}

double
vg_media_stats_loss_ratio (const VgMediaStats *stats)
{
  guint64 total = stats->last.packets_received + stats->last.packets_lost;
  return total ? (double)stats->last.packets_lost / (double)total : 0;
}
