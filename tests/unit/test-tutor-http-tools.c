/* Operators' HTTP tools: the tools file's validation, and calls against a
 * local SoupServer (signature, results, failures, not blocking the main
 * context). */
#include "gateway/core/jwt.h"
#include "gateway/tutor/tutor-http-tools.h"
#include "gateway/tutor/tutor.h"
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include "soup-listen.h"

#define KEY "testkey"
#define SECRET "testsecret-testsecret-testsecret"

static const char good_entry[] = "{\"name\":\"weather\",\"description\":\"The weather.\","
                                 "\"parameters\":{\"type\":\"object\",\"properties\":{}},"
                                 "\"url\":\"https://tools.example/weather\"}";

static void
test_file_good (void)
{
  g_autofree char *text = g_strdup_printf (
      "[%s,{\"name\":\"_x9\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
      "\"url\":\"http://127.0.0.1:1/x\",\"timeout_ms\":100}]",
      good_entry);
  g_autoptr (GError) error = NULL;
  g_autoptr (VgTutorHttpTools) tools = vg_tutor_http_tools_parse (text, strlen (text), &error);
  g_assert_no_error (error);
  g_assert_true (vg_tutor_http_tools_has (tools, "weather"));
  g_assert_true (vg_tutor_http_tools_has (tools, "_x9"));
  g_assert_false (vg_tutor_http_tools_has (tools, "end_session"));
  /* The declaration: the built-ins then the file's, as functions. */
  g_autoptr (JsonNode) decl = json_from_string (vg_tutor_http_tools_json (tools), &error);
  g_assert_no_error (error);
  JsonArray *a = json_node_get_array (decl);
  g_autoptr (JsonNode) builtins = json_from_string (vg_tutor_tools_json (), NULL);
  guint n = json_array_get_length (json_node_get_array (builtins));
  g_assert_cmpuint (json_array_get_length (a), ==, n + 2);
  JsonObject *w = json_array_get_object_element (a, n);
  g_assert_cmpstr (json_object_get_string_member (w, "type"), ==, "function");
  g_assert_cmpstr (json_object_get_string_member (w, "name"), ==, "weather");
  g_assert_false (json_object_has_member (w, "url"));
  g_assert_cmpstr (vg_tutor_http_tools_json (NULL), ==, vg_tutor_tools_json ());
}

static void
test_file_bad (void)
{
  static const struct
  {
    const char *text, *expect;
  } cases[] = {
    { "{}", "array" },
    { "[1", NULL },
    /* json-glib alone read the first value, ignored (and leaked) the rest. */
    { "[] [{\"name\":\"a\"}]", NULL },
    { "[1]", "not an object" },
    { "[{\"name\":\"Bad\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
      "\"url\":\"http://a/\"}]",
      "name must" },
    { "[{\"name\":\"9a\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
      "\"url\":\"http://a/\"}]",
      "name must" },
    { "[{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
      "\"description\":\"d\",\"parameters\":{\"type\":\"object\"},\"url\":\"http://a/\"}]",
      "name must" },
    { "[{\"name\":\"end_session\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
      "\"url\":\"http://a/\"}]",
      "built-in" },
    { "[{\"name\":\"a\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
      "\"url\":\"http://a/\"},{\"name\":\"a\",\"description\":\"d\",\"parameters\":{\"type\":"
      "\"object\"},\"url\":\"http://a/\"}]",
      "twice" },
    { "[{\"name\":\"a\",\"parameters\":{\"type\":\"object\"},\"url\":\"http://a/\"}]",
      "description" },
    { "[{\"name\":\"a\",\"description\":\"d\",\"parameters\":[],\"url\":\"http://a/\"}]",
      "parameters" },
    { "[{\"name\":\"a\",\"description\":\"d\",\"parameters\":{\"type\":\"string\"},"
      "\"url\":\"http://a/\"}]",
      "parameters" },
    { "[{\"name\":\"a\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
      "\"url\":\"ftp://a/\"}]",
      "url" },
    { "[{\"name\":\"a\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"}}]", "url" },
    { "[{\"name\":\"a\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
      "\"url\":\"http://a/\",\"timeout_ms\":99}]",
      "timeout_ms" },
    { "[{\"name\":\"a\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
      "\"url\":\"http://a/\",\"timeout_ms\":30001}]",
      "timeout_ms" },
    { "[{\"name\":\"a\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
      "\"url\":\"http://a/\",\"timeout_ms\":\"5000\"}]",
      "timeout_ms" },
    { "[{\"name\":\"a\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
      "\"url\":\"http://a/\",\"timeout\":5000}]",
      "unknown member" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      VgTutorHttpTools *tools
          = vg_tutor_http_tools_parse (cases[i].text, strlen (cases[i].text), &error);
      g_assert_null (tools);
      g_assert_nonnull (error);
      if (cases[i].expect && !strstr (error->message, cases[i].expect))
        g_error ("case %u: \"%s\" does not say %s", i, error->message, cases[i].expect);
    }
  g_autoptr (GError) error = NULL;
  g_assert_null (vg_tutor_http_tools_load ("/nonexistent/tools.json", &error));
  g_assert_nonnull (strstr (error->message, "/nonexistent/tools.json"));
}

/* The server: runs on the test's main context. */
typedef struct
{
  SoupServer *server;
  guint port;
  char *last_body, *last_auth, *last_identity, *last_room;
  guint ticks;
} Fixture;

static gboolean
unpause (gpointer data)
{
  SoupServerMessage *msg = data;
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, "{\"slow\":1}", 10);
  soup_server_message_unpause (msg);
  g_object_unref (msg);
  return G_SOURCE_REMOVE;
}

static void
handle (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
        gpointer data)
{
  Fixture *f = data;
  SoupMessageBody *req = soup_server_message_get_request_body (msg);
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  g_free (f->last_body);
  g_free (f->last_auth);
  g_free (f->last_identity);
  g_free (f->last_room);
  f->last_body = g_strndup (req->data, req->length);
  f->last_auth = g_strdup (soup_message_headers_get_one (h, "Authorization"));
  f->last_identity = g_strdup (soup_message_headers_get_one (h, "X-Voxgate-Identity"));
  f->last_room = g_strdup (soup_message_headers_get_one (h, "X-Voxgate-Room"));
  if (g_str_equal (path, "/ok"))
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, "{\"temp\":21}",
                                      11);
  else if (g_str_equal (path, "/array"))
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, "[1,2]", 5);
  else if (g_str_equal (path, "/fail"))
    {
      soup_server_message_set_status (msg, 500, NULL);
      return;
    }
  else if (g_str_equal (path, "/redirect"))
    {
      soup_server_message_set_redirect (msg, 302, "/ok");
      return;
    }
  else if (g_str_equal (path, "/text"))
    soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_COPY, "hello", 5);
  else if (g_str_equal (path, "/scalar"))
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, "42", 2);
  else if (g_str_equal (path, "/big"))
    {
      gsize n = VG_TUTOR_HTTP_TOOLS_RESULT_MAX + 10;
      char *body = g_malloc (n);
      memset (body, ' ', n);
      body[0] = '[';
      body[n - 1] = ']';
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, body, n);
    }
  else if (g_str_equal (path, "/slow"))
    {
      /* Paused, not slept: the server shares the main context under test. */
      soup_server_message_pause (msg);
      g_timeout_add (600, unpause, g_object_ref (msg));
      return;
    }
  soup_server_message_set_status (msg, 200, NULL);
}

static void
fixture_setup (Fixture *f, gconstpointer unused)
{
  g_autoptr (GError) error = NULL;
  f->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (f->server, NULL, handle, f, NULL);
  f->port = vg_test_soup_listen_local (f->server, 0, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer unused)
{
  g_object_unref (f->server);
  g_free (f->last_body);
  g_free (f->last_auth);
  g_free (f->last_identity);
  g_free (f->last_room);
}

static VgTutorHttpTools *
tools_for (Fixture *f, const char *path, guint timeout_ms)
{
  g_autofree char *text = g_strdup_printf (
      "[{\"name\":\"t\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"},"
      "\"url\":\"http://127.0.0.1:%u%s\",\"timeout_ms\":%u}]",
      f->port, path, timeout_ms);
  g_autoptr (GError) error = NULL;
  VgTutorHttpTools *tools = vg_tutor_http_tools_parse (text, strlen (text), &error);
  g_assert_no_error (error);
  vg_tutor_http_tools_set_signer (tools, KEY, SECRET);
  return tools;
}

typedef struct
{
  VgTutorHttpTools *tools;
  const char *arguments;
  char *result;
  gboolean done;
} Call;

static gpointer
call_thread (gpointer data)
{
  Call *c = data;
  VgTutorCall call
      = { .identity = "learner-1", .name = "t", .arguments = c->arguments, .room = "room-7" };
  c->result = vg_tutor_http_tools_run (c->tools, &call);
  g_atomic_int_set (&c->done, TRUE);
  g_main_context_wakeup (NULL);
  return NULL;
}

/* Runs the call on a thread while the main context serves it. */
static char *
run_call (Fixture *f, const char *path, guint timeout_ms, const char *arguments)
{
  g_autoptr (VgTutorHttpTools) tools = tools_for (f, path, timeout_ms);
  Call c = { tools, arguments, NULL, FALSE };
  GThread *t = g_thread_new ("call", call_thread, &c);
  while (!g_atomic_int_get (&c.done))
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (t);
  return c.result;
}

static const char *
lookup (const char *api_key, gpointer data)
{
  return g_strcmp0 (api_key, KEY) == 0 ? SECRET : NULL;
}

static void
test_call_ok (Fixture *f, gconstpointer unused)
{
  const char *args = "{\"city\":\"Paris\"}";
  g_autofree char *result = run_call (f, "/ok", 2000, args);
  g_assert_cmpstr (result, ==, "{\"temp\":21}");
  g_assert_cmpstr (f->last_body, ==, args);
  g_assert_cmpstr (f->last_identity, ==, "learner-1");
  g_assert_cmpstr (f->last_room, ==, "room-7");
  g_assert_true (g_str_has_prefix (f->last_auth, "Bearer "));
  const char *token = f->last_auth + 7;
  g_auto (VgClaims) claims = { 0 };
  g_assert_cmpint (vg_jwt_verify (token, strlen (token), lookup, NULL,
                                  g_get_real_time () / G_USEC_PER_SEC, &claims),
                   ==, VG_JWT_OK);
  guint8 digest[32];
  gsize len = sizeof digest;
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, (const guchar *)args, -1);
  g_checksum_get_digest (sum, digest, &len);
  g_autofree char *b64 = g_base64_encode (digest, len);
  g_assert_cmpstr (claims.sha256, ==, b64);
  /* The learner and the room are signed too; the token grants nothing. */
  g_assert_cmpstr (claims.identity, ==, "learner-1");
  g_assert_cmpstr (claims.video.room, ==, "room-7");
  g_assert_false (claims.video.room_join || claims.video.room_admin || claims.video.room_create
                  || claims.video.room_list || claims.video.can_publish
                  || claims.video.can_subscribe || claims.video.can_publish_data);
  /* A token for a different secret is refused: the check above means something. */
  g_autofree char *forged = NULL;
  {
    g_auto (VgClaims) c = { 0 };
    c.sha256 = g_strdup (b64);
    c.expires_at = g_get_real_time () / G_USEC_PER_SEC + 60;
    forged = vg_jwt_mint (&c, KEY, "another-secret-another-secret");
  }
  g_auto (VgClaims) fc = { 0 };
  g_assert_cmpint (vg_jwt_verify (forged, strlen (forged), lookup, NULL,
                                  g_get_real_time () / G_USEC_PER_SEC, &fc),
                   ==, VG_JWT_BAD_SIGNATURE);

  g_autofree char *array = run_call (f, "/array", 2000, "");
  g_assert_cmpstr (array, ==, "[1,2]");
  g_assert_cmpstr (f->last_body, ==, "{}");
}

static void
expect_error (Fixture *f, const char *path, guint timeout_ms, const char *args, const char *why)
{
  g_autofree char *result = run_call (f, path, timeout_ms, args);
  g_autofree char *expect = g_strdup_printf ("tool t failed: %s", why);
  g_autoptr (JsonNode) n = json_from_string (result, NULL);
  g_assert_nonnull (n);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (n), "error"), ==, expect);
}

static void
test_call_failures (Fixture *f, gconstpointer unused)
{
  expect_error (f, "/fail", 2000, "{}", "HTTP status 500");
  expect_error (f, "/redirect", 2000, "{}", "HTTP status 302");
  expect_error (f, "/text", 2000, "{}", "the response is not a JSON object or array");
  expect_error (f, "/scalar", 2000, "{}", "the response is not a JSON object or array");
  expect_error (f, "/big", 2000, "{}", "the response is larger than 64 KiB");
  expect_error (f, "/ok", 2000, "[1]", "the arguments are not a JSON object");
  gint64 start = g_get_monotonic_time ();
  expect_error (f, "/slow", 200, "{}", "timed out");
  g_assert_cmpint (g_get_monotonic_time () - start, <, 550 * 1000);
  /* Let the paused response finish so the server's teardown is clean. */
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_timeout_add_once (500, (GSourceOnceFunc)g_main_loop_quit, loop);
  g_main_loop_run (loop);
}

static void
test_call_refused (void)
{
  /* A port nothing listens on: bind one, note it, close it. */
  g_autoptr (GSocket) s
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_assert_true (g_socket_bind (s, any, FALSE, NULL));
  g_autoptr (GSocketAddress) bound = g_socket_get_local_address (s, NULL);
  Fixture f = { .port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)) };
  g_socket_close (s, NULL);
  expect_error (&f, "/x", 2000, "{}", "could not reach the tool");
}

static void
answered (const VgTutorOutcome *outcome, gpointer data)
{
  char **out = data;
  *out = g_strdup (outcome->output_json);
}

static gboolean
tick (gpointer data)
{
  Fixture *f = data;
  f->ticks++;
  return G_SOURCE_CONTINUE;
}

static void
test_tutor_not_blocked (Fixture *f, gconstpointer unused)
{
  g_autoptr (VgTutorHttpTools) tools = tools_for (f, "/slow", 5000);
  VgTutor *tutor = vg_tutor_new_with_store (NULL);
  vg_tutor_set_http_tools (tutor, tools);
  char *output = NULL;
  VgTutorCall call = { "learner-1", 0, "t", "{}" };
  gint64 start = g_get_monotonic_time ();
  vg_tutor_call (tutor, &call, answered, &output, NULL);
  guint timer = g_timeout_add (20, tick, f);
  while (!output)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timer);
  /* ~600 ms of slow tool: a blocked main context would have ticked ~never. */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 500 * 1000);
  g_assert_cmpuint (f->ticks, >=, 10);
  g_assert_cmpstr (output, ==, "{\"slow\":1}");
  g_free (output);
  vg_tutor_free (tutor);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL);
  g_test_add_func ("/tutor-http-tools/file/good", test_file_good);
  g_test_add_func ("/tutor-http-tools/file/bad", test_file_bad);
  g_test_add ("/tutor-http-tools/call/ok", Fixture, NULL, fixture_setup, test_call_ok,
              fixture_teardown);
  g_test_add ("/tutor-http-tools/call/failures", Fixture, NULL, fixture_setup, test_call_failures,
              fixture_teardown);
  g_test_add_func ("/tutor-http-tools/call/refused", test_call_refused);
  g_test_add ("/tutor-http-tools/tutor/not-blocked", Fixture, NULL, fixture_setup,
              test_tutor_not_blocked, fixture_teardown);
  return g_test_run ();
}
