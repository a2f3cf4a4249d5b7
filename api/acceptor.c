/* The acceptor. See acceptor.h. */
#include "api/acceptor.h"
#include "api/http-head.h"
#include "api/lent-stream.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

/* GSocket's default is 10: a burst of new connections would see dropped SYNs
 * and one-second client stalls. */
#define LISTEN_BACKLOG 1024
/* Connections taken per wake-up, so that a flood cannot starve the loop. */
#define ACCEPT_BATCH 64
#define BACKOFF_MIN_MS 10
#define BACKOFF_MAX_MS 1000
#define ERROR_REPORT_INTERVAL_US (10 * G_USEC_PER_SEC)
/* After a refusal, how long the client may go on sending before we close:
 * closing with unread bytes would reset the connection and lose the answer. */
#define LINGER_US (2 * G_USEC_PER_SEC)

typedef enum
{
  CONN_HEAD,     /* reading a request head, or idle between requests */
  CONN_SOUP,     /* lent to libsoup for one request */
  CONN_REFUSING, /* writing an error, then draining until the client is done */
} ConnState;

typedef struct
{
  VgAcceptor *acceptor; /* NULL once the acceptor is gone */
  GSocket *socket;
  GIOStream *stream; /* TCP or TLS; handed to the replay stream in CONN_SOUP */
  char *address;     /* key in per_address */
  ConnState state;
  gint64 since_us;  /* accept, the head's first byte, the last response, or the refusal */
  GByteArray *head; /* the head being read, then what follows the request */
  VgHttpHeadScan scan;
  GSource *read_source;
  GSource *resume_source; /* reads the next head once a response is done */
  char *response;
  GCancellable *cancellable; /* the refusal's write */
  gboolean closing;
  guint served; /* requests lent to libsoup so far */
  /* CONN_SOUP: */
  VgLentStream *lent;             /* owned by libsoup */
  VgReplayStream *replay;         /* owned by lent */
  GSocketAddress *local, *remote; /* as handed to libsoup, made once; remote maps
                                   * libsoup's messages to this connection */
  gboolean keep_alive;            /* the request allows the connection to stay open */
  gboolean reusable;              /* libsoup completed the response, which allows it too */
} Conn;

typedef struct
{
  VgAcceptor *acceptor;
  GSocket *socket;
  GSource *source; /* NULL while backing off */
  GSource *retry;
  guint backoff_ms;
} Listener;

struct _VgAcceptor
{
  SoupServer *soup;
  GTlsCertificate *certificate;
  VgAcceptorLimits limits;
  VgAcceptorMetrics metrics;
  GMainContext *context;
  GPtrArray *listeners;
  GHashTable *conns;       /* Conn set */
  GHashTable *per_address; /* address -> open connections */
  GSource *sweep;
  gboolean stopping;
  gulong started_id, finished_id;
  gint64 last_report_us;
  guint unreported_errors;
};

static void refuse (Conn *c, guint status, const char *code, const char *message);
static void read_head (Conn *c);

static void
count (VgMetric *metric, double delta)
{
  if (metric)
    vg_metric_add (metric, NULL, delta);
}

static GQuark
conn_quark (void)
{
  return g_quark_from_static_string ("vg-acceptor-conn");
}

static GSource *
attach (VgAcceptor *self, GSource *source, GSourceFunc func, gpointer data)
{
  g_source_set_callback (source, func, data, NULL);
  g_source_attach (source, self->context);
  return source;
}

static void
drop_source (GSource **source)
{
  if (*source)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

/* ---- connections ---- */

/* Forgets the request lent to libsoup (whose stream may live on). */
static void
conn_unlend (Conn *c)
{
  if (c->lent)
    vg_lent_stream_set_return_func (c->lent, NULL, NULL);
  c->lent = NULL;
  c->replay = NULL;
}

static void
conn_free (Conn *c)
{
  conn_unlend (c);
  if (c->remote)
    g_object_set_qdata (G_OBJECT (c->remote), conn_quark (), NULL);
  g_clear_object (&c->remote);
  g_clear_object (&c->local);
  drop_source (&c->read_source);
  drop_source (&c->resume_source);
  g_clear_object (&c->stream);
  g_clear_object (&c->socket);
  if (c->head)
    g_byte_array_unref (c->head);
  g_free (c->response);
  g_clear_object (&c->cancellable);
  g_free (c->address);
  g_free (c);
}

/* The connection's fd is gone (or going): forget it. */
static void
conn_release (Conn *c)
{
  VgAcceptor *self = c->acceptor;

  if (self)
    {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_address, c->address));
      if (n <= 1)
        g_hash_table_remove (self->per_address, c->address);
      else
        g_hash_table_insert (self->per_address, g_strdup (c->address), GUINT_TO_POINTER (n - 1));
      g_hash_table_remove (self->conns, c);
      count (self->metrics.open, -1);
    }
  conn_free (c);
}

static void
on_closed (GObject *stream, GAsyncResult *result, gpointer user_data)
{
  g_io_stream_close_finish (G_IO_STREAM (stream), result, NULL);
  conn_release (user_data);
}

static void
conn_close (Conn *c)
{
  if (c->closing)
    return;
  c->closing = TRUE;
  drop_source (&c->read_source);
  drop_source (&c->resume_source);
  g_io_stream_close_async (c->stream, G_PRIORITY_DEFAULT, NULL, on_closed, c);
}

static gboolean
on_resume (gpointer user_data)
{
  Conn *c = user_data;

  g_clear_pointer (&c->resume_source, g_source_unref);
  read_head (c);
  return G_SOURCE_REMOVE;
}

/* libsoup is done with the request (it closed the lent stream): keep the
 * connection for the client's next request if both sides allow it and the
 * request was read to its end, else close it. Runs inside libsoup's own
 * close, so the next head is read from an idle callback. */
static void
on_returned (VgLentStream *lent, gpointer user_data)
{
  Conn *c = user_data;
  gboolean keep = c->reusable && vg_replay_stream_is_drained (c->replay) && c->acceptor
                  && !c->acceptor->stopping;

  conn_unlend (c);
  if (!keep)
    {
      c->state = CONN_HEAD; /* conn_close closes c->stream, which libsoup never closed */
      conn_close (c);
      return;
    }
  c->state = CONN_HEAD;
  c->since_us = g_get_monotonic_time ();
  memset (&c->scan, 0, sizeof c->scan);
  c->resume_source = attach (c->acceptor, g_idle_source_new (), on_resume, c);
}

static void
hand_off (Conn *c)
{
  VgAcceptor *self = c->acceptor;
  gsize head_len = c->scan.head_len;
  guint64 body_len = c->scan.chunked ? 0 : c->scan.content_length;
  /* Bytes read past the head: the body's start, maybe the next request. */
  gsize extra = c->head->len - head_len;
  gsize body_read = c->scan.chunked ? extra : (gsize)MIN ((guint64)extra, body_len);
  g_autoptr (GBytes) prefix = g_bytes_new (c->head->data, head_len + body_read);
  g_autoptr (GError) error = NULL;
  VgLentStream *lent;

  /* A chunked body's end is libsoup's to find: no limit, no keep-alive. */
  c->keep_alive = !c->scan.chunked && !c->scan.http10 && !c->scan.connection_close;
  c->reusable = FALSE;
  g_byte_array_remove_range (c->head, 0, head_len + body_read);
  if (!c->local)
    c->local = g_socket_get_local_address (c->socket, NULL);
  if (!c->remote)
    c->remote = g_socket_get_remote_address (c->socket, NULL);
  if (!c->local || !c->remote)
    {
      conn_close (c); /* the peer is gone */
      return;
    }
  c->state = CONN_SOUP;
  if (c->served++ > 0)
    count (self->metrics.reused, 1);
  c->replay = vg_replay_stream_new (c->stream, prefix,
                                    c->scan.chunked ? -1 : (gint64)(body_len - body_read));
  lent = vg_lent_stream_new (c->stream, c->replay);
  g_object_unref (c->replay); /* lent owns it now */
  c->lent = lent;
  vg_lent_stream_set_return_func (lent, on_returned, c);
  g_object_set_qdata (G_OBJECT (c->remote), conn_quark (), c);
  /* c may be released from here on (libsoup closes the lent stream). */
  if (!soup_server_accept_iostream (self->soup, G_IO_STREAM (lent), c->local, c->remote, &error))
    {
      g_warning ("cannot serve a new connection: %s", error->message);
      g_io_stream_close (G_IO_STREAM (lent), NULL, NULL);
    }
  g_object_unref (lent); /* libsoup's now */
}

static gboolean on_head_readable (GObject *stream, gpointer user_data);

/* Checks what was read so far; returns FALSE when done with this head
 * (handed off or refused). */
static gboolean
check_head (Conn *c)
{
  VgHttpHeadRefusal refusal;

  switch (vg_http_head_check (&c->scan, (const char *)c->head->data, c->head->len, &refusal))
    {
      case VG_HTTP_HEAD_INCOMPLETE:
        return TRUE;
      case VG_HTTP_HEAD_OK:
        hand_off (c);
        return FALSE;
      case VG_HTTP_HEAD_REFUSED:
        refuse (c, refusal.status, refusal.code, refusal.message);
        return FALSE;
    }
  return FALSE;
}

static void
read_head (Conn *c)
{
  GPollableInputStream *in = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (c->stream));

  /* A client may send its next request before reading the last answer. */
  if (c->head->len > 0 && !check_head (c))
    return;
  for (;;)
    {
      guint8 buf[4096];
      g_autoptr (GError) error = NULL;
      gssize n = g_pollable_input_stream_read_nonblocking (in, buf, sizeof buf, NULL, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          c->read_source = attach (c->acceptor, g_pollable_input_stream_create_source (in, NULL),
                                   G_SOURCE_FUNC (on_head_readable), c);
          return;
        }
      if (n <= 0)
        {
          conn_close (c); /* the client left, or TLS failed */
          return;
        }
      if (c->head->len == 0 && c->served > 0)
        c->since_us = g_get_monotonic_time (); /* the next request's head starts */
      g_byte_array_append (c->head, buf, n);
      if (!check_head (c))
        return;
    }
}

static gboolean
on_head_readable (GObject *stream, gpointer user_data)
{
  Conn *c = user_data;

  g_clear_pointer (&c->read_source, g_source_unref); /* returning REMOVE destroys it */
  read_head (c);
  return G_SOURCE_REMOVE;
}

/* Reads and drops what the client still sends after a refusal. */
static gboolean
on_drain (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  Conn *c = user_data;
  char buf[4096];
  g_autoptr (GError) error = NULL;
  gssize n;

  while ((n = g_socket_receive (socket, buf, sizeof buf, NULL, &error)) > 0)
    ;
  if (n == 0 || !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    {
      g_clear_pointer (&c->read_source, g_source_unref);
      conn_close (c);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
on_refusal_written (GObject *out, GAsyncResult *result, gpointer user_data)
{
  Conn *c = user_data;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (out), result, NULL, NULL) || !c->acceptor)
    {
      conn_close (c);
      return;
    }
  g_socket_shutdown (c->socket, FALSE, TRUE, NULL);
  g_socket_set_blocking (c->socket, FALSE);
  c->read_source = attach (c->acceptor,
                           g_socket_create_source (c->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL),
                           G_SOURCE_FUNC (on_drain), c);
}

static void
refuse (Conn *c, guint status, const char *code, const char *message)
{
  drop_source (&c->read_source);
  c->state = CONN_REFUSING;
  c->since_us = g_get_monotonic_time ();
  c->response = vg_http_error_response (status, code, message);
  c->cancellable = g_cancellable_new ();
  g_output_stream_write_all_async (g_io_stream_get_output_stream (c->stream), c->response,
                                   strlen (c->response), G_PRIORITY_DEFAULT, c->cancellable,
                                   on_refusal_written, c);
}

static gboolean
on_sweep (gpointer user_data)
{
  VgAcceptor *self = user_data;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  Conn *c;

  if (g_hash_table_size (self->conns) == 0)
    {
      g_clear_pointer (&self->sweep, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  g_hash_table_iter_init (&iter, self->conns);
  while (g_hash_table_iter_next (&iter, (gpointer *)&c, NULL))
    {
      gint64 waiting;
      if (c->closing)
        continue;
      if (c->state == CONN_HEAD && c->served > 0 && c->head->len == 0)
        {
          /* Idle between requests: the client may reuse it until then. */
          if (now - c->since_us > self->limits.keepalive_timeout_s * G_USEC_PER_SEC)
            conn_close (c);
        }
      else if (c->state == CONN_HEAD
               && now - c->since_us > self->limits.header_timeout_s * G_USEC_PER_SEC)
        {
          /* A TLS client that never shook hands could not read an answer. */
          if (self->certificate && c->head->len == 0)
            conn_close (c);
          else
            refuse (c, SOUP_STATUS_REQUEST_TIMEOUT, "request_timeout",
                    "the request head did not arrive in time");
        }
      else if (c->state == CONN_REFUSING && now - c->since_us > LINGER_US)
        {
          if (c->read_source)
            conn_close (c);
          else
            g_cancellable_cancel (
                c->cancellable); /* the client does not read: its callback closes */
        }
      else if (c->state == CONN_SOUP && (waiting = vg_replay_stream_waiting_since (c->replay))
               && now - waiting > self->limits.body_timeout_s * G_USEC_PER_SEC)
        vg_replay_stream_expire (c->replay);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
is_uncapped (VgAcceptor *self, GInetAddress *addr)
{
  for (guint i = 0; self->limits.uncapped && i < self->limits.uncapped->len; i++)
    if (g_inet_address_mask_matches (g_ptr_array_index (self->limits.uncapped, i), addr))
      return TRUE;
  return FALSE;
}

static void
serve (VgAcceptor *self, GSocket *socket)
{
  g_autoptr (GSocketConnection) connection = g_socket_connection_factory_create_connection (socket);
  g_autoptr (GSocketAddress) remote = g_socket_get_remote_address (socket, NULL);
  g_autoptr (GError) error = NULL;
  GInetAddress *addr;
  Conn *c;
  guint open;

  if (!remote || !G_IS_INET_SOCKET_ADDRESS (remote))
    return; /* the peer is already gone */
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  c = g_new0 (Conn, 1);
  c->acceptor = self;
  c->socket = g_object_ref (socket);
  c->since_us = g_get_monotonic_time ();
  c->head = g_byte_array_new ();
  if (self->certificate)
    {
      c->stream = g_tls_server_connection_new (G_IO_STREAM (connection), self->certificate, &error);
      if (!c->stream)
        {
          g_warning ("TLS is unavailable for a new connection: %s", error->message);
          conn_free (c);
          return;
        }
      g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (c->stream), FALSE);
    }
  else
    c->stream = G_IO_STREAM (g_object_ref (connection));

  addr = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote));
  c->address = g_inet_address_to_string (addr);
  open = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_address, c->address));
  g_hash_table_insert (self->per_address, g_strdup (c->address), GUINT_TO_POINTER (open + 1));
  g_hash_table_add (self->conns, c);
  count (self->metrics.accepted, 1);
  count (self->metrics.open, 1);
  if (!self->sweep)
    self->sweep = attach (self, g_timeout_source_new_seconds (1), on_sweep, self);

  if (self->limits.max_per_address && open >= self->limits.max_per_address
      && !is_uncapped (self, addr))
    refuse (c, 429, "too_many_connections", "this address has too many open connections");
  else
    read_head (c);
}

/* ---- listening ---- */

static gboolean on_listener_ready (GSocket *socket, GIOCondition condition, gpointer user_data);

static gboolean
on_retry (gpointer user_data)
{
  Listener *l = user_data;

  g_clear_pointer (&l->retry, g_source_unref);
  l->source = attach (l->acceptor, g_socket_create_source (l->socket, G_IO_IN, NULL),
                      G_SOURCE_FUNC (on_listener_ready), l);
  return G_SOURCE_REMOVE;
}

/* Out of fds, the pending connection stays queued and the socket stays
 * readable: retrying at once would spin. Pause this listener instead, for
 * longer each time, and report the failures at most every 10 s. */
static void
accept_failed (Listener *l, const GError *error)
{
  VgAcceptor *self = l->acceptor;
  gint64 now = g_get_monotonic_time ();

  l->backoff_ms = CLAMP (l->backoff_ms * 2, BACKOFF_MIN_MS, BACKOFF_MAX_MS);
  if (now - self->last_report_us >= ERROR_REPORT_INTERVAL_US)
    {
      g_warning ("cannot accept connections: %s (%u more failures since the last report); retrying "
                 "in %u ms",
                 error->message, self->unreported_errors, l->backoff_ms);
      self->last_report_us = now;
      self->unreported_errors = 0;
    }
  else
    self->unreported_errors++;
  g_clear_pointer (&l->source, g_source_unref); /* the caller returns REMOVE */
  l->retry = attach (self, g_timeout_source_new (l->backoff_ms), on_retry, l);
}

static gboolean
on_listener_ready (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  Listener *l = user_data;

  for (guint i = 0; i < ACCEPT_BATCH; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GSocket) client = g_socket_accept (socket, NULL, &error);

      if (!client)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            break;
          accept_failed (l, error);
          return G_SOURCE_REMOVE;
        }
      l->backoff_ms = 0;
      serve (l->acceptor, client);
    }
  return G_SOURCE_CONTINUE;
}

static void
listener_free (Listener *l)
{
  drop_source (&l->source);
  drop_source (&l->retry);
  g_socket_close (l->socket, NULL);
  g_object_unref (l->socket);
  g_free (l);
}

/* The connection a libsoup message came on, if it is one of ours. */
static Conn *
conn_of (SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  return remote ? g_object_get_qdata (G_OBJECT (remote), conn_quark ()) : NULL;
}

/* Says so in the answer when the connection will close after it, so that
 * the client does not try to reuse it. */
static void
on_request_started (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  VgAcceptor *self = user_data;
  Conn *c = conn_of (msg);

  if (c && (!c->keep_alive || self->stopping))
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                  "close");
}

/* The answer went out in full (libsoup emits this before it closes the lent
 * stream). The handler may still have asked for the connection to close. */
static void
on_request_finished (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  Conn *c = conn_of (msg);
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);

  guint status = soup_server_message_get_status (msg);
  /* Answers without a body end where their head does; any other needs a
   * length (or chunks): one that ends with the connection cannot keep it. */
  gboolean framed = status == SOUP_STATUS_NO_CONTENT || status == SOUP_STATUS_NOT_MODIFIED
                    || soup_server_message_get_method (msg) == SOUP_METHOD_HEAD
                    || soup_message_headers_get_encoding (h) != SOUP_ENCODING_EOF;

  if (c && c->state == CONN_SOUP)
    c->reusable = c->keep_alive && framed
                  && soup_server_message_get_http_version (msg) == SOUP_HTTP_1_1
                  && !soup_message_headers_header_contains (h, "Connection", "close");
}

VgAcceptor *
vg_acceptor_new (SoupServer *soup, GTlsCertificate *certificate, const VgAcceptorLimits *limits,
                 const VgAcceptorMetrics *metrics)
{
  VgAcceptor *self = g_new0 (VgAcceptor, 1);

  if (metrics)
    self->metrics = *metrics;
  /* Every series from the start, at 0. */
  count (self->metrics.accepted, 0);
  count (self->metrics.reused, 0);
  count (self->metrics.open, 0);
  self->soup = g_object_ref (soup);
  self->certificate = certificate ? g_object_ref (certificate) : NULL;
  self->limits = *limits;
  if (limits->uncapped)
    g_ptr_array_ref (limits->uncapped);
  self->context = g_main_context_ref_thread_default ();
  self->listeners = g_ptr_array_new_with_free_func ((GDestroyNotify)listener_free);
  self->conns = g_hash_table_new (NULL, NULL);
  self->per_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->started_id
      = g_signal_connect (soup, "request-started", G_CALLBACK (on_request_started), self);
  self->finished_id
      = g_signal_connect (soup, "request-finished", G_CALLBACK (on_request_finished), self);
  return self;
}

guint
vg_acceptor_listen (VgAcceptor *self, GSocketAddress *address, GError **error)
{
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GSocketAddress) bound = NULL;
  Listener *l;

  sock = g_socket_new (g_socket_address_get_family (address), G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (!sock)
    return 0;
  g_socket_set_listen_backlog (sock, LISTEN_BACKLOG);
  g_socket_set_blocking (sock, FALSE);
  if (!g_socket_bind (sock, address, TRUE, error) || !g_socket_listen (sock, error))
    return 0;
  bound = g_socket_get_local_address (sock, error);
  if (!bound)
    return 0;
  l = g_new0 (Listener, 1);
  l->acceptor = self;
  l->socket = g_steal_pointer (&sock);
  l->source = attach (self, g_socket_create_source (l->socket, G_IO_IN, NULL),
                      G_SOURCE_FUNC (on_listener_ready), l);
  g_ptr_array_add (self->listeners, l);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

guint
vg_acceptor_pending (VgAcceptor *self)
{
  GHashTableIter iter;
  Conn *c;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->conns);
  while (g_hash_table_iter_next (&iter, (gpointer *)&c, NULL))
    n += c->state == CONN_HEAD && !c->closing && c->head->len > 0;
  return n;
}

void
vg_acceptor_stop (VgAcceptor *self)
{
  GHashTableIter iter;
  Conn *c;

  /* Connections the kernel already completed would be reset when the
   * listening socket closes: take them first, so that a request sent just
   * before a graceful stop is still served. */
  for (guint i = 0; i < self->listeners->len; i++)
    {
      Listener *l = g_ptr_array_index (self->listeners, i);
      for (guint n = 0; n < LISTEN_BACKLOG; n++)
        {
          g_autoptr (GSocket) client = g_socket_accept (l->socket, NULL, NULL);
          if (!client)
            break;
          serve (self, client);
        }
    }
  g_ptr_array_set_size (self->listeners, 0);
  /* Connections idle between requests would wait for a request that can no
   * longer be answered in full; those in flight close after their answer. */
  self->stopping = TRUE;
  g_hash_table_iter_init (&iter, self->conns);
  while (g_hash_table_iter_next (&iter, (gpointer *)&c, NULL))
    if (c->state == CONN_HEAD && c->served > 0 && c->head->len == 0 && !c->closing)
      conn_close (c);
}

void
vg_acceptor_free (VgAcceptor *self)
{
  GHashTableIter iter;
  Conn *c;

  if (!self)
    return;
  vg_acceptor_stop (self);
  g_ptr_array_unref (self->listeners);
  drop_source (&self->sweep);
  /* Connections libsoup serves stay libsoup's; the others end here, or
   * finish their pending write or close on their own. */
  g_hash_table_iter_init (&iter, self->conns);
  while (g_hash_table_iter_next (&iter, (gpointer *)&c, NULL))
    {
      c->acceptor = NULL;
      if (c->state == CONN_SOUP)
        conn_free (c); /* the lent stream closes it when libsoup is done */
      else if (c->state == CONN_HEAD || (c->state == CONN_REFUSING && c->read_source))
        conn_close (c);
      else if (c->cancellable)
        g_cancellable_cancel (c->cancellable);
    }
  g_hash_table_unref (self->conns);
  g_hash_table_unref (self->per_address);
  if (self->limits.uncapped)
    g_ptr_array_unref (self->limits.uncapped);
  g_main_context_unref (self->context);
  g_clear_object (&self->certificate);
  g_signal_handler_disconnect (self->soup, self->started_id);
  g_signal_handler_disconnect (self->soup, self->finished_id);
  g_object_unref (self->soup);
  g_free (self);
}
