/* A bounded window of latencies; see latency-window.h. */
#include "gateway/rooms/latency-window.h"
#include <math.h>
#include <stdlib.h>

void
vg_latency_window_init (VgLatencyWindow *w)
{
  *w = (VgLatencyWindow){ 0 };
  g_mutex_init (&w->lock);
}

void
vg_latency_window_clear (VgLatencyWindow *w)
{
  g_mutex_clear (&w->lock);
}

void
vg_latency_window_add (VgLatencyWindow *w, double seconds)
{
  g_mutex_lock (&w->lock);
  w->values[w->next] = seconds;
  w->next = (w->next + 1) % VG_LATENCY_WINDOW_SIZE;
  w->count++;
  w->last = seconds;
  g_mutex_unlock (&w->lock);
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Nearest rank, as the session analytics compute theirs. */
static double
nearest_rank (const double *sorted, guint n, double q)
{
  guint rank = (guint)ceil (q * n);
  return sorted[CLAMP (rank, 1, n) - 1];
}

void
vg_latency_window_summarize (VgLatencyWindow *w, VgLatencySummary *out)
{
  double sorted[VG_LATENCY_WINDOW_SIZE];
  guint n;

  g_mutex_lock (&w->lock);
  n = (guint)MIN (w->count, VG_LATENCY_WINDOW_SIZE);
  for (guint i = 0; i < n; i++)
    sorted[i] = w->values[i];
  *out = (VgLatencySummary){ .count = w->count, .last = w->last };
  g_mutex_unlock (&w->lock);
  if (n == 0)
    {
      out->last = out->p50 = out->p95 = -1;
      return;
    }
  qsort (sorted, n, sizeof (double), (GCompareFunc)compare_doubles);
  out->p50 = nearest_rank (sorted, n, 0.5);
  out->p95 = nearest_rank (sorted, n, 0.95);
}
