/* The retention sweep. See recording-retention.h. */
#include "gateway/egress/recording-retention.h"
#include "gateway/egress/recording-files.h"
#include "gateway/store/store.h"

#define SWEEP_BATCH 100

struct _VgRecordingRetention
{
  gint refs; /* the owner's, and one per deletion in flight */
  VgApp *app;
  VgEgress *egress; /* NULL once freed by the owner */
  gint64 retain_us;
  guint timer;
  guint in_flight; /* the expired query and the deletions of one sweep */
  gboolean stopped;
  VgMetric *expired;
};

static void
retention_unref (VgRecordingRetention *r)
{
  if (--r->refs == 0)
    g_free (r);
}

static void
sweep_step_done (VgRecordingRetention *r)
{
  r->in_flight--;
  retention_unref (r);
}

static void
on_deleted (gboolean deleted, const GError *error, gpointer data)
{
  VgRecordingRetention *r = data;

  if (error && !r->stopped)
    g_warning ("recording retention: %s", error->message);
  else if (deleted && !r->stopped)
    vg_metric_add (r->expired, NULL, 1);
  sweep_step_done (r);
}

static void
on_expired (JsonArray *rows, gint64 changes, const GError *error, gpointer data)
{
  VgRecordingRetention *r = data;

  if (error && !r->stopped)
    g_warning ("recording retention: listing expired recordings: %s", error->message);
  for (guint i = 0; !error && !r->stopped && i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);
      const char *egress_id = json_object_get_string_member_with_default (row, "egress_id", NULL);

      if (r->egress && vg_egress_is_running (r->egress, egress_id))
        continue;
      r->refs++;
      r->in_flight++;
      vg_recording_delete (
          r->app->store, json_object_get_string_member (row, "id"),
          json_object_get_string_member_with_default (row, "path", NULL),
          json_object_get_string_member_with_default (row, "transcript_path", NULL), on_deleted, r);
    }
  sweep_step_done (r);
}

static gboolean
sweep (gpointer data)
{
  VgRecordingRetention *r = data;
  g_autofree char *cutoff = NULL;
  g_autofree char *limit = g_strdup_printf ("%d", SWEEP_BATCH);

  /* One sweep at a time; a slow one delays the next. */
  if (r->in_flight > 0 || !r->app->store)
    return G_SOURCE_CONTINUE;
  cutoff = vg_store_time_text (g_get_real_time () - r->retain_us);
  r->refs++;
  r->in_flight++;
  vg_store_query (r->app->store, VG_STORE_Q_RECORDINGS_EXPIRED,
                  (const char *const[]){ cutoff, limit }, 2, on_expired, r);
  return G_SOURCE_CONTINUE;
}

VgRecordingRetention *
vg_recording_retention_new (VgApp *app, VgEgress *egress, double retain_days, guint period_s)
{
  VgRecordingRetention *r;

  if (retain_days <= 0 || !app->store)
    return NULL;
  r = g_new0 (VgRecordingRetention, 1);
  r->refs = 1;
  r->app = app;
  r->egress = egress;
  r->retain_us = (gint64)(retain_days * 86400.0 * G_USEC_PER_SEC);
  r->expired
      = vg_metrics_register (app->metrics, VG_METRIC_COUNTER, "voxgate_recordings_expired_total",
                             "Recordings deleted by [recording] retain_days", NULL, NULL);
  r->timer = g_timeout_add_seconds (MAX (period_s, 1), sweep, r);
  return r;
}

void
vg_recording_retention_free (VgRecordingRetention *r)
{
  if (!r)
    return;
  g_clear_handle_id (&r->timer, g_source_remove);
  r->stopped = TRUE;
  r->egress = NULL;
  retention_unref (r);
}
