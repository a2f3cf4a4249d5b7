/* Keep-alive (issue 21): one TCP connection carries many requests, idle
 * connections the client closes leave nothing behind (libsoup 3.2.3 kept
 * them, fd included, when it served keep-alive itself), and a connection
 * closes when either side asks, when it stays idle, or when a request was not
 * read to its end. Against a real gateway on loopback. */
#include "gateway-fixture.h"

#include <gio/gnetworking.h>
#include <string.h>

typedef struct
{
  GSocketConnection *conn;
  GString *in; /* read but not yet consumed */
} Client;

typedef struct
{
  guint status;
  char *head; /* status line and headers */
  char *body;
} Response;

static void
response_clear (Response *r)
{
  g_clear_pointer (&r->head, g_free);
  g_clear_pointer (&r->body, g_free);
}

static Client *
client_connect (guint port)
{
  g_autoptr (GSocketClient) sc = g_socket_client_new ();
  g_autoptr (GError) error = NULL;
  Client *c = g_new0 (Client, 1);

  c->conn = g_socket_client_connect_to_host (sc, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_timeout (g_socket_connection_get_socket (c->conn), 10);
  g_socket_set_option (g_socket_connection_get_socket (c->conn), IPPROTO_TCP, TCP_NODELAY, TRUE,
                       NULL);
  c->in = g_string_new (NULL);
  return c;
}

static void
client_free (Client *c)
{
  g_io_stream_close (G_IO_STREAM (c->conn), NULL, NULL);
  g_object_unref (c->conn);
  g_string_free (c->in, TRUE);
  g_free (c);
}

static void
client_send (Client *c, const char *request)
{
  g_autoptr (GError) error = NULL;

  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (c->conn)), request,
                             strlen (request), NULL, NULL, &error);
  g_assert_no_error (error);
}

/* Reads bytes into c->in; returns 0 at EOF. */
static gssize
client_fill (Client *c)
{
  char buf[8192];
  gssize n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (c->conn)), buf,
                                  sizeof buf, NULL, NULL);
  if (n > 0)
    g_string_append_len (c->in, buf, n);
  return n;
}

/* One response with a Content-Length; FALSE if the server closed first. */
static gboolean
client_response (Client *c, Response *r)
{
  for (;;)
    {
      const char *end = strstr (c->in->str, "\r\n\r\n");
      if (end)
        {
          gsize head_len = end + 4 - c->in->str;
          g_autofree char *head = g_strndup (c->in->str, head_len);
          const char *cl = strcasestr (head, "\r\nContent-Length: ");
          guint status = g_ascii_strtoull (head + 9, NULL, 10);
          gsize body_len;

          /* 204 and 304 have no body and no length. */
          g_assert_true (cl || status == 204 || status == 304);
          body_len = cl ? g_ascii_strtoull (cl + 18, NULL, 10) : 0;
          if (c->in->len >= head_len + body_len)
            {
              r->status = g_ascii_strtoull (c->in->str + 9, NULL, 10);
              r->head = g_steal_pointer (&head);
              r->body = g_strndup (c->in->str + head_len, body_len);
              g_string_erase (c->in, 0, head_len + body_len);
              return TRUE;
            }
        }
      if (client_fill (c) <= 0)
        return FALSE;
    }
}

/* Whether the server closes the connection within timeout_s. */
static gboolean
client_sees_close (Client *c, guint timeout_s)
{
  g_socket_set_timeout (g_socket_connection_get_socket (c->conn), timeout_s);
  return client_fill (c) == 0;
}

static gboolean
has_header (const char *head, const char *line)
{
  return strcasestr (head, line) != NULL;
}

/* A metric's value from /metrics, over a connection of its own. */
static double
metric (guint port, const char *name)
{
  Client *c = client_connect (port);
  Response r = { 0 };
  g_autofree char *prefix = g_strconcat ("\n", name, " ", NULL);
  const char *at;
  double v;

  client_send (c, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  g_assert_true (client_response (c, &r));
  g_assert_cmpuint (r.status, ==, 200);
  at = strstr (r.body, prefix);
  g_assert_nonnull (at);
  v = g_ascii_strtod (at + strlen (prefix), NULL);
  response_clear (&r);
  client_free (c);
  return v;
}

static guint
count_socket_fds (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;
  guint n = 0;

  while ((name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);
      n += target && g_str_has_prefix (target, "socket:");
    }
  return n;
}

static const char *const no_rate_limit[] = { "rate_limit.token_per_minute=0", NULL };

/* 1000 requests, one TCP connection: each answered in full without
 * "Connection: close", and the server counts one accepted connection. */
static void
test_many_requests_one_connection (void)
{
  VgTestGateway *gw = vg_test_gateway_start (no_rate_limit);
  guint port = vg_test_gateway_port (gw);
  double accepted = metric (port, "voxgate_http_connections_accepted_total");
  double reused = metric (port, "voxgate_http_connection_reuses_total");
  Client *c = client_connect (port);

  for (guint i = 0; i < 1000; i++)
    {
      Response r = { 0 };
      client_send (c, i % 2 ? "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                            : "GET /api/getToken?room=ka&name=n HTTP/1.1\r\nHost: x\r\n\r\n");
      g_assert_true (client_response (c, &r));
      g_assert_cmpuint (r.status, ==, 200);
      g_assert_false (has_header (r.head, "\r\nConnection: close"));
      if (i % 2 == 0)
        g_assert_nonnull (strstr (r.body, "\"token\":\"eyJ"));
      response_clear (&r);
    }
  client_free (c);
  /* The two metric reads count a connection each. */
  g_assert_cmpfloat (metric (port, "voxgate_http_connections_accepted_total"), ==, accepted + 3);
  g_assert_cmpfloat (metric (port, "voxgate_http_connection_reuses_total"), ==, reused + 999);
  vg_test_gateway_stop (gw);
}

/* Requests sent back to back before any answer (pipelining) are answered in
 * order; a body read ahead with the head stays with its request. */
static void
test_pipelined (void)
{
  VgTestGateway *gw = vg_test_gateway_start (no_rate_limit);
  Client *c = client_connect (vg_test_gateway_port (gw));
  const char *body = "{\"room_name\":\"pipe\",\"identity\":\"p1\"}";
  g_autofree char *all
      = g_strdup_printf ("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                         "POST /api/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\n\r\n%s"
                         "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                         "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                         strlen (body), body);
  guint expected[] = { 200, 200, 404, 200 };

  client_send (c, all);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      Response r = { 0 };
      g_assert_true (client_response (c, &r));
      g_assert_cmpuint (r.status, ==, expected[i]);
      if (i == 1)
        g_assert_nonnull (strstr (r.body, "\"participant_token\":\"eyJ"));
      response_clear (&r);
    }
  client_free (c);
  vg_test_gateway_stop (gw);
}

/* libsoup's client (as a browser does) reuses its connection: 60 requests,
 * GET and POST, on one connection by its own account and by the server's. */
static void
test_client_reuses (void)
{
  VgTestGateway *gw = vg_test_gateway_start (no_rate_limit);
  guint port = vg_test_gateway_port (gw);
  double accepted = metric (port, "voxgate_http_connections_accepted_total");
  g_autoptr (SoupSession) session = soup_session_new_with_options ("max-conns-per-host", 1, NULL);
  guint64 first_id = 0;

  for (guint i = 0; i < 60; i++)
    {
      g_autofree char *url
          = vg_test_gateway_url (gw, i % 3 ? "/api/getToken?room=s&name=b" : "/api/token");
      g_autoptr (SoupMessage) msg = soup_message_new (i % 3 ? "GET" : "POST", url);
      g_autoptr (GBytes) reply = NULL;
      g_autoptr (GError) error = NULL;

      if (i % 3 == 0)
        {
          static const char json[] = "{\"room_name\":\"s\",\"identity\":\"b\"}";
          g_autoptr (GBytes) b = g_bytes_new_static (json, sizeof json - 1);
          soup_message_set_request_body_from_bytes (msg, "application/json", b);
          /* Browsers send a POST on an idle kept-alive connection; libsoup's
           * client opens a new one for a POST unless told it may. */
          soup_message_add_flags (msg, SOUP_MESSAGE_IDEMPOTENT);
        }
      reply = soup_session_send_and_read (session, msg, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
      if (i == 0)
        first_id = soup_message_get_connection_id (msg);

      g_assert_cmpuint (soup_message_get_connection_id (msg), ==, first_id);
    }
  g_assert_cmpfloat (metric (port, "voxgate_http_connections_accepted_total"), ==, accepted + 2);
  vg_test_gateway_stop (gw);
}

/* Clients that go away while their connection is idle (the libsoup 3.2.3
 * leak when libsoup kept connections itself: upstream d20c660) leave no
 * socket and no open connection behind. */
static void
test_idle_close_leaves_nothing (void)
{
  VgTestGateway *gw = vg_test_gateway_start (no_rate_limit);
  guint port = vg_test_gateway_port (gw);
  double open_before;
  guint fds_before, fds_after = 0;
  gint64 deadline;

  open_before = metric (port, "voxgate_http_connections_open");
  fds_before = count_socket_fds ();
  for (guint i = 0; i < 200; i++)
    {
      Client *c = client_connect (port);
      Response r = { 0 };
      client_send (c, "GET /api/getToken?room=idle&name=n HTTP/1.1\r\nHost: x\r\n\r\n");
      g_assert_true (client_response (c, &r));
      g_assert_cmpuint (r.status, ==, 200);
      response_clear (&r);
      client_free (c); /* idle, kept alive by the server: the client closes */
    }
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline && (fds_after = count_socket_fds ()) > fds_before)
    g_usleep (20000);
  g_assert_cmpuint (fds_after, <=, fds_before);
  /* Each read's own connection is the one open. A socket's fd goes before
   * its connection is counted out (the close completes on the main loop). */
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline
         && metric (port, "voxgate_http_connections_open") != open_before)
    g_usleep (20000);
  g_assert_cmpfloat (metric (port, "voxgate_http_connections_open"), ==, open_before);
  vg_test_gateway_stop (gw);
}

/* An answer without a body (a CORS preflight's 204) keeps the connection. */
static void
test_empty_answer_keeps (void)
{
  const char *cfg[] = { "server.cors_origins=https://app.example", NULL };
  VgTestGateway *gw = vg_test_gateway_start (cfg);
  guint port = vg_test_gateway_port (gw);
  double accepted = metric (port, "voxgate_http_connections_accepted_total");
  Client *c = client_connect (port);
  Response r = { 0 };

  client_send (c, "OPTIONS /api/token HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n"
                  "Access-Control-Request-Method: POST\r\n\r\n");
  g_assert_true (client_response (c, &r));
  g_assert_cmpuint (r.status, ==, 204);
  g_assert_false (has_header (r.head, "\r\nConnection: close"));
  response_clear (&r);
  client_send (c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  g_assert_true (client_response (c, &r));
  g_assert_cmpuint (r.status, ==, 200);
  response_clear (&r);
  client_free (c);
  g_assert_cmpfloat (metric (port, "voxgate_http_connections_accepted_total"), ==, accepted + 2);
  vg_test_gateway_stop (gw);
}

/* An idle connection closes after [server] keepalive_timeout. */
static void
test_idle_timeout (void)
{
  const char *cfg[] = { "server.keepalive_timeout=1", NULL };
  VgTestGateway *gw = vg_test_gateway_start (cfg);
  Client *c = client_connect (vg_test_gateway_port (gw));
  Response r = { 0 };
  gint64 start;

  client_send (c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  g_assert_true (client_response (c, &r));
  response_clear (&r);
  start = g_get_monotonic_time ();
  g_assert_true (client_sees_close (c, 5));
  /* The sweep runs every second: closed after 1 to 2 s (3 under load). */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 900 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 4 * G_USEC_PER_SEC);
  client_free (c);
  vg_test_gateway_stop (gw);
}

/* The connection closes after the answer when the client asks (HTTP/1.1
 * "Connection: close", or HTTP/1.0), when the request body's end is
 * libsoup's to find (chunked), and when a request was refused before its
 * body was read (413 with Expect: 100-continue). */
static void
test_closes_when_asked (void)
{
  const char *cfg[] = { "server.max_body_bytes=4096", NULL };
  VgTestGateway *gw = vg_test_gateway_start (cfg);
  guint port = vg_test_gateway_port (gw);
  const char *requests[] = {
    "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n",
    "POST /api/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    "Transfer-Encoding: chunked\r\n\r\n14\r\n{\"room_name\":\"chnk\"}\r\n0\r\n\r\n",
    "POST /api/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    "Expect: 100-continue\r\nContent-Length: 100000\r\n\r\n",
  };
  guint expected[] = { 200, 200, 200, 413 };

  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    {
      Client *c = client_connect (port);
      Response r = { 0 };

      client_send (c, requests[i]);
      g_assert_true (client_response (c, &r));
      g_assert_cmpuint (r.status, ==, expected[i]);
      if (i != 1)
        g_assert_true (has_header (r.head, "\r\nConnection: close"));
      g_assert_true (client_sees_close (c, 5));
      response_clear (&r);
      client_free (c);
    }
  vg_test_gateway_stop (gw);
}

/* Every head on a kept-alive connection gets the checks the first one did. */
static void
test_next_head_checked (void)
{
  const char *cfg[] = { "server.header_timeout=1", NULL };
  VgTestGateway *gw = vg_test_gateway_start (cfg);
  guint port = vg_test_gateway_port (gw);
  g_autofree char *long_target = g_strnfill (9000, 'a');
  g_autofree char *too_long = g_strdup_printf ("GET /%s HTTP/1.1\r\nHost: x\r\n\r\n", long_target);
  Client *c = client_connect (port);
  Response r = { 0 };

  client_send (c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  g_assert_true (client_response (c, &r));
  response_clear (&r);
  client_send (c, too_long);
  g_assert_true (client_response (c, &r));
  g_assert_cmpuint (r.status, ==, 414);
  response_clear (&r);
  client_free (c);

  /* Half a second head after a first request: 408 once header_timeout passes. */
  c = client_connect (port);
  client_send (c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  g_assert_true (client_response (c, &r));
  response_clear (&r);
  client_send (c, "GET /healthz HTTP/1.1\r\nHo");
  g_assert_true (client_response (c, &r));
  g_assert_cmpuint (r.status, ==, 408);
  response_clear (&r);
  client_free (c);
  vg_test_gateway_stop (gw);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/keepalive/many-requests-one-connection", test_many_requests_one_connection);
  g_test_add_func ("/keepalive/pipelined", test_pipelined);
  g_test_add_func ("/keepalive/client-reuses", test_client_reuses);
  g_test_add_func ("/keepalive/idle-close-leaves-nothing", test_idle_close_leaves_nothing);
  g_test_add_func ("/keepalive/empty-answer-keeps", test_empty_answer_keeps);
  g_test_add_func ("/keepalive/idle-timeout", test_idle_timeout);
  g_test_add_func ("/keepalive/closes-when-asked", test_closes_when_asked);
  g_test_add_func ("/keepalive/next-head-checked", test_next_head_checked);
  return g_test_run ();
}
