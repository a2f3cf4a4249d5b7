/* The registry's metric families; see rooms-metrics.h. */
#include "gateway/rooms/rooms-metrics.h"
#include <string.h>

void
vg_rooms_metrics_register (VgRoomsMetrics *rm, VgMetrics *m)
{
  static const double connect_buckets[] = { 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, -1 };
  static const double response_buckets[] = { 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, -1 };
  static const double jitter_buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, -1 };
  static const double rtt_buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, -1 };
  static const double tool_buckets[]
      = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, -1 };
  static const char *const reason_label[] = { "reason", NULL };
  static const char *const kind_label[] = { "kind", NULL };
  static const char *const kinds[][2] = { { "publisher", NULL }, { "listener", NULL } };
  static const char *const error_kinds[][2] = { { "realtime", NULL }, { "pipeline", NULL } };
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
  rm->participants_joined = vg_metrics_register (
      m, VG_METRIC_COUNTER, "voxgate_participants_joined_total",
      "Participants whose peer connection came up, by kind (publisher: WHIP, listener: WHEP).",
      kind_label, NULL);
  rm->packets_received = vg_metrics_register (
      m, VG_METRIC_COUNTER, "voxgate_webrtc_packets_received_total",
      "RTP packets of participants' audio received, from webrtcbin's statistics.", NULL, NULL);
  rm->bytes_received = vg_metrics_register (
      m, VG_METRIC_COUNTER, "voxgate_webrtc_received_bytes_total",
      "RTP payload bytes of participants' audio received (rate * 8 = bitrate).", NULL, NULL);
  rm->bytes_sent = vg_metrics_register (
      m, VG_METRIC_COUNTER, "voxgate_webrtc_sent_bytes_total",
      "RTP payload bytes of audio sent to participants (rate * 8 = bitrate).", NULL, NULL);
  rm->round_trip_seconds = vg_metrics_register (
      m, VG_METRIC_HISTOGRAM, "voxgate_webrtc_round_trip_seconds",
      "Round-trip time to participants from their RTCP receiver reports, sampled every few "
      "seconds.",
      NULL, rtt_buckets);
  rm->agent_errors = vg_metrics_register (
      m, VG_METRIC_COUNTER, "voxgate_agent_errors_total",
      "Errors of rooms' agents: realtime (the model's service reported one), pipeline (the "
      "agent's elements failed).",
      kind_label, NULL);
  rm->agent_tool_seconds = vg_metrics_register (
      m, VG_METRIC_HISTOGRAM, "voxgate_agent_tool_call_seconds",
      "From the agent's function call to the answer it is given (the tool's run time).", NULL,
      tool_buckets);
  vg_metric_set (rm->rooms, NULL, 0);
  vg_metric_set (rm->participants, NULL, 0);
  /* Counters appear at 0 from the start, so rate() and alerts over them
   * have a series before the first event. */
  vg_metric_add (rm->packets_lost, NULL, 0);
  vg_metric_add (rm->packets_received, NULL, 0);
  vg_metric_add (rm->bytes_received, NULL, 0);
  vg_metric_add (rm->bytes_sent, NULL, 0);
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    vg_metric_add (rm->participants_joined, kinds[i], 0);
  for (guint i = 0; i < G_N_ELEMENTS (error_kinds); i++)
    vg_metric_add (rm->agent_errors, error_kinds[i], 0);
}
