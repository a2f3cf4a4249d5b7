/* See ratelimit-redis.h. Main context only. */
#include "gateway/cache/ratelimit-redis.h"

/* KEYS[1]: the key. ARGV: limit, window in ms, a member unique to this hit.
 * Returns {1, 0} when allowed, else {0, ms until the oldest hit leaves the
 * window}. Redis's TIME, not the nodes' clocks, so nodes agree on the window.
 * The set holds at most `limit` members and expires with the window. */
static const char script_source[]
    = "local limit = tonumber(ARGV[1])\n"
      "local window = tonumber(ARGV[2])\n"
      "local t = redis.call('TIME')\n"
      "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
      "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)\n"
      "if redis.call('ZCARD', KEYS[1]) < limit then\n"
      "  redis.call('ZADD', KEYS[1], now, ARGV[3])\n"
      "  redis.call('PEXPIRE', KEYS[1], window)\n"
      "  return {1, 0}\n"
      "end\n"
      "local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')\n"
      "return {0, math.max(1, tonumber(oldest[2]) + window - now)}\n";

#define KEY_PREFIX "voxgate:ratelimit:"

typedef struct
{
  VgRateLimiter parent;
  VgRedis *redis;
  VgRedisScript *script;
  VgRateLimiter *local;
  gboolean shared; /* the last hit was counted in Redis */
  guint64 seq;     /* makes each hit's member unique within this process */
  char node_nonce[17];
  VgMetric *m_fallback, *m_shared;
} VgRedisLimiter;

typedef struct
{
  VgRedisLimiter *self;
  char *key;
  guint limit;
  guint window_s;
  VgRateLimitFunc done;
  gpointer user_data;
} Hit;

static void
set_shared (VgRedisLimiter *self, gboolean shared, const char *why)
{
  if (self->m_shared)
    vg_metric_set (self->m_shared, NULL, shared ? 1 : 0);
  if (shared == self->shared)
    return;
  self->shared = shared;
  if (shared)
    g_message ("rate limits: counting in Redis again (shared by all nodes)");
  else
    g_warning ("rate limits: not counted in Redis (%s); counting in this process until Redis "
               "answers again",
               why);
}

/* Counts the hit locally and answers. */
static void
fall_back (VgRedisLimiter *self, Hit *h, const char *why)
{
  guint retry = 0;
  gboolean allowed;

  set_shared (self, FALSE, why);
  if (self->m_fallback)
    vg_metric_add (self->m_fallback, NULL, 1);
  allowed = vg_rate_limiter_local_hit (self->local, h->key, h->limit, h->window_s, &retry);
  h->done (allowed, retry, h->user_data);
}

static void
hit_free (gpointer data)
{
  Hit *h = data;
  g_free (h->key);
  g_free (h);
}

static void
script_answered (VgRedis *redis, const redisReply *reply, const GError *error, gpointer data)
{
  Hit *h = data;
  VgRedisLimiter *self = h->self;
  g_autoptr (GError) bad = NULL;
  gint64 allowed, retry_ms;

  if (error)
    {
      fall_back (self, h, error->message);
      return;
    }
  /* A reply of another shape (a hostile or misconfigured Redis) is an error
   * for this hit, answered locally. */
  if (!vg_redis_reply_check_array (reply, 2, 2, "rate limit reply", &bad)
      || !vg_redis_reply_get_int (reply->element[0], 0, 1, &allowed, "rate limit reply", &bad)
      || !vg_redis_reply_get_int (reply->element[1], 0, (gint64)h->window_s * 1000, &retry_ms,
                                  "rate limit reply", &bad))
    {
      fall_back (self, h, bad->message);
      return;
    }
  set_shared (self, TRUE, NULL);
  h->done (allowed == 1, allowed == 1 ? 0 : MAX (1, (guint)((retry_ms + 999) / 1000)),
           h->user_data);
}

static void
redis_hit (VgRateLimiter *limiter, const char *key, guint limit, guint window_s,
           VgRateLimitFunc done, gpointer user_data)
{
  VgRedisLimiter *self = (VgRedisLimiter *)limiter;
  Hit *h;

  if (limit == 0)
    {
      done (TRUE, 0, user_data);
      return;
    }
  h = g_new0 (Hit, 1);
  h->self = self;
  h->key = g_strdup (key);
  h->limit = limit;
  h->window_s = MAX (window_s, 1);
  h->done = done;
  h->user_data = user_data;
  if (!vg_redis_is_up (self->redis))
    {
      /* No round trip to learn what is known: answer now, locally. */
      fall_back (self, h, vg_redis_last_error (self->redis));
      hit_free (h);
      return;
    }
  g_autofree char *rkey = g_strconcat (KEY_PREFIX, key, NULL);
  char limit_s[16], window_ms[24], member[48];
  g_snprintf (limit_s, sizeof limit_s, "%u", limit);
  g_snprintf (window_ms, sizeof window_ms, "%" G_GUINT64_FORMAT, (guint64)h->window_s * 1000);
  g_snprintf (member, sizeof member, "%s-%" G_GUINT64_FORMAT, self->node_nonce, ++self->seq);
  const char *keys[] = { rkey };
  const char *args[] = { limit_s, window_ms, member };
  vg_redis_eval (self->redis, self->script, 1, keys, 3, args, script_answered, h, hit_free);
}

static void
redis_free (VgRateLimiter *limiter)
{
  VgRedisLimiter *self = (VgRedisLimiter *)limiter;

  vg_redis_script_free (self->script);
  vg_rate_limiter_free (self->local);
  g_free (self);
}

static const VgRateLimiterVTable redis_vtable = { redis_hit, redis_free };

VgRateLimiter *
vg_rate_limiter_new_redis (VgRedis *redis, guint max_local_keys, VgMetrics *metrics)
{
  VgRedisLimiter *self = g_new0 (VgRedisLimiter, 1);

  self->parent.vtable = &redis_vtable;
  self->redis = redis;
  self->script = vg_redis_script_new (script_source);
  self->local = vg_rate_limiter_new_local (max_local_keys);
  self->shared = TRUE; /* the first fallback is logged */
  /* Hits of two nodes in the same millisecond must be distinct members. */
  g_snprintf (self->node_nonce, sizeof self->node_nonce, "%08x%08x", g_random_int (),
              g_random_int ());
  if (metrics)
    {
      self->m_fallback = vg_metrics_register (
          metrics, VG_METRIC_COUNTER, "voxgate_rate_limit_fallback_total",
          "Rate-limit hits counted in this process because Redis was unavailable", NULL, NULL);
      self->m_shared = vg_metrics_register (
          metrics, VG_METRIC_GAUGE, "voxgate_rate_limit_shared",
          "1 while rate limits are counted in Redis (shared by all nodes), 0 while local", NULL,
          NULL);
      vg_metric_set (self->m_shared, NULL, 1);
      vg_metric_add (self->m_fallback, NULL, 0);
    }
  return &self->parent;
}

gboolean
vg_rate_limiter_redis_is_shared (VgRateLimiter *limiter)
{
  g_return_val_if_fail (limiter->vtable == &redis_vtable, FALSE);
  return ((VgRedisLimiter *)limiter)->shared;
}
