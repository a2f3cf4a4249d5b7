/* The last few latencies of one kind (a room's agent responses), for the
 * room API: how many were measured, the last one, and percentiles over the
 * window. Added from a streaming thread, read on the main context: a mutex
 * guards a fixed ring, so memory stays bounded however long the room runs. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VG_LATENCY_WINDOW_SIZE 64

typedef struct
{
  GMutex lock;
  double values[VG_LATENCY_WINDOW_SIZE]; /* seconds, ring */
  guint next;                            /* where the next value goes */
  guint64 count;                         /* ever added */
  double last;
} VgLatencyWindow;

typedef struct
{
  guint64 count;   /* measured since the room opened; 0: the rest are < 0 */
  double last;     /* seconds */
  double p50, p95; /* nearest rank over the last VG_LATENCY_WINDOW_SIZE */
} VgLatencySummary;

void vg_latency_window_init (VgLatencyWindow *w);
void vg_latency_window_clear (VgLatencyWindow *w);
/* Any thread. */
void vg_latency_window_add (VgLatencyWindow *w, double seconds);
/* Any thread. */
void vg_latency_window_summarize (VgLatencyWindow *w, VgLatencySummary *out);

G_END_DECLS
