/* The store's front: opening by URL, validation of writes, the read pool,
 * readiness and metrics. Queueing and spooling are in store-queue.c, the
 * databases in store-pg.c and store-sqlite.c, migrations in store-migrate.c. */
#include "gateway/store/store-private.h"

#include <errno.h>
#include <gio/gio.h>
#include <math.h>
#include <string.h>

#define READERS_MAX 2
#define CLOSE_DRAIN_US (2 * G_USEC_PER_SEC)
#define SPOOL_FILE "store-spool.jsonl"

G_DEFINE_QUARK (vg - store - error - quark, vg_store_error)

struct _VgStore
{
  VgApp *app;
  const VgStoreBackend *backend;
  char *target; /* conninfo URL or SQLite path */
  VgStoreQueue *queue;
  GThreadPool *readers;
  GAsyncQueue *idle_conns; /* reader connections not in use */
  gint up;                 /* atomic: the last attempt reached the database */
  VgMetric *latency;

  GMutex seq_lock;
  GHashTable *next_seq; /* conversation id -> next message seq (guint64 *) */
  char *node_id;        /* stamped on conversations (vg_store_recover_node); under seq_lock */
};

typedef struct
{
  VgStore *store;
  VgStoreQuery query;
  char **params;
  guint n_params;
  VgStoreResultFunc callback;
  gpointer user_data;
  GMainContext *context;
  JsonArray *rows;
  gint64 changes;
  GError *error;
} VgReadJob;

static void
set_up (gpointer user_data, gboolean up)
{
  VgStore *store = user_data;
  g_atomic_int_set (&store->up, up);
}

static gboolean
health_check (VgApp *app, char **detail, gpointer user_data)
{
  VgStore *store = user_data;

  /* The check outlives a closed store; app->store says whether it is open. */
  if (app->store != store)
    {
      *detail = g_strdup ("not open");
      return FALSE;
    }
  if (vg_store_is_up (store))
    return TRUE;
  *detail = g_strdup_printf ("%s unreachable; %u writes pending", store->backend->name,
                             vg_store_pending (store));
  return FALSE;
}

/* Picks the backend and its target from the URL. */
static gboolean
parse_url (VgStore *store, const char *url, const char *data_dir, GError **error)
{
  if (!url || !*url)
    url = "sqlite:voxgate.db";
  if (g_str_has_prefix (url, "postgresql://") || g_str_has_prefix (url, "postgres://"))
    {
      store->backend = &vg_store_backend_pg;
      store->target = g_strdup (url);
      return TRUE;
    }
  if (g_str_has_prefix (url, "sqlite:"))
    {
      const char *path = url + strlen ("sqlite:");
      /* sqlite:///abs/path and sqlite://rel are accepted as well. */
      if (g_str_has_prefix (path, "//"))
        path += 2;
      if (!*path)
        goto bad;
      store->backend = &vg_store_backend_sqlite;
      store->target
          = g_path_is_absolute (path) ? g_strdup (path) : g_build_filename (data_dir, path, NULL);
      return TRUE;
    }
bad:
  g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_URL,
               "[store] url: expected sqlite:PATH or postgresql://..., not %.16s...", url);
  return FALSE;
}

static void read_job_run (gpointer data, gpointer pool_data);

VgStore *
vg_store_open (VgApp *app, const char *url, const char *data_dir, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *spool = NULL;
  VgStore *store;
  VgStoreQueueConfig qc = { 0 };

  g_return_val_if_fail (data_dir != NULL, NULL);
  if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      int errsv = errno;
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_SPOOL, "data dir %s: %s", data_dir,
                   g_strerror (errsv));
      return NULL;
    }
  store = g_new0 (VgStore, 1);
  store->app = app;
  store->up = TRUE;
  g_mutex_init (&store->seq_lock);
  store->next_seq = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (!parse_url (store, url, data_dir, error))
    {
      vg_store_close (store);
      return NULL;
    }

  qc.backend = store->backend;
  qc.target = store->target;
  qc.set_up = set_up;
  qc.user_data = store;
  if (app)
    {
      static const char *const kind[] = { "kind", NULL };
      static const char *const op[] = { "op", NULL };
      VgMetrics *m = app->metrics;
      qc.depth = vg_metrics_register (m, VG_METRIC_GAUGE, "voxgate_store_queue_depth",
                                      "Store writes queued in memory", NULL, NULL);
      qc.spooled
          = vg_metrics_register (m, VG_METRIC_GAUGE, "voxgate_store_spooled_writes",
                                 "Store writes in the spool file awaiting replay", NULL, NULL);
      qc.failures = vg_metrics_register (
          m, VG_METRIC_COUNTER, "voxgate_store_write_failures_total",
          "Store write attempts that failed (unavailable: retried; refused: dropped)", kind, NULL);
      qc.latency = store->latency
          = vg_metrics_register (m, VG_METRIC_HISTOGRAM, "voxgate_store_query_seconds",
                                 "Store query latency (write: one batch)", op, NULL);
      /* At 0 from the start, so rate() and alerts have a series before the
       * first failure. */
      vg_metric_add (qc.failures, (const char *const[]){ "unavailable", NULL }, 0);
      vg_metric_add (qc.failures, (const char *const[]){ "refused", NULL }, 0);
    }
  spool = g_build_filename (data_dir, SPOOL_FILE, NULL);
  if (!(store->queue = vg_store_queue_new (&qc, spool, error)))
    {
      vg_store_close (store);
      return NULL;
    }
  store->idle_conns = g_async_queue_new ();
  store->readers = g_thread_pool_new (read_job_run, store, READERS_MAX, FALSE, NULL);
  if (app)
    vg_app_add_health_check (app, "store", health_check, store);
  return store;
}

gboolean
vg_store_migrate (VgStore *store, guint *applied, GError **error)
{
  VgStoreConn *conn = store->backend->connect (store->target, error);
  gboolean ok;

  if (!conn)
    return FALSE;
  ok = vg_store_migrate_conn (store->backend, conn, applied, error);
  store->backend->disconnect (conn);
  return ok;
}

void
vg_store_close (VgStore *store)
{
  VgStoreConn *conn;

  if (!store)
    return;
  if (store->readers)
    g_thread_pool_free (store->readers, FALSE, TRUE); /* runs the queued reads */
  vg_store_queue_close (store->queue, CLOSE_DRAIN_US);
  if (store->idle_conns)
    {
      while ((conn = g_async_queue_try_pop (store->idle_conns)))
        store->backend->disconnect (conn);
      g_async_queue_unref (store->idle_conns);
    }
  g_hash_table_unref (store->next_seq);
  g_mutex_clear (&store->seq_lock);
  g_free (store->node_id);
  g_free (store->target);
  g_free (store);
}

const char *
vg_store_backend_name (VgStore *store)
{
  return store->backend->name;
}

gboolean
vg_store_is_up (VgStore *store)
{
  return g_atomic_int_get (&store->up);
}

guint
vg_store_pending (VgStore *store)
{
  return vg_store_queue_pending (store->queue);
}

gboolean
vg_store_flush (VgStore *store, gint64 timeout_us)
{
  return vg_store_queue_flush (store->queue, timeout_us);
}

void
vg_store_set_queue_limit (VgStore *store, guint limit)
{
  vg_store_queue_set_limit (store->queue, limit);
}

/* ---- writes ---- */

gboolean
vg_store_check_text (const char *what, const char *value, gsize min, gsize max, GError **error)
{
  gsize len = value ? strlen (value) : 0;

  if (value && !g_utf8_validate (value, -1, NULL))
    {
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID, "%s is not UTF-8", what);
      return FALSE;
    }
  if (len < min || len > max)
    {
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID,
                   "%s must have %" G_GSIZE_FORMAT "-%" G_GSIZE_FORMAT
                   " bytes, not %" G_GSIZE_FORMAT,
                   what, min, max, len);
      return FALSE;
    }
  return TRUE;
}

gboolean
vg_store_check_conversation (const char *id, GError **error)
{
  if (vg_store_is_uuid (id))
    return TRUE;
  g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID, "conversation id is not a UUID");
  return FALSE;
}

void
vg_store_push_write (VgStore *store, VgStoreOp op, const char *const *params)
{
  vg_store_queue_push (store->queue, vg_store_write_new (op, params));
}

char *
vg_store_conversation_start (VgStore *store, const char *room, const char *identity,
                             gint64 subtopic_id, const char *pipeline, const char *model,
                             GError **error)
{
  g_autofree char *subtopic
      = subtopic_id > 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, subtopic_id) : NULL;
  g_autofree char *now = vg_store_time_text (g_get_real_time ());
  char *id;

  if (!store)
    return NULL;
  if (!vg_store_check_text ("room", room, 1, 64, error)
      || !vg_store_check_text ("identity", identity, 1, 128, error)
      || !vg_store_check_text ("pipeline", pipeline, 0, VG_STORE_NAME_MAX, error)
      || !vg_store_check_text ("model", model, 0, VG_STORE_NAME_MAX, error))
    return NULL;
  id = g_uuid_string_random ();
  g_mutex_lock (&store->seq_lock);
  g_autofree char *node_id = g_strdup (store->node_id);
  g_mutex_unlock (&store->seq_lock);
  {
    const char *params[] = {
      id, room, identity, subtopic, pipeline ? pipeline : "", model ? model : "", now, node_id
    };
    vg_store_push_write (
        store, node_id ? VG_STORE_OP_CONVERSATION_START_NODE : VG_STORE_OP_CONVERSATION_START,
        params);
  }
  g_mutex_lock (&store->seq_lock);
  g_hash_table_replace (store->next_seq, g_strdup (id), g_new0 (guint64, 1));
  g_mutex_unlock (&store->seq_lock);
  return id;
}

/* Order of the calls for one conversation (its messages sort by this). */
static guint64
next_seq (VgStore *store, const char *conversation_id)
{
  guint64 *next, seq;

  g_mutex_lock (&store->seq_lock);
  if (!(next = g_hash_table_lookup (store->next_seq, conversation_id)))
    {
      /* A conversation this process did not start (e.g. tools): order by time. */
      next = g_new (guint64, 1);
      *next = (guint64)g_get_real_time ();
      g_hash_table_insert (store->next_seq, g_strdup (conversation_id), next);
    }
  seq = (*next)++;
  g_mutex_unlock (&store->seq_lock);
  return seq;
}

static void
push_message (VgStore *store, const char *conversation_id, const char *role, const char *text,
              const char *item_id, gint64 start_ms, gint64 end_ms, gboolean truncated,
              const char *tool_name, const char *tool_arguments, const char *tool_result)
{
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *seq = g_strdup_printf ("%" G_GUINT64_FORMAT, next_seq (store, conversation_id));
  g_autofree char *start = start_ms >= 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, start_ms) : NULL;
  g_autofree char *end = end_ms >= 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, end_ms) : NULL;
  g_autofree char *now = vg_store_time_text (g_get_real_time ());
  const char *params[]
      = { id,  conversation_id,       seq,       role,           text ? text : "", item_id, start,
          end, truncated ? "1" : "0", tool_name, tool_arguments, tool_result,      now };

  vg_store_push_write (store, VG_STORE_OP_MESSAGE, params);
}

gboolean
vg_store_message_add (VgStore *store, const char *conversation_id, const VgStoreMessage *m,
                      GError **error)
{
  if (!store)
    return FALSE;
  if (!vg_store_check_conversation (conversation_id, error))
    return FALSE;
  if (!m->role
      || !(g_str_equal (m->role, "user") || g_str_equal (m->role, "assistant")
           || g_str_equal (m->role, "system")))
    {
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID,
                   "role must be user, assistant or system");
      return FALSE;
    }
  if (!vg_store_check_text ("text", m->text, 0, VG_STORE_TEXT_MAX, error)
      || !vg_store_check_text ("item_id", m->item_id, 0, 128, error))
    return FALSE;
  if (m->audio_start_ms >= 0 && m->audio_end_ms >= 0 && m->audio_end_ms < m->audio_start_ms)
    {
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID, "audio ends before it starts");
      return FALSE;
    }
  push_message (store, conversation_id, m->role, m->text, m->item_id, m->audio_start_ms,
                m->audio_end_ms, m->truncated, NULL, NULL, NULL);
  return TRUE;
}

gboolean
vg_store_tool_call_add (VgStore *store, const char *conversation_id, const char *name,
                        const char *arguments, const char *result, GError **error)
{
  if (!store)
    return FALSE;
  if (!vg_store_check_conversation (conversation_id, error)
      || !vg_store_check_text ("tool name", name, 1, 128, error)
      || !vg_store_check_text ("tool arguments", arguments, 0, VG_STORE_TEXT_MAX, error)
      || !vg_store_check_text ("tool result", result, 0, VG_STORE_TEXT_MAX, error))
    return FALSE;
  push_message (store, conversation_id, "tool", "", NULL, -1, -1, FALSE, name, arguments, result);
  return TRUE;
}

gboolean
vg_store_recover_node (VgStore *store, const char *node_id, GError **error)
{
  g_autofree char *now = vg_store_time_text (g_get_real_time ());

  if (!store)
    return FALSE;
  if (!vg_store_check_text ("node id", node_id, 1, 255, error))
    return FALSE;
  g_mutex_lock (&store->seq_lock);
  g_free (store->node_id);
  store->node_id = g_strdup (node_id);
  g_mutex_unlock (&store->seq_lock);
  /* Queued after whatever the spool still holds (a conversation_start
   * spooled by the killed process is written before this UPDATE sees it),
   * and before any conversation this process starts (which the time bound
   * leaves alone anyway). */
  const char *params[] = { node_id, now };
  vg_store_push_write (store, VG_STORE_OP_ABANDON_NODE, params);
  return TRUE;
}

gboolean
vg_store_conversation_end (VgStore *store, const char *conversation_id, const char *status,
                           GError **error)
{
  g_autofree char *now = vg_store_time_text (g_get_real_time ());
  const char *params[] = { conversation_id, status, now };

  if (!store)
    return FALSE;
  if (!vg_store_check_conversation (conversation_id, error))
    return FALSE;
  if (!status
      || !(g_str_equal (status, "completed") || g_str_equal (status, "failed")
           || g_str_equal (status, "abandoned")))
    {
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID,
                   "status must be completed, failed or abandoned");
      return FALSE;
    }
  vg_store_push_write (store, VG_STORE_OP_CONVERSATION_END, params);
  g_mutex_lock (&store->seq_lock);
  g_hash_table_remove (store->next_seq, conversation_id);
  g_mutex_unlock (&store->seq_lock);
  return TRUE;
}

static char *
number_text (double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup (g_ascii_dtostr (buf, sizeof buf, v));
}

gboolean
vg_store_analytics_write (VgStore *store, const VgStoreAnalytics *a, GError **error)
{
  g_autofree char *id = NULL, *connected = NULL, *now = NULL, *duration = NULL, *lat_mean = NULL,
                  *lat_p95 = NULL;
  g_autofree char *user_turns = NULL, *agent_turns = NULL, *interruptions = NULL, *tokens_in = NULL;
  g_autofree char *tokens_out = NULL, *audio_in = NULL, *audio_out = NULL, *lost = NULL,
                  *jitter = NULL, *tool_calls = NULL, *lat_p50 = NULL;
  double numbers[]
      = { a->duration_seconds, a->audio_seconds_in, a->audio_seconds_out, a->jitter_ms };

  if (!store)
    return FALSE;
  if ((a->conversation_id && !vg_store_check_conversation (a->conversation_id, error))
      || !vg_store_check_text ("room", a->room, 1, 64, error)
      || !vg_store_check_text ("identity", a->identity, 1, 128, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (numbers); i++)
    if (!isfinite (numbers[i]) || numbers[i] < 0)
      {
        g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID,
                     "analytics figures must be finite and >= 0");
        return FALSE;
      }
  if (!(connected = vg_store_time_text (a->connected_at_us)) || a->tokens_in > G_MAXINT64
      || a->tokens_out > G_MAXINT64 || a->packets_lost > G_MAXINT64)
    {
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID, "analytics figures out of range");
      return FALSE;
    }
  id = g_uuid_string_random ();
  now = vg_store_time_text (g_get_real_time ());
  duration = number_text (a->duration_seconds);
  lat_mean = a->response_latency_mean_ms >= 0 && isfinite (a->response_latency_mean_ms)
                 ? number_text (a->response_latency_mean_ms)
                 : NULL;
  lat_p95 = a->response_latency_p95_ms >= 0 && isfinite (a->response_latency_p95_ms)
                ? number_text (a->response_latency_p95_ms)
                : NULL;
  lat_p50 = a->response_latency_p50_ms >= 0 && isfinite (a->response_latency_p50_ms)
                ? number_text (a->response_latency_p50_ms)
                : NULL;
  tool_calls = g_strdup_printf ("%u", a->tool_calls);
  user_turns = g_strdup_printf ("%u", a->user_turns);
  agent_turns = g_strdup_printf ("%u", a->agent_turns);
  interruptions = g_strdup_printf ("%u", a->interruptions);
  tokens_in = g_strdup_printf ("%" G_GUINT64_FORMAT, a->tokens_in);
  tokens_out = g_strdup_printf ("%" G_GUINT64_FORMAT, a->tokens_out);
  audio_in = number_text (a->audio_seconds_in);
  audio_out = number_text (a->audio_seconds_out);
  lost = g_strdup_printf ("%" G_GUINT64_FORMAT, a->packets_lost);
  jitter = number_text (a->jitter_ms);
  {
    const char *params[] = { id,
                             a->conversation_id,
                             a->room,
                             a->identity,
                             connected,
                             duration,
                             user_turns,
                             agent_turns,
                             interruptions,
                             lat_mean,
                             lat_p95,
                             tokens_in,
                             tokens_out,
                             audio_in,
                             audio_out,
                             lost,
                             jitter,
                             now,
                             tool_calls,
                             lat_p50 };
    vg_store_push_write (store, VG_STORE_OP_SESSION_ANALYTICS, params);
  }
  return TRUE;
}

gboolean
vg_store_profile_touch (VgStore *store, const char *identity, const char *display_name,
                        GError **error)
{
  g_autofree char *now = vg_store_time_text (g_get_real_time ());
  const char *params[] = { identity, display_name, now };

  if (!store)
    return FALSE;
  if (!vg_store_check_text ("identity", identity, 1, 128, error)
      || !vg_store_check_text ("display name", display_name, 0, 128, error))
    return FALSE;
  vg_store_push_write (store, VG_STORE_OP_PROFILE_TOUCH, params);
  return TRUE;
}

/* ---- reads ---- */

static void
read_job_free (VgReadJob *job)
{
  /* Not g_strfreev: NULL parameters are SQL NULLs, not the end. */
  for (guint i = 0; i < job->n_params; i++)
    g_free (job->params[i]);
  g_free (job->params);
  g_clear_pointer (&job->rows, json_array_unref);
  g_clear_error (&job->error);
  if (job->context)
    g_main_context_unref (job->context);
  g_free (job);
}

static gboolean
read_job_deliver (gpointer data)
{
  VgReadJob *job = data;
  job->callback (job->rows, job->changes, job->error, job->user_data);
  return G_SOURCE_REMOVE;
}

static void
run_query (VgStore *store, VgReadJob *job)
{
  const VgStoreBackend *b = store->backend;
  VgStoreConn *conn = g_async_queue_try_pop (store->idle_conns);
  gint64 start = g_get_monotonic_time ();

  if (!conn)
    conn = b->connect (store->target, &job->error);
  if (conn)
    job->rows
        = b->query (conn, vg_store_sql_query (b, job->query), (const char *const *)job->params,
                    job->n_params, &job->changes, &job->error);
  /* Readiness is the writer's to decide (it pings); a failed read only asks it to look now. */
  if (job->error && g_error_matches (job->error, VG_STORE_ERROR, VG_STORE_ERROR_UNAVAILABLE))
    vg_store_queue_check (store->queue);
  if (conn && b->alive (conn))
    g_async_queue_push (store->idle_conns, conn);
  else if (conn)
    b->disconnect (conn);
  if (store->latency)
    {
      const char *labels[] = { "read" };
      vg_metric_observe (store->latency, labels, (g_get_monotonic_time () - start) / 1e6);
    }
}

static void
read_job_run (gpointer data, gpointer pool_data)
{
  VgReadJob *job = data;

  run_query (pool_data, job);
  g_main_context_invoke_full (job->context, G_PRIORITY_DEFAULT, read_job_deliver, job,
                              (GDestroyNotify)read_job_free);
}

static VgReadJob *
read_job_new (VgStore *store, VgStoreQuery query, const char *const *params, guint n_params)
{
  VgReadJob *job = g_new0 (VgReadJob, 1);

  job->store = store;
  job->query = query;
  job->n_params = n_params;
  job->params = g_new0 (char *, n_params + 1);
  for (guint i = 0; i < n_params; i++)
    job->params[i] = g_strdup (params[i]);
  return job;
}

void
vg_store_query (VgStore *store, VgStoreQuery query, const char *const *params, guint n_params,
                VgStoreResultFunc callback, gpointer user_data)
{
  VgReadJob *job = read_job_new (store, query, params, n_params);

  job->callback = callback;
  job->user_data = user_data;
  job->context = g_main_context_ref_thread_default ();
  g_thread_pool_push (store->readers, job, NULL);
}

JsonArray *
vg_store_query_sync (VgStore *store, VgStoreQuery query, const char *const *params, guint n_params,
                     gint64 *changes, GError **error)
{
  VgReadJob *job = read_job_new (store, query, params, n_params);
  JsonArray *rows;

  run_query (store, job);
  if (changes)
    *changes = job->changes;
  if (job->error)
    g_propagate_error (error, g_steal_pointer (&job->error));
  rows = g_steal_pointer (&job->rows);
  read_job_free (job);
  return rows;
}
