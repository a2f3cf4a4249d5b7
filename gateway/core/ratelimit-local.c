/* In-process sliding-window rate limiter: each key keeps the times of its
 * last `limit` hits, so "N per window" holds exactly, with no burst at window
 * boundaries. Memory is bounded by max_keys. */
#include "gateway/core/ratelimit.h"

typedef struct
{
  gint64 *hits; /* ring of monotonic microseconds, capacity = limit */
  guint capacity;
  guint len;
  guint head; /* index of the oldest hit */
  gint64 last_us;
} VgHitLog;

typedef struct
{
  VgRateLimiter parent;
  GMutex lock;
  GHashTable *keys; /* char* -> VgHitLog */
  guint max_keys;
} VgLocalLimiter;

static void local_hit_async (VgRateLimiter *limiter, const char *key, guint limit, guint window_s,
                             VgRateLimitFunc done, gpointer user_data);

static void
hit_log_free (gpointer data)
{
  VgHitLog *log = data;
  g_free (log->hits);
  g_free (log);
}

/* Drops keys whose last hit is older than the window; if still full, the
 * least recently used key goes. Called with the lock held. */
static void
evict (VgLocalLimiter *self, gint64 now_us, gint64 window_us)
{
  GHashTableIter it;
  gpointer key, value;
  const char *oldest_key = NULL;
  gint64 oldest = G_MAXINT64;

  g_hash_table_iter_init (&it, self->keys);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      VgHitLog *log = value;
      if (now_us - log->last_us >= window_us)
        g_hash_table_iter_remove (&it);
      else if (log->last_us < oldest)
        {
          oldest = log->last_us;
          oldest_key = key;
        }
    }
  if (g_hash_table_size (self->keys) >= self->max_keys && oldest_key)
    g_hash_table_remove (self->keys, oldest_key);
}

gboolean
vg_rate_limiter_local_hit (VgRateLimiter *limiter, const char *key, guint limit, guint window_s,
                           guint *retry_after_s)
{
  VgLocalLimiter *self = (VgLocalLimiter *)limiter;
  gint64 now = g_get_monotonic_time ();
  gint64 window_us = (gint64)window_s * G_USEC_PER_SEC;
  gboolean allowed;
  VgHitLog *log;

  g_return_val_if_fail (limiter->vtable->hit == local_hit_async, TRUE);
  if (limit == 0)
    return TRUE;

  g_mutex_lock (&self->lock);
  log = g_hash_table_lookup (self->keys, key);
  if (log && log->capacity != limit)
    {
      g_hash_table_remove (self->keys, key);
      log = NULL;
    }
  if (!log)
    {
      if (g_hash_table_size (self->keys) >= self->max_keys)
        evict (self, now, window_us);
      log = g_new0 (VgHitLog, 1);
      log->capacity = limit;
      log->hits = g_new0 (gint64, limit);
      g_hash_table_insert (self->keys, g_strdup (key), log);
    }

  /* Forget hits that left the window. */
  while (log->len > 0 && now - log->hits[log->head] >= window_us)
    {
      log->head = (log->head + 1) % log->capacity;
      log->len--;
    }

  allowed = log->len < log->capacity;
  if (allowed)
    {
      log->hits[(log->head + log->len) % log->capacity] = now;
      log->len++;
      log->last_us = now;
    }
  else
    {
      gint64 wait_us = log->hits[log->head] + window_us - now;
      *retry_after_s = MAX (1, (guint)((wait_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC));
    }
  g_mutex_unlock (&self->lock);
  return allowed;
}

static void
local_hit_async (VgRateLimiter *limiter, const char *key, guint limit, guint window_s,
                 VgRateLimitFunc done, gpointer user_data)
{
  guint retry_after_s = 0;
  gboolean allowed = vg_rate_limiter_local_hit (limiter, key, limit, window_s, &retry_after_s);

  done (allowed, retry_after_s, user_data);
}

static void
local_free (VgRateLimiter *limiter)
{
  VgLocalLimiter *self = (VgLocalLimiter *)limiter;
  g_hash_table_unref (self->keys);
  g_mutex_clear (&self->lock);
  g_free (self);
}

static const VgRateLimiterVTable local_vtable = { local_hit_async, local_free };

VgRateLimiter *
vg_rate_limiter_new_local (guint max_keys)
{
  VgLocalLimiter *self = g_new0 (VgLocalLimiter, 1);

  self->parent.vtable = &local_vtable;
  g_mutex_init (&self->lock);
  self->keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, hit_log_free);
  self->max_keys = MAX (max_keys, 1);
  return &self->parent;
}
