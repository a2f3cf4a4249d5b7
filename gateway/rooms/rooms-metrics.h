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
} VgRoomsMetrics;

/* Registers the families in metrics (NULL: leaves m zeroed). */
void vg_rooms_metrics_register (VgRoomsMetrics *m, VgMetrics *metrics);

G_END_DECLS
