/* A small Prometheus metrics registry: counters, gauges and histograms with
 * labels, safe to update from any thread, rendered in the text format 0.0.4.
 * Each family bounds its number of label sets (series); updates beyond the
 * bound are dropped and counted in voxgate_metrics_dropped_series_total. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  VG_METRIC_COUNTER,
  VG_METRIC_GAUGE,
  VG_METRIC_HISTOGRAM,
} VgMetricType;

typedef struct _VgMetrics VgMetrics;
typedef struct _VgMetric VgMetric;

/* Called at each scrape to append extra, already formatted series. */
typedef void (*VgMetricsCollector) (GString *out, gpointer user_data);

VgMetrics *vg_metrics_new (void);
void vg_metrics_free (VgMetrics *metrics);

/* label_names: NULL-terminated, or NULL for none. buckets: ascending upper
 * bounds ending with a negative sentinel, only for histograms (NULL = default
 * latency buckets). Registering the same name twice returns the same family.
 * A histogram without labels has its one series, at 0, from registration. */
VgMetric *vg_metrics_register (VgMetrics *metrics, VgMetricType type, const char *name,
                               const char *help, const char *const *label_names,
                               const double *buckets);

/* label_values: as many as the family's label names, or NULL when it has none. */
void vg_metric_add (VgMetric *metric, const char *const *label_values, double delta);
void vg_metric_set (VgMetric *metric, const char *const *label_values, double value);
void vg_metric_observe (VgMetric *metric, const char *const *label_values, double value);
/* Current value of a counter or gauge series (0 if absent); for tests and health. */
double vg_metric_get (VgMetric *metric, const char *const *label_values);

void vg_metrics_add_collector (VgMetrics *metrics, VgMetricsCollector fn, gpointer user_data);

/* The whole registry in the Prometheus text exposition format. */
char *vg_metrics_render (VgMetrics *metrics);

/* Appends the standard process_* series read from /proc/self. */
void vg_metrics_collect_process (GString *out, gpointer user_data);

/* Escapes a label value for the text format into out. */
void vg_metrics_escape_label (GString *out, const char *value);

G_END_DECLS
