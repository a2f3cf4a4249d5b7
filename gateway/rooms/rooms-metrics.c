/* The registry's metric families; see rooms-metrics.h. */
#include "gateway/rooms/rooms-metrics.h"
#include <string.h>

void
vg_rooms_metrics_register (VgRoomsMetrics *rm, VgMetrics *m)
{
  static const double connect_buckets[] = { 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, -1 };
  static const double response_buckets[] = { 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, -1 };
  static const double jitter_buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, -1 };
  static const char *const reason_label[] = { "reason", NULL };
  memset (rm, 0, sizeof *rm);
  if (!m)
    return;
  rm->rooms = vg_metrics_register (m, VG_METRIC_GAUGE, "voxgate_rooms", "Open rooms.", NULL, NULL);
  rm->participants = vg_metrics_register (m, VG_METRIC_GAUGE, "voxgate_participants",
                                          "Participants in all rooms.", NULL, NULL);
  rm->connect_seconds = vg_metrics_register (
      m, VG_METRIC_HISTOGRAM, "voxgate_webrtc_connect_seconds",
      "From the WHIP/WHEP request to the peer connection being connected (ICE and DTLS).", NULL,
      connect_buckets);
  rm->agent_response_seconds = vg_metrics_register (
      m, VG_METRIC_HISTOGRAM, "voxgate_agent_response_seconds",
      "From the end of the user's turn to the agent's first audio.", NULL, response_buckets);
  rm->packets_lost = vg_metrics_register (
      m, VG_METRIC_COUNTER, "voxgate_webrtc_packets_lost_total",
      "RTP packets from participants reported lost by webrtcbin.", NULL, NULL);
  rm->jitter_seconds = vg_metrics_register (
      m, VG_METRIC_HISTOGRAM, "voxgate_webrtc_jitter_seconds",
      "Interarrival jitter of participants' audio, sampled every few seconds.", NULL,
      jitter_buckets);
  rm->participants_removed = vg_metrics_register (
      m, VG_METRIC_COUNTER, "voxgate_participants_removed_total",
      "Participants that left, by reason (client, disconnected, silent, ...).", reason_label, NULL);
  vg_metric_set (rm->rooms, NULL, 0);
  vg_metric_set (rm->participants, NULL, 0);
}
