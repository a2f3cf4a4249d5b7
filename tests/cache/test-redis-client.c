/* The Redis client (gateway/cache/redis-client.h) against a real
 * redis-server (tests/cache/redis-fixture.h), and against a hostile server
 * in this file for replies a real Redis never sends. */
#include "gateway/cache/redis-client.h"
#include "redis-fixture.h"

#include <gio/gio.h>
#include <string.h>

/* One command's outcome, copied out of the callback. */
typedef struct
{
  gboolean done;
  guint calls;
  int type;
  char *str;
  gint64 integer;
  gsize elements;
  GError *error;
  gint64 done_us;
} Result;

static void
result_clear (Result *r)
{
  g_free (r->str);
  g_clear_error (&r->error);
  memset (r, 0, sizeof *r);
}

static void
on_reply (VgRedis *redis, const redisReply *reply, const GError *error, gpointer data)
{
  Result *r = data;

  r->calls++;
  r->done = TRUE;
  r->done_us = g_get_monotonic_time ();
  g_assert_true ((reply == NULL) != (error == NULL));
  if (error)
    {
      r->error = g_error_copy (error);
      return;
    }
  r->type = reply->type;
  r->integer = reply->integer;
  r->elements = reply->elements;
  if (reply->str)
    r->str = g_strndup (reply->str, reply->len);
}

/* Sends a command and waits for its answer. */
static void
run (VgRedis *redis, Result *r, const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  va_list ap;

  result_clear (r);
  va_start (ap, first);
  for (const char *a = first; a; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer)a);
  va_end (ap);
  vg_redis_command (redis, on_reply, r, NULL, argv->len, (const char *const *)argv->pdata, NULL);
  g_assert_true (vg_test_wait_flag (&r->done, 5000));
}

static void
on_state (VgRedis *redis, gboolean up, gpointer data)
{
  GArray *states = data;
  g_array_append_val (states, up);
}

static gboolean
is_up_now (gpointer data)
{
  return vg_redis_is_up (data);
}

/* Iterates the main context until pred (data) or timeout_ms. */
static gboolean
wait_until (GSourceFunc pred, gpointer data, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * 1000;

  while (!pred (data) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (2000), TRUE);
  return pred (data);
}

static gboolean
is_down_now (gpointer data)
{
  return !vg_redis_is_up (data);
}

static VgRedis *
connect_up (const char *url, const VgRedisOptions *opts)
{
  g_autoptr (GError) error = NULL;
  VgRedis *redis = vg_redis_new_full (url, NULL, opts, &error);

  g_assert_no_error (error);
  g_assert_true (wait_until (is_up_now, redis, 5000));
  return redis;
}

static void
test_commands (void)
{
  VgTestRedis *srv = vg_test_redis_start (NULL);
  VgRedis *redis = connect_up (srv->url, NULL);
  Result r = { 0 };
  const char *argv[] = { "SET", "bin", "a\0b" };
  const size_t lens[] = { 3, 3, 3 };

  run (redis, &r, "SET", "k", "v", NULL);
  g_assert_no_error (r.error);
  g_assert_cmpint (r.type, ==, REDIS_REPLY_STATUS);
  g_assert_cmpstr (r.str, ==, "OK");
  run (redis, &r, "GET", "k", NULL);
  g_assert_cmpstr (r.str, ==, "v");
  run (redis, &r, "INCRBY", "n", "41", NULL);
  g_assert_cmpint (r.integer, ==, 41);
  run (redis, &r, "GET", "missing", NULL);
  g_assert_cmpint (r.type, ==, REDIS_REPLY_NIL);

  /* Binary arguments with explicit lengths. */
  result_clear (&r);
  vg_redis_command (redis, on_reply, &r, NULL, 3, argv, lens);
  g_assert_true (vg_test_wait_flag (&r.done, 5000));
  g_assert_no_error (r.error);
  run (redis, &r, "STRLEN", "bin", NULL);
  g_assert_cmpint (r.integer, ==, 3);

  /* An error reply arrives as VG_REDIS_ERROR_REPLY with Redis's text. */
  run (redis, &r, "LPUSH", "k", "x", NULL);
  g_assert_error (r.error, VG_REDIS_ERROR, VG_REDIS_ERROR_REPLY);
  g_assert_true (g_str_has_prefix (r.error->message, "WRONGTYPE"));
  g_assert_cmpuint (r.calls, ==, 1);

  /* The inline form, and many commands in flight at once, answered in order. */
  Result many[50] = { 0 };
  for (int i = 0; i < 50; i++)
    vg_redis_commandv (redis, on_reply, &many[i], NULL, "INCR", "counter", NULL);
  g_assert_true (vg_test_wait_flag (&many[49].done, 5000));
  for (int i = 0; i < 50; i++)
    {
      g_assert_cmpint (many[i].integer, ==, i + 1);
      result_clear (&many[i]);
    }
  result_clear (&r);
  vg_redis_free (redis);
  vg_test_redis_free (srv);
}

static void
test_eval_noscript (void)
{
  VgTestRedis *srv = vg_test_redis_start (NULL);
  VgRedis *redis = connect_up (srv->url, NULL);
  VgRedisScript *script
      = vg_redis_script_new ("return redis.call('INCRBY', KEYS[1], ARGV[1]) * tonumber(ARGV[2])");
  const char *keys[] = { "e" };
  const char *args[] = { "5", "10" };
  Result r = { 0 };

  g_assert_cmpuint (strlen (vg_redis_script_sha1 (script)), ==, 40);
  /* Not loaded yet: EVALSHA answers NOSCRIPT, the client falls back to EVAL. */
  vg_redis_eval (redis, script, 1, keys, 2, args, on_reply, &r, NULL);
  g_assert_true (vg_test_wait_flag (&r.done, 5000));
  g_assert_no_error (r.error);
  g_assert_cmpint (r.integer, ==, 50);
  g_assert_cmpuint (r.calls, ==, 1);
  /* Loaded now: EVALSHA alone. */
  result_clear (&r);
  vg_redis_eval (redis, script, 1, keys, 2, args, on_reply, &r, NULL);
  g_assert_true (vg_test_wait_flag (&r.done, 5000));
  g_assert_cmpint (r.integer, ==, 100);
  /* After SCRIPT FLUSH (as after a restart) the fallback again. */
  run (redis, &r, "SCRIPT", "FLUSH", NULL);
  result_clear (&r);
  vg_redis_eval (redis, script, 1, keys, 2, args, on_reply, &r, NULL);
  g_assert_true (vg_test_wait_flag (&r.done, 5000));
  g_assert_cmpint (r.integer, ==, 150);
  /* Redis counted two EVALs (the fallbacks) and three EVALSHAs. */
  run (redis, &r, "INFO", "commandstats", NULL);
  g_assert_nonnull (strstr (r.str, "cmdstat_eval:calls=2,"));
  g_assert_nonnull (strstr (r.str, "cmdstat_evalsha:calls=3,"));
  /* A script error is a reply error, once. */
  VgRedisScript *bad = vg_redis_script_new ("return redis.call('NOSUCHCOMMAND')");
  result_clear (&r);
  vg_redis_eval (redis, bad, 0, NULL, 0, NULL, on_reply, &r, NULL);
  g_assert_true (vg_test_wait_flag (&r.done, 5000));
  g_assert_error (r.error, VG_REDIS_ERROR, VG_REDIS_ERROR_REPLY);
  g_assert_cmpuint (r.calls, ==, 1);
  result_clear (&r);
  vg_redis_free (redis);
  vg_redis_script_free (script);
  vg_redis_script_free (bad);
  vg_test_redis_free (srv);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/redis/commands", test_commands);
  g_test_add_func ("/redis/eval-noscript-fallback", test_eval_noscript);
  return g_test_run ();
}
