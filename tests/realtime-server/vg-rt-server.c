/* vg-rt-server.c: the fake Realtime server's core: its thread, the HTTP
 * handshake (401/429), the event log and the scripting entry points. The
 * protocol of one connection is in vg-rt-server-session.c. */
#include "vg-rt-server-private.h"

#include <string.h>
#include "soup-listen.h"

#define MAX_LOG_ENTRIES 200000

static void
log_entry_free (gpointer data)
{
  VgRtLogEntry *e = data;

  g_free (e->type);
  if (e->event)
    json_object_unref (e->event);
  g_free (e);
}

void
vg_rt_server_log_event (VgRtServer *server, guint connection, gboolean from_client,
                        const char *type, JsonObject *event)
{
  VgRtLogEntry *e = g_new0 (VgRtLogEntry, 1);

  e->from_client = from_client;
  e->connection = connection;
  e->time_us = g_get_monotonic_time ();
  e->type = g_strdup (type);
  e->event = event ? json_object_ref (event) : NULL;
  g_mutex_lock (&server->lock);
  if (server->log->len >= MAX_LOG_ENTRIES)
    g_ptr_array_remove_range (server->log, 0, MAX_LOG_ENTRIES / 10);
  g_ptr_array_add (server->log, e);
  g_cond_broadcast (&server->cond);
  g_mutex_unlock (&server->lock);
  /* Only the server thread logs and entries are removed only here, so e
   * stays valid during the call. */
  if (server->opt.on_log)
    server->opt.on_log (e, server->opt.on_log_data);
}

/* ---- handshake ---- */

static void
early_handler (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer data)
{
  VgRtServer *server = data;
  const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                   "Authorization");
  gboolean ok;
  guint refuse = 0, retry_after_s = 0;

  g_mutex_lock (&server->lock);
  server->handshakes++;
  if (server->refuse_count > 0)
    {
      server->refuse_count--;
      refuse = server->refuse_status;
      retry_after_s = server->refuse_retry_after_s;
    }
  g_mutex_unlock (&server->lock);

  if (refuse != 0)
    {
      soup_server_message_set_status (msg, refuse, NULL);
      if (retry_after_s > 0)
        {
          g_autofree char *value = g_strdup_printf ("%u", retry_after_s);

          soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                        "Retry-After", value);
        }
      return;
    }
  if (auth == NULL || !g_str_has_prefix (auth, "Bearer ") || auth[7] == '\0')
    ok = FALSE;
  else if (server->opt.api_key != NULL)
    ok = strcmp (auth + 7, server->opt.api_key) == 0;
  else
    ok = TRUE;
  if (!ok)
    {
      /* Refused at the HTTP level: no JSON frame, as the real API does. */
      soup_server_message_set_status (msg, SOUP_STATUS_UNAUTHORIZED, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                        "{\"error\":{\"code\":\"invalid_api_key\"}}", 36);
    }
}

static void
on_conn_closed (SoupWebsocketConnection *ws, gpointer data)
{
  VgRtConn *conn = data;
  VgRtServer *server = g_object_get_data (G_OBJECT (ws), "vg-rt-server");

  server->conns = g_list_remove (server->conns, conn);
  vg_rt_conn_free (conn);
}

static void
websocket_handler (SoupServer *soup, SoupServerMessage *msg, const char *path,
                   SoupWebsocketConnection *ws, gpointer data)
{
  VgRtServer *server = data;
  VgRtConn *conn;
  guint number;

  g_mutex_lock (&server->lock);
  number = ++server->connection_seq;
  server->sessions++;
  g_mutex_unlock (&server->lock);
  soup_websocket_connection_set_max_incoming_payload_size (ws, 16 * 1024 * 1024);
  g_object_set_data (G_OBJECT (ws), "vg-rt-server", server);
  conn = vg_rt_conn_new (server, ws, number);
  server->conns = g_list_prepend (server->conns, conn);
  g_signal_connect (ws, "closed", G_CALLBACK (on_conn_closed), conn);
}

/* ---- thread ---- */

typedef struct
{
  VgRtServer *server;
  GError *error;
  gboolean done;
} StartupState;

static gpointer
server_thread (gpointer data)
{
  StartupState *st = data;
  VgRtServer *server = st->server;

  g_main_context_push_thread_default (server->context);
  server->soup = soup_server_new ("server-header", "vg-realtime-server", NULL);
  soup_server_add_early_handler (server->soup, "/v1/realtime", early_handler, server, NULL);
  soup_server_add_websocket_handler (server->soup, "/v1/realtime", NULL, NULL, websocket_handler,
                                     server, NULL);
  /* Not soup_server_listen_local: libsoup 3.2's listener leaks (soup-listen.h). */
  server->port = vg_test_soup_listen_local (server->soup, server->opt.port, &st->error);
  g_mutex_lock (&server->lock);
  st->done = TRUE;
  g_cond_broadcast (&server->cond);
  g_mutex_unlock (&server->lock);
  if (server->port != 0)
    g_main_loop_run (server->loop);

  /* Let the close handshakes finish (briefly) so that libsoup releases the
   * sockets; whatever is left is freed by force. */
  {
    gint64 deadline = g_get_monotonic_time () + 300 * G_TIME_SPAN_MILLISECOND;
    GList *l, *copy = g_list_copy (server->conns);

    for (l = copy; l != NULL; l = l->next)
      vg_rt_conn_close (l->data, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
    g_list_free (copy);
    while (server->conns != NULL && g_get_monotonic_time () < deadline)
      if (!g_main_context_iteration (server->context, FALSE))
        g_usleep (1000);
  }
  while (server->conns != NULL)
    {
      VgRtConn *conn = server->conns->data;

      server->conns = g_list_delete_link (server->conns, server->conns);
      vg_rt_conn_free (conn);
    }
  soup_server_disconnect (server->soup);
  g_clear_object (&server->soup);
  while (g_main_context_iteration (server->context, FALSE))
    ;
  g_main_context_pop_thread_default (server->context);
  return NULL;
}

VgRtServer *
vg_rt_server_new (const VgRtServerOptions *options, GError **error)
{
  VgRtServer *server = g_new0 (VgRtServer, 1);
  StartupState st = { server };

  if (options)
    server->opt = *options;
  server->opt.api_key = g_strdup (server->opt.api_key);
  if (server->opt.response_audio_ms == 0)
    server->opt.response_audio_ms = 1000;
  if (server->opt.delta_ms == 0)
    server->opt.delta_ms = 100;
  if (server->opt.burst_interval_ms == 0)
    server->opt.burst_interval_ms = 5;
  if (server->opt.session_expiry_ms == 0)
    server->opt.session_expiry_ms = 60 * 60 * 1000;
  if (server->opt.vad_rms_threshold <= 0)
    server->opt.vad_rms_threshold = 0.02;
  server->rand = server->opt.seed ? g_rand_new_with_seed (server->opt.seed) : g_rand_new ();
  server->response_audio_ms = server->opt.response_audio_ms;
  g_mutex_init (&server->lock);
  g_cond_init (&server->cond);
  g_queue_init (&server->scripted_calls);
  server->response_instructions = g_ptr_array_new_with_free_func (g_free);
  server->log = g_ptr_array_new_with_free_func (log_entry_free);
  server->context = g_main_context_new ();
  server->loop = g_main_loop_new (server->context, FALSE);
  server->thread = g_thread_new ("vg-rt-server", server_thread, &st);

  g_mutex_lock (&server->lock);
  while (!st.done)
    g_cond_wait (&server->cond, &server->lock);
  g_mutex_unlock (&server->lock);
  if (st.error != NULL)
    {
      g_propagate_error (error, st.error);
      vg_rt_server_free (server);
      return NULL;
    }
  return server;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
vg_rt_server_free (VgRtServer *server)
{
  if (server == NULL)
    return;
  g_main_context_invoke (server->context, quit_loop, server->loop);
  g_thread_join (server->thread);
  g_main_loop_unref (server->loop);
  g_main_context_unref (server->context);
  g_ptr_array_unref (server->log);
  g_queue_clear_full (&server->scripted_calls, g_free);
  g_ptr_array_unref (server->response_instructions);
  g_clear_pointer (&server->script, g_ptr_array_unref);
  g_rand_free (server->rand);
  g_free ((char *)server->opt.api_key);
  g_mutex_clear (&server->lock);
  g_cond_clear (&server->cond);
  g_free (server);
}

guint
vg_rt_server_get_port (VgRtServer *server)
{
  return server->port;
}

char *
vg_rt_server_get_url (VgRtServer *server)
{
  return g_strdup_printf ("ws://127.0.0.1:%u/v1/realtime", server->port);
}

/* ---- scripting ---- */

void
vg_rt_server_set_response_audio_ms (VgRtServer *server, guint ms)
{
  g_mutex_lock (&server->lock);
  server->response_audio_ms = ms;
  g_mutex_unlock (&server->lock);
}

void
vg_rt_server_script_function_call (VgRtServer *server, const char *name, const char *arguments)
{
  g_mutex_lock (&server->lock);
  g_queue_push_tail (&server->scripted_calls, g_strdup (name));
  g_queue_push_tail (&server->scripted_calls, g_strdup (arguments ? arguments : "{}"));
  g_mutex_unlock (&server->lock);
}

gboolean
vg_rt_server_set_script (VgRtServer *server, const char *json, GError **error)
{
  GPtrArray *script = vg_rt_script_parse (json, error), *old;

  if (script == NULL)
    return FALSE;
  g_mutex_lock (&server->lock);
  old = server->script;
  server->script = script;
  g_mutex_unlock (&server->lock);
  if (old)
    g_ptr_array_unref (old);
  return TRUE;
}

void
vg_rt_server_script_close_mid_response (VgRtServer *server)
{
  g_mutex_lock (&server->lock);
  server->close_mid_response = TRUE;
  g_mutex_unlock (&server->lock);
}

void
vg_rt_server_script_stall_mid_response (VgRtServer *server)
{
  g_mutex_lock (&server->lock);
  server->stall_mid_response = TRUE;
  g_mutex_unlock (&server->lock);
}

void
vg_rt_server_script_rate_limit (VgRtServer *server, guint n, guint retry_ms)
{
  g_mutex_lock (&server->lock);
  server->rate_limit_count = n;
  server->rate_limit_retry_ms = retry_ms;
  g_mutex_unlock (&server->lock);
}

void
vg_rt_server_refuse_handshakes_retry_after (VgRtServer *server, guint status, guint n,
                                            guint retry_after_s)
{
  g_mutex_lock (&server->lock);
  server->refuse_status = status;
  server->refuse_count = n;
  server->refuse_retry_after_s = retry_after_s;
  g_mutex_unlock (&server->lock);
}

void
vg_rt_server_refuse_handshakes (VgRtServer *server, guint status, guint n)
{
  vg_rt_server_refuse_handshakes_retry_after (server, status, n, 0);
}

typedef struct
{
  VgRtServer *server;
  char *frame; /* NULL: drop the connections */
} ConnCall;

static gboolean
conn_call_run (gpointer data)
{
  ConnCall *call = data;
  GList *l, *copy = g_list_copy (call->server->conns);

  for (l = copy; l != NULL; l = l->next)
    {
      if (call->frame)
        vg_rt_conn_send_raw (l->data, call->frame);
      else
        vg_rt_conn_close (l->data, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
    }
  g_list_free (copy);
  return G_SOURCE_REMOVE;
}

static void
conn_call_free (gpointer data)
{
  ConnCall *call = data;

  g_free (call->frame);
  g_free (call);
}

static void
conn_call (VgRtServer *server, const char *frame)
{
  ConnCall *call = g_new0 (ConnCall, 1);

  call->server = server;
  call->frame = g_strdup (frame);
  g_main_context_invoke_full (server->context, G_PRIORITY_DEFAULT, conn_call_run, call,
                              conn_call_free);
}

void
vg_rt_server_inject (VgRtServer *server, const char *frame)
{
  conn_call (server, frame);
}

void
vg_rt_server_drop_connections (VgRtServer *server)
{
  conn_call (server, NULL);
}

/* ---- observation ---- */

guint
vg_rt_server_get_handshakes (VgRtServer *server)
{
  guint n;

  g_mutex_lock (&server->lock);
  n = server->handshakes;
  g_mutex_unlock (&server->lock);
  return n;
}

guint
vg_rt_server_get_sessions (VgRtServer *server)
{
  guint n;

  g_mutex_lock (&server->lock);
  n = server->sessions;
  g_mutex_unlock (&server->lock);
  return n;
}

static VgRtLogEntry *
find_locked (VgRtServer *server, const char *type, guint nth, guint *count)
{
  guint i, seen = 0;

  for (i = 0; i < server->log->len; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (server->log, i);

      if (strcmp (e->type, type) == 0 && seen++ == nth)
        return e;
    }
  if (count)
    *count = seen;
  return NULL;
}

guint
vg_rt_server_count (VgRtServer *server, const char *type)
{
  guint n = 0;

  g_mutex_lock (&server->lock);
  find_locked (server, type, G_MAXUINT, &n);
  g_mutex_unlock (&server->lock);
  return n;
}

JsonObject *
vg_rt_server_wait (VgRtServer *server, const char *type, guint nth, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;
  VgRtLogEntry *e;
  JsonObject *result = NULL;

  g_mutex_lock (&server->lock);
  while ((e = find_locked (server, type, nth, NULL)) == NULL)
    if (!g_cond_wait_until (&server->cond, &server->lock, deadline))
      break;
  if (e == NULL)
    e = find_locked (server, type, nth, NULL);
  if (e != NULL)
    result = e->event ? json_object_ref (e->event) : json_object_new ();
  g_mutex_unlock (&server->lock);
  return result;
}

static gpointer
log_entry_copy (gconstpointer src, gpointer data)
{
  const VgRtLogEntry *e = src;
  VgRtLogEntry *c = g_new0 (VgRtLogEntry, 1);

  *c = *e;
  c->type = g_strdup (e->type);
  c->event = e->event ? json_object_ref (e->event) : NULL;
  return c;
}

GPtrArray *
vg_rt_server_get_log (VgRtServer *server)
{
  GPtrArray *copy;

  g_mutex_lock (&server->lock);
  copy = g_ptr_array_copy (server->log, log_entry_copy, NULL);
  g_mutex_unlock (&server->lock);
  g_ptr_array_set_free_func (copy, log_entry_free);
  return copy;
}

guint64
vg_rt_server_get_appended_bytes (VgRtServer *server)
{
  guint64 n;

  g_mutex_lock (&server->lock);
  n = server->appended_bytes;
  g_mutex_unlock (&server->lock);
  return n;
}

guint
vg_rt_server_get_errors (VgRtServer *server)
{
  guint n;

  g_mutex_lock (&server->lock);
  n = server->errors;
  g_mutex_unlock (&server->lock);
  return n;
}

char *
vg_rt_server_dup_response_instructions (VgRtServer *server, guint nth)
{
  char *text = NULL;

  g_mutex_lock (&server->lock);
  if (nth < server->response_instructions->len)
    text = g_strdup (g_ptr_array_index (server->response_instructions, nth));
  g_mutex_unlock (&server->lock);
  return text;
}
