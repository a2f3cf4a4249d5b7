/* The write queue: a bounded in-memory FIFO drained by one writer thread in
 * batches (one transaction each), retried with backoff while the database is
 * unreachable, and a spool file that takes the overflow and what is left at
 * close. Order is kept: once anything is spooled, every later write goes to
 * the spool too until the writer has replayed it, and the in-memory writes
 * (older) are written first. Replays are safe because every write is
 * idempotent. */
#include "gateway/store/store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <unistd.h>

#define BATCH_MAX 256
#define BACKOFF_MIN_US (100 * 1000)
#define BACKOFF_MAX_US (5 * G_USEC_PER_SEC)
#define PING_INTERVAL_US (2 * G_USEC_PER_SEC)
#define DEFAULT_LIMIT 10000

struct _VgStoreQueue
{
  VgStoreQueueConfig cfg;
  char *target;
  char *spool_path;
  GThread *thread;
  VgStoreConn *conn; /* the writer thread's */

  GMutex lock;
  GCond wake; /* something to do, or closing */
  GCond idle; /* progress, for flush */
  GQueue mem; /* of VgStoreWrite, oldest first; only the writer pops */
  guint limit;
  gboolean spooling; /* the spool file holds writes not yet replayed */
  guint spooled;     /* how many */
  goffset replay_offset;
  gboolean up;
  gboolean ping_now; /* a reader saw the database fail */
  gboolean closing;
  gint64 drain_deadline;
};

static void
update_gauges_locked (VgStoreQueue *q)
{
  if (q->cfg.depth)
    vg_metric_set (q->cfg.depth, NULL, q->mem.length);
  if (q->cfg.spooled)
    vg_metric_set (q->cfg.spooled, NULL, q->spooled);
}

static void
count_failure (VgStoreQueue *q, const char *kind)
{
  const char *labels[] = { kind };
  if (q->cfg.failures)
    vg_metric_add (q->cfg.failures, labels, 1);
}

static void
set_up (VgStoreQueue *q, gboolean up)
{
  g_mutex_lock (&q->lock);
  q->up = up;
  g_mutex_unlock (&q->lock);
  if (q->cfg.set_up)
    q->cfg.set_up (q->cfg.user_data, up);
}

/* Appends lines to the spool and makes them durable before returning. */
static gboolean
spool_append (const char *path, GString *lines, GError **error)
{
  int fd = g_open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  gsize done = 0;

  if (fd < 0)
    goto fail;
  while (done < lines->len)
    {
      gssize n = write (fd, lines->str + done, lines->len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        goto fail;
      done += n;
    }
  if (fdatasync (fd) != 0)
    goto fail;
  close (fd);
  return TRUE;

fail:
  {
    int errsv = errno;
    if (fd >= 0)
      close (fd);
    g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_SPOOL, "spool %s: %s", path,
                 g_strerror (errsv));
    return FALSE;
  }
}

static void
append_line (GString *lines, const VgStoreWrite *w)
{
  g_autofree char *line = vg_store_write_to_line (w);
  g_string_append (lines, line);
  g_string_append_c (lines, '\n');
}

void
vg_store_queue_push (VgStoreQueue *q, VgStoreWrite *w)
{
  g_mutex_lock (&q->lock);
  if (q->spooling || q->mem.length >= q->limit)
    {
      g_autoptr (GString) line = g_string_new (NULL);
      g_autoptr (GError) error = NULL;

      append_line (line, w);
      if (spool_append (q->spool_path, line, &error))
        {
          q->spooling = TRUE;
          q->spooled++;
          vg_store_write_free (w);
          w = NULL;
        }
      else
        {
          /* Keep it in memory rather than lose it. */
          g_warning ("store: %s; keeping the write in memory", error->message);
          count_failure (q, "spool");
        }
    }
  if (w)
    g_queue_push_tail (&q->mem, w);
  update_gauges_locked (q);
  g_cond_signal (&q->wake);
  g_mutex_unlock (&q->lock);
}

static gboolean
ensure_conn (VgStoreQueue *q, GError **error)
{
  if (q->conn && q->cfg.backend->alive (q->conn))
    return TRUE;
  g_clear_pointer (&q->conn, q->cfg.backend->disconnect);
  q->conn = q->cfg.backend->connect (q->target, error);
  return q->conn != NULL;
}

/* One round trip on the writer's connection. */
static gboolean
ping (VgStoreQueue *q)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) rows = NULL;

  if (!ensure_conn (q, &error))
    return FALSE;
  rows = q->cfg.backend->query (q->conn, "SELECT 1", NULL, 0, NULL, &error);
  if (!rows && !q->cfg.backend->alive (q->conn))
    g_clear_pointer (&q->conn, q->cfg.backend->disconnect);
  return rows != NULL;
}

void
vg_store_queue_check (VgStoreQueue *q)
{
  g_mutex_lock (&q->lock);
  q->ping_now = TRUE;
  g_cond_signal (&q->wake);
  g_mutex_unlock (&q->lock);
}

static gboolean
exec_write (VgStoreQueue *q, VgStoreWrite *w, GError **error)
{
  const char *sql = vg_store_sql_op (q->cfg.backend, w->op);
  g_autoptr (JsonArray) rows = q->cfg.backend->query (q->conn, sql, (const char *const *)w->params,
                                                      vg_store_op_n_params (w->op), NULL, error);
  return rows != NULL;
}

/* Only a write the database refuses for its data is dropped; anything else
 * (unreachable, or e.g. a table missing before migrations) is kept and
 * retried, so an operational mistake delays writes instead of losing them. */
static gboolean
is_transient (const GError *error)
{
  return !g_error_matches (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID)
         && !g_error_matches (error, VG_STORE_ERROR, VG_STORE_ERROR_CONFLICT);
}

/* Writes ws[0..n) in one transaction. A refused write (bad data) is logged,
 * counted and dropped, the others still written. FALSE only when the database
 * could not be reached: then nothing is lost, the caller retries them all. */
static gboolean
write_batch (VgStoreQueue *q, VgStoreWrite **ws, guint n)
{
  const VgStoreBackend *b = q->cfg.backend;
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  gboolean ok;
  guint i;

  if (!ensure_conn (q, &error))
    goto transient;
  if (b->exec_batch)
    {
      const char *sqls[BATCH_MAX];
      char **params[BATCH_MAX];
      guint n_params[BATCH_MAX];

      for (i = 0; i < n; i++)
        {
          sqls[i] = vg_store_sql_op (b, ws[i]->op);
          params[i] = ws[i]->params;
          n_params[i] = vg_store_op_n_params (ws[i]->op);
        }
      ok = b->exec_batch (q->conn, sqls, params, n_params, n, &error);
    }
  else
    {
      ok = b->exec_script (q->conn, b->begin_sql, &error);
      for (i = 0; ok && i < n; i++)
        ok = exec_write (q, ws[i], &error);
      ok = ok && b->exec_script (q->conn, "COMMIT", &error);
      if (!ok && q->conn && b->alive (q->conn))
        b->exec_script (q->conn, "ROLLBACK", NULL);
    }
  if (!ok)
    {
      if (is_transient (error))
        goto transient;
      /* One write is refused: write them one by one to drop only that one. */
      for (i = 0; i < n; i++)
        {
          g_clear_error (&error);
          if (exec_write (q, ws[i], &error))
            continue;
          if (is_transient (error))
            goto transient;
          g_warning ("store: %s write refused, dropped: %s", vg_store_op_name (ws[i]->op),
                     error->message);
          count_failure (q, "refused");
        }
    }
  if (q->cfg.latency)
    {
      const char *labels[] = { "write" };
      vg_metric_observe (q->cfg.latency, labels, (g_get_monotonic_time () - start) / 1e6);
    }
  set_up (q, TRUE);
  return TRUE;

transient:
  if (q->up)
    g_warning ("store: writes failing, kept and retried: %s", error ? error->message : "?");
  count_failure (q, "unavailable");
  if (q->conn && !b->alive (q->conn))
    g_clear_pointer (&q->conn, b->disconnect);
  set_up (q, FALSE);
  return FALSE;
}

/* Replays the spool from replay_offset, a batch at a time. FALSE when the
 * database went away (retry later). Call without the lock. */
static gboolean
replay_spool (VgStoreQueue *q)
{
  FILE *f = fopen (q->spool_path, "re");
  g_autoptr (GPtrArray) batch
      = g_ptr_array_new_with_free_func ((GDestroyNotify)vg_store_write_free);
  char *line = NULL;
  size_t cap = 0;
  gssize len;
  guint lines = 0;
  gboolean ok = TRUE;

  if (!f)
    {
      g_mutex_lock (&q->lock);
      q->spooling = FALSE; /* gone: nothing to replay */
      q->spooled = 0;
      g_mutex_unlock (&q->lock);
      return TRUE;
    }
  g_mutex_lock (&q->lock);
  fseeko (f, q->replay_offset, SEEK_SET);
  g_mutex_unlock (&q->lock);
  for (;;)
    {
      len = getline (&line, &cap, f);
      if (len > 0)
        {
          g_autoptr (GError) error = NULL;
          VgStoreWrite *w;

          lines++;
          g_strchomp (line);
          if ((w = vg_store_write_from_line (line, &error)))
            g_ptr_array_add (batch, w);
          else if (*line)
            g_warning ("store: skipping a damaged spool line: %s", error->message);
        }
      if (batch->len == BATCH_MAX || (len < 0 && (batch->len > 0 || lines > 0)))
        {
          if (batch->len && !write_batch (q, (VgStoreWrite **)batch->pdata, batch->len))
            {
              ok = FALSE;
              break;
            }
          g_ptr_array_set_size (batch, 0);
          g_mutex_lock (&q->lock);
          q->replay_offset = ftello (f);
          q->spooled = lines > q->spooled ? 0 : q->spooled - lines;
          update_gauges_locked (q);
          g_cond_broadcast (&q->idle);
          g_mutex_unlock (&q->lock);
          lines = 0;
        }
      if (len < 0)
        break;
    }
  free (line);
  fclose (f);
  if (!ok)
    return FALSE;

  /* Done, unless writes were appended meanwhile (then go round again). */
  g_mutex_lock (&q->lock);
  {
    GStatBuf st;
    if (g_stat (q->spool_path, &st) != 0 || st.st_size <= q->replay_offset)
      {
        g_unlink (q->spool_path);
        q->spooling = FALSE;
        q->spooled = 0;
        q->replay_offset = 0;
        g_message ("store: spooled writes replayed");
      }
  }
  update_gauges_locked (q);
  g_cond_broadcast (&q->idle);
  g_mutex_unlock (&q->lock);
  return TRUE;
}

/* Waits (lock held) until the deadline or closing. */
static void
wait_until (VgStoreQueue *q, gint64 deadline)
{
  while (!q->closing && g_get_monotonic_time () < deadline)
    g_cond_wait_until (&q->wake, &q->lock, deadline);
}

static gpointer
writer_thread (gpointer data)
{
  VgStoreQueue *q = data;
  gint64 backoff = BACKOFF_MIN_US;

  g_mutex_lock (&q->lock);
  for (;;)
    {
      if (q->closing && (q->mem.length == 0 || g_get_monotonic_time () > q->drain_deadline))
        break;
      if (q->mem.length > 0 || (q->spooling && !q->closing))
        {
          VgStoreWrite *batch[BATCH_MAX];
          guint n = 0;
          gboolean ok;

          for (GList *l = q->mem.head; l && n < BATCH_MAX; l = l->next)
            batch[n++] = l->data;
          g_mutex_unlock (&q->lock);
          ok = n ? write_batch (q, batch, n) : replay_spool (q);
          g_mutex_lock (&q->lock);
          if (ok)
            {
              for (guint i = 0; i < n; i++)
                vg_store_write_free (g_queue_pop_head (&q->mem));
              update_gauges_locked (q);
              g_cond_broadcast (&q->idle);
              backoff = BACKOFF_MIN_US;
              continue;
            }
          if (q->closing)
            break; /* the database is away: spool the rest now */
          wait_until (q, g_get_monotonic_time () + backoff);
          backoff = MIN (backoff * 2, BACKOFF_MAX_US);
          continue;
        }
      g_cond_broadcast (&q->idle);
      if (q->closing)
        break;
      /* Idle: check the database now and then, so readiness follows it
       * (and a reader's failure is confirmed or cleared at once). */
      {
        gint64 until = g_get_monotonic_time () + (q->up ? PING_INTERVAL_US : BACKOFF_MIN_US * 5);
        gboolean was_up = q->up;

        while (!q->closing && !q->ping_now && q->mem.length == 0 && !q->spooling
               && g_get_monotonic_time () < until)
          g_cond_wait_until (&q->wake, &q->lock, until);
        if (q->closing || q->mem.length > 0 || q->spooling)
          continue;
        q->ping_now = FALSE;
        g_mutex_unlock (&q->lock);
        set_up (q, ping (q));
        g_mutex_lock (&q->lock);
        if (was_up && !q->up)
          g_message ("store: %s unreachable", q->cfg.backend->name);
        else if (!was_up && q->up)
          g_message ("store: %s reachable again", q->cfg.backend->name);
      }
    }
  g_cond_broadcast (&q->idle);
  g_mutex_unlock (&q->lock);
  return NULL;
}

/* Counts the spooled lines and repairs a line torn by a crash mid-append. */
static gboolean
scan_spool (VgStoreQueue *q, GError **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;

  if (!g_file_get_contents (q->spool_path, &contents, &len, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_SPOOL, "spool: %s", local->message);
      return FALSE;
    }
  if (len == 0)
    return TRUE;
  for (gsize i = 0; i < len; i++)
    q->spooled += contents[i] == '\n';
  if (contents[len - 1] != '\n')
    {
      g_autoptr (GString) nl = g_string_new ("\n");
      q->spooled++;
      if (!spool_append (q->spool_path, nl, error))
        return FALSE;
    }
  q->spooling = TRUE;
  g_message ("store: %u spooled writes to replay from %s", q->spooled, q->spool_path);
  return TRUE;
}

VgStoreQueue *
vg_store_queue_new (const VgStoreQueueConfig *config, const char *spool_path, GError **error)
{
  VgStoreQueue *q = g_new0 (VgStoreQueue, 1);

  q->cfg = *config;
  q->target = g_strdup (config->target);
  q->cfg.target = q->target;
  q->spool_path = g_strdup (spool_path);
  q->limit = DEFAULT_LIMIT;
  q->up = TRUE; /* until a write says otherwise */
  g_mutex_init (&q->lock);
  g_cond_init (&q->wake);
  g_cond_init (&q->idle);
  g_queue_init (&q->mem);
  if (!scan_spool (q, error))
    {
      g_free (q->target);
      g_free (q->spool_path);
      g_mutex_clear (&q->lock);
      g_cond_clear (&q->wake);
      g_cond_clear (&q->idle);
      g_free (q);
      return NULL;
    }
  update_gauges_locked (q);
  q->thread = g_thread_new ("vg-store-writer", writer_thread, q);
  return q;
}

guint
vg_store_queue_pending (VgStoreQueue *q)
{
  guint n;

  g_mutex_lock (&q->lock);
  n = q->mem.length + q->spooled;
  g_mutex_unlock (&q->lock);
  return n;
}

gboolean
vg_store_queue_flush (VgStoreQueue *q, gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;
  gboolean empty;

  g_mutex_lock (&q->lock);
  while ((q->mem.length > 0 || q->spooling) && g_get_monotonic_time () < deadline)
    g_cond_wait_until (&q->idle, &q->lock, MIN (deadline, g_get_monotonic_time () + 100000));
  empty = q->mem.length == 0 && !q->spooling;
  g_mutex_unlock (&q->lock);
  return empty;
}

void
vg_store_queue_set_limit (VgStoreQueue *q, guint limit)
{
  g_mutex_lock (&q->lock);
  q->limit = limit;
  g_mutex_unlock (&q->lock);
}

/* Puts what is still in memory at the head of the spool (it is older than
 * anything spooled), durably, by writing a new file and renaming it. */
static void
spool_remaining (VgStoreQueue *q)
{
  g_autoptr (GString) lines = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = g_strconcat (q->spool_path, ".tmp", NULL);
  g_autofree char *rest = NULL;
  gsize rest_len = 0;
  guint n = q->mem.length;
  VgStoreWrite *w;

  if (n == 0)
    return;
  while ((w = g_queue_pop_head (&q->mem)))
    {
      append_line (lines, w);
      vg_store_write_free (w);
    }
  if (q->spooling && g_file_get_contents (q->spool_path, &rest, &rest_len, NULL)
      && (gsize)q->replay_offset < rest_len)
    g_string_append_len (lines, rest + q->replay_offset, rest_len - q->replay_offset);
  g_unlink (tmp);
  if (!spool_append (tmp, lines, &error) || g_rename (tmp, q->spool_path) != 0)
    {
      g_critical ("store: %u writes could not be spooled and are lost: %s", n,
                  error ? error->message : g_strerror (errno));
      return;
    }
  {
    /* Make the rename itself durable. */
    g_autofree char *dir = g_path_get_dirname (q->spool_path);
    int fd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd >= 0)
      {
        fsync (fd);
        close (fd);
      }
  }
  g_message ("store: %u writes spooled to %s for the next start", n, q->spool_path);
}

void
vg_store_queue_close (VgStoreQueue *q, gint64 drain_us)
{
  if (!q)
    return;
  g_mutex_lock (&q->lock);
  q->closing = TRUE;
  q->drain_deadline = g_get_monotonic_time () + drain_us;
  g_cond_broadcast (&q->wake);
  g_mutex_unlock (&q->lock);
  g_thread_join (q->thread);

  spool_remaining (q);
  g_clear_pointer (&q->conn, q->cfg.backend->disconnect);
  g_free (q->target);
  g_free (q->spool_path);
  g_mutex_clear (&q->lock);
  g_cond_clear (&q->wake);
  g_cond_clear (&q->idle);
  g_free (q);
}
