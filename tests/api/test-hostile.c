/* Hostile and careless HTTP input (issue 15), against a real server on
 * loopback: JSON bodies, query strings, request heads, timeouts and the
 * per-address connection cap. The server must answer each with a JSON error
 * and go on serving. */
#include "gateway-fixture.h"
#include "api/acceptor.h"
#include "gateway/core/jwt.h"

#include <string.h>

typedef struct
{
  guint status;
  char *code; /* error.code of a JSON error body, or NULL */
  char *body;
} Answer;

static void
answer_clear (Answer *a)
{
  g_clear_pointer (&a->code, g_free);
  g_clear_pointer (&a->body, g_free);
}

static Answer
parse_answer (const char *raw)
{
  Answer a = { 0 };
  const char *body = strstr (raw, "\r\n\r\n");
  g_autoptr (JsonNode) json = NULL;

  if (g_str_has_prefix (raw, "HTTP/1.1 "))
    a.status = g_ascii_strtoull (raw + 9, NULL, 10);
  a.body = g_strdup (body ? body + 4 : "");
  json = *a.body ? json_from_string (a.body, NULL) : NULL;
  if (json && JSON_NODE_HOLDS_OBJECT (json))
    {
      JsonNode *e = json_object_get_member (json_node_get_object (json), "error");
      JsonObject *err = e && JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
      if (err && json_object_has_member (err, "code"))
        a.code = g_strdup (json_object_get_string_member (err, "code"));
    }
  return a;
}

static Answer
raw (VgTestGateway *gw, const char *local, const char *request, gsize len)
{
  g_autofree char *text = vg_test_raw_request (vg_test_gateway_port (gw), local, request, len);
  return parse_answer (text);
}

static Answer
send_request (VgTestGateway *gw, const char *method, const char *target, const char *headers,
              const char *content_type, const char *body)
{
  g_autofree char *req
      = g_strdup_printf ("%s %s HTTP/1.1\r\nHost: localhost\r\n%s%s%s%s"
                         "Content-Length: %zu\r\n\r\n%s",
                         method, target, headers ? headers : "",
                         content_type ? "Content-Type: " : "", content_type ? content_type : "",
                         content_type ? "\r\n" : "", body ? strlen (body) : 0, body ? body : "");
  return raw (gw, NULL, req, strlen (req));
}

static void
expect (VgTestGateway *gw, const char *method, const char *target, const char *headers,
        const char *content_type, const char *body, guint status, const char *code)
{
  Answer a = send_request (gw, method, target, headers, content_type, body);

  if (a.status != status || g_strcmp0 (a.code, code) != 0)
    g_error ("%s %.60s [%.60s]: got %u %s, want %u %s", method, target, body ? body : "", a.status,
             a.code ? a.code : "-", status, code ? code : "-");
  answer_clear (&a);
}

static void
assert_healthy (VgTestGateway *gw)
{
  expect (gw, "GET", "/healthz", NULL, NULL, NULL, 200, NULL);
}

static char *
nested (guint depth)
{
  g_autofree char *open = g_strnfill (depth, '[');
  g_autofree char *close = g_strnfill (depth, ']');
  return g_strconcat (open, close, NULL);
}

static char *
admin_token (void)
{
  VgClaims c = { 0 };

  c.identity = (char *)"admin";
  c.expires_at = g_get_real_time () / G_USEC_PER_SEC + 600;
  c.video.room_list = TRUE;
  c.video.room_create = TRUE;
  c.video.room_admin = TRUE;
  return vg_jwt_mint (&c, "devkey", "secret");
}

/* Bodies json-glib would take (or crash on) that are not RFC 8259 JSON. */
static void
test_json_bodies (void)
{
  const char *cfg[] = { "rate_limit.token_per_minute=0", NULL };
  VgTestGateway *gw = vg_test_gateway_start (cfg);
  static const char *const lenient[] = {
    "{'room_name':'r'}",
    "{room_name:\"r\"}",
    "{\"room_name\":\"r\",}",
    "{\"room_name\":\"r\"} // c",
    "/* c */ {\"room_name\":\"r\"}",
    "{\"room_name\":\"r\",\"ttl\":NaN}",
    "{\"room_name\":\"r\"}x",
  };
  g_autofree char *deep = nested (100000);
  g_autofree char *tok = admin_token ();
  g_autofree char *auth = g_strdup_printf ("Authorization: Bearer %s\r\n", tok);
  Answer a;

  for (guint i = 0; i < G_N_ELEMENTS (lenient); i++)
    expect (gw, "POST", "/api/token", NULL, "application/json", lenient[i], 400, "invalid_json");
  /* C strings end at NUL: room "r\0../x" would become "r". */
  expect (gw, "POST", "/api/token", NULL, "application/json",
          "{\"room_name\":\"r\\u0000../x\",\"participant_identity\":\"admin\\u0000 evil\"}", 400,
          "invalid_json");
  /* 100 000 levels overflowed json-glib's stack. */
  expect (gw, "POST", "/api/token", NULL, "application/json", deep, 400, "invalid_json");
  expect (gw, "POST", "/api/token", NULL, "application/json; charset=utf-8",
          "{\"room_name\":\"tutor-1\"}", 200, NULL);
  assert_healthy (gw);

  /* Twirp authorizes before it parses: without a token the body is not read. */
  a = send_request (gw, "POST", "/twirp/livekit.RoomService/ListRooms", NULL, "application/json",
                    deep);
  g_assert_cmpuint (a.status, ==, 401);
  answer_clear (&a);
  a = send_request (gw, "POST", "/twirp/livekit.RoomService/ListRooms", auth, "application/json",
                    deep);
  g_assert_cmpuint (a.status, ==, 400);
  g_assert_nonnull (strstr (a.body, "malformed"));
  answer_clear (&a);
  a = send_request (gw, "POST", "/twirp/livekit.RoomService/ListRooms", auth, "application/json",
                    "{'a':1}");
  g_assert_cmpuint (a.status, ==, 400);
  answer_clear (&a);
  a = send_request (gw, "POST", "/twirp/livekit.RoomService/ListRooms", auth, "Application/JSON",
                    "{}");
  g_assert_cmpuint (a.status, !=, 400);
  g_assert_cmpuint (a.status, !=, 404);
  answer_clear (&a);
  assert_healthy (gw);
  vg_test_gateway_stop (gw);
}

/* A bad escape used to drop every parameter silently. */
static void
test_query_strings (void)
{
  const char *cfg[] = { "rate_limit.token_per_minute=0", NULL };
  VgTestGateway *gw = vg_test_gateway_start (cfg);
  static const char *const bad[] = {
    "/api/getToken?room=r%ff&name=x", "/api/getToken?room=r%00&name=x",
    "/api/getToken?room=r&name=%C3",  "/api/subtopics?topic=%ff",
    "/api/subtopics?topic=%00",       "/healthz?x=%e9",
    "/no/such/route?x=%ff",
  };
  Answer a;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    expect (gw, "GET", bad[i], NULL, NULL, NULL, 400, "invalid_query");
  /* Escapes that are not %XX are refused with the request head. */
  expect (gw, "GET", "/healthz?x=%4", NULL, NULL, NULL, 400, "bad_request");
  expect (gw, "GET", "/api/getToken?room=r%zz&name=x", NULL, NULL, NULL, 400, "bad_request");
  a = send_request (gw, "GET", "/api/getToken?room=tutor%2D1&name=Zo%C3%AB+B", NULL, NULL, NULL);
  g_assert_cmpuint (a.status, ==, 200);
  answer_clear (&a);
  /* A parameter without '=' is still a query. */
  expect (gw, "GET", "/healthz?verbose", NULL, NULL, NULL, 200, NULL);
  vg_test_gateway_stop (gw);
}

/* Heads libsoup would reset without an answer. */
static void
test_request_heads (void)
{
  VgTestGateway *gw = vg_test_gateway_start (NULL);
  g_autofree char *filler = g_strnfill (64 * 1024, 'a');
  g_autofree char *big_target = g_strdup_printf ("/healthz?x=%s", filler);
  g_autofree char *big_header = g_strdup_printf ("X-Big: %s\r\n", filler);
  g_autofree char *token = g_strnfill (100 * 1024, 'e');
  g_autofree char *big_auth = g_strdup_printf ("Authorization: Bearer %s\r\n", token);
  const char *dup = "POST /api/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}";
  const char *negative = "POST /api/token HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n";
  const char *huge
      = "POST /api/token HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n";
  Answer a;

  expect (gw, "GET", big_target, NULL, NULL, NULL, 414, "uri_too_long");
  expect (gw, "GET", "/healthz", big_header, NULL, NULL, 431, "headers_too_large");
  expect (gw, "GET", "/api/rooms", big_auth, NULL, NULL, 431, "headers_too_large");
  a = raw (gw, NULL, dup, strlen (dup));
  g_assert_cmpuint (a.status, ==, 400);
  g_assert_cmpstr (a.code, ==, "bad_content_length");
  answer_clear (&a);
  a = raw (gw, NULL, negative, strlen (negative));
  g_assert_cmpuint (a.status, ==, 400);
  g_assert_cmpstr (a.code, ==, "bad_content_length");
  answer_clear (&a);
  a = raw (gw, NULL, huge, strlen (huge));
  g_assert_cmpuint (a.status, ==, 400);
  g_assert_cmpstr (a.code, ==, "bad_content_length");
  answer_clear (&a);
  assert_healthy (gw);
  vg_test_gateway_stop (gw);
}

static GSocket *
open_connection (guint port, const char *local_addr)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) to = g_inet_socket_address_new_from_string ("127.0.0.1", port);
  GSocket *s
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  if (local_addr)
    {
      g_autoptr (GSocketAddress) local = g_inet_socket_address_new_from_string (local_addr, 0);
      g_assert_true (g_socket_bind (s, local, FALSE, &error));
    }
  g_assert_true (g_socket_connect (s, to, NULL, &error));
  g_socket_set_timeout (s, 10);
  return s;
}

static void
send_text (GSocket *s, const char *text)
{
  g_assert_cmpint (g_socket_send (s, text, strlen (text), NULL, NULL), ==, (gssize)strlen (text));
}

/* Reads until the server closes; returns what it said (may be empty). */
static char *
read_to_close (GSocket *s)
{
  GString *out = g_string_new (NULL);
  char buf[2048];
  gssize n;

  while ((n = g_socket_receive (s, buf, sizeof buf, NULL, NULL)) > 0)
    g_string_append_len (out, buf, n);
  return g_string_free (out, FALSE);
}

static gint64
timed_health_ms (VgTestGateway *gw, const char *local)
{
  const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  gint64 start = g_get_monotonic_time ();
  Answer a = raw (gw, local, req, strlen (req));

  g_assert_cmpuint (a.status, ==, 200);
  answer_clear (&a);
  return (g_get_monotonic_time () - start) / 1000;
}

/* Connections that send nothing, half a head or half a body are closed
 * after the timeouts; a normal request is served beside them at once. */
static void
test_timeouts (void)
{
  const char *cfg[] = { "server.header_timeout=1", "server.body_timeout=1",
                        "server.max_connections_per_address=0", NULL };
  VgTestGateway *gw = vg_test_gateway_start (cfg);
  guint port = vg_test_gateway_port (gw);
  GPtrArray *idle = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *half_head = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *half_body = g_ptr_array_new_with_free_func (g_object_unref);
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < 200; i++)
    g_ptr_array_add (idle, open_connection (port, NULL));
  for (guint i = 0; i < 20; i++)
    {
      GSocket *h = open_connection (port, NULL), *b = open_connection (port, NULL);
      send_text (h, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
      send_text (b, "POST /api/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: 100\r\n\r\n{\"room_");
      g_ptr_array_add (half_head, h);
      g_ptr_array_add (half_body, b);
    }
  g_assert_cmpint (timed_health_ms (gw, NULL), <, 500);

  for (guint i = 0; i < idle->len; i++)
    {
      g_autofree char *said = read_to_close (g_ptr_array_index (idle, i));
      g_assert_true (g_str_has_prefix (said, "HTTP/1.1 408 "));
      g_assert_nonnull (strstr (said, "\"request_timeout\""));
    }
  for (guint i = 0; i < half_head->len; i++)
    {
      g_autofree char *said = read_to_close (g_ptr_array_index (half_head, i));
      g_assert_true (g_str_has_prefix (said, "HTTP/1.1 408 "));
    }
  for (guint i = 0; i < half_body->len; i++)
    {
      g_autofree char *said = read_to_close (g_ptr_array_index (half_body, i));
      g_assert_false (g_str_has_prefix (said, "HTTP/1.1 200"));
    }
  /* Closed by the timeouts (1 s, checked every second), not by the client's 10 s. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_assert_cmpint (timed_health_ms (gw, NULL), <, 500);
  g_ptr_array_unref (idle);
  g_ptr_array_unref (half_head);
  g_ptr_array_unref (half_body);
  vg_test_gateway_stop (gw);
}

static void
test_connection_cap (void)
{
  const char *cfg[] = { "server.max_connections_per_address=5", NULL };
  VgTestGateway *gw = vg_test_gateway_start (cfg);
  guint port = vg_test_gateway_port (gw);
  GPtrArray *held = g_ptr_array_new_with_free_func (g_object_unref);
  const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  Answer a;

  for (guint i = 0; i < 5; i++)
    g_ptr_array_add (held, open_connection (port, "127.0.0.1"));
  a = raw (gw, "127.0.0.1", req, strlen (req));
  g_assert_cmpuint (a.status, ==, 429);
  g_assert_cmpstr (a.code, ==, "too_many_connections");
  answer_clear (&a);
  /* Another address is served meanwhile. */
  g_assert_cmpint (timed_health_ms (gw, "127.0.0.2"), <, 500);

  g_ptr_array_set_size (held, 0); /* closes them */
  for (guint i = 0; i < 50; i++)
    {
      a = raw (gw, "127.0.0.1", req, strlen (req));
      guint status = a.status;
      answer_clear (&a);
      if (status == 200)
        break;
      g_assert_cmpuint (status, ==, 429);
      g_usleep (20000);
    }
  g_assert_cmpint (timed_health_ms (gw, "127.0.0.1"), <, 500);
  g_ptr_array_unref (held);
  vg_test_gateway_stop (gw);
}

static void
answer_ok (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
           gpointer data)
{
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "ok", 2);
}

/* A connection the kernel completed before a graceful stop is served, not
 * reset when the listening socket closes. */
static void
test_stop_serves_backlog (void)
{
  g_autoptr (SoupServer) soup = soup_server_new (NULL, NULL);
  VgAcceptorLimits limits = { .header_timeout_s = 10, .body_timeout_s = 30 };
  VgAcceptor *acceptor = vg_acceptor_new (soup, NULL, &limits, NULL);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_autoptr (GString) got = g_string_new (NULL);
  g_autoptr (GSocket) client = NULL;
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  guint port;

  soup_server_add_handler (soup, NULL, answer_ok, NULL, NULL);
  port = vg_acceptor_listen (acceptor, any, NULL);
  g_assert_cmpuint (port, >, 0);
  client = open_connection (port, NULL);
  send_text (client, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  vg_acceptor_stop (acceptor); /* the main loop never ran: still in the backlog */
  g_socket_set_blocking (client, FALSE);
  while (g_get_monotonic_time () < deadline && !g_str_has_suffix (got->str, "ok"))
    {
      char buf[1024];
      g_autoptr (GError) error = NULL;
      gssize n;

      g_main_context_iteration (NULL, FALSE);
      n = g_socket_receive (client, buf, sizeof buf, NULL, &error);
      if (n > 0)
        g_string_append_len (got, buf, n);
      else if (n == 0 || !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;
      else
        g_usleep (1000);
    }
  g_assert_true (g_str_has_prefix (got->str, "HTTP/1.1 200 "));
  vg_acceptor_free (acceptor);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hostile/json-bodies", test_json_bodies);
  g_test_add_func ("/hostile/query-strings", test_query_strings);
  g_test_add_func ("/hostile/request-heads", test_request_heads);
  g_test_add_func ("/hostile/timeouts", test_timeouts);
  g_test_add_func ("/hostile/connection-cap", test_connection_cap);
  g_test_add_func ("/hostile/stop-serves-backlog", test_stop_serves_backlog);
  return g_test_run ();
}
