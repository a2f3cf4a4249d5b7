/* vg-rt-client.c: WebSocket plumbing for the Realtime element. Everything
 * touching libsoup runs on the shared I/O context; other threads only touch
 * the send queue under its lock and schedule a drain. */
#include "vg-rt-client.h"
#include "vg-rt-events.h"

#include <gst/gst.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (vg_rt_client_debug);
#define GST_CAT_DEFAULT vg_rt_client_debug

#define RECONNECT_MIN_MS 250
/* A Retry-After beyond this is not believed. */
#define MAX_RETRY_AFTER_MS (10 * 60 * 1000)
/* Control frames waiting for a session; beyond this the newest is dropped. */
#define MAX_QUEUED_CONTROL 256

typedef struct
{
  char *text;
  gsize len;
  gboolean is_audio;
} QueuedFrame;

struct _VgRtClient
{
  gint refcount; /* the owner, each pending connect, drain and reconnect call */
  VgIoContext *io;
  VgRtClientCallbacks cb;
  gpointer user_data;

  /* I/O thread only */
  char *url;
  char *api_key;
  guint reconnect_max_ms;
  guint attempt;
  gboolean running;
  GCancellable *cancellable;
  SoupMessage *handshake;
  SoupWebsocketConnection *conn;
  GSource *reconnect_source;
  guint extra_backoff_steps;
  guint retry_after_ms;       /* the last refusal's Retry-After, for the next wait */
  gint pending_backoff_steps; /* set from any thread */
  guint stall_timeout_ms;
  GSource *watchdog;
  gint64 last_event_us;   /* last frame received, or start of an expectation */
  gboolean was_expecting; /* at the previous watchdog tick */

  /* guarded by lock */
  GMutex lock;
  GQueue queue;
  gsize queued_audio_bytes;
  gsize max_queued_audio_bytes;
  guint64 dropped_audio_bytes;
  gboolean drain_scheduled;
  gboolean open;  /* mirror of conn state for other threads */
  gboolean ready; /* the session is configured: queued frames may go */
  guint queued_control;
};

static void client_connect (VgRtClient *client);

static void
queued_frame_free (gpointer data)
{
  QueuedFrame *f = data;

  g_free (f->text);
  g_free (f);
}

static VgRtClient *
client_ref (VgRtClient *client)
{
  g_atomic_int_inc (&client->refcount);
  return client;
}

static void
client_unref (gpointer data)
{
  VgRtClient *client = data;

  if (!g_atomic_int_dec_and_test (&client->refcount))
    return;
  g_free (client->url);
  if (client->api_key)
    memset (client->api_key, 0, strlen (client->api_key));
  g_free (client->api_key);
  g_queue_clear_full (&client->queue, queued_frame_free);
  g_mutex_clear (&client->lock);
  g_free (client);
}

VgRtClient *
vg_rt_client_new (VgIoContext *io, const VgRtClientCallbacks *callbacks, gpointer user_data,
                  gsize max_queued_audio_bytes)
{
  VgRtClient *client = g_new0 (VgRtClient, 1);

  client->refcount = 1;
  client->io = io;
  client->cb = *callbacks;
  client->user_data = user_data;
  client->max_queued_audio_bytes = MAX (max_queued_audio_bytes, 4800);
  g_mutex_init (&client->lock);
  g_queue_init (&client->queue);
  return client;
}

static void
clear_queue_locked (VgRtClient *client)
{
  g_queue_clear_full (&client->queue, queued_frame_free);
  client->queued_audio_bytes = 0;
  client->queued_control = 0;
}

static void
set_open (VgRtClient *client, gboolean open)
{
  g_mutex_lock (&client->lock);
  client->open = open;
  if (!open && client->ready)
    {
      /* What was queued belongs to the session that is gone; from now on
       * frames wait (bounded) for the next session to be configured. */
      client->ready = FALSE;
      clear_queue_locked (client);
    }
  g_mutex_unlock (&client->lock);
}

/* ---- receiving ---- */

static void
on_message (SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
  VgRtClient *client = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = NULL;
  const char *event_type;
  gsize size;
  const char *bytes = g_bytes_get_data (message, &size);

  client->last_event_us = g_get_monotonic_time ();
  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      client->cb.bad_frame (client->user_data, "binary frame");
      return;
    }
  root = vg_rt_event_parse (bytes, size, &event_type, &error);
  if (root == NULL)
    {
      client->cb.bad_frame (client->user_data, error->message);
      return;
    }
  client->cb.event (client->user_data, event_type, json_node_get_object (root));
}

static void schedule_reconnect (VgRtClient *client);

static void
drop_connection (VgRtClient *client)
{
  if (client->watchdog)
    {
      g_source_destroy (client->watchdog);
      g_clear_pointer (&client->watchdog, g_source_unref);
    }
  if (client->conn == NULL)
    return;
  g_signal_handlers_disconnect_by_data (client->conn, client);
  if (soup_websocket_connection_get_state (client->conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (client->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_clear_object (&client->conn);
  set_open (client, FALSE);
}

static void
on_closed (SoupWebsocketConnection *conn, gpointer data)
{
  VgRtClient *client = data;
  g_autofree char *reason = g_strdup_printf (
      "connection closed (code %u%s%s)", soup_websocket_connection_get_close_code (conn),
      soup_websocket_connection_get_close_data (conn) ? ": " : "",
      soup_websocket_connection_get_close_data (conn)
          ? soup_websocket_connection_get_close_data (conn)
          : "");

  GST_INFO ("%s", reason);
  drop_connection (client);
  client->cb.closed (client->user_data, VG_RT_CLOSE_NORMAL, 0, reason);
  schedule_reconnect (client);
}

static void
on_error (SoupWebsocketConnection *conn, GError *error, gpointer data)
{
  /* "closed" follows; only log. An oversized frame lands here. */
  GST_WARNING ("websocket error: %s", error->message);
}

/* ---- connecting ---- */

static gboolean
reconnect_timeout (gpointer data)
{
  VgRtClient *client = data;

  g_clear_pointer (&client->reconnect_source, g_source_unref);
  client_connect (client);
  return G_SOURCE_REMOVE;
}

static void
schedule_reconnect (VgRtClient *client)
{
  guint steps, delay;

  if (!client->running || client->reconnect_source != NULL)
    return;
  steps = MIN (client->attempt + client->extra_backoff_steps, 16);
  delay = MIN ((guint64)RECONNECT_MIN_MS << steps, (guint64)client->reconnect_max_ms);
  /* Jitter so that 200 agents do not reconnect in lockstep. */
  delay = delay / 2 + g_random_int_range (0, delay / 2 + 1);
  /* The server said when: earlier would only be refused again. */
  delay = MAX (delay, client->retry_after_ms);
  client->retry_after_ms = 0;
  client->attempt++;
  client->extra_backoff_steps = 0;
  GST_INFO ("reconnecting in %u ms (attempt %u)", delay, client->attempt);
  client->reconnect_source = g_timeout_source_new (delay);
  g_source_set_callback (client->reconnect_source, reconnect_timeout, client, NULL);
  g_source_attach (client->reconnect_source, vg_io_context_get_main_context (client->io));
}

/* Retry-After in delta-seconds; an HTTP date or garbage counts as absent
 * (the backoff alone applies). */
static guint
parse_retry_after (const char *value)
{
  g_autofree char *text = g_strstrip (g_strdup (value ? value : ""));
  guint64 seconds;

  if (!g_ascii_string_to_unsigned (text, 10, 0, MAX_RETRY_AFTER_MS / 1000, &seconds, NULL))
    return 0;
  return (guint)seconds * 1000;
}

/* The stall watchdog, on the I/O thread while a connection is open. */
static gboolean
watchdog_tick (gpointer data)
{
  VgRtClient *client = data;
  gboolean ready, expecting;
  gint64 now = g_get_monotonic_time ();
  g_autofree char *reason = NULL;

  g_mutex_lock (&client->lock);
  ready = client->ready;
  g_mutex_unlock (&client->lock);
  expecting = !ready || (client->cb.expecting && client->cb.expecting (client->user_data));
  if (!expecting)
    {
      client->was_expecting = FALSE;
      return G_SOURCE_CONTINUE;
    }
  if (!client->was_expecting)
    {
      /* Silence before we asked for anything is no stall. */
      client->was_expecting = TRUE;
      client->last_event_us = MAX (client->last_event_us, now);
      return G_SOURCE_CONTINUE;
    }
  if (now - client->last_event_us < (gint64)client->stall_timeout_ms * 1000)
    return G_SOURCE_CONTINUE;
  reason = g_strdup_printf ("no event from the server for %" G_GINT64_FORMAT
                            " ms while one was expected",
                            (now - client->last_event_us) / 1000);
  GST_WARNING ("%s: reconnecting", reason);
  /* drop_connection destroys this source: keep it alive until we return. */
  g_source_ref (client->watchdog);
  {
    GSource *self_source = client->watchdog;

    drop_connection (client);
    client->cb.closed (client->user_data, VG_RT_CLOSE_STALLED, 0, reason);
    schedule_reconnect (client);
    g_source_unref (self_source);
  }
  return G_SOURCE_REMOVE;
}

static void
start_watchdog (VgRtClient *client)
{
  if (client->stall_timeout_ms == 0)
    return;
  client->last_event_us = g_get_monotonic_time ();
  client->was_expecting = TRUE; /* session.created is owed at once */
  client->watchdog = g_timeout_source_new (CLAMP (client->stall_timeout_ms / 4, 20, 1000));
  g_source_set_callback (client->watchdog, watchdog_tick, client, NULL);
  g_source_attach (client->watchdog, vg_io_context_get_main_context (client->io));
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer data)
{
  VgRtClient *client = data;
  g_autoptr (GError) error = NULL;
  SoupWebsocketConnection *conn;
  guint status;

  conn = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (!client->running
      || (conn == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
    {
      /* Stopped meanwhile: no callbacks any more. */
      if (conn != NULL)
        {
          soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
          g_object_unref (conn);
        }
      client_unref (client);
      return;
    }

  status = client->handshake ? soup_message_get_status (client->handshake) : 0;
  if (conn == NULL && client->handshake != NULL)
    client->retry_after_ms = parse_retry_after (soup_message_headers_get_one (
        soup_message_get_response_headers (client->handshake), "Retry-After"));
  g_clear_object (&client->handshake);
  g_clear_object (&client->cancellable);

  if (conn == NULL)
    {
      g_autofree char *reason = NULL;
      const char *phrase = NULL;

      if (status >= 100)
        phrase = soup_status_get_phrase (status);
      reason = g_strdup_printf ("handshake failed: %s%s%s", error->message,
                                phrase ? " / HTTP " : "", phrase ? phrase : "");
      if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
        {
          client->running = FALSE;
          client->cb.closed (client->user_data, VG_RT_CLOSE_FATAL, status, reason);
          client_unref (client);
          return;
        }
      if (status == 429)
        client->extra_backoff_steps = 3;
      client->cb.closed (client->user_data, VG_RT_CLOSE_NORMAL, status, reason);
      schedule_reconnect (client);
      client_unref (client);
      return;
    }

  client->conn = conn;
  soup_websocket_connection_set_max_incoming_payload_size (conn, VG_RT_MAX_FRAME_BYTES);
  soup_websocket_connection_set_keepalive_interval (conn, 30);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), client);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), client);
  g_signal_connect (conn, "error", G_CALLBACK (on_error), client);
  set_open (client, TRUE);
  client->attempt = 0;
  start_watchdog (client);
  client->cb.opened (client->user_data);
  client_unref (client);
}

/* The io thread, as the TCP connection opens. Without TCP_NODELAY a short
 * message (a tool's output, response.create, the 20 ms audio appends: all
 * below the MSS) waits for the ACK of the previous one, which the server
 * delays up to 40 ms: measured, a tool's answer took ~50 ms instead of ~5
 * on an idle machine. */
static void
on_network_event (SoupMessage *msg, GSocketClientEvent event, GIOStream *stream, gpointer unused)
{
  if (event != G_SOCKET_CLIENT_CONNECTED || !G_IS_SOCKET_CONNECTION (stream))
    return;
  GSocket *socket = g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream));
  g_autoptr (GError) error = NULL;
  if (!g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, &error))
    GST_WARNING ("realtime: TCP_NODELAY: %s", error->message);
  else
    GST_DEBUG ("realtime: TCP_NODELAY on the connection");
}

static void
client_connect (VgRtClient *client)
{
  g_autofree char *auth = NULL;
  SoupMessage *msg;

  if (!client->running)
    return;
  msg = soup_message_new ("GET", client->url);
  if (msg == NULL)
    {
      client->running = FALSE;
      client->cb.closed (client->user_data, VG_RT_CLOSE_FATAL, 0, "invalid url");
      return;
    }
  if (client->api_key != NULL && client->api_key[0] != '\0')
    {
      auth = g_strconcat ("Bearer ", client->api_key, NULL);
      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
    }
  g_signal_connect (msg, "network-event", G_CALLBACK (on_network_event), NULL);
  client->handshake = msg;
  client->cancellable = g_cancellable_new ();
  client->cb.connecting (client->user_data, client->attempt);
  soup_session_websocket_connect_async (vg_io_context_get_session (client->io), msg, NULL, NULL,
                                        G_PRIORITY_DEFAULT, client->cancellable, on_connected,
                                        client_ref (client));
}

typedef struct
{
  VgRtClient *client;
  char *url;
  char *api_key;
  guint reconnect_max_ms;
  guint stall_timeout_ms;
} StartCall;

static gboolean
start_in_io (gpointer data)
{
  StartCall *call = data;
  VgRtClient *client = call->client;

  g_free (client->url);
  g_free (client->api_key);
  client->url = g_steal_pointer (&call->url);
  client->api_key = g_steal_pointer (&call->api_key);
  client->reconnect_max_ms = MAX (call->reconnect_max_ms, RECONNECT_MIN_MS);
  client->stall_timeout_ms = call->stall_timeout_ms;
  client->running = TRUE;
  client->attempt = 0;
  client_connect (client);
  return G_SOURCE_REMOVE;
}

static void
start_call_free (gpointer data)
{
  StartCall *call = data;

  g_free (call->url);
  if (call->api_key)
    memset (call->api_key, 0, strlen (call->api_key));
  g_free (call->api_key);
  g_free (call);
}

void
vg_rt_client_start (VgRtClient *client, const char *url, const char *api_key,
                    guint reconnect_max_ms, guint stall_timeout_ms)
{
  StartCall *call = g_new0 (StartCall, 1);

  call->client = client;
  call->url = g_strdup (url);
  call->api_key = g_strdup (api_key);
  call->reconnect_max_ms = reconnect_max_ms;
  call->stall_timeout_ms = stall_timeout_ms;
  vg_io_context_invoke (client->io, start_in_io, call, start_call_free);
}

static gboolean
stop_in_io (gpointer data)
{
  VgRtClient *client = data;

  client->running = FALSE;
  if (client->reconnect_source)
    {
      g_source_destroy (client->reconnect_source);
      g_clear_pointer (&client->reconnect_source, g_source_unref);
    }
  if (client->cancellable)
    g_cancellable_cancel (client->cancellable);
  /* on_connected still runs once (cancelled); it must not see a freed
   * client, so it holds no pointer we free here: see vg_rt_client_free. */
  g_clear_object (&client->handshake);
  g_clear_object (&client->cancellable);
  drop_connection (client);
  return G_SOURCE_REMOVE;
}

void
vg_rt_client_stop (VgRtClient *client)
{
  vg_io_context_invoke_sync (client->io, stop_in_io, client);
}

void
vg_rt_client_free (VgRtClient *client)
{
  if (client == NULL)
    return;
  vg_rt_client_stop (client);
  client_unref (client);
}

/* ---- sending ---- */

static gboolean
drain_in_io (gpointer data)
{
  VgRtClient *client = data;
  GQueue frames = G_QUEUE_INIT;
  QueuedFrame *f;

  g_mutex_lock (&client->lock);
  client->drain_scheduled = FALSE;
  if (!client->ready)
    {
      g_mutex_unlock (&client->lock);
      return G_SOURCE_REMOVE;
    }
  frames = client->queue;
  g_queue_init (&client->queue);
  client->queued_audio_bytes = 0;
  client->queued_control = 0;
  g_mutex_unlock (&client->lock);

  while ((f = g_queue_pop_head (&frames)) != NULL)
    {
      if (client->conn != NULL
          && soup_websocket_connection_get_state (client->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_send_text (client->conn, f->text);
      queued_frame_free (f);
    }
  return G_SOURCE_REMOVE;
}

void
vg_rt_client_send (VgRtClient *client, char *json, gboolean is_audio)
{
  QueuedFrame *f;
  gboolean schedule = FALSE;
  gsize len = strlen (json);

  g_mutex_lock (&client->lock);
  if (!is_audio && client->queued_control >= MAX_QUEUED_CONTROL)
    {
      g_mutex_unlock (&client->lock);
      GST_WARNING ("send queue holds %u control frames, dropping one", MAX_QUEUED_CONTROL);
      g_free (json);
      return;
    }
  if (!is_audio)
    client->queued_control++;
  if (is_audio)
    {
      /* Bound the queue by dropping the oldest audio: the newest speech is
       * what matters for a conversation that has fallen behind. */
      GList *l = client->queue.head;

      while (client->queued_audio_bytes + len > client->max_queued_audio_bytes && l != NULL)
        {
          GList *next = l->next;
          QueuedFrame *old = l->data;

          if (old->is_audio)
            {
              client->queued_audio_bytes -= old->len;
              client->dropped_audio_bytes += old->len;
              g_queue_delete_link (&client->queue, l);
              queued_frame_free (old);
              GST_WARNING ("send queue full, dropped %" G_GSIZE_FORMAT " bytes of audio "
                           "(total %" G_GUINT64_FORMAT ")",
                           len, client->dropped_audio_bytes);
            }
          l = next;
        }
      client->queued_audio_bytes += len;
    }
  f = g_new (QueuedFrame, 1);
  f->text = json;
  f->len = len;
  f->is_audio = is_audio;
  g_queue_push_tail (&client->queue, f);
  if (client->ready && !client->drain_scheduled)
    schedule = client->drain_scheduled = TRUE;
  g_mutex_unlock (&client->lock);

  if (schedule)
    vg_io_context_invoke (client->io, drain_in_io, client_ref (client), client_unref);
}

static gboolean
reconnect_in_io (gpointer data)
{
  VgRtClient *client = data;

  if (!client->running)
    return G_SOURCE_REMOVE;
  client->extra_backoff_steps = g_atomic_int_get (&client->pending_backoff_steps);
  if (client->conn != NULL)
    {
      /* Not through on_closed (drop_connection disconnects it): the owner
       * learns of the end of the connection here, once. */
      drop_connection (client);
      client->cb.closed (client->user_data, VG_RT_CLOSE_NORMAL, 0, "reconnect requested");
    }
  schedule_reconnect (client);
  return G_SOURCE_REMOVE;
}

/* Always through an idle source, also on the I/O thread: callers may be in
 * the middle of the connection's own signal emission. */
static void
idle_in_io (VgRtClient *client, GSourceFunc func)
{
  GSource *source = g_idle_source_new ();

  g_source_set_callback (source, func, client_ref (client), client_unref);
  g_source_attach (source, vg_io_context_get_main_context (client->io));
  g_source_unref (source);
}

void
vg_rt_client_reconnect (VgRtClient *client, guint backoff_steps)
{
  g_atomic_int_set (&client->pending_backoff_steps, backoff_steps);
  idle_in_io (client, reconnect_in_io);
}

static gboolean
halt_in_io (gpointer data)
{
  stop_in_io (data);
  return G_SOURCE_REMOVE;
}

void
vg_rt_client_halt (VgRtClient *client)
{
  idle_in_io (client, halt_in_io);
}

guint64
vg_rt_client_get_dropped_audio_bytes (VgRtClient *client)
{
  guint64 n;

  g_mutex_lock (&client->lock);
  n = client->dropped_audio_bytes;
  g_mutex_unlock (&client->lock);
  return n;
}

gboolean
vg_rt_client_is_open (VgRtClient *client)
{
  gboolean open;

  g_mutex_lock (&client->lock);
  open = client->open;
  g_mutex_unlock (&client->lock);
  return open;
}

gboolean
vg_rt_client_is_ready (VgRtClient *client)
{
  gboolean ready;

  g_mutex_lock (&client->lock);
  ready = client->ready;
  g_mutex_unlock (&client->lock);
  return ready;
}

void
vg_rt_client_send_now (VgRtClient *client, char *json)
{
  g_return_if_fail (vg_io_context_is_current (client->io));
  if (client->conn != NULL
      && soup_websocket_connection_get_state (client->conn) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (client->conn, json);
  g_free (json);
}

void
vg_rt_client_set_ready (VgRtClient *client)
{
  g_return_if_fail (vg_io_context_is_current (client->io));
  g_mutex_lock (&client->lock);
  client->ready = client->open;
  g_mutex_unlock (&client->lock);
  drain_in_io (client_ref (client));
  client_unref (client);
}
