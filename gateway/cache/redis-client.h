/* An asynchronous Redis client on a GMainContext, built on hiredis's async
 * API with a GSource of its own (redis-source.c), so it never blocks the loop.
 *
 * Threading: every function here, and every callback it makes, runs on the
 * context given to vg_redis_new () (the main context in the gateway). The
 * client is not thread-safe.
 *
 * Connection: the client connects at creation and keeps reconnecting with a
 * bounded exponential backoff whenever the connection is lost, fails to come
 * up within connect_timeout_ms, or a command gets no reply within
 * command_timeout_ms (a Redis that does not answer in time is treated as
 * down: the connection is dropped and remade). A host name is resolved with
 * GResolver (hiredis would resolve it synchronously). After the TCP (or unix
 * socket) connection, AUTH and SELECT run before the client reports itself up.
 *
 * URLs: redis://[[user]:password@]host[:port][/db] (port 6379, db 0 by
 * default; a user name needs Redis >= 6 ACLs: AUTH user password), and
 * unix:///path/to/socket[?db=N] (unix://path also accepted). rediss:// is
 * refused: Debian 12's hiredis 0.14 has no TLS support.
 *
 * Commands: a command issued while the client is down fails at once (no
 * queueing while down), with VG_REDIS_ERROR_DOWN, delivered from an idle
 * source, never from inside the call. */
#pragma once

#include <glib.h>
#include <hiredis/hiredis.h>

#include "gateway/core/metrics.h"

G_BEGIN_DECLS

typedef struct _VgRedis VgRedis;
typedef struct _VgRedisScript VgRedisScript;

#define VG_REDIS_ERROR (vg_redis_error_quark ())
GQuark vg_redis_error_quark (void);

typedef enum
{
  VG_REDIS_ERROR_URL,     /* bad or unsupported URL (vg_redis_new) */
  VG_REDIS_ERROR_DOWN,    /* not connected when the command was issued */
  VG_REDIS_ERROR_LOST,    /* connection lost before the reply arrived */
  VG_REDIS_ERROR_TIMEOUT, /* no reply within command_timeout_ms */
  VG_REDIS_ERROR_REPLY,   /* Redis answered with an error reply; message = Redis's text */
  VG_REDIS_ERROR_TYPE,    /* reply of an unexpected type, size or value (validation helpers) */
  VG_REDIS_ERROR_CLOSED,  /* the client was freed with the command pending */
} VgRedisError;

typedef struct
{
  guint connect_timeout_ms; /* TCP connect + AUTH + SELECT; default 2000 */
  guint command_timeout_ms; /* per command; default 1000 */
  guint backoff_min_ms;     /* first reconnect delay; default 100 */
  guint backoff_max_ms;     /* reconnect delay bound (doubles up to it); default 5000 */
  gsize max_reply_bytes;    /* unread reply data beyond this drops the connection;
                             * default 64 MiB (a hostile or broken server) */
} VgRedisOptions;

/* Called exactly once per command, on the client's context: either reply is
 * non-NULL (never of type REDIS_REPLY_ERROR: those arrive as
 * VG_REDIS_ERROR_REPLY) or error is non-NULL. Both are owned by the client and
 * valid only during the call. The callback must not free the client. */
typedef void (*VgRedisReplyFunc) (VgRedis *redis, const redisReply *reply, const GError *error,
                                  gpointer user_data);

/* Called on each change of state: up = TRUE each time the connection is up
 * (after AUTH and SELECT; the place to re-register state), FALSE when it is
 * lost after having been up. Not called for the initial state. */
typedef void (*VgRedisStateFunc) (VgRedis *redis, gboolean up, gpointer user_data);

/* Parses url and starts connecting on ctx (NULL = the thread-default
 * context). Fails only on a bad URL; an unreachable server is not an error
 * (the client stays down and keeps retrying). options may be NULL (defaults);
 * zero fields take their default. */
VgRedis *vg_redis_new (const char *url, GMainContext *ctx, GError **error);
VgRedis *vg_redis_new_full (const char *url, GMainContext *ctx, const VgRedisOptions *options,
                            GError **error);

/* The same URL checks as vg_redis_new, without connecting (configuration
 * checks: a bad URL is a configuration error). */
gboolean vg_redis_check_url (const char *url, GError **error);

/* Fails pending commands with VG_REDIS_ERROR_CLOSED (their callbacks run
 * before this returns), then disconnects. Not from inside a callback. */
void vg_redis_free (VgRedis *redis);

/* Registers metrics in the existing registry: voxgate_redis_up,
 * voxgate_redis_commands_total{result}, voxgate_redis_command_seconds,
 * voxgate_redis_connects_total{result}. Optional; call once, early. */
void vg_redis_set_metrics (VgRedis *redis, VgMetrics *metrics);

gboolean vg_redis_is_up (VgRedis *redis);

/* A secret-free description of the last connection failure ("connection
 * refused", "timeout", "AUTH failed: ..."), or NULL while up. */
const char *vg_redis_last_error (VgRedis *redis);

/* The URL with any password replaced by "***", for logs. */
const char *vg_redis_display_url (VgRedis *redis);

/* Returns an id for vg_redis_remove_state_handler. notify (may be NULL) frees
 * user_data when the handler is removed or the client freed. */
guint vg_redis_add_state_handler (VgRedis *redis, VgRedisStateFunc func, gpointer user_data,
                                  GDestroyNotify notify);
void vg_redis_remove_state_handler (VgRedis *redis, guint id);

/* Sends one command: argc arguments argv[i] of argvlen[i] bytes (argvlen NULL
 * = NUL-terminated strings). callback may be NULL (fire and forget); notify
 * (may be NULL) runs on user_data after the callback. Commands answered more
 * than once (SUBSCRIBE and friends, MONITOR) are not supported: they fail
 * with VG_REDIS_ERROR_REPLY without being sent. */
void vg_redis_command (VgRedis *redis, VgRedisReplyFunc callback, gpointer user_data,
                       GDestroyNotify notify, int argc, const char *const *argv,
                       const size_t *argvlen);

/* The same with NUL-terminated arguments given inline, ending with NULL:
 * vg_redis_commandv (r, cb, data, NULL, "SET", key, value, "EX", "10", NULL). */
void vg_redis_commandv (VgRedis *redis, VgRedisReplyFunc callback, gpointer user_data,
                        GDestroyNotify notify, const char *first_arg, ...) G_GNUC_NULL_TERMINATED;

/* A Lua script, sent as EVALSHA with its SHA-1 computed here, falling back to
 * EVAL (which loads it) when Redis answers NOSCRIPT (after a restart or a
 * SCRIPT FLUSH). The callback still runs once. Scripts are immutable; create
 * them once (e.g. at start) and free them after the client. */
VgRedisScript *vg_redis_script_new (const char *source);
void vg_redis_script_free (VgRedisScript *script);
const char *vg_redis_script_sha1 (const VgRedisScript *script);

/* keys and args: NUL-terminated strings, nkeys and nargs of them (may be 0). */
void vg_redis_eval (VgRedis *redis, const VgRedisScript *script, guint nkeys,
                    const char *const *keys, guint nargs, const char *const *args,
                    VgRedisReplyFunc callback, gpointer user_data, GDestroyNotify notify);

/* Reply validation: each returns FALSE with VG_REDIS_ERROR_TYPE set when the
 * reply is not what the caller expects, so bad or hostile data in Redis is an
 * error for that key, never a crash. what names the key or field for the
 * message ("rate limit reply"). */

/* An integer reply (or a bulk/status string holding a decimal integer),
 * within [min, max]. */
gboolean vg_redis_reply_get_int (const redisReply *reply, gint64 min, gint64 max, gint64 *value,
                                 const char *what, GError **error);

/* A bulk or status string of at most max_len bytes without NUL bytes; *value
 * points into the reply (valid during the callback). A nil reply gives
 * *value = NULL and TRUE only when allow_nil. */
gboolean vg_redis_reply_get_string (const redisReply *reply, gsize max_len, gboolean allow_nil,
                                    const char **value, const char *what, GError **error);

/* An array of between min_len and max_len elements. */
gboolean vg_redis_reply_check_array (const redisReply *reply, gsize min_len, gsize max_len,
                                     const char *what, GError **error);

/* A status reply equal to expected (e.g. "OK"). */
gboolean vg_redis_reply_check_status (const redisReply *reply, const char *expected,
                                      const char *what, GError **error);

G_END_DECLS
