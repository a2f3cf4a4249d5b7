/* The HTTP surface of issue 2, against a real server on loopback:
 * headers, CORS, body limits, JSON validation, tokens, rate limits, health, metrics. */
#include "gateway-fixture.h"
#include "gateway/core/jwt.h"

#include <string.h>

typedef struct
{
  guint status;
  SoupMessageHeaders *headers;
  char *body;
  JsonNode *json;
} Reply;

static void
reply_clear (Reply *r)
{
  g_clear_pointer (&r->headers, soup_message_headers_unref);
  g_clear_pointer (&r->body, g_free);
  g_clear_pointer (&r->json, json_node_unref);
}

static Reply
http (VgTestGateway *gw, const char *method, const char *path, const char *content_type, const char *body,
      const char *const *headers)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree char *url = vg_test_gateway_url (gw, path);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  Reply r = { 0 };

  for (guint i = 0; headers && headers[i]; i += 2)
    soup_message_headers_replace (soup_message_get_request_headers (msg), headers[i], headers[i + 1]);
  if (body)
    {
      g_autoptr (GBytes) b = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, content_type, b);
    }
  bytes = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  r.status = soup_message_get_status (msg);
  r.headers = soup_message_headers_ref (soup_message_get_response_headers (msg));
  r.body = g_bytes_get_size (bytes) ? g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes))
                                     : g_strdup ("");
  r.json = *r.body ? json_from_string (r.body, NULL) : NULL;
  return r;
}

static const char *
json_str (Reply *r, const char *path)
{
  JsonNode *n = r->json;
  g_auto (GStrv) parts = g_strsplit (path, ".", -1);

  for (guint i = 0; parts[i] && n; i++)
    n = JSON_NODE_HOLDS_OBJECT (n) ? json_object_get_member (json_node_get_object (n), parts[i]) : NULL;
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING ? json_node_get_string (n)
                                                                                          : NULL;
}

static const char *
header (Reply *r, const char *name)
{
  return soup_message_headers_get_one (r->headers, name);
}

static void
assert_error (Reply *r, guint status, const char *code)
{
  g_assert_cmpuint (r->status, ==, status);
  g_assert_cmpstr (soup_message_headers_get_content_type (r->headers, NULL), ==, "application/json");
  g_assert_cmpstr (json_str (r, "error.code"), ==, code);
  g_assert_nonnull (json_str (r, "error.message"));
}

static void
test_security_headers (void)
{
  VgTestGateway *gw = vg_test_gateway_start (NULL);
  const char *given[] = { "X-Request-Id", "trace-abc_1.2", NULL };
  const char *bad[] = { "X-Request-Id", "has space<script>", NULL };
  Reply r = http (gw, "GET", "/healthz", NULL, NULL, NULL);

  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (json_str (&r, "status"), ==, "ok");
  g_assert_cmpstr (header (&r, "X-Content-Type-Options"), ==, "nosniff");
  g_assert_cmpstr (header (&r, "X-Frame-Options"), ==, "SAMEORIGIN");
  g_assert_nonnull (header (&r, "Referrer-Policy"));
  g_assert_null (header (&r, "Strict-Transport-Security")); /* plain HTTP */
  g_assert_cmpuint (strlen (header (&r, "X-Request-Id")), ==, 32);
  reply_clear (&r);

  r = http (gw, "GET", "/healthz", NULL, NULL, given);
  g_assert_cmpstr (header (&r, "X-Request-Id"), ==, "trace-abc_1.2");
  reply_clear (&r);
  r = http (gw, "GET", "/healthz", NULL, NULL, bad);
  g_assert_cmpuint (strlen (header (&r, "X-Request-Id")), ==, 32);
  reply_clear (&r);

  /* Pages get a Content-Security-Policy; JSON does not need one. */
  r = http (gw, "GET", "/", NULL, NULL, NULL);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_nonnull (strstr (header (&r, "Content-Security-Policy"), "default-src 'self'"));
  g_assert_nonnull (strstr (r.body, "<html"));
  reply_clear (&r);
  /* Traversal never reaches a file: libsoup refuses dot segments (400), the
   * router refuses encoded slashes and dot files (404). */
  r = http (gw, "GET", "/assets/..%2Findex.html", NULL, NULL, NULL);
  g_assert_true (r.status == 400 || r.status == 404);
  reply_clear (&r);
  r = http (gw, "GET", "/assets/.hidden", NULL, NULL, NULL);
  assert_error (&r, 404, "not_found");
  reply_clear (&r);

  r = http (gw, "GET", "/no/such/thing", NULL, NULL, NULL);
  assert_error (&r, 404, "not_found");
  reply_clear (&r);
  r = http (gw, "DELETE", "/api/getToken", NULL, NULL, NULL);
  assert_error (&r, 405, "method_not_allowed");
  g_assert_cmpstr (header (&r, "Allow"), ==, "GET");
  reply_clear (&r);
  vg_test_gateway_stop (gw);
}

static void
test_cors (void)
{
  const char *cfg[] = { "server.cors_origins=https://app.example, https://other.example", NULL };
  VgTestGateway *gw = vg_test_gateway_start (cfg);
  const char *preflight[] = { "Origin", "https://app.example", "Access-Control-Request-Method", "POST",
                              "Access-Control-Request-Headers", "content-type", NULL };
  const char *evil[] = { "Origin", "https://evil.example", "Access-Control-Request-Method", "POST", NULL };
  const char *simple[] = { "Origin", "https://other.example", NULL };
  const char *simple_evil[] = { "Origin", "https://evil.example", NULL };
  Reply r = http (gw, "OPTIONS", "/api/token", NULL, NULL, preflight);

  g_assert_cmpuint (r.status, ==, 204);
  g_assert_cmpstr (header (&r, "Access-Control-Allow-Origin"), ==, "https://app.example");
  g_assert_nonnull (strstr (header (&r, "Access-Control-Allow-Methods"), "POST"));
  g_assert_nonnull (strstr (header (&r, "Access-Control-Allow-Headers"), "Content-Type"));
  g_assert_nonnull (strstr (header (&r, "Access-Control-Allow-Headers"), "Authorization"));
  g_assert_nonnull (header (&r, "Access-Control-Max-Age"));
  reply_clear (&r);

  r = http (gw, "OPTIONS", "/api/token", NULL, NULL, evil);
  assert_error (&r, 403, "cors_origin_denied");
  g_assert_null (header (&r, "Access-Control-Allow-Origin"));
  reply_clear (&r);

  r = http (gw, "GET", "/healthz", NULL, NULL, simple);
  g_assert_cmpstr (header (&r, "Access-Control-Allow-Origin"), ==, "https://other.example");
  g_assert_nonnull (strstr (header (&r, "Access-Control-Expose-Headers"), "Location"));
  g_assert_nonnull (strstr (header (&r, "Vary"), "Origin"));
  reply_clear (&r);

  r = http (gw, "GET", "/healthz", NULL, NULL, simple_evil);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_null (header (&r, "Access-Control-Allow-Origin"));
  reply_clear (&r);
  vg_test_gateway_stop (gw);
}

static void
test_body_limit (void)
{
  const char *cfg[] = { "server.max_body_bytes=4096", NULL };
  VgTestGateway *gw = vg_test_gateway_start (cfg);
  guint port = vg_test_gateway_port (gw);
  g_autofree char *announced = NULL, *chunked = NULL, *reply = NULL, *big = g_strnfill (8000, 'a');
  g_autoptr (GString) req = g_string_new (NULL);

  /* Announced too large with Expect: 100-continue: refused from the headers
   * alone, before the client sends any body. */
  announced = g_strdup_printf ("POST /api/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               "Expect: 100-continue\r\nContent-Length: 2097152\r\n\r\n");
  reply = vg_test_raw_request (port, NULL, announced, strlen (announced));
  g_assert_true (g_str_has_prefix (reply, "HTTP/1.1 413"));
  g_assert_nonnull (strstr (reply, "\"body_too_large\""));
  g_clear_pointer (&reply, g_free);

  /* Announced too large without Expect: the body is read, discarded, refused. */
  g_string_printf (req, "POST /api/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Content-Length: %u\r\n\r\n%s", 8000, big);
  reply = vg_test_raw_request (port, NULL, req->str, req->len);
  g_assert_true (g_str_has_prefix (reply, "HTTP/1.1 413"));
  g_assert_nonnull (strstr (reply, "\"body_too_large\""));
  g_clear_pointer (&reply, g_free);
  g_string_truncate (req, 0);

  /* Chunked, no length: refused once it grows past the limit. */
  g_string_append (req, "POST /api/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
  for (int i = 0; i < 3; i++)
    g_string_append_printf (req, "%x\r\n%s\r\n", 8000, big);
  g_string_append (req, "0\r\n\r\n");
  reply = vg_test_raw_request (port, NULL, req->str, req->len);
  g_assert_true (g_str_has_prefix (reply, "HTTP/1.1 413"));
  g_assert_nonnull (strstr (reply, "\"body_too_large\""));
  g_clear_pointer (&reply, g_free);

  /* Under the limit, the same endpoint reads the body. */
  {
    Reply r = http (gw, "POST", "/api/token", "application/json", "{\"room_name\":\"small\"}", NULL);
    g_assert_cmpuint (r.status, ==, 200);
    reply_clear (&r);
  }
  vg_test_gateway_stop (gw);
}

static const char *
lookup_dev (const char *key, gpointer data)
{
  return g_str_equal (key, "devkey") ? "secret" : NULL;
}

static void
verify_token (const char *token, VgClaims *claims)
{
  g_assert_nonnull (token);
  g_assert_cmpint (vg_jwt_verify (token, strlen (token), lookup_dev, NULL, g_get_real_time () / G_USEC_PER_SEC,
                                  claims), ==, VG_JWT_OK);
}

static void
test_post_token (void)
{
  const char *cfg[] = { "rate_limit.token_per_minute=0", "server.public_url=https://voxgate.example/", NULL };
  VgTestGateway *gw = vg_test_gateway_start (cfg);
  static const struct
  {
    const char *content_type, *body;
    guint status;
    const char *code;
  } bad[] = {
    { "text/plain", "{\"room_name\":\"r\"}", 415, "unsupported_media_type" },
    { "application/x-www-form-urlencoded", "room_name=r", 415, "unsupported_media_type" },
    { "application/json", "{\"room_name\":", 400, "invalid_json" },
    { "application/json", "[1,2]", 400, "invalid_json" },
    { "application/json", "\"str\"", 400, "invalid_json" },
    { "application/json", "{\"room_name\":\"r\xff\"}", 400, "invalid_json" },
    { "application/json", "{\"room_name\":5}", 400, "invalid_argument" },
    { "application/json", "{\"participant_attributes\":[1]}", 400, "invalid_argument" },
    { "application/json", "{\"participant_attributes\":{\"a\":1}}", 400, "invalid_argument" },
    { "application/json", "{\"room_name\":\"bad room!\"}", 400, "invalid_room" },
    { "application/json", "{\"room_name\":\"r\",\"participant_identity\":\"a\\nb\"}", 400, "invalid_identity" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      Reply r = http (gw, "POST", "/api/token", bad[i].content_type, bad[i].body, NULL);
      assert_error (&r, bad[i].status, bad[i].code);
      reply_clear (&r);
    }
  {
    Reply r = http (gw, "POST", "/api/token", "application/json; charset=utf-8",
                    "{\"room_name\":\"tutor-1\",\"participant_identity\":\"zoë\",\"participant_name\":\"Zoë\","
                    "\"participant_metadata\":\"{\\\"level\\\":2}\",\"participant_attributes\":{\"lang\":\"fr\"},"
                    "\"room_config\":{\"agents\":[]}}",
                    NULL);
    VgClaims c = { 0 };
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_cmpstr (json_str (&r, "server_url"), ==, "https://voxgate.example");
    verify_token (json_str (&r, "participant_token"), &c);
    g_assert_cmpstr (c.identity, ==, "zoë");
    g_assert_cmpstr (c.name, ==, "Zoë");
    g_assert_cmpstr (c.metadata, ==, "{\"level\":2}");
    g_assert_cmpstr (g_hash_table_lookup (c.attributes, "lang"), ==, "fr");
    g_assert_cmpstr (c.video.room, ==, "tutor-1");
    g_assert_true (c.video.room_join && c.video.can_publish && c.video.can_subscribe);
    g_assert_false (c.video.room_admin);
    g_assert_cmpint (c.expires_at - c.not_before, ==, 7200);
    vg_claims_clear (&c);
    reply_clear (&r);
  }
  {
    /* Everything optional: LiveKit's token source generates room and identity. */
    Reply r = http (gw, "POST", "/api/token", "application/json", "{}", NULL);
    VgClaims c = { 0 };
    g_assert_cmpuint (r.status, ==, 200);
    verify_token (json_str (&r, "participant_token"), &c);
    g_assert_true (g_str_has_prefix (c.identity, "user-"));
    g_assert_true (g_str_has_prefix (c.video.room, "room-"));
    vg_claims_clear (&c);
    reply_clear (&r);
  }
  vg_test_gateway_stop (gw);
}

static void
test_get_token (void)
{
  const char *cfg[] = { "rate_limit.token_per_minute=0", "auth.token_ttl=120", NULL };
  VgTestGateway *gw = vg_test_gateway_start (cfg);
  g_autofree char *long_name = g_strnfill (129, 'n');
  g_autofree char *path = g_strdup_printf ("/api/getToken?room=r&name=%s", long_name);
  Reply r = http (gw, "GET", "/api/getToken?name=Ann%20Lee&room=math-101", NULL, NULL, NULL);
  VgClaims c = { 0 };

  g_assert_cmpuint (r.status, ==, 200);
  verify_token (json_str (&r, "token"), &c);
  g_assert_cmpstr (json_str (&r, "room"), ==, "math-101");
  g_assert_cmpstr (json_str (&r, "identity"), ==, c.identity);
  g_assert_cmpstr (c.name, ==, "Ann Lee");
  g_assert_cmpstr (c.video.room, ==, "math-101");
  g_assert_cmpint (c.expires_at - c.not_before, ==, 120);
  g_assert_true (g_str_has_prefix (json_str (&r, "url"), "http://127.0.0.1:"));
  g_assert_true (json_object_get_int_member (json_node_get_object (r.json), "expires_at") == c.expires_at);
  vg_claims_clear (&c);
  reply_clear (&r);

  r = http (gw, "GET", "/api/getToken?room=../../etc", NULL, NULL, NULL);
  assert_error (&r, 400, "invalid_room");
  reply_clear (&r);
  r = http (gw, "GET", path, NULL, NULL, NULL);
  assert_error (&r, 400, "invalid_name");
  reply_clear (&r);
  vg_test_gateway_stop (gw);
}

static guint
get_token_status (VgTestGateway *gw, const char *local_addr, const char *xff, char **retry_after)
{
  g_autofree char *req = g_strdup_printf ("GET /api/getToken?room=r HTTP/1.1\r\nHost: x\r\n%s%s%s"
                                          "Connection: close\r\n\r\n",
                                          xff ? "X-Forwarded-For: " : "", xff ? xff : "", xff ? "\r\n" : "");
  g_autofree char *reply = vg_test_raw_request (vg_test_gateway_port (gw), local_addr, req, strlen (req));
  const char *ra = strcasestr (reply, "\r\nRetry-After: ");

  if (retry_after)
    *retry_after = ra ? g_strndup (ra + 15, strcspn (ra + 15, "\r")) : NULL;
  if (strstr (reply, " 429 "))
    g_assert_nonnull (strstr (reply, "\"rate_limited\""));
  return (guint) g_ascii_strtoull (reply + 9, NULL, 10);
}

static void
test_rate_limit (void)
{
  VgTestGateway *gw = vg_test_gateway_start (NULL);
  g_autofree char *retry_after = NULL;
  g_autofree char *metrics = NULL;

  for (int i = 0; i < 10; i++)
    g_assert_cmpuint (get_token_status (gw, "127.0.0.1", NULL, NULL), ==, 200);
  g_assert_cmpuint (get_token_status (gw, "127.0.0.1", NULL, &retry_after), ==, 429);
  g_assert_nonnull (retry_after);
  g_assert_cmpint (atoi (retry_after), >=, 1);
  g_assert_cmpint (atoi (retry_after), <=, 60);
  /* X-Forwarded-For from an untrusted peer changes nothing. */
  g_assert_cmpuint (get_token_status (gw, "127.0.0.1", "203.0.113.7", NULL), ==, 429);
  /* Another client address has its own budget. */
  g_assert_cmpuint (get_token_status (gw, "127.0.0.2", NULL, NULL), ==, 200);

  {
    Reply r = http (gw, "GET", "/metrics", NULL, NULL, NULL);
    g_assert_nonnull (strstr (r.body, "voxgate_rate_limited_total{route=\"/api/getToken\"} 2\n"));
    g_assert_nonnull (strstr (r.body, "voxgate_tokens_issued_total{endpoint=\"getToken\"} 11\n"));
    g_assert_nonnull (strstr (r.body, "voxgate_http_requests_total{route=\"/api/getToken\",method=\"GET\",code=\"429\"} 2\n"));
    reply_clear (&r);
  }
  vg_test_gateway_stop (gw);
}

static void
test_trusted_proxy (void)
{
  const char *cfg[] = { "server.trusted_proxies=127.0.0.1, 10.0.0.0/8", "rate_limit.token_per_minute=2", NULL };
  VgTestGateway *gw = vg_test_gateway_start (cfg);

  /* Behind a trusted proxy, the client is the right-most untrusted hop. */
  g_assert_cmpuint (get_token_status (gw, "127.0.0.1", "198.51.100.1", NULL), ==, 200);
  g_assert_cmpuint (get_token_status (gw, "127.0.0.1", "198.51.100.1", NULL), ==, 200);
  g_assert_cmpuint (get_token_status (gw, "127.0.0.1", "198.51.100.1", NULL), ==, 429);
  g_assert_cmpuint (get_token_status (gw, "127.0.0.1", "198.51.100.2", NULL), ==, 200);
  /* A forged left-most entry does not buy a new budget. */
  g_assert_cmpuint (get_token_status (gw, "127.0.0.1", "1.1.1.1, 198.51.100.1", NULL), ==, 429);
  g_assert_cmpuint (get_token_status (gw, "127.0.0.1", "198.51.100.1, 10.1.2.3", NULL), ==, 429);
  /* A peer that is not a trusted proxy is itself the client. */
  g_assert_cmpuint (get_token_status (gw, "127.0.0.3", "198.51.100.9", NULL), ==, 200);
  g_assert_cmpuint (get_token_status (gw, "127.0.0.3", "198.51.100.10", NULL), ==, 200);
  g_assert_cmpuint (get_token_status (gw, "127.0.0.3", "198.51.100.11", NULL), ==, 429);
  vg_test_gateway_stop (gw);
}

static gboolean
failing_check (VgApp *app, char **detail, gpointer data)
{
  *detail = g_strdup ("connection refused");
  return FALSE;
}

static gboolean
passing_check (VgApp *app, char **detail, gpointer data)
{
  return TRUE;
}

static void
add_checks (VgApp *app, gpointer data)
{
  vg_app_add_health_check (app, "cache", passing_check, NULL);
  vg_app_add_health_check (app, "store", failing_check, NULL);
}

static void
test_health (void)
{
  VgTestGateway *gw = vg_test_gateway_start (NULL);
  Reply r = http (gw, "GET", "/readyz", NULL, NULL, NULL);
  JsonObject *o;

  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (json_str (&r, "status"), ==, "ready");
  reply_clear (&r);

  vg_test_gateway_run (gw, add_checks, NULL);
  r = http (gw, "GET", "/readyz", NULL, NULL, NULL);
  g_assert_cmpuint (r.status, ==, 503);
  o = json_node_get_object (r.json);
  g_assert_cmpstr (json_object_get_string_member (o, "status"), ==, "unavailable");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "down")), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (o, "down"), 0), ==, "store");
  reply_clear (&r);

  r = http (gw, "GET", "/healthz", NULL, NULL, NULL);
  g_assert_cmpuint (r.status, ==, 200); /* liveness does not depend on components */
  reply_clear (&r);

  r = http (gw, "GET", "/api/health", NULL, NULL, NULL);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (json_str (&r, "status"), ==, "degraded");
  g_assert_cmpstr (json_str (&r, "version"), ==, "0.1.0");
  g_assert_cmpstr (json_str (&r, "components.store.status"), ==, "down");
  g_assert_cmpstr (json_str (&r, "components.store.detail"), ==, "connection refused");
  g_assert_cmpstr (json_str (&r, "components.cache.status"), ==, "up");
  o = json_node_get_object (r.json);
  g_assert_true (json_object_has_member (o, "uptime_seconds"));
  g_assert_true (json_object_has_member (json_object_get_object_member (o, "counts"), "rooms"));
  reply_clear (&r);
  vg_test_gateway_stop (gw);
}

static void
test_metrics_routes (void)
{
  VgTestGateway *gw = vg_test_gateway_start (NULL);
  Reply r;

  for (int i = 0; i < 3; i++)
    {
      r = http (gw, "GET", "/assets/style.css", NULL, NULL, NULL);
      reply_clear (&r);
    }
  r = http (gw, "GET", "/assets/nothing-here.js", NULL, NULL, NULL);
  reply_clear (&r);
  r = http (gw, "GET", "/api/metrics", NULL, NULL, NULL);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_true (g_str_has_prefix (soup_message_headers_get_content_type (r.headers, NULL), "text/plain"));
  /* Labelled by template, not by concrete path: bounded cardinality. */
  g_assert_nonnull (strstr (r.body, "voxgate_http_requests_total{route=\"/assets/{file}\",method=\"GET\",code=\"200\"} 3\n"));
  g_assert_nonnull (strstr (r.body, "voxgate_http_requests_total{route=\"/assets/{file}\",method=\"GET\",code=\"404\"} 1\n"));
  g_assert_null (strstr (r.body, "nothing-here"));
  g_assert_nonnull (strstr (r.body, "voxgate_http_request_duration_seconds_bucket{route=\"/assets/{file}\",method=\"GET\",le=\"+Inf\"} 4\n"));
  g_assert_nonnull (strstr (r.body, "process_resident_memory_bytes "));
  g_assert_nonnull (strstr (r.body, "process_start_time_seconds "));
  reply_clear (&r);
  vg_test_gateway_stop (gw);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/http/security-headers", test_security_headers);
  g_test_add_func ("/http/cors", test_cors);
  g_test_add_func ("/http/body-limit", test_body_limit);
  g_test_add_func ("/http/post-token", test_post_token);
  g_test_add_func ("/http/get-token", test_get_token);
  g_test_add_func ("/http/rate-limit", test_rate_limit);
  g_test_add_func ("/http/trusted-proxy", test_trusted_proxy);
  g_test_add_func ("/http/health", test_health);
  g_test_add_func ("/http/metrics-routes", test_metrics_routes);
  return g_test_run ();
}
