/* See redis-client.h. Everything here runs on redis->ctx's thread.
 *
 * Ownership: a Pending belongs to hiredis once handed to it (hiredis calls
 * reply_cb exactly once for it, with a reply or with NULL when the connection
 * is freed), otherwise to whoever completes it. A Pending that timed out stays
 * allocated, completed (done), until hiredis hands it back. */
#include "gateway/cache/redis-client.h"
#include "gateway/cache/redis-reply-bounds.h"
#include "gateway/cache/redis-source.h"

#include <gio/gio.h>
#include <hiredis/async.h>
#include <stdarg.h>
#include <string.h>

G_DEFINE_QUARK (vg - redis - error - quark, vg_redis_error)

typedef enum
{
  STATE_DOWN,       /* no connection; a reconnect is scheduled */
  STATE_CONNECTING, /* resolving, connecting, or in AUTH/SELECT */
  STATE_UP,
} State;

typedef struct
{
  guint id;
  VgRedisStateFunc func;
  gpointer user_data;
  GDestroyNotify notify;
} StateHandler;

struct _VgRedisScript
{
  char *source;
  char sha1[41];
};

typedef struct _Pending Pending;

struct _VgRedis
{
  GMainContext *ctx;
  VgRedisOptions opts;

  /* From the URL. */
  char *host; /* NULL for a unix socket */
  int port;
  char *socket_path;
  char *user;
  char *password;
  guint db;
  char *display_url;

  State state;
  gboolean was_up; /* the state handlers have seen "up" since the last "down" */
  redisAsyncContext *ac;
  VgRedisReplyBounds bounds; /* the reader's of ac (its privdata): reset per connection */
  GCancellable *resolve_cancel;
  GPtrArray *addrs; /* the host's resolved addresses (strings), tried in turn */
  guint addr_index; /* the one being tried, or to try next */
  GSource *connect_timer;
  GSource *reconnect_timer;
  guint attempts; /* failed connects since the last success (backoff) */
  char *last_error;

  GHashTable *pending; /* Pending* not yet completed: freed on vg_redis_free */
  GArray *handlers;    /* StateHandler */
  guint next_handler_id;

  VgMetric *m_up, *m_commands, *m_seconds, *m_connects;
};

struct _Pending
{
  VgRedis *redis; /* NULL once the client is freed with this in hiredis's hands */
  VgRedisReplyFunc callback;
  gpointer user_data;
  GDestroyNotify notify;
  gint64 start_us;
  GSource *timer;
  gboolean done;
  gboolean internal;    /* AUTH/SELECT/PING of the handshake: not counted in metrics */
  gboolean queued_down; /* waiting on an idle to fail as DOWN (not in hiredis's hands) */
  gboolean refused;     /* a push command (SUBSCRIBE...): fails as REPLY, never sent */
  /* EVALSHA: what is needed to resend as EVAL on NOSCRIPT. */
  const VgRedisScript *script;
  GPtrArray *eval_args; /* keys count, keys, args (owned strings) */
};

static void connect_now (VgRedis *redis);
static void drop_connection (VgRedis *redis, const char *why);

/* ---------- completion ---------- */

static void
count_result (VgRedis *redis, Pending *p, const char *result)
{
  if (!redis || p->internal || !redis->m_commands)
    return;
  const char *labels[] = { result, NULL };
  vg_metric_add (redis->m_commands, labels, 1);
  /* Round trips only: a failure's time is the timeout or nothing. */
  if (g_str_equal (result, "ok") || g_str_equal (result, "reply_error"))
    vg_metric_observe (redis->m_seconds, NULL,
                       (g_get_monotonic_time () - p->start_us) / (double)G_USEC_PER_SEC);
}

static void
pending_free (Pending *p)
{
  if (p->timer)
    {
      g_source_destroy (p->timer);
      g_source_unref (p->timer);
    }
  if (p->eval_args)
    g_ptr_array_unref (p->eval_args);
  g_free (p);
}

/* Runs the caller's callback once; the Pending stays allocated if hiredis
 * still holds it (owned_by_hiredis), else it is freed. */
static void
complete (Pending *p, const redisReply *reply, const GError *error, const char *result,
          gboolean owned_by_hiredis)
{
  VgRedis *redis = p->redis;

  g_assert (!p->done);
  p->done = TRUE;
  if (p->timer)
    {
      g_source_destroy (p->timer);
      g_clear_pointer (&p->timer, g_source_unref);
    }
  if (redis)
    g_hash_table_remove (redis->pending, p);
  count_result (redis, p, result);
  if (p->callback)
    p->callback (redis, reply, error, p->user_data);
  if (p->notify)
    p->notify (p->user_data);
  p->callback = NULL;
  p->notify = NULL;
  if (!owned_by_hiredis)
    pending_free (p);
}

static void complete_error (Pending *p, VgRedisError code, const char *result,
                            gboolean owned_by_hiredis, const char *format, ...)
    G_GNUC_PRINTF (5, 6);

static void
complete_error (Pending *p, VgRedisError code, const char *result, gboolean owned_by_hiredis,
                const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autoptr (GError) error = g_error_new_valist (VG_REDIS_ERROR, code, format, ap);
  va_end (ap);
  complete (p, NULL, error, result, owned_by_hiredis);
}

/* ---------- sending ---------- */

static gboolean send_pending (VgRedis *redis, Pending *p, int argc, const char **argv,
                              const size_t *argvlen);

static void
resend_as_eval (VgRedis *redis, Pending *p)
{
  GPtrArray *a = p->eval_args;
  const char **argv = g_new (const char *, a->len + 2);

  argv[0] = "EVAL";
  argv[1] = p->script->source;
  for (guint i = 0; i < a->len; i++)
    argv[i + 2] = a->pdata[i];
  p->script = NULL; /* a second NOSCRIPT is an error, not a loop */
  send_pending (redis, p, a->len + 2, argv, NULL);
  g_free (argv);
}

/* Why ac failed, or NULL: a refused reply fails hiredis's reader as "Out of
 * memory" (redis-reply-bounds.h), so the refusal, when there is one, is the
 * reason. */
static const char *
connection_error (VgRedis *redis, const redisAsyncContext *ac)
{
  const char *refused = vg_redis_reply_bounds_refusal (&redis->bounds);

  if (refused)
    return refused;
  return ac->errstr[0] ? ac->errstr : NULL;
}

static void
reply_cb (redisAsyncContext *ac, void *r, void *privdata)
{
  Pending *p = privdata;
  redisReply *reply = r;

  if (p->done)
    {
      pending_free (p);
      return;
    }
  if (!p->redis)
    {
      complete_error (p, VG_REDIS_ERROR_CLOSED, "closed", FALSE, "Redis client closed");
      return;
    }
  if (!reply)
    {
      /* hiredis is freeing a connection it lost: go down before the first
       * LOST callback runs, so nothing is sent on the dying connection. */
      const char *why = connection_error (p->redis, ac);
      if (p->redis->ac == ac)
        {
          p->redis->ac = NULL;
          drop_connection (p->redis, why ? why : "server closed the connection");
        }
      complete_error (p, VG_REDIS_ERROR_LOST, "lost", FALSE, "connection to Redis lost%s%s",
                      why ? ": " : "", why ? why : "");
      return;
    }
  if (reply->type == REDIS_REPLY_ERROR)
    {
      if (p->script && reply->str && g_str_has_prefix (reply->str, "NOSCRIPT"))
        {
          /* This Pending goes back to hiredis with the EVAL: hiredis frees the
           * reply, not the Pending. */
          g_hash_table_remove (p->redis->pending, p);
          if (p->timer)
            {
              g_source_destroy (p->timer);
              g_clear_pointer (&p->timer, g_source_unref);
            }
          resend_as_eval (p->redis, p);
          return;
        }
      complete_error (p, VG_REDIS_ERROR_REPLY, "reply_error", FALSE, "%.*s",
                      (int)MIN (reply->len, 512), reply->str ? reply->str : "");
      return;
    }
  complete (p, reply, NULL, "ok", FALSE);
}

static gboolean
command_timeout_cb (gpointer data)
{
  Pending *p = data;
  VgRedis *redis = p->redis;

  /* Stays allocated: hiredis still holds it and hands it back when the
   * connection is freed below. */
  complete_error (p, VG_REDIS_ERROR_TIMEOUT, "timeout", TRUE, "Redis did not answer within %u ms",
                  redis->opts.command_timeout_ms);
  drop_connection (redis, "command timeout");
  return G_SOURCE_REMOVE;
}

/* Hands p to hiredis; on failure completes it with an error (from here: the
 * callers are never inside a user call that expects no re-entry, see
 * vg_redis_command, which checks the state first). */
static gboolean
send_pending (VgRedis *redis, Pending *p, int argc, const char **argv, const size_t *argvlen)
{
  if (!redis->ac || redisAsyncCommandArgv (redis->ac, reply_cb, p, argc, argv, argvlen) != REDIS_OK)
    {
      complete_error (p, VG_REDIS_ERROR_LOST, "lost", FALSE, "connection to Redis lost");
      return FALSE;
    }
  g_hash_table_add (redis->pending, p);
  p->timer = g_timeout_source_new (redis->opts.command_timeout_ms);
  g_source_set_callback (p->timer, command_timeout_cb, p, NULL);
  g_source_attach (p->timer, redis->ctx);
  return TRUE;
}

static Pending *
pending_new (VgRedis *redis, VgRedisReplyFunc callback, gpointer user_data, GDestroyNotify notify)
{
  Pending *p = g_new0 (Pending, 1);
  p->redis = redis;
  p->callback = callback;
  p->user_data = user_data;
  p->notify = notify;
  p->start_us = g_get_monotonic_time ();
  return p;
}

static gboolean
fail_down_idle (gpointer data)
{
  Pending *p = data;
  VgRedis *redis = p->redis;

  g_hash_table_remove (redis->pending, p);
  if (p->refused)
    complete_error (p, VG_REDIS_ERROR_REPLY, "refused", FALSE,
                    "subscriptions and MONITOR are not supported by this client");
  else
    complete_error (p, VG_REDIS_ERROR_DOWN, "down", FALSE, "Redis is down%s%s",
                    redis->last_error ? ": " : "", redis->last_error ? redis->last_error : "");
  return G_SOURCE_REMOVE;
}

/* Commands answered more than once (pushes), which the one-callback model
 * (and hiredis's reuse of the callback) cannot serve. */
static gboolean
is_push_command (const char *name, size_t len)
{
  static const char *const push[] = { "subscribe",    "psubscribe",   "ssubscribe", "unsubscribe",
                                      "punsubscribe", "sunsubscribe", "monitor",    NULL };
  for (guint i = 0; push[i]; i++)
    if (strlen (push[i]) == len && g_ascii_strncasecmp (name, push[i], len) == 0)
      return TRUE;
  return FALSE;
}

/* While down, the error is delivered from an idle so the callback never runs
 * inside the caller's call. */
static void
fail_down_later (VgRedis *redis, Pending *p)
{
  g_hash_table_add (redis->pending, p);
  p->queued_down = TRUE;
  p->timer = g_idle_source_new ();
  g_source_set_callback (p->timer, fail_down_idle, p, NULL);
  g_source_attach (p->timer, redis->ctx);
}

void
vg_redis_command (VgRedis *redis, VgRedisReplyFunc callback, gpointer user_data,
                  GDestroyNotify notify, int argc, const char *const *argv, const size_t *argvlen)
{
  Pending *p;

  g_return_if_fail (argc > 0);
  p = pending_new (redis, callback, user_data, notify);
  p->refused = is_push_command (argv[0], argvlen ? argvlen[0] : strlen (argv[0]));
  if (redis->state != STATE_UP || p->refused)
    fail_down_later (redis, p);
  else
    send_pending (redis, p, argc, (const char **)argv, argvlen);
}

void
vg_redis_commandv (VgRedis *redis, VgRedisReplyFunc callback, gpointer user_data,
                   GDestroyNotify notify, const char *first_arg, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  va_list ap;

  va_start (ap, first_arg);
  for (const char *a = first_arg; a; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (gpointer)a);
  va_end (ap);
  vg_redis_command (redis, callback, user_data, notify, argv->len, (const char *const *)argv->pdata,
                    NULL);
}

/* ---------- scripts ---------- */

VgRedisScript *
vg_redis_script_new (const char *source)
{
  VgRedisScript *s = g_new0 (VgRedisScript, 1);
  g_autofree char *sha = g_compute_checksum_for_string (G_CHECKSUM_SHA1, source, -1);

  s->source = g_strdup (source);
  g_strlcpy (s->sha1, sha, sizeof s->sha1);
  return s;
}

void
vg_redis_script_free (VgRedisScript *script)
{
  if (!script)
    return;
  g_free (script->source);
  g_free (script);
}

const char *
vg_redis_script_sha1 (const VgRedisScript *script)
{
  return script->sha1;
}

void
vg_redis_eval (VgRedis *redis, const VgRedisScript *script, guint nkeys, const char *const *keys,
               guint nargs, const char *const *args, VgRedisReplyFunc callback, gpointer user_data,
               GDestroyNotify notify)
{
  Pending *p = pending_new (redis, callback, user_data, notify);
  GPtrArray *a = g_ptr_array_new_with_free_func (g_free);
  const char **argv;

  if (redis->state != STATE_UP)
    {
      g_ptr_array_unref (a);
      fail_down_later (redis, p);
      return;
    }
  g_ptr_array_add (a, g_strdup_printf ("%u", nkeys));
  for (guint i = 0; i < nkeys; i++)
    g_ptr_array_add (a, g_strdup (keys[i]));
  for (guint i = 0; i < nargs; i++)
    g_ptr_array_add (a, g_strdup (args[i]));
  p->script = script;
  p->eval_args = a;
  argv = g_new (const char *, a->len + 2);
  argv[0] = "EVALSHA";
  argv[1] = script->sha1;
  for (guint i = 0; i < a->len; i++)
    argv[i + 2] = a->pdata[i];
  send_pending (redis, p, a->len + 2, argv, NULL);
  g_free (argv);
}

/* ---------- connection ---------- */

static void
set_last_error (VgRedis *redis, const char *why)
{
  g_free (redis->last_error);
  redis->last_error = why ? g_strdup (why) : NULL;
}

static void
notify_state (VgRedis *redis, gboolean up)
{
  if (redis->m_up)
    vg_metric_set (redis->m_up, NULL, up ? 1 : 0);
  /* By id: a handler may add or remove handlers (its own included). */
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < redis->handlers->len; i++)
    g_array_append_val (ids, g_array_index (redis->handlers, StateHandler, i).id);
  for (guint i = 0; i < ids->len; i++)
    for (guint j = 0; j < redis->handlers->len; j++)
      {
        StateHandler h = g_array_index (redis->handlers, StateHandler, j);
        if (h.id == g_array_index (ids, guint, i))
          {
            h.func (redis, up, h.user_data);
            break;
          }
      }
}

static gboolean
reconnect_cb (gpointer data)
{
  VgRedis *redis = data;
  g_clear_pointer (&redis->reconnect_timer, g_source_unref);
  connect_now (redis);
  return G_SOURCE_REMOVE;
}

static void
schedule_reconnect (VgRedis *redis)
{
  guint64 delay = redis->opts.backoff_min_ms;

  for (guint i = 0; i < redis->attempts && delay < redis->opts.backoff_max_ms; i++)
    delay *= 2;
  delay = MIN (delay, redis->opts.backoff_max_ms);
  /* Up to 20% less, so nodes that lost Redis together do not reconnect in step. */
  delay -= g_random_int_range (0, (gint32)(delay / 5) + 1);
  redis->attempts++;
  if (redis->reconnect_timer)
    {
      g_source_destroy (redis->reconnect_timer);
      g_source_unref (redis->reconnect_timer);
    }
  redis->reconnect_timer = g_timeout_source_new (delay);
  g_source_set_callback (redis->reconnect_timer, reconnect_cb, redis, NULL);
  g_source_attach (redis->reconnect_timer, redis->ctx);
}

static void
stop_connect_timer (VgRedis *redis)
{
  if (redis->connect_timer)
    {
      g_source_destroy (redis->connect_timer);
      g_clear_pointer (&redis->connect_timer, g_source_unref);
    }
}

/* Enters DOWN: frees the connection (its pending commands complete with
 * LOST), tells the handlers if it had been up, and schedules a reconnect. */
static void
drop_connection (VgRedis *redis, const char *why)
{
  redisAsyncContext *ac = redis->ac;
  gboolean was_up = redis->state == STATE_UP;

  /* A connect that failed moves on to the host's next address (a name like
   * localhost may resolve to ::1 first while Redis listens on 127.0.0.1);
   * after the last one, the name is resolved again. */
  if (!was_up && redis->addrs && ++redis->addr_index >= redis->addrs->len)
    g_clear_pointer (&redis->addrs, g_ptr_array_unref);
  redis->ac = NULL;
  redis->state = STATE_DOWN;
  stop_connect_timer (redis);
  g_cancellable_cancel (redis->resolve_cancel);
  g_clear_object (&redis->resolve_cancel);
  set_last_error (redis, why);
  if (ac)
    {
      ac->data = NULL; /* the disconnect callback then knows it is us */
      redisAsyncFree (ac);
    }
  if (was_up)
    {
      g_warning ("redis: connection to %s lost: %s", redis->display_url, why);
      notify_state (redis, FALSE);
    }
  else if (redis->m_connects)
    {
      const char *labels[] = { "failed", NULL };
      vg_metric_add (redis->m_connects, labels, 1);
    }
  schedule_reconnect (redis);
}

static void
disconnect_cb (const redisAsyncContext *ac, int status)
{
  VgRedis *redis = ac->data;

  /* hiredis frees ac after this returns. */
  if (!redis || redis->ac != ac)
    return;
  const char *why = connection_error (redis, ac);
  redis->ac = NULL;
  drop_connection (redis, why ? why : "server closed the connection");
}

static void
handshake_cb (VgRedis *redis, const redisReply *reply, const GError *error, gpointer user_data)
{
  const char *step = user_data;

  if (!redis || redis->state != STATE_CONNECTING)
    return;
  if (error)
    {
      /* Redis's message, never the password. */
      g_autofree char *why = g_strdup_printf ("%s failed: %s", step, error->message);
      drop_connection (redis, why);
      return;
    }
  if (strcmp (step, "last") != 0)
    return;
  stop_connect_timer (redis);
  redis->state = STATE_UP;
  redis->attempts = 0;
  set_last_error (redis, NULL);
  if (redis->m_connects)
    {
      const char *labels[] = { "ok", NULL };
      vg_metric_add (redis->m_connects, labels, 1);
    }
  g_message ("redis: connected to %s", redis->display_url);
  notify_state (redis, TRUE);
}

static void
send_internal (VgRedis *redis, const char *step, int argc, const char **argv)
{
  Pending *p = pending_new (redis, handshake_cb, (gpointer)step, NULL);
  p->internal = TRUE;
  send_pending (redis, p, argc, argv, NULL);
}

static void
connect_cb (const redisAsyncContext *ac, int status)
{
  VgRedis *redis = ac->data;

  if (!redis || redis->ac != ac)
    return;
  if (status != REDIS_OK)
    {
      /* hiredis frees ac after this returns. */
      redis->ac = NULL;
      drop_connection (redis, ac->errstr[0] ? ac->errstr : "connect failed");
      return;
    }
  /* AUTH and SELECT pipelined, then a PING whose answer marks the end. */
  if (redis->password)
    {
      const char *auth_user[] = { "AUTH", redis->user, redis->password };
      const char *auth[] = { "AUTH", redis->password };
      if (redis->user && *redis->user)
        send_internal (redis, "AUTH", 3, auth_user);
      else
        send_internal (redis, "AUTH", 2, auth);
    }
  if (redis->db != 0)
    {
      char db[16];
      g_snprintf (db, sizeof db, "%u", redis->db);
      const char *select[] = { "SELECT", db };
      send_internal (redis, "SELECT", 2, select);
    }
  const char *ping[] = { "PING" };
  send_internal (redis, "last", 1, ping);
}

static void
after_read (redisAsyncContext *ac, gpointer user_data)
{
  VgRedis *redis = user_data;
  redisReader *r = ac->c.reader;

  if (redis->ac != ac || !r)
    return;
  if (!vg_redis_reply_bounds_check_pending (r, &redis->bounds))
    drop_connection (redis, vg_redis_reply_bounds_refusal (&redis->bounds));
  else if (r->len - r->pos > redis->opts.max_reply_bytes)
    drop_connection (redis, "reply larger than the bound (max_reply_bytes)");
}

static gboolean
connect_timeout_cb (gpointer data)
{
  VgRedis *redis = data;
  g_clear_pointer (&redis->connect_timer, g_source_unref);
  drop_connection (redis, "connect timeout");
  return G_SOURCE_REMOVE;
}

static void
start_connection (VgRedis *redis, const char *ip)
{
  redisAsyncContext *ac
      = ip ? redisAsyncConnect (ip, redis->port) : redisAsyncConnectUnix (redis->socket_path);

  redis->bounds.refused[0] = '\0'; /* the last connection's refusal is history */

  if (!ac || ac->err)
    {
      g_autofree char *why = g_strdup (ac ? ac->errstr : "out of memory");
      if (ac)
        redisAsyncFree (ac);
      drop_connection (redis, why);
      return;
    }
  /* Before anything is read: hiredis would allocate whatever a reply
   * declares (redis-reply-bounds.h). */
  vg_redis_reply_bounds_install (ac->c.reader, &redis->bounds, VG_REDIS_REPLY_MAX_ELEMENTS,
                                 redis->opts.max_reply_bytes);
  ac->data = redis;
  redis->ac = ac;
  vg_redis_source_attach (ac, redis->ctx, after_read, redis);
  /* After attaching: setting it arms the write watch that detects the
   * completed connect. */
  redisAsyncSetConnectCallback (ac, connect_cb);
  redisAsyncSetDisconnectCallback (ac, disconnect_cb);
}

static void
resolved_cb (GObject *source, GAsyncResult *res, gpointer data)
{
  VgRedis *redis = data;
  g_autoptr (GError) error = NULL;
  GList *addrs = g_resolver_lookup_by_name_finish (G_RESOLVER (source), res, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* redis may be gone */
  g_clear_object (&redis->resolve_cancel);
  if (!addrs)
    {
      g_autofree char *why = g_strdup_printf ("cannot resolve %s: %s", redis->host, error->message);
      drop_connection (redis, why);
      return;
    }
  redis->addrs = g_ptr_array_new_with_free_func (g_free);
  for (GList *l = addrs; l; l = l->next)
    g_ptr_array_add (redis->addrs, g_inet_address_to_string (l->data));
  g_resolver_free_addresses (addrs);
  redis->addr_index = 0;
  start_connection (redis, redis->addrs->pdata[0]);
}

static void
connect_now (VgRedis *redis)
{
  redis->state = STATE_CONNECTING;
  redis->connect_timer = g_timeout_source_new (redis->opts.connect_timeout_ms);
  g_source_set_callback (redis->connect_timer, connect_timeout_cb, redis, NULL);
  g_source_attach (redis->connect_timer, redis->ctx);
  if (!redis->host)
    start_connection (redis, NULL);
  else if (g_hostname_is_ip_address (redis->host))
    start_connection (redis, redis->host);
  else if (redis->addrs)
    start_connection (redis, redis->addrs->pdata[redis->addr_index]);
  else
    {
      /* hiredis would call getaddrinfo on this thread. */
      g_autoptr (GResolver) resolver = g_resolver_get_default ();
      redis->resolve_cancel = g_cancellable_new ();
      g_main_context_push_thread_default (redis->ctx);
      g_resolver_lookup_by_name_async (resolver, redis->host, redis->resolve_cancel, resolved_cb,
                                       redis);
      g_main_context_pop_thread_default (redis->ctx);
    }
}

/* ---------- URL ---------- */

static gboolean
parse_db (const char *text, guint *db, GError **error)
{
  guint64 v;

  if (!text || !*text)
    return TRUE;
  if (!g_ascii_string_to_unsigned (text, 10, 0, 1000000, &v, NULL))
    {
      g_set_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_URL,
                   "[cache] url: database must be a number, not \"%s\"", text);
      return FALSE;
    }
  *db = (guint)v;
  return TRUE;
}

static gboolean
parse_url (VgRedis *redis, const char *url, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) uri_error = NULL;

  if (g_str_has_prefix (url, "rediss://"))
    {
      g_set_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_URL,
                   "[cache] url: rediss:// (TLS) is not supported: hiredis 0.14 has no TLS; "
                   "use redis:// on a private network or a TLS tunnel (stunnel, spiped)");
      return FALSE;
    }
  if (g_str_has_prefix (url, "unix:") && !g_str_has_prefix (url, "unix://"))
    {
      /* unix:/path */
      const char *path = url + strlen ("unix:");
      const char *q = strchr (path, '?');
      redis->socket_path = q ? g_strndup (path, q - path) : g_strdup (path);
      if (q && g_str_has_prefix (q, "?db=") && !parse_db (q + 4, &redis->db, error))
        return FALSE;
      redis->display_url = g_strdup (url);
      return *redis->socket_path != '\0';
    }
  uri = g_uri_parse (url, G_URI_FLAGS_HAS_PASSWORD, &uri_error);
  if (!uri)
    {
      g_set_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_URL, "[cache] url: not a valid URL");
      return FALSE;
    }
  if (g_strcmp0 (g_uri_get_scheme (uri), "unix") == 0)
    {
      const char *query = g_uri_get_query (uri);
      /* unix:///path, or unix://relative/path (host + path). */
      redis->socket_path = g_strconcat (g_uri_get_host (uri) ? g_uri_get_host (uri) : "",
                                        g_uri_get_path (uri), NULL);
      if (!*redis->socket_path)
        {
          g_set_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_URL, "[cache] url: no socket path");
          return FALSE;
        }
      if (query && g_str_has_prefix (query, "db=") && !parse_db (query + 3, &redis->db, error))
        return FALSE;
      redis->display_url = g_strdup_printf ("unix://%s", redis->socket_path);
      return TRUE;
    }
  if (g_strcmp0 (g_uri_get_scheme (uri), "redis") != 0)
    {
      g_set_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_URL,
                   "[cache] url: scheme must be redis:// or unix://");
      return FALSE;
    }
  if (!g_uri_get_host (uri) || !*g_uri_get_host (uri))
    {
      g_set_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_URL, "[cache] url: no host");
      return FALSE;
    }
  redis->host = g_strdup (g_uri_get_host (uri));
  redis->port = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 6379;
  redis->user = g_strdup (g_uri_get_user (uri));
  redis->password = g_strdup (g_uri_get_password (uri));
  if (redis->password && !*redis->password)
    g_clear_pointer (&redis->password, g_free);
  const char *path = g_uri_get_path (uri);
  if (path && *path == '/')
    path++;
  if (!parse_db (path, &redis->db, error))
    return FALSE;
  gboolean v6 = strchr (redis->host, ':') != NULL;
  redis->display_url
      = g_strdup_printf ("redis://%s%s%s%s:%d/%u", redis->password ? "***@" : "", v6 ? "[" : "",
                         redis->host, v6 ? "]" : "", redis->port, redis->db);
  return TRUE;
}

/* ---------- life cycle ---------- */

gboolean
vg_redis_check_url (const char *url, GError **error)
{
  VgRedis *redis = g_new0 (VgRedis, 1);
  gboolean ok;

  redis->pending = g_hash_table_new (NULL, NULL);
  redis->handlers = g_array_new (FALSE, FALSE, sizeof (StateHandler));
  ok = parse_url (redis, url, error);
  if (!ok && error && !*error)
    g_set_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_URL, "[cache] url: not a valid URL");
  vg_redis_free (redis);
  return ok;
}

VgRedis *
vg_redis_new (const char *url, GMainContext *ctx, GError **error)
{
  return vg_redis_new_full (url, ctx, NULL, error);
}

VgRedis *
vg_redis_new_full (const char *url, GMainContext *ctx, const VgRedisOptions *options,
                   GError **error)
{
  VgRedis *redis = g_new0 (VgRedis, 1);

  if (options)
    redis->opts = *options;
  if (!redis->opts.connect_timeout_ms)
    redis->opts.connect_timeout_ms = 2000;
  if (!redis->opts.command_timeout_ms)
    redis->opts.command_timeout_ms = 1000;
  if (!redis->opts.backoff_min_ms)
    redis->opts.backoff_min_ms = 100;
  if (!redis->opts.backoff_max_ms)
    redis->opts.backoff_max_ms = 5000;
  redis->opts.backoff_max_ms = MAX (redis->opts.backoff_max_ms, redis->opts.backoff_min_ms);
  if (!redis->opts.max_reply_bytes)
    redis->opts.max_reply_bytes = 64 * 1024 * 1024;
  redis->pending = g_hash_table_new (NULL, NULL);
  redis->handlers = g_array_new (FALSE, FALSE, sizeof (StateHandler));
  redis->next_handler_id = 1;
  if (!url || !parse_url (redis, url, error))
    {
      if (error && !*error)
        g_set_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_URL, "[cache] url: not a valid URL");
      vg_redis_free (redis);
      return NULL;
    }
  redis->ctx = g_main_context_ref (ctx ? ctx : g_main_context_ref_thread_default ());
  if (!ctx)
    g_main_context_unref (redis->ctx); /* ref_thread_default gave one already */
  connect_now (redis);
  return redis;
}

void
vg_redis_free (VgRedis *redis)
{
  if (!redis)
    return;
  stop_connect_timer (redis);
  if (redis->reconnect_timer)
    {
      g_source_destroy (redis->reconnect_timer);
      g_clear_pointer (&redis->reconnect_timer, g_source_unref);
    }
  g_cancellable_cancel (redis->resolve_cancel);
  g_clear_object (&redis->resolve_cancel);
  /* Pendings held by hiredis complete as CLOSED when the connection is freed
   * (reply_cb sees redis == NULL); the others (waiting to fail as DOWN) here. */
  GList *pending = g_hash_table_get_keys (redis->pending);
  GList *queued = NULL;
  for (GList *l = pending; l; l = l->next)
    {
      Pending *p = l->data;
      p->redis = NULL;
      if (p->queued_down)
        queued = g_list_prepend (queued, p);
    }
  g_list_free (pending);
  if (redis->ac)
    {
      redisAsyncContext *ac = redis->ac;
      redis->ac = NULL;
      ac->data = NULL;
      redisAsyncFree (ac);
    }
  for (GList *l = queued; l; l = l->next)
    complete_error (l->data, VG_REDIS_ERROR_CLOSED, "closed", FALSE, "Redis client closed");
  g_list_free (queued);
  for (guint i = 0; redis->handlers && i < redis->handlers->len; i++)
    {
      StateHandler *h = &g_array_index (redis->handlers, StateHandler, i);
      if (h->notify)
        h->notify (h->user_data);
    }
  g_clear_pointer (&redis->handlers, g_array_unref);
  g_clear_pointer (&redis->pending, g_hash_table_unref);
  if (redis->ctx)
    g_main_context_unref (redis->ctx);
  g_clear_pointer (&redis->addrs, g_ptr_array_unref);
  g_free (redis->host);
  g_free (redis->socket_path);
  g_free (redis->user);
  if (redis->password)
    memset (redis->password, 0, strlen (redis->password));
  g_free (redis->password);
  g_free (redis->display_url);
  g_free (redis->last_error);
  g_free (redis);
}

void
vg_redis_set_metrics (VgRedis *redis, VgMetrics *metrics)
{
  static const char *const result[] = { "result", NULL };

  redis->m_up = vg_metrics_register (metrics, VG_METRIC_GAUGE, "voxgate_redis_up",
                                     "1 when the Redis connection is up", NULL, NULL);
  redis->m_commands = vg_metrics_register (
      metrics, VG_METRIC_COUNTER, "voxgate_redis_commands_total",
      "Redis commands by result (ok, reply_error, timeout, lost, down, closed)", result, NULL);
  /* Finer than the default latency buckets at the low end: a Redis on the
   * same network answers in a fraction of a millisecond. */
  static const double buckets[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                    0.05,   0.1,     0.25,   0.5,   1,      2.5,   -1 };
  redis->m_seconds
      = vg_metrics_register (metrics, VG_METRIC_HISTOGRAM, "voxgate_redis_command_seconds",
                             "Redis command round trip, seconds", NULL, buckets);
  redis->m_connects
      = vg_metrics_register (metrics, VG_METRIC_COUNTER, "voxgate_redis_connects_total",
                             "Redis connection attempts by result (ok, failed)", result, NULL);
  vg_metric_set (redis->m_up, NULL, redis->state == STATE_UP ? 1 : 0);
}

gboolean
vg_redis_is_up (VgRedis *redis)
{
  return redis && redis->state == STATE_UP;
}

const char *
vg_redis_last_error (VgRedis *redis)
{
  return redis->state == STATE_UP ? NULL : redis->last_error ? redis->last_error : "connecting";
}

const char *
vg_redis_display_url (VgRedis *redis)
{
  return redis->display_url;
}

guint
vg_redis_add_state_handler (VgRedis *redis, VgRedisStateFunc func, gpointer user_data,
                            GDestroyNotify notify)
{
  StateHandler h = { redis->next_handler_id++, func, user_data, notify };
  g_array_append_val (redis->handlers, h);
  return h.id;
}

void
vg_redis_remove_state_handler (VgRedis *redis, guint id)
{
  for (guint i = 0; i < redis->handlers->len; i++)
    {
      StateHandler h = g_array_index (redis->handlers, StateHandler, i);
      if (h.id != id)
        continue;
      g_array_remove_index (redis->handlers, i);
      if (h.notify)
        h.notify (h.user_data);
      return;
    }
}

/* ---------- reply validation ---------- */

static const char *
type_name (int type)
{
  switch (type)
    {
      case REDIS_REPLY_STRING:
        return "string";
      case REDIS_REPLY_ARRAY:
        return "array";
      case REDIS_REPLY_INTEGER:
        return "integer";
      case REDIS_REPLY_NIL:
        return "nil";
      case REDIS_REPLY_STATUS:
        return "status";
      case REDIS_REPLY_ERROR:
        return "error";
      default:
        return "unknown";
    }
}

static gboolean
type_error (const redisReply *reply, const char *expected, const char *what, GError **error)
{
  g_set_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_TYPE, "%s: expected %s, got %s", what,
               expected, reply ? type_name (reply->type) : "no reply");
  return FALSE;
}

gboolean
vg_redis_reply_get_int (const redisReply *reply, gint64 min, gint64 max, gint64 *value,
                        const char *what, GError **error)
{
  gint64 v;

  if (reply && reply->type == REDIS_REPLY_INTEGER)
    v = reply->integer;
  else if (reply && (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS))
    {
      char buf[32];
      if (reply->len == 0 || reply->len >= sizeof buf || memchr (reply->str, 0, reply->len))
        return type_error (reply, "an integer", what, error);
      memcpy (buf, reply->str, reply->len);
      buf[reply->len] = '\0';
      if (!g_ascii_string_to_signed (buf, 10, G_MININT64, G_MAXINT64, &v, NULL))
        return type_error (reply, "an integer", what, error);
    }
  else
    return type_error (reply, "an integer", what, error);
  if (v < min || v > max)
    {
      g_set_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_TYPE,
                   "%s: %" G_GINT64_FORMAT " is outside [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                   "]",
                   what, v, min, max);
      return FALSE;
    }
  *value = v;
  return TRUE;
}

gboolean
vg_redis_reply_get_string (const redisReply *reply, gsize max_len, gboolean allow_nil,
                           const char **value, const char *what, GError **error)
{
  *value = NULL;
  if (reply && reply->type == REDIS_REPLY_NIL && allow_nil)
    return TRUE;
  if (!reply || (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_STATUS))
    return type_error (reply, "a string", what, error);
  if (reply->len > max_len)
    {
      g_set_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_TYPE,
                   "%s: %zu bytes, more than the %zu allowed", what, reply->len, max_len);
      return FALSE;
    }
  if (memchr (reply->str, 0, reply->len))
    {
      g_set_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_TYPE, "%s: contains a NUL byte", what);
      return FALSE;
    }
  *value = reply->str;
  return TRUE;
}

gboolean
vg_redis_reply_check_array (const redisReply *reply, gsize min_len, gsize max_len, const char *what,
                            GError **error)
{
  if (!reply || reply->type != REDIS_REPLY_ARRAY)
    return type_error (reply, "an array", what, error);
  if (reply->elements < min_len || reply->elements > max_len)
    {
      g_set_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_TYPE,
                   "%s: %zu elements, expected %zu to %zu", what, reply->elements, min_len,
                   max_len);
      return FALSE;
    }
  return TRUE;
}

gboolean
vg_redis_reply_check_status (const redisReply *reply, const char *expected, const char *what,
                             GError **error)
{
  if (!reply || reply->type != REDIS_REPLY_STATUS)
    return type_error (reply, "a status", what, error);
  if (reply->len != strlen (expected) || memcmp (reply->str, expected, reply->len) != 0)
    {
      g_set_error (error, VG_REDIS_ERROR, VG_REDIS_ERROR_TYPE, "%s: expected %s", what, expected);
      return FALSE;
    }
  return TRUE;
}
