/* The shared rate limiter (gateway/cache/ratelimit-redis.h) on a real
 * redis-server: one budget for every node, the local fallback when Redis is
 * down, slow or answers nonsense, and the way back. */
#include "gateway/cache/ratelimit-redis.h"
#include "redis-fixture.h"

#include <string.h>

typedef struct
{
  gboolean done;
  gboolean allowed;
  guint retry;
  guint calls;
} Answer;

static void
answered (gboolean allowed, guint retry, gpointer data)
{
  Answer *a = data;
  a->done = TRUE;
  a->allowed = allowed;
  a->retry = retry;
  a->calls++;
}

static Answer
hit (VgRateLimiter *rl, const char *key, guint limit, guint window_s)
{
  Answer a = { 0 };
  vg_rate_limiter_hit (rl, key, limit, window_s, answered, &a);
  g_assert_true (vg_test_wait_flag (&a.done, 5000));
  g_assert_cmpuint (a.calls, ==, 1);
  return a;
}

static gboolean
up (gpointer data)
{
  return vg_redis_is_up (data);
}

static void
wait_up (VgRedis *redis, gboolean want)
{
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (up (redis) != want && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (2000), TRUE);
  g_assert_cmpint (up (redis), ==, want);
}

static VgRedis *
client (const char *url, guint timeout_ms)
{
  VgRedisOptions opts = { .command_timeout_ms = timeout_ms,
                          .connect_timeout_ms = timeout_ms,
                          .backoff_min_ms = 20,
                          .backoff_max_ms = 100 };
  VgRedis *redis = vg_redis_new_full (url, NULL, &opts, NULL);
  wait_up (redis, TRUE);
  return redis;
}

/* The local limiter's asynchronous face answers before hit returns. */
static void
test_local_answers_at_once (void)
{
  VgRateLimiter *rl = vg_rate_limiter_new_local (10);
  Answer a = { 0 };

  vg_rate_limiter_hit (rl, "k", 1, 60, answered, &a);
  g_assert_true (a.done && a.allowed);
  a.done = FALSE;
  vg_rate_limiter_hit (rl, "k", 1, 60, answered, &a);
  g_assert_true (a.done && !a.allowed);
  g_assert_cmpuint (a.retry, >=, 59);
  vg_rate_limiter_free (rl);
}

/* Two nodes (two clients, two limiters) on one Redis share one budget: 10
 * per minute across both means 10, alternating or not. */
static void
test_two_nodes_share_budget (void)
{
  VgTestRedis *srv = vg_test_redis_start (NULL);
  VgRedis *ra = client (srv->url, 1000), *rb = client (srv->url, 1000);
  VgRateLimiter *a = vg_rate_limiter_new_redis (ra, 100, NULL);
  VgRateLimiter *b = vg_rate_limiter_new_redis (rb, 100, NULL);
  guint allowed = 0;

  for (int i = 0; i < 20; i++)
    {
      Answer ans = hit (i % 2 ? b : a, "token:10.0.0.1", 10, 60);
      allowed += ans.allowed;
      if (!ans.allowed)
        {
          g_assert_cmpuint (ans.retry, >=, 1);
          g_assert_cmpuint (ans.retry, <=, 60);
        }
    }
  g_assert_cmpuint (allowed, ==, 10);
  g_assert_true (vg_rate_limiter_redis_is_shared (a));
  g_assert_true (vg_rate_limiter_redis_is_shared (b));
  /* Another address has its own budget. */
  g_assert_true (hit (b, "token:10.0.0.2", 10, 60).allowed);

  /* The window slides: 2 per second, refused, then allowed after it. */
  g_assert_true (hit (a, "slide", 2, 1).allowed);
  g_assert_true (hit (b, "slide", 2, 1).allowed);
  Answer refused = hit (a, "slide", 2, 1);
  g_assert_false (refused.allowed);
  g_assert_cmpuint (refused.retry, ==, 1);
  g_usleep (1100 * 1000);
  g_assert_true (hit (b, "slide", 2, 1).allowed);

  /* Many hits in flight at once from both nodes (no read-then-write race). */
  Answer many[40] = { 0 };
  for (int i = 0; i < 40; i++)
    vg_rate_limiter_hit (i % 2 ? b : a, "burst", 15, 60, answered, &many[i]);
  allowed = 0;
  for (int i = 0; i < 40; i++)
    {
      g_assert_true (vg_test_wait_flag (&many[i].done, 5000));
      allowed += many[i].allowed;
    }
  g_assert_cmpuint (allowed, ==, 15);

  vg_redis_free (ra);
  vg_redis_free (rb);
  vg_rate_limiter_free (a);
  vg_rate_limiter_free (b);
  vg_test_redis_free (srv);
}

/* Redis stops: hits are answered locally (and counted), at once while the
 * client is down; Redis returns: hits are counted there again. */
static void
test_fallback_and_back (void)
{
  VgTestRedis *srv = vg_test_redis_start (NULL);
  VgRedis *redis = client (srv->url, 300);
  VgMetrics *metrics = vg_metrics_new ();
  VgRateLimiter *rl = vg_rate_limiter_new_redis (redis, 100, metrics);
  VgMetric *fallback = vg_metrics_register (metrics, VG_METRIC_COUNTER,
                                            "voxgate_rate_limit_fallback_total", "", NULL, NULL);
  VgMetric *shared
      = vg_metrics_register (metrics, VG_METRIC_GAUGE, "voxgate_rate_limit_shared", "", NULL, NULL);

  /* 3 of a budget of 5 used in Redis. */
  for (int i = 0; i < 3; i++)
    g_assert_true (hit (rl, "k", 5, 60).allowed);
  g_assert_cmpfloat (vg_metric_get (shared, NULL), ==, 1);

  vg_test_redis_stop (srv);
  wait_up (redis, FALSE);
  /* Locally: a fresh budget of 5 (the node cannot know Redis's count). */
  gint64 start = g_get_monotonic_time ();
  for (int i = 0; i < 5; i++)
    g_assert_true (hit (rl, "k", 5, 60).allowed);
  Answer refused = hit (rl, "k", 5, 60);
  g_assert_false (refused.allowed);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 200 * 1000); /* no waiting */
  g_assert_false (vg_rate_limiter_redis_is_shared (rl));
  g_assert_cmpfloat (vg_metric_get (fallback, NULL), ==, 6);
  g_assert_cmpfloat (vg_metric_get (shared, NULL), ==, 0);

  /* Back (an empty Redis: the earlier count went with the process). */
  vg_test_redis_restart (srv);
  wait_up (redis, TRUE);
  for (int i = 0; i < 5; i++)
    g_assert_true (hit (rl, "k", 5, 60).allowed);
  g_assert_false (hit (rl, "k", 5, 60).allowed);
  g_assert_true (vg_rate_limiter_redis_is_shared (rl));
  g_assert_cmpfloat (vg_metric_get (fallback, NULL), ==, 6);
  g_assert_cmpfloat (vg_metric_get (shared, NULL), ==, 1);

  /* A Redis that hangs: the hit waits at most the command timeout, then is
   * answered locally; later hits do not wait while the client is down. */
  vg_test_redis_pause (srv, TRUE);
  start = g_get_monotonic_time ();
  Answer slow = hit (rl, "other", 5, 60);
  g_assert_true (slow.allowed);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 250 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2000 * 1000);
  start = g_get_monotonic_time ();
  g_assert_true (hit (rl, "other", 5, 60).allowed);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 200 * 1000);
  g_assert_false (vg_rate_limiter_redis_is_shared (rl));
  vg_test_redis_pause (srv, FALSE);
  wait_up (redis, TRUE);
  g_assert_true (hit (rl, "other", 5, 60).allowed);
  g_assert_true (vg_rate_limiter_redis_is_shared (rl));

  vg_redis_free (redis);
  vg_rate_limiter_free (rl);
  vg_metrics_free (metrics);
  vg_test_redis_free (srv);
}

static void
on_set (VgRedis *redis, const redisReply *reply, const GError *error, gpointer data)
{
  g_assert_no_error (error);
  *(gboolean *)data = TRUE;
}

/* Something else stored under the limiter's key (a wrong type): the hit is
 * answered locally, no crash; other keys still count in Redis. */
static void
test_wrong_type_in_redis (void)
{
  VgTestRedis *srv = vg_test_redis_start (NULL);
  VgRedis *redis = client (srv->url, 1000);
  VgRateLimiter *rl = vg_rate_limiter_new_redis (redis, 100, NULL);
  gboolean set = FALSE;

  vg_redis_commandv (redis, on_set, &set, NULL, "SET", "voxgate:ratelimit:poisoned", "x", NULL);
  g_assert_true (vg_test_wait_flag (&set, 5000));
  Answer a = hit (rl, "poisoned", 2, 60);
  g_assert_true (a.allowed);
  g_assert_false (vg_rate_limiter_redis_is_shared (rl));
  g_assert_true (hit (rl, "poisoned", 2, 60).allowed);
  g_assert_false (hit (rl, "poisoned", 2, 60).allowed); /* the local budget holds */
  g_assert_true (vg_redis_is_up (redis));
  g_assert_true (hit (rl, "clean", 2, 60).allowed);
  g_assert_true (vg_rate_limiter_redis_is_shared (rl));
  vg_redis_free (redis);
  vg_rate_limiter_free (rl);
  vg_test_redis_free (srv);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Fallbacks and lost connections are logged as warnings; these tests cause them. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_test_add_func ("/ratelimit-redis/local-answers-at-once", test_local_answers_at_once);
  g_test_add_func ("/ratelimit-redis/two-nodes-share-budget", test_two_nodes_share_budget);
  g_test_add_func ("/ratelimit-redis/fallback-and-back", test_fallback_and_back);
  g_test_add_func ("/ratelimit-redis/wrong-type-in-redis", test_wrong_type_in_redis);
  return g_test_run ();
}
