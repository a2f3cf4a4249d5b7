/* One participant's audio quality, from webrtcbin's statistics (the reply
 * of its "get-stats" action signal, GstWebRTCStats): packets received and
 * lost, jitter and bitrate of the audio the peer sends, bitrate of what it
 * is sent, and the round-trip time the peer's RTCP receiver reports give.
 *
 * A participant samples every [rooms] stats interval; each sample is folded
 * into its VgMediaStats (for the room API) and into the registry's metrics
 * (counters by their increase, histograms by the sampled value; no labels,
 * so a family holds one series whatever the number of sessions).
 *
 * Plain data and pure functions: the caller owns the structures and runs
 * them on one thread (the participant's main context). */
#pragma once

#include <gst/gst.h>
#include "gateway/rooms/rooms-metrics.h"

G_BEGIN_DECLS

/* What one reply says; counters are cumulative since the session began. */
typedef struct
{
  gboolean has_inbound;  /* an inbound-rtp entry: the peer publishes audio */
  gboolean has_outbound; /* an outbound-rtp entry: the peer is sent audio */
  guint64 packets_received, packets_lost, bytes_received; /* inbound-rtp, summed over streams */
  guint64 bytes_sent;                                     /* outbound-rtp */
  double jitter_seconds;     /* inbound-rtp, RFC 3550 interarrival jitter; < 0 unknown */
  double round_trip_seconds; /* remote-inbound-rtp (from the peer's RTCP RR); < 0 unknown */
} VgMediaSample;

typedef struct
{
  VgMediaSample last;     /* the latest sample */
  gint64 sampled_at_us;   /* monotonic time of it; 0 = never sampled */
  gint64 sampled_at_real; /* unix seconds of it */
  double bitrate_in_bps;  /* payload bits per second between the last two samples; < 0 unknown */
  double bitrate_out_bps; /* the same, sent to the peer */
  guint samples;
} VgMediaStats;

void vg_media_stats_init (VgMediaStats *stats);

/* Reads a "get-stats" reply (NULL or empty: nothing). */
void vg_media_sample_parse (const GstStructure *reply, VgMediaSample *out);

/* Folds sample in, taken at now_us (monotonic): the bitrates since the last
 * sample, and the metrics: packets received and lost and bytes by their
 * increase since the last sample (a counter that went back, a new stream,
 * adds nothing), jitter and round trip observed once per sample. metrics
 * may be NULL. */
void vg_media_stats_update (VgMediaStats *stats, const VgMediaSample *sample, gint64 now_us,
                            const VgRoomsMetrics *metrics);

/* Lost / (received + lost) over the session so far; 0 without packets. */
double vg_media_stats_loss_ratio (const VgMediaStats *stats);

G_END_DECLS
