/* The metric families of the room registry, registered once per registry
 * and handed to its rooms and participants, which only observe them. */
#pragma once

#include "gateway/core/metrics.h"

G_BEGIN_DECLS

/* Any family may be NULL (a registry without metrics). VgMetric is
 * thread-safe: participants observe from webrtcbin's and streaming threads. */
typedef struct
{
  VgMetric *rooms, *participants;
  VgMetric *connect_seconds, *agent_response_seconds;
  VgMetric *packets_lost, *jitter_seconds;
  VgMetric *participants_removed; /* {reason} */
  /* webrtcbin's statistics (media-stats.h); no labels: one series each. */
  VgMetric *packets_received, *bytes_received, *bytes_sent, *round_trip_seconds;
  VgMetric *participants_joined; /* {kind}: publisher, listener */
  VgMetric *agent_errors;        /* {kind}: realtime, pipeline */
  VgMetric *agent_tool_seconds;  /* a tool call handed out to its answer */
} VgRoomsMetrics;

/* Registers the families in metrics (NULL: leaves m zeroed). */
void vg_rooms_metrics_register (VgRoomsMetrics *m, VgMetrics *metrics);

G_END_DECLS
