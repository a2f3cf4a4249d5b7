/* Prometheus metrics registry. See metrics.h. */
#include "gateway/core/metrics.h"

#include <math.h>
#include <string.h>

#define MAX_SERIES_PER_FAMILY 1000
#define LABEL_SEPARATOR '\x1f'

static const double default_buckets[]
    = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, -1 };

typedef struct
{
  char **label_values;
  double value;    /* counter, gauge */
  guint64 *counts; /* histogram, per bucket (not cumulative) */
  guint64 count;
  double sum;
} VgSeries;

struct _VgMetric
{
  VgMetrics *registry;
  VgMetricType type;
  char *name;
  char *help;
  char **label_names;
  guint n_labels;
  double *buckets;
  guint n_buckets;
  GMutex lock;
  GHashTable *series; /* joined label values -> VgSeries */
  GPtrArray *ordered; /* VgSeries in creation order, for stable output */
};

typedef struct
{
  VgMetricsCollector fn;
  gpointer user_data;
} VgCollector;

struct _VgMetrics
{
  GMutex lock;
  GPtrArray *families;
  GArray *collectors;
  VgMetric *dropped;
};

static void
series_free (gpointer data)
{
  VgSeries *s = data;
  g_strfreev (s->label_values);
  g_free (s->counts);
  g_free (s);
}

static void
metric_free (gpointer data)
{
  VgMetric *m = data;
  g_free (m->name);
  g_free (m->help);
  g_strfreev (m->label_names);
  g_free (m->buckets);
  g_hash_table_unref (m->series);
  g_ptr_array_unref (m->ordered);
  g_mutex_clear (&m->lock);
  g_free (m);
}

VgMetrics *
vg_metrics_new (void)
{
  VgMetrics *r = g_new0 (VgMetrics, 1);
  static const char *const family_label[] = { "family", NULL };

  g_mutex_init (&r->lock);
  r->families = g_ptr_array_new_with_free_func (metric_free);
  r->collectors = g_array_new (FALSE, FALSE, sizeof (VgCollector));
  r->dropped = vg_metrics_register (
      r, VG_METRIC_COUNTER, "voxgate_metrics_dropped_series_total",
      "Metric updates dropped because a family reached its series limit", family_label, NULL);
  return r;
}

void
vg_metrics_free (VgMetrics *metrics)
{
  if (!metrics)
    return;
  g_ptr_array_unref (metrics->families);
  g_array_unref (metrics->collectors);
  g_mutex_clear (&metrics->lock);
  g_free (metrics);
}

static VgSeries *series_get (VgMetric *m, const char *const *label_values, gboolean create);

VgMetric *
vg_metrics_register (VgMetrics *metrics, VgMetricType type, const char *name, const char *help,
                     const char *const *label_names, const double *buckets)
{
  VgMetric *m = NULL;

  g_mutex_lock (&metrics->lock);
  for (guint i = 0; i < metrics->families->len; i++)
    {
      VgMetric *f = g_ptr_array_index (metrics->families, i);
      if (g_str_equal (f->name, name))
        {
          g_warn_if_fail (f->type == type);
          m = f;
          break;
        }
    }
  if (!m)
    {
      m = g_new0 (VgMetric, 1);
      m->registry = metrics;
      m->type = type;
      m->name = g_strdup (name);
      m->help = g_strdup (help);
      m->label_names = label_names ? g_strdupv ((char **)label_names) : g_new0 (char *, 1);
      m->n_labels = g_strv_length (m->label_names);
      if (type == VG_METRIC_HISTOGRAM)
        {
          const double *b = buckets ? buckets : default_buckets;
          while (b[m->n_buckets] >= 0)
            m->n_buckets++;
          m->buckets = g_memdup2 (b, m->n_buckets * sizeof (double));
        }
      g_mutex_init (&m->lock);
      m->series = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      m->ordered = g_ptr_array_new_with_free_func (series_free);
      g_ptr_array_add (metrics->families, m);
    }
  g_mutex_unlock (&metrics->lock);
  if (type == VG_METRIC_HISTOGRAM && m->n_labels == 0)
    {
      /* A histogram without labels is rendered at 0 from the start: one that
       * first appears with its first observation loses it to rate(). */
      g_mutex_lock (&m->lock);
      series_get (m, NULL, TRUE);
      g_mutex_unlock (&m->lock);
    }
  return m;
}

/* Called with m->lock held. Returns NULL when the family is full. */
static VgSeries *
series_get (VgMetric *m, const char *const *label_values, gboolean create)
{
  g_autoptr (GString) k = g_string_sized_new (64);
  VgSeries *s;

  for (guint i = 0; i < m->n_labels; i++)
    {
      g_string_append (k, label_values && label_values[i] ? label_values[i] : "");
      g_string_append_c (k, LABEL_SEPARATOR);
    }

  s = g_hash_table_lookup (m->series, k->str);
  if (s || !create)
    return s;
  if (m->ordered->len >= MAX_SERIES_PER_FAMILY)
    return NULL;

  s = g_new0 (VgSeries, 1);
  s->label_values = g_new0 (char *, m->n_labels + 1);
  for (guint i = 0; i < m->n_labels; i++)
    s->label_values[i] = g_strdup (label_values && label_values[i] ? label_values[i] : "");
  if (m->type == VG_METRIC_HISTOGRAM)
    s->counts = g_new0 (guint64, m->n_buckets + 1);
  g_hash_table_insert (m->series, g_strdup (k->str), s);
  g_ptr_array_add (m->ordered, s);
  return s;
}

static void
count_dropped (VgMetric *m)
{
  const char *values[] = { m->name, NULL };
  if (m != m->registry->dropped)
    vg_metric_add (m->registry->dropped, values, 1);
}

void
vg_metric_add (VgMetric *metric, const char *const *label_values, double delta)
{
  VgSeries *s;

  g_return_if_fail (metric->type != VG_METRIC_HISTOGRAM);
  g_mutex_lock (&metric->lock);
  s = series_get (metric, label_values, TRUE);
  if (s)
    s->value += delta;
  g_mutex_unlock (&metric->lock);
  if (!s)
    count_dropped (metric);
}

void
vg_metric_set (VgMetric *metric, const char *const *label_values, double value)
{
  VgSeries *s;

  g_return_if_fail (metric->type == VG_METRIC_GAUGE);
  g_mutex_lock (&metric->lock);
  s = series_get (metric, label_values, TRUE);
  if (s)
    s->value = value;
  g_mutex_unlock (&metric->lock);
  if (!s)
    count_dropped (metric);
}

void
vg_metric_observe (VgMetric *metric, const char *const *label_values, double value)
{
  VgSeries *s;
  guint b = 0;

  g_return_if_fail (metric->type == VG_METRIC_HISTOGRAM);
  while (b < metric->n_buckets && value > metric->buckets[b])
    b++;
  g_mutex_lock (&metric->lock);
  s = series_get (metric, label_values, TRUE);
  if (s)
    {
      s->counts[b]++;
      s->count++;
      s->sum += value;
    }
  g_mutex_unlock (&metric->lock);
  if (!s)
    count_dropped (metric);
}

double
vg_metric_get (VgMetric *metric, const char *const *label_values)
{
  VgSeries *s;
  double v = 0;

  g_mutex_lock (&metric->lock);
  s = series_get (metric, label_values, FALSE);
  if (s)
    v = metric->type == VG_METRIC_HISTOGRAM ? (double)s->count : s->value;
  g_mutex_unlock (&metric->lock);
  return v;
}

void
vg_metrics_add_collector (VgMetrics *metrics, VgMetricsCollector fn, gpointer user_data)
{
  VgCollector c = { fn, user_data };
  g_mutex_lock (&metrics->lock);
  g_array_append_val (metrics->collectors, c);
  g_mutex_unlock (&metrics->lock);
}

void
vg_metrics_escape_label (GString *out, const char *value)
{
  for (const char *p = value; *p; p++)
    {
      if (*p == '\\')
        g_string_append (out, "\\\\");
      else if (*p == '"')
        g_string_append (out, "\\\"");
      else if (*p == '\n')
        g_string_append (out, "\\n");
      else
        g_string_append_c (out, *p);
    }
}

static void
append_number (GString *out, double v)
{
  if (isinf (v))
    g_string_append (out, v > 0 ? "+Inf" : "-Inf");
  else if (isnan (v))
    g_string_append (out, "NaN");
  else if (v == floor (v) && fabs (v) < 1e15)
    g_string_append_printf (out, "%.0f", v);
  else
    {
      /* The shortest of %.15g and %.17g that reads back as the same double. */
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      g_ascii_formatd (buf, sizeof buf, "%.15g", v);
      if (g_ascii_strtod (buf, NULL) != v)
        g_ascii_formatd (buf, sizeof buf, "%.17g", v);
      g_string_append (out, buf);
    }
}

static void
append_labels (GString *out, VgMetric *m, VgSeries *s, const char *le)
{
  gboolean any = FALSE;

  if (m->n_labels == 0 && !le)
    return;
  g_string_append_c (out, '{');
  for (guint i = 0; i < m->n_labels; i++)
    {
      g_string_append_printf (out, "%s%s=\"", any ? "," : "", m->label_names[i]);
      vg_metrics_escape_label (out, s->label_values[i]);
      g_string_append_c (out, '"');
      any = TRUE;
    }
  if (le)
    g_string_append_printf (out, "%sle=\"%s\"", any ? "," : "", le);
  g_string_append_c (out, '}');
}

static void
render_family (GString *out, VgMetric *m)
{
  static const char *const type_names[] = { "counter", "gauge", "histogram" };

  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name,
                          type_names[m->type]);
  g_mutex_lock (&m->lock);
  for (guint i = 0; i < m->ordered->len; i++)
    {
      VgSeries *s = g_ptr_array_index (m->ordered, i);
      if (m->type != VG_METRIC_HISTOGRAM)
        {
          g_string_append (out, m->name);
          append_labels (out, m, s, NULL);
          g_string_append_c (out, ' ');
          append_number (out, s->value);
          g_string_append_c (out, '\n');
          continue;
        }
      guint64 cumulative = 0;
      for (guint b = 0; b <= m->n_buckets; b++)
        {
          char le[G_ASCII_DTOSTR_BUF_SIZE];
          cumulative += s->counts[b];
          if (b < m->n_buckets)
            g_ascii_formatd (le, sizeof le, "%g", m->buckets[b]);
          else
            g_strlcpy (le, "+Inf", sizeof le);
          g_string_append_printf (out, "%s_bucket", m->name);
          append_labels (out, m, s, le);
          g_string_append_printf (out, " %" G_GUINT64_FORMAT "\n", cumulative);
        }
      g_string_append_printf (out, "%s_sum", m->name);
      append_labels (out, m, s, NULL);
      g_string_append_c (out, ' ');
      append_number (out, s->sum);
      g_string_append_printf (out, "\n%s_count", m->name);
      append_labels (out, m, s, NULL);
      g_string_append_printf (out, " %" G_GUINT64_FORMAT "\n", s->count);
    }
  g_mutex_unlock (&m->lock);
}

char *
vg_metrics_render (VgMetrics *metrics)
{
  GString *out = g_string_sized_new (8192);
  g_autoptr (GArray) collectors = NULL;
  g_autoptr (GPtrArray) families = g_ptr_array_new ();

  /* Copy the lists, then render without the registry lock: collectors may
   * take locks of their own subsystems. Families are never freed before the
   * registry, so the pointers stay valid. */
  g_mutex_lock (&metrics->lock);
  for (guint i = 0; i < metrics->families->len; i++)
    g_ptr_array_add (families, g_ptr_array_index (metrics->families, i));
  collectors = g_array_copy (metrics->collectors);
  g_mutex_unlock (&metrics->lock);

  for (guint i = 0; i < families->len; i++)
    render_family (out, g_ptr_array_index (families, i));
  for (guint i = 0; i < collectors->len; i++)
    {
      VgCollector *c = &g_array_index (collectors, VgCollector, i);
      c->fn (out, c->user_data);
    }
  return g_string_free (out, FALSE);
}
