/* The Redis client (gateway/cache/redis-client.h) against a real
 * redis-server (tests/cache/redis-fixture.h), and against a hostile server
 * in this file for replies a real Redis never sends. */
#include "gateway/cache/ratelimit-redis.h"
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

  /* Push commands (answered many times) are refused, not sent. */
  run (redis, &r, "subscribe", "chan", NULL);
  g_assert_error (r.error, VG_REDIS_ERROR, VG_REDIS_ERROR_REPLY);
  g_assert_cmpuint (r.calls, ==, 1);
  run (redis, &r, "PING", NULL);
  g_assert_cmpstr (r.str, ==, "PONG");

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

/* Down at start: commands fail with DOWN (from an idle, not inside the
 * call), the client keeps retrying and comes up once the server starts. */
static void
test_unreachable_then_up (void)
{
  guint16 port = vg_test_free_port ();
  g_autofree char *url = g_strdup_printf ("redis://127.0.0.1:%u", port);
  VgRedisOptions opts = { .backoff_min_ms = 20, .backoff_max_ms = 100 };
  g_autoptr (GError) error = NULL;
  VgRedis *redis = vg_redis_new_full (url, NULL, &opts, &error);
  g_autoptr (GArray) states = g_array_new (FALSE, FALSE, sizeof (gboolean));
  Result r = { 0 };

  g_assert_no_error (error);
  vg_redis_add_state_handler (redis, on_state, states, NULL);
  g_assert_false (vg_redis_is_up (redis));
  vg_redis_commandv (redis, on_reply, &r, NULL, "PING", NULL);
  g_assert_false (r.done); /* not from inside the call */
  g_assert_true (vg_test_wait_flag (&r.done, 2000));
  g_assert_error (r.error, VG_REDIS_ERROR, VG_REDIS_ERROR_DOWN);
  /* A few refused connects, then the server. */
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (10000), TRUE);
  g_assert_nonnull (vg_redis_last_error (redis));

  VgTestRedis *srv = g_new0 (VgTestRedis, 1);
  srv->port = port;
  srv->dir = g_dir_make_tmp ("vg-redis-XXXXXX", NULL);
  srv->url = g_strdup (url);
  vg_test_redis_restart (srv);
  g_assert_true (wait_until (is_up_now, redis, 5000));
  g_assert_cmpuint (states->len, ==, 1);
  g_assert_true (g_array_index (states, gboolean, 0));
  run (redis, &r, "PING", NULL);
  g_assert_cmpstr (r.str, ==, "PONG");
  result_clear (&r);
  vg_redis_free (redis);
  vg_test_redis_free (srv);
}

/* The server restarts: in-flight and new commands fail (LOST or DOWN, each
 * callback once), the handlers see down then up, commands work again. */
static void
test_reconnect_after_restart (void)
{
  VgTestRedis *srv = vg_test_redis_start (NULL);
  VgRedisOptions opts = { .backoff_min_ms = 20, .backoff_max_ms = 200 };
  VgRedis *redis = connect_up (srv->url, &opts);
  g_autoptr (GArray) states = g_array_new (FALSE, FALSE, sizeof (gboolean));
  Result r = { 0 };

  vg_redis_add_state_handler (redis, on_state, states, NULL);
  run (redis, &r, "SET", "before", "1", NULL);
  vg_test_redis_stop (srv);
  g_assert_true (wait_until (is_down_now, redis, 5000));
  run (redis, &r, "GET", "before", NULL);
  g_assert_error (r.error, VG_REDIS_ERROR, VG_REDIS_ERROR_DOWN);
  vg_test_redis_restart (srv);
  g_assert_true (wait_until (is_up_now, redis, 5000));
  g_assert_cmpuint (states->len, ==, 2);
  g_assert_false (g_array_index (states, gboolean, 0));
  g_assert_true (g_array_index (states, gboolean, 1));
  run (redis, &r, "PING", NULL);
  g_assert_cmpstr (r.str, ==, "PONG");

  /* Killed with commands in flight: each callback runs once, with LOST. */
  Result many[20] = { 0 };
  for (int i = 0; i < 20; i++)
    vg_redis_commandv (redis, on_reply, &many[i], NULL, "BLPOP", "nothing", "0", NULL);
  for (int i = 0; i < 5; i++)
    g_main_context_iteration (NULL, FALSE);
  vg_test_redis_stop (srv);
  for (int i = 0; i < 20; i++)
    {
      g_assert_true (vg_test_wait_flag (&many[i].done, 5000));
      g_assert_true (g_error_matches (many[i].error, VG_REDIS_ERROR, VG_REDIS_ERROR_LOST)
                     || g_error_matches (many[i].error, VG_REDIS_ERROR, VG_REDIS_ERROR_DOWN));
      g_assert_cmpuint (many[i].calls, ==, 1);
      result_clear (&many[i]);
    }
  result_clear (&r);
  vg_redis_free (redis);
  vg_test_redis_free (srv);
}

/* A server that hangs (SIGSTOP) with the connection open: the command fails
 * with TIMEOUT after command_timeout_ms, the client goes down, and comes back
 * once the server answers again. */
static void
test_timeout (void)
{
  VgTestRedis *srv = vg_test_redis_start (NULL);
  VgRedisOptions opts = { .command_timeout_ms = 300,
                          .connect_timeout_ms = 300,
                          .backoff_min_ms = 20,
                          .backoff_max_ms = 100 };
  VgRedis *redis = connect_up (srv->url, &opts);
  Result r = { 0 };

  vg_test_redis_pause (srv, TRUE);
  gint64 start = g_get_monotonic_time ();
  vg_redis_commandv (redis, on_reply, &r, NULL, "PING", NULL);
  g_assert_true (vg_test_wait_flag (&r.done, 5000));
  g_assert_error (r.error, VG_REDIS_ERROR, VG_REDIS_ERROR_TIMEOUT);
  g_assert_cmpint (r.done_us - start, >=, 290 * 1000);
  g_assert_cmpint (r.done_us - start, <, 2000 * 1000);
  g_assert_false (vg_redis_is_up (redis));
  /* Reconnects keep timing out while paused; nothing blocks the loop. */
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (10000), TRUE);
  g_assert_false (vg_redis_is_up (redis));
  vg_test_redis_pause (srv, FALSE);
  g_assert_true (wait_until (is_up_now, redis, 5000));
  run (redis, &r, "PING", NULL);
  g_assert_cmpstr (r.str, ==, "PONG");
  g_assert_cmpuint (r.calls, ==, 1);
  result_clear (&r);
  vg_redis_free (redis);
  vg_test_redis_free (srv);
}

/* AUTH with the URL's password and SELECT of its database; a wrong password
 * keeps the client down with a reason that does not carry the password. */
static void
test_auth_select (void)
{
  VgTestRedis *srv = vg_test_redis_start ("s3cret-pw");
  g_autofree char *db3 = g_strdup_printf ("redis://:s3cret-pw@localhost:%u/3", srv->port);
  g_autofree char *wrong = g_strdup_printf ("redis://:wrong-pw@127.0.0.1:%u/0", srv->port);
  VgRedis *redis = connect_up (db3, NULL); /* localhost: resolved with GResolver */
  VgRedis *other = connect_up (srv->url, NULL);
  Result r = { 0 };

  g_assert_null (strstr (vg_redis_display_url (redis), "s3cret"));
  g_autofree char *shown = g_strdup_printf ("redis://***@localhost:%u/3", srv->port);
  g_assert_cmpstr (vg_redis_display_url (redis), ==, shown);
  run (redis, &r, "SET", "where", "db3", NULL);
  run (other, &r, "GET", "where", NULL);
  g_assert_cmpint (r.type, ==, REDIS_REPLY_NIL);
  run (other, &r, "SELECT", "3", NULL);
  run (other, &r, "GET", "where", NULL);
  g_assert_cmpstr (r.str, ==, "db3");

  VgRedisOptions opts = { .backoff_min_ms = 50 };
  g_autoptr (GError) error = NULL;
  VgRedis *bad = vg_redis_new_full (wrong, NULL, &opts, &error);
  for (int i = 0; i < 30; i++)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (10000), TRUE);
  g_assert_false (vg_redis_is_up (bad));
  g_assert_nonnull (strstr (vg_redis_last_error (bad), "AUTH failed"));
  g_assert_null (strstr (vg_redis_last_error (bad), "wrong-pw"));
  result_clear (&r);
  vg_redis_free (bad);
  vg_redis_free (other);
  vg_redis_free (redis);
  vg_test_redis_free (srv);
}

static void
test_urls (void)
{
  static const char *const bad[] = { "rediss://h:6379", "http://h", "redis://", "redis://h/x",
                                     "redis://h/-1",    "unix://",  "nonsense", NULL };
  for (int i = 0; bad[i]; i++)
    {
      g_autoptr (GError) error = NULL;
      VgRedis *redis = vg_redis_new (bad[i], NULL, &error);
      g_assert_null (redis);
      g_assert_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_URL);
      g_clear_error (&error);
      g_assert_false (vg_redis_check_url (bad[i], &error));
      g_assert_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_URL);
      if (g_str_has_prefix (bad[i], "rediss"))
        g_assert_nonnull (strstr (error->message, "TLS"));
    }
  static const struct
  {
    const char *url, *display;
  } good[] = {
    { "redis://10.1.2.3", "redis://10.1.2.3:6379/0" },
    { "redis://:p%40ss@10.1.2.3:7000/2", "redis://***@10.1.2.3:7000/2" },
    { "redis://user:pw@[::1]:7001", "redis://***@[::1]:7001/0" },
    { "unix:///run/redis.sock?db=4", "unix:///run/redis.sock" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (vg_redis_check_url (good[i].url, &error));
      VgRedis *redis = vg_redis_new (good[i].url, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (vg_redis_display_url (redis), ==, good[i].display);
      vg_redis_free (redis);
    }
}

/* Over a unix socket, database from the query. */
static void
test_unix_socket (void)
{
  VgTestRedis *srv = vg_test_redis_start (NULL);
  g_autofree char *url = g_strdup_printf ("unix://%s/redis.sock?db=5", srv->dir);
  VgRedis *unix_client = connect_up (url, NULL);
  VgRedis *tcp = connect_up (srv->url, NULL);
  Result r = { 0 };

  run (unix_client, &r, "SET", "over", "unix", NULL);
  g_assert_no_error (r.error);
  run (tcp, &r, "SELECT", "5", NULL);
  run (tcp, &r, "GET", "over", NULL);
  g_assert_cmpstr (r.str, ==, "unix");
  result_clear (&r);
  vg_redis_free (tcp);
  vg_redis_free (unix_client);
  vg_test_redis_free (srv);
}

/* Validation helpers on real replies: a wrong type, an oversized value, a
 * number out of range are errors for that key. */
static void
test_reply_validation (void)
{
  VgTestRedis *srv = vg_test_redis_start (NULL);
  VgRedis *redis = connect_up (srv->url, NULL);
  g_autofree char *big = g_strnfill (100000, 'x');
  g_autoptr (GError) error = NULL;
  gint64 n = 0;
  const char *str = NULL;
  Result r = { 0 };

  /* The replies copied out of the callbacks are rebuilt as redisReply here. */
  run (redis, &r, "SET", "big", big, NULL);
  run (redis, &r, "GET", "big", NULL);
  redisReply fake = { .type = r.type, .str = r.str, .len = strlen (r.str) };
  g_assert_false (vg_redis_reply_get_string (&fake, 1024, FALSE, &str, "big", &error));
  g_assert_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_TYPE);
  g_assert_nonnull (strstr (error->message, "100000 bytes"));
  g_clear_error (&error);
  g_assert_true (vg_redis_reply_get_string (&fake, 100000, FALSE, &str, "big", &error));
  g_assert_false (vg_redis_reply_get_int (&fake, 0, 10, &n, "big", &error));
  g_clear_error (&error);

  run (redis, &r, "RPUSH", "list", "a", "b", "c", NULL);
  run (redis, &r, "LRANGE", "list", "0", "-1", NULL);
  redisReply arr = { .type = r.type, .elements = r.elements };
  g_assert_true (vg_redis_reply_check_array (&arr, 3, 3, "list", &error));
  g_assert_false (vg_redis_reply_check_array (&arr, 0, 2, "list", &error));
  g_clear_error (&error);
  g_assert_false (vg_redis_reply_get_string (&arr, 10, TRUE, &str, "list", &error));
  g_assert_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_TYPE);
  g_clear_error (&error);

  run (redis, &r, "SET", "num", "12345", NULL);
  redisReply ok = { .type = r.type, .str = r.str, .len = strlen (r.str) };
  g_assert_true (vg_redis_reply_check_status (&ok, "OK", "set", &error));
  run (redis, &r, "GET", "num", NULL);
  redisReply num = { .type = r.type, .str = r.str, .len = strlen (r.str) };
  g_assert_true (vg_redis_reply_get_int (&num, 0, 100000, &n, "num", &error));
  g_assert_cmpint (n, ==, 12345);
  g_assert_false (vg_redis_reply_get_int (&num, 0, 100, &n, "num", &error));
  g_clear_error (&error);
  run (redis, &r, "GET", "nothing", NULL);
  redisReply nil = { .type = r.type };
  g_assert_true (vg_redis_reply_get_string (&nil, 10, TRUE, &str, "nothing", &error));
  g_assert_null (str);
  g_assert_false (vg_redis_reply_get_string (&nil, 10, FALSE, &str, "nothing", &error));
  g_clear_error (&error);
  g_assert_false (vg_redis_reply_get_int (NULL, 0, 1, &n, "none", &error));
  g_clear_error (&error);
  result_clear (&r);
  vg_redis_free (redis);
  vg_test_redis_free (srv);
}

/* A state handler may remove another (its notify runs then, once) and itself. */
typedef struct
{
  VgRedis *redis;
  guint other_id, self_id;
  guint calls, other_calls, notified;
} HandlerCase;

static void
other_handler (VgRedis *redis, gboolean up, gpointer data)
{
  ((HandlerCase *)data)->other_calls++;
}

static void
handler_notify (gpointer data)
{
  ((HandlerCase *)data)->notified++;
}

static void
removing_handler (VgRedis *redis, gboolean up, gpointer data)
{
  HandlerCase *c = data;
  c->calls++;
  vg_redis_remove_state_handler (redis, c->other_id);
  vg_redis_remove_state_handler (redis, c->self_id);
}

static void
test_state_handler_removal (void)
{
  VgTestRedis *srv = vg_test_redis_start (NULL);
  g_autoptr (GError) error = NULL;
  HandlerCase c = { 0 };
  VgRedis *redis = vg_redis_new (srv->url, NULL, &error);

  c.self_id = vg_redis_add_state_handler (redis, removing_handler, &c, NULL);
  c.other_id = vg_redis_add_state_handler (redis, other_handler, &c, handler_notify);
  g_assert_true (wait_until (is_up_now, redis, 5000));
  g_assert_cmpuint (c.calls, ==, 1);
  g_assert_cmpuint (c.other_calls, ==, 0); /* removed before its turn */
  g_assert_cmpuint (c.notified, ==, 1);
  vg_redis_free (redis);
  g_assert_cmpuint (c.notified, ==, 1);
  vg_test_redis_free (srv);
}

/* Freeing the client fails what is pending, each callback once, CLOSED. */
static void
test_free_with_pending (void)
{
  VgTestRedis *srv = vg_test_redis_start (NULL);
  VgRedis *redis = connect_up (srv->url, NULL);
  Result r[3] = { 0 };

  vg_redis_commandv (redis, on_reply, &r[0], NULL, "BLPOP", "nothing", "0", NULL);
  vg_redis_commandv (redis, on_reply, &r[1], NULL, "BLPOP", "nothing", "0", NULL);
  for (int i = 0; i < 5; i++)
    g_main_context_iteration (NULL, FALSE);
  vg_redis_free (redis);
  for (int i = 0; i < 2; i++)
    {
      g_assert_true (r[i].done);
      g_assert_error (r[i].error, VG_REDIS_ERROR, VG_REDIS_ERROR_CLOSED);
      g_assert_cmpuint (r[i].calls, ==, 1);
      result_clear (&r[i]);
    }
  vg_test_redis_free (srv);
}

/* ---------- a hostile server: replies a real Redis never sends ---------- */

typedef struct
{
  GSocketService *service;
  guint16 port;
  GBytes *payload; /* sent after the handshake's PONG, on the next request */
  guint connections;
} Hostile;

typedef struct
{
  Hostile *h;
  GSocketConnection *conn;
  char buf[4096];
  gboolean ponged;
} HostileConn;

static void hostile_read (HostileConn *c);

static void
hostile_written (GObject *source, GAsyncResult *res, gpointer data)
{
  HostileConn *c = data;
  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL, NULL);
  hostile_read (c);
}

static void
hostile_got (GObject *source, GAsyncResult *res, gpointer data)
{
  HostileConn *c = data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, NULL);
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (c->conn));

  if (n <= 0)
    {
      g_io_stream_close (G_IO_STREAM (c->conn), NULL, NULL);
      g_object_unref (c->conn);
      g_free (c);
      return;
    }
  if (!c->ponged && g_strstr_len (c->buf, n, "PING"))
    {
      /* The handshake: AUTH (any password) when sent, then PING. */
      const char *answer = g_strstr_len (c->buf, n, "AUTH") ? "+OK\r\n+PONG\r\n" : "+PONG\r\n";
      c->ponged = TRUE;
      g_output_stream_write_all_async (out, answer, strlen (answer), G_PRIORITY_DEFAULT, NULL,
                                       hostile_written, c);
      return;
    }
  gsize len;
  const char *data_ = g_bytes_get_data (c->h->payload, &len);
  g_output_stream_write_all_async (out, data_, len, G_PRIORITY_DEFAULT, NULL, hostile_written, c);
}

static void
hostile_read (HostileConn *c)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (c->conn));
  g_input_stream_read_async (in, c->buf, sizeof c->buf, G_PRIORITY_DEFAULT, NULL, hostile_got, c);
}

static gboolean
hostile_incoming (GSocketService *service, GSocketConnection *conn, GObject *source, gpointer data)
{
  HostileConn *c = g_new0 (HostileConn, 1);
  c->h = data;
  c->h->connections++;
  c->conn = g_object_ref (conn);
  hostile_read (c);
  return TRUE;
}

static void
hostile_start (Hostile *h, GBytes *payload)
{
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;

  *h = (Hostile){ .payload = payload };
  h->service = g_socket_service_new ();
  g_assert_true (g_socket_listener_add_address (G_SOCKET_LISTENER (h->service), addr,
                                                G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                                &bound, &error));
  h->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_signal_connect (h->service, "incoming", G_CALLBACK (hostile_incoming), h);
  g_socket_service_start (h->service);
}

static void
hostile_stop (Hostile *h)
{
  g_socket_service_stop (h->service);
  g_socket_listener_close (G_SOCKET_LISTENER (h->service));
  g_object_unref (h->service);
  for (int i = 0; i < 10; i++)
    g_main_context_iteration (NULL, FALSE);
}

/* expected_code -1: a well-formed reply of the wrong type. expected_message:
 * a part of the error's message, or NULL. */
static void
hostile_case (GBytes *payload, int expected_code, const char *expected_message)
{
  Hostile h;
  g_autoptr (GError) error = NULL;

  hostile_start (&h, payload);
  g_autofree char *url = g_strdup_printf ("redis://127.0.0.1:%u", h.port);
  VgRedisOptions opts
      = { .max_reply_bytes = 1024 * 1024, .backoff_min_ms = 20, .command_timeout_ms = 3000 };
  VgRedis *redis = connect_up (url, &opts);
  Result r = { 0 };
  gint64 start = g_get_monotonic_time ();
  run (redis, &r, "GET", "k", NULL);
  if (expected_code == -1)
    {
      /* A well-formed reply of the wrong type: the client passes it on; the
       * validation helper turns it into an error for that key. */
      g_assert_no_error (r.error);
      redisReply fake = { .type = r.type, .integer = r.integer };
      const char *s;
      g_assert_false (vg_redis_reply_get_string (&fake, 100, TRUE, &s, "k", &error));
      g_assert_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_TYPE);
    }
  else
    {
      g_assert_error (r.error, VG_REDIS_ERROR, expected_code);
      /* Refused on what arrived, not after the command timeout. */
      g_assert_cmpint (r.done_us - start, <, 2000 * 1000);
    }
  if (expected_message)
    g_assert_nonnull (strstr (r.error->message, expected_message));
  g_assert_cmpuint (r.calls, ==, 1);
  /* The client stays usable: it reconnects (the server answers the
   * handshake again). */
  if (expected_code != -1)
    {
      g_assert_true (wait_until (is_up_now, redis, 5000));
      g_assert_cmpuint (h.connections, >=, 2);
    }
  result_clear (&r);
  vg_redis_free (redis);
  hostile_stop (&h);
}

static void
test_hostile_replies (void)
{
  /* A bulk string larger than max_reply_bytes: refused on its declared
   * length, before its bytes are read. */
  GString *huge = g_string_new ("$99999999\r\n");
  for (int i = 0; i < 2 * 1024 * 1024 / 64; i++)
    g_string_append (huge, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
  g_autoptr (GBytes) huge_bytes = g_string_free_to_bytes (huge);
  hostile_case (huge_bytes, VG_REDIS_ERROR_LOST, "bulk string declares 99999999 bytes");

  /* The same declared before any byte of it (a server that then stalls). */
  g_autoptr (GBytes) declared = g_bytes_new_static ("$2000000000\r\n", 13);
  hostile_case (declared, VG_REDIS_ERROR_LOST, "bulk string declares 2000000000 bytes");

  /* An array announcing two billion elements: refused before allocating
   * (hiredis alone would ask for 16 GB). */
  g_autoptr (GBytes) array = g_bytes_new_static ("*2000000000\r\n", 13);
  hostile_case (array, VG_REDIS_ERROR_LOST,
                "array of 2000000000 elements takes the reply past the bound");

  /* Arrays each under the bound whose element slots add up past it. */
  g_autoptr (GBytes) nested = g_bytes_new_static ("*3\r\n*1000000\r\n*1000000\r\n", 24);
  hostile_case (nested, VG_REDIS_ERROR_LOST,
                "array of 1000000 elements takes the reply past the bound");

  /* An array whose header is still arriving, already over the bound. */
  g_autoptr (GBytes) partial = g_bytes_new_static ("*99999999999", 12);
  hostile_case (partial, VG_REDIS_ERROR_LOST, "array declares 99999999999 elements");

  /* Nesting deeper than hiredis's reader allows. */
  g_autoptr (GBytes) deep = g_bytes_new_static (
      "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", 44);
  hostile_case (deep, VG_REDIS_ERROR_LOST, "nested multi bulk");

  /* Not the protocol at all. */
  g_autoptr (GBytes) garbage = g_bytes_new_static ("HTTP/1.1 400 Bad Request\r\n\r\n", 28);
  hostile_case (garbage, VG_REDIS_ERROR_LOST, "Protocol error");

  /* An integer where a string is expected. */
  g_autoptr (GBytes) wrong = g_bytes_new_static (":42\r\n", 5);
  hostile_case (wrong, -1, NULL);
}

/* While non-NULL, every log message is appended here too (main installs
 * the writer: structured logging has one writer per process). */
static GString *captured_log;

static GLogWriterOutput
capture_log (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  if (captured_log)
    for (gsize i = 0; i < n_fields; i++)
      if (g_str_equal (fields[i].key, "MESSAGE"))
        g_string_append_printf (captured_log, "%s\n", (const char *)fields[i].value);
  return g_log_writer_default (level, fields, n_fields, data);
}

static void
on_limit (gboolean allowed, guint retry_after_s, gpointer data)
{
  int *answer = data;
  *answer = allowed ? 1 : 0;
}

static gboolean
answered (gpointer data)
{
  return *(int *)data >= 0;
}

/* A refused reply to the rate limiter's script, from a server reached with a
 * password: the hit is answered by the in-process limiter, the warnings say
 * why without the password, and the client reconnects. */
static void
test_refused_reply_falls_back (void)
{
  Hostile h;
  g_autoptr (GBytes) array = g_bytes_new_static ("*2000000000\r\n", 13);

  hostile_start (&h, array);
  g_autofree char *url = g_strdup_printf ("redis://:s3cret-pw@127.0.0.1:%u", h.port);
  VgRedisOptions opts = { .backoff_min_ms = 20, .command_timeout_ms = 3000 };
  VgRedis *redis = connect_up (url, &opts);
  VgMetrics *metrics = vg_metrics_new ();
  VgRateLimiter *rl = vg_rate_limiter_new_redis (redis, 100, metrics);
  VgMetric *fallback = vg_metrics_register (metrics, VG_METRIC_COUNTER,
                                            "voxgate_rate_limit_fallback_total", "", NULL, NULL);

  captured_log = g_string_new (NULL);
  int answer = -1;
  vg_rate_limiter_hit (rl, "k", 5, 60, on_limit, &answer);
  g_assert_true (wait_until (answered, &answer, 2000));

  g_assert_cmpint (answer, ==, 1);
  g_assert_cmpfloat (vg_metric_get (fallback, NULL), ==, 1);
  g_assert_false (vg_rate_limiter_redis_is_shared (rl));
  g_assert_nonnull (
      strstr (captured_log->str, "array of 2000000000 elements takes the reply past the bound"));
  g_assert_nonnull (strstr (captured_log->str, "rate limits: not counted in Redis"));
  g_assert_null (strstr (captured_log->str, "s3cret-pw"));
  g_assert_true (wait_until (is_up_now, redis, 5000));
  g_assert_cmpuint (h.connections, >=, 2);

  g_string_free (g_steal_pointer (&captured_log), TRUE);
  vg_redis_free (redis);
  vg_rate_limiter_free (rl);
  vg_metrics_free (metrics);
  hostile_stop (&h);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* The client warns when a connection is lost, which these tests cause. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_log_set_writer_func (capture_log, NULL, NULL);
  g_test_add_func ("/redis/commands", test_commands);
  g_test_add_func ("/redis/eval-noscript-fallback", test_eval_noscript);
  g_test_add_func ("/redis/unreachable-then-up", test_unreachable_then_up);
  g_test_add_func ("/redis/reconnect-after-restart", test_reconnect_after_restart);
  g_test_add_func ("/redis/timeout", test_timeout);
  g_test_add_func ("/redis/auth-select", test_auth_select);
  g_test_add_func ("/redis/urls", test_urls);
  g_test_add_func ("/redis/unix-socket", test_unix_socket);
  g_test_add_func ("/redis/reply-validation", test_reply_validation);
  g_test_add_func ("/redis/free-with-pending", test_free_with_pending);
  g_test_add_func ("/redis/state-handler-removal", test_state_handler_removal);
  g_test_add_func ("/redis/hostile-replies", test_hostile_replies);
  g_test_add_func ("/redis/refused-reply-falls-back", test_refused_reply_falls_back);
  return g_test_run ();
}
