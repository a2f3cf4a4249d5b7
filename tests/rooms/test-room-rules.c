/* One rule for room names and identities on every endpoint, and grants that
 * apply to the room in their claim only (issues 14 §3 and 15). A real
 * gateway with rooms on its own thread; WHIP/WHEP offers from webrtcbin. */
#include "gateway-fixture.h"
#include "gateway/rooms/rooms.h"
#include "gateway/core/validate.h"
#include "gateway/core/jwt.h"
#include "vg-test-client.h"
#include "vg-build-config.h"
#include <string.h>

static VgTestGateway *gw;
static SoupSession *http;
static char *offer;

static void
create_rooms (VgApp *app, gpointer data)
{
  app->rooms = vg_rooms_new (app);
  g_assert_nonnull (vg_rooms_create (app->rooms, "ids", NULL, NULL));
}

static void
free_rooms (VgApp *app, gpointer data)
{
  vg_rooms_free (app->rooms);
  app->rooms = NULL;
}

typedef struct
{
  const char *room, *identity;
  gboolean join, admin, create, list, hidden, recorder;
} Grants;

/* Signs whatever it is given: the point is what the gateway does with it. */
static char *
token (const Grants *g)
{
  VgClaims c = { 0 };
  c.identity = (char *)g->identity;
  c.expires_at = g_get_real_time () / G_USEC_PER_SEC + 600;
  c.video.room = (char *)g->room;
  c.video.room_join = g->join;
  c.video.room_admin = g->admin;
  c.video.room_create = g->create;
  c.video.room_list = g->list;
  c.video.hidden = g->hidden;
  c.video.recorder = g->recorder;
  c.video.can_publish = c.video.can_subscribe = TRUE;
  c.video.can_publish_set = c.video.can_subscribe_set = TRUE;
  return vg_jwt_mint (&c, "devkey", "secret");
}

static char *
publisher (const char *room, const char *identity)
{
  Grants g = { .room = room, .identity = identity, .join = TRUE };
  return token (&g);
}

static char *
server_admin (void)
{
  Grants g = { .identity = "ops", .create = TRUE, .list = TRUE };
  return token (&g);
}

static char *
room_admin (const char *room)
{
  Grants g = { .room = room, .identity = "ops", .admin = TRUE };
  return token (&g);
}

typedef struct
{
  guint status;
  char *body;
  char *location;
} Reply;

static void
reply_clear (Reply *r)
{
  g_free (r->body);
  g_free (r->location);
}

static Reply
request (const char *method, const char *path, const char *bearer, const char *content_type,
         const char *body)
{
  g_autofree char *url = vg_test_gateway_url (gw, path);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  g_assert_nonnull (msg);
  SoupMessageHeaders *h = soup_message_get_request_headers (msg);
  if (bearer)
    {
      g_autofree char *auth = g_strdup_printf ("Bearer %s", bearer);
      soup_message_headers_replace (h, "Authorization", auth);
    }
  if (body)
    {
      g_autoptr (GBytes) b = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, content_type, b);
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) out = soup_session_send_and_read (http, msg, NULL, &error);
  g_assert_no_error (error);
  Reply r = { soup_message_get_status (msg) };
  gsize n;
  const char *data = g_bytes_get_data (out, &n);
  r.body = g_strndup (data ? data : "", n);
  r.location = g_strdup (
      soup_message_headers_get_one (soup_message_get_response_headers (msg), "Location"));
  return r;
}

/* The error code of a reply: {"error":{"code"}} or Twirp's {"code"}. */
static char *
error_code (const Reply *r)
{
  g_autoptr (JsonNode) root = json_from_string (r->body, NULL);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  JsonObject *o = json_node_get_object (root);
  if (json_object_has_member (o, "error"))
    o = json_object_get_object_member (o, "error");
  return o && json_object_has_member (o, "code")
             ? g_strdup (json_object_get_string_member (o, "code"))
             : NULL;
}

static void
expect (Reply r, guint status, const char *code, const char *what)
{
  g_autofree char *got = error_code (&r);
  if (r.status != status || (code && g_strcmp0 (got, code) != 0))
    g_error ("%s: expected %u %s, got %u %s", what, status, code ? code : "", r.status, r.body);
  reply_clear (&r);
}

/* A JSON object of string members, encoded by json-glib. */
static char *
json_body (const char *k1, const char *v1, const char *k2, const char *v2)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, k1);
  json_builder_add_string_value (b, v1);
  if (k2)
    {
      json_builder_set_member_name (b, k2);
      json_builder_add_string_value (b, v2);
    }
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

static Reply
twirp (const char *method, const char *bearer, const char *body)
{
  g_autofree char *path = g_strdup_printf ("/twirp/livekit.RoomService/%s", method);
  return request ("POST", path, bearer, "application/json", body);
}

static char *
room_path (const char *name, const char *suffix)
{
  g_autofree char *escaped = g_uri_escape_string (name, NULL, FALSE);
  return g_strdup_printf ("/api/rooms/%s%s", escaped, suffix);
}

static int
cli_token_ttl (const char *room, const char *ttl)
{
  const char *argv[] = { g_getenv ("VOXGATE_BIN"), "token", "--room", room, "--identity", "i",
                         ttl ? "--ttl" : NULL, ttl, NULL };
  g_autoptr (GError) error = NULL;
  int status = 0;
  g_assert_nonnull (argv[0]);
  g_assert_true (g_spawn_sync (NULL, (char **)argv, NULL,
                               G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                               NULL, NULL, &status, &error));
  g_assert_no_error (error);
  return g_spawn_check_wait_status (status, NULL) ? 0 : 1;
}

static int
cli_token (const char *room)
{
  return cli_token_ttl (room, NULL);
}

/* Names every endpoint must accept and refuse alike. Names with '/' never
 * reach a handler through a path (the router refuses %2F with 404), and "."
 * or ".." are removed from paths by URL normalisation: the unit test covers
 * them. */
static const char *const valid_names[] = {
  "a", "Room_1-b", "lesson.2024-05-01",
  "r234567890123456789012345678901234567890123456789012345678901234", /* 64 */
};
static const char *const invalid_names[] = {
  "a:b",
  ".hidden",
  "-rf",
  "_x",
  "a b",
  "caf\xc3\xa9",
  "a\x01",
  "a\x7f",
  "a\xc2\x85",
  "a\xe2\x80\xae"
  "b",
  "r2345678901234567890123456789012345678901234567890123456789012345", /* 65 */
};

static void
test_invalid_room_names (void)
{
  g_autofree char *ops = server_admin ();
  for (guint i = 0; i < G_N_ELEMENTS (invalid_names); i++)
    {
      const char *name = invalid_names[i];
      g_autofree char *escaped = g_uri_escape_string (name, NULL, FALSE);
      g_test_message ("invalid room %s", escaped);
      g_autofree char *token_body = json_body ("room_name", name, NULL, NULL);
      expect (request ("POST", "/api/token", NULL, "application/json", token_body), 400,
              "invalid_room", "POST /api/token");
      g_autofree char *get_token = g_strdup_printf ("/api/getToken?room=%s&name=x", escaped);
      expect (request ("GET", get_token, NULL, NULL, NULL), 400, "invalid_room",
              "GET /api/getToken");

      g_autofree char *create = json_body ("name", name, NULL, NULL);
      expect (request ("POST", "/api/rooms", ops, "application/json", create), 400, "invalid_room",
              "REST create");
      g_autofree char *one = room_path (name, "");
      expect (request ("GET", one, ops, NULL, NULL), 400, "invalid_room", "REST get");
      expect (request ("DELETE", one, ops, NULL, NULL), 400, "invalid_room", "REST delete");
      g_autofree char *participants = room_path (name, "/participants");
      g_autofree char *admin = room_admin (name);
      expect (request ("GET", participants, admin, NULL, NULL), 400, "invalid_room",
              "REST participants");

      g_autofree char *by_room = json_body ("room", name, NULL, NULL);
      expect (twirp ("CreateRoom", ops, create), 400, "invalid_argument", "Twirp CreateRoom");
      expect (twirp ("DeleteRoom", ops, by_room), 400, "invalid_argument", "Twirp DeleteRoom");
      /* Twirp authorizes before it parses the body (hostile input, issue 15):
       * a token whose room claim breaks the rule is itself refused; a valid
       * roomAdmin token naming a bad room in the body gets the rule. */
      expect (twirp ("ListParticipants", admin, by_room), 401, "unauthenticated",
              "Twirp ListParticipants, token for the bad room");
      g_autofree char *other_admin = room_admin ("graded");
      expect (twirp ("ListParticipants", other_admin, by_room), 400, "invalid_argument",
              "Twirp ListParticipants");

      g_autofree char *pub = publisher (name, "alice");
      g_autofree char *whip = room_path (name, "/whip");
      expect (request ("POST", whip, pub, "application/sdp", offer), 400, "invalid_room", "WHIP");
      Grants monitor = { .room = name, .identity = "monitor", .hidden = TRUE };
      g_autofree char *mon = token (&monitor);
      g_autofree char *whep = room_path (name, "/whep");
      expect (request ("POST", whep, mon, "application/sdp", offer), 400, "invalid_room", "WHEP");

      g_assert_cmpint (cli_token (name), !=, 0);
    }
}

static void
test_valid_room_names (void)
{
  g_autofree char *ops = server_admin ();
  for (guint i = 0; i < G_N_ELEMENTS (valid_names); i++)
    {
      const char *name = valid_names[i];
      g_test_message ("valid room %s", name);
      g_autofree char *token_body = json_body ("room_name", name, NULL, NULL);
      expect (request ("POST", "/api/token", NULL, "application/json", token_body), 200, NULL,
              "POST /api/token");
      g_autofree char *get_token = g_strdup_printf ("/api/getToken?room=%s&name=x", name);
      Reply r = request ("GET", get_token, NULL, NULL, NULL);
      g_autofree char *room_member = g_strdup_printf ("\"room\":\"%s\"", name);
      g_assert_nonnull (strstr (r.body, room_member));
      expect (r, 200, NULL, "GET /api/getToken");

      g_autofree char *create = json_body ("name", name, NULL, NULL);
      expect (request ("POST", "/api/rooms", ops, "application/json", create), 201, NULL,
              "REST create");
      g_autofree char *one = room_path (name, "");
      expect (request ("GET", one, ops, NULL, NULL), 200, NULL, "REST get");

      g_autofree char *pub = publisher (name, "alice");
      g_autofree char *whip = room_path (name, "/whip");
      Reply joined = request ("POST", whip, pub, "application/sdp", offer);
      g_autofree char *session = g_strdup (joined.location);
      expect (joined, 201, NULL, "WHIP");
      Grants monitor = { .room = name, .identity = "monitor", .hidden = TRUE };
      g_autofree char *mon = token (&monitor);
      g_autofree char *whep = room_path (name, "/whep");
      Reply listening = request ("POST", whep, mon, "application/sdp", offer);
      g_autofree char *monitor_session = g_strdup (listening.location);
      expect (listening, 201, NULL, "WHEP");

      g_autofree char *admin = room_admin (name);
      g_autofree char *participants = room_path (name, "/participants");
      expect (request ("GET", participants, admin, NULL, NULL), 200, NULL, "REST participants");
      g_autofree char *by_room = json_body ("room", name, NULL, NULL);
      expect (twirp ("ListParticipants", admin, by_room), 200, NULL, "Twirp ListParticipants");
      expect (request ("DELETE", monitor_session, mon, NULL, NULL), 200, NULL,
              "WHEP session DELETE");
      expect (request ("DELETE", session, pub, NULL, NULL), 200, NULL, "WHIP session DELETE");

      expect (request ("DELETE", one, ops, NULL, NULL), 200, NULL, "REST delete");
      expect (twirp ("CreateRoom", ops, create), 200, NULL, "Twirp CreateRoom");
      expect (twirp ("DeleteRoom", ops, by_room), 200, NULL, "Twirp DeleteRoom");

      g_assert_cmpint (cli_token (name), ==, 0);
    }
}

/* A grant applies to the room in its claim: without a room claim, hidden,
 * recorder and roomAdmin reach no room (LiveKit's VideoGrant); roomList and
 * roomCreate are not scoped. */
static void
test_grants_are_room_scoped (void)
{
  g_autofree char *pub = publisher ("graded", "learner");
  Reply joined = request ("POST", "/api/rooms/graded/whip", pub, "application/sdp", offer);
  g_autofree char *session = g_strdup (joined.location);
  expect (joined, 201, NULL, "WHIP");

  Grants roomless_monitor = { .identity = "spy", .hidden = TRUE, .recorder = TRUE };
  Grants other_monitor = { .room = "other", .identity = "spy", .hidden = TRUE, .recorder = TRUE };
  Grants roomless_admin = { .identity = "spy", .admin = TRUE };
  Grants other_admin = { .room = "other", .identity = "spy", .admin = TRUE };
  Grants roomless_join = { .identity = "learner", .join = TRUE };
  const Grants *refused[]
      = { &roomless_monitor, &other_monitor, &roomless_admin, &other_admin, &roomless_join };
  const char *frag = "a=candidate:1 1 UDP 2122260223 192.0.2.77 50000 typ host\r\n";
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *t = token (refused[i]);
      g_test_message ("token #%u", i);
      expect (request ("POST", "/api/rooms/graded/whep", t, "application/sdp", offer), 403, NULL,
              "WHEP");
      expect (request ("POST", "/api/rooms/graded/whip", t, "application/sdp", offer), 403, NULL,
              "WHIP");
      expect (request ("PATCH", session, t, "application/trickle-ice-sdpfrag", frag), 403,
              "permission_denied", "session PATCH");
      expect (request ("DELETE", session, t, NULL, NULL), 403, "permission_denied",
              "session DELETE");
      expect (request ("GET", "/api/rooms/graded/participants", t, NULL, NULL), 403, NULL,
              "REST participants");
      expect (request ("DELETE", "/api/rooms/graded/participants/learner", t, NULL, NULL), 403,
              NULL, "REST remove participant");
      expect (twirp ("ListParticipants", t, "{\"room\":\"graded\"}"), 403, "permission_denied",
              "Twirp ListParticipants");
      expect (twirp ("RemoveParticipant", t, "{\"room\":\"graded\",\"identity\":\"learner\"}"), 403,
              "permission_denied", "Twirp RemoveParticipant");
      expect (twirp ("SendData", t, "{\"room\":\"graded\",\"data\":\"aGk=\"}"), 403,
              "permission_denied", "Twirp SendData");
    }

  /* Not scoped: a server admin token lists and creates without a room claim. */
  g_autofree char *ops = server_admin ();
  expect (request ("GET", "/api/rooms", ops, NULL, NULL), 200, NULL, "REST list");
  expect (twirp ("ListRooms", ops, "{}"), 200, NULL, "Twirp ListRooms");

  /* Scoped to this room, the same grants work. */
  g_autofree char *admin = room_admin ("graded");
  expect (request ("GET", "/api/rooms/graded/participants", admin, NULL, NULL), 200, NULL,
          "REST participants");
  expect (twirp ("ListParticipants", admin, "{\"room\":\"graded\"}"), 200, NULL,
          "Twirp ListParticipants");
  Grants recorder = { .room = "graded", .identity = "rec", .recorder = TRUE };
  g_autofree char *rec = token (&recorder);
  Reply listening = request ("POST", "/api/rooms/graded/whep", rec, "application/sdp", offer);
  g_autofree char *monitor_session = g_strdup (listening.location);
  expect (listening, 201, NULL, "WHEP recorder");
  expect (request ("DELETE", monitor_session, admin, NULL, NULL), 200, NULL, "admin ends WHEP");
  expect (request ("DELETE", session, pub, NULL, NULL), 200, NULL, "own DELETE");
}

/* One identity rule at minting, verification, WHIP, REST and Twirp. */
static void
test_identities (void)
{
  g_autofree char *long_id = g_strnfill (5000, 'a');
  const char *hostile[] = { "eve\nINFO forged line",
                            "eve\tx",
                            "eve\xe2\x80\xae"
                            "gpj",
                            long_id,
                            "eve\xe2\x80\xa8x",
                            " admin" };
  g_autofree char *admin = room_admin ("ids");
  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_test_message ("identity #%u", i);
      g_autofree char *pub = publisher ("ids", hostile[i]);
      expect (request ("POST", "/api/rooms/ids/whip", pub, "application/sdp", offer), 401,
              "token_claims", "WHIP");
      g_autofree char *body = json_body ("room_name", "ids", "participant_identity", hostile[i]);
      expect (request ("POST", "/api/token", NULL, "application/json", body), 400,
              "invalid_identity", "POST /api/token");
      g_autofree char *escaped = g_uri_escape_string (hostile[i], NULL, FALSE);
      g_autofree char *get_token = g_strdup_printf ("/api/getToken?room=ids&identity=%s", escaped);
      expect (request ("GET", get_token, NULL, NULL, NULL), 400, "invalid_identity",
              "GET /api/getToken");
      g_autofree char *remove = g_strdup_printf ("/api/rooms/ids/participants/%s", escaped);
      expect (request ("DELETE", remove, admin, NULL, NULL), 400, "invalid_identity",
              "REST remove participant");
      g_autofree char *get = json_body ("room", "ids", "identity", hostile[i]);
      expect (twirp ("GetParticipant", admin, get), 400, "invalid_argument",
              "Twirp GetParticipant");
    }
  /* Attribute keys are names too. */
  expect (request ("POST", "/api/token", NULL, "application/json",
                   "{\"room_name\":\"ids\",\"participant_attributes\":{\"k\\u0001\":\"v\"}}"),
          400, "invalid_argument", "attribute key");
  expect (request ("POST", "/api/token", NULL, "application/json",
                   "{\"room_name\":\"ids\",\"participant_identity\":\"Zo\\u00eb \\u00dcnal\","
                   "\"participant_attributes\":{\"grade\":\"5\\nB\"}}"),
          200, NULL, "a Unicode identity, a value with a newline");
}

/* Integers from JSON are range-checked as integers: no double or out-of-range
 * text reaches a conversion. */
static void
test_numbers (void)
{
  g_autofree char *ops = server_admin ();
  const char *rest[] = {
    "{\"name\":\"n\",\"max_participants\":1e300}",
    "{\"name\":\"n\",\"max_participants\":99999999999999999999}",
    "{\"name\":\"n\",\"max_participants\":-1}",
    "{\"name\":\"n\",\"empty_timeout\":\"99999999999999999999\"}",
    "{\"name\":\"n\",\"empty_timeout\":9223372036854775807}",
    "{\"name\":\"n\",\"empty_timeout\":1.5}",
  };
  for (guint i = 0; i < G_N_ELEMENTS (rest); i++)
    {
      g_test_message ("%s", rest[i]);
      Reply r = request ("POST", "/api/rooms", ops, "application/json", rest[i]);
      g_assert_cmpuint (r.status, ==, 400);
      reply_clear (&r);
      r = twirp ("CreateRoom", ops, rest[i]);
      g_assert_cmpuint (r.status, ==, 400);
      reply_clear (&r);
    }
  expect (twirp ("CreateRoom", ops, "{\"name\":\"n\",\"emptyTimeout\":\"18446744073709551616\"}"),
          400, "invalid_argument", "Twirp emptyTimeout");
  /* now + ttl must not wrap: the CLI takes [auth] token_ttl's range. */
  g_assert_cmpint (cli_token_ttl ("r", "9223372036854775807"), !=, 0);
  g_assert_cmpint (cli_token_ttl ("r", "-5"), !=, 0);
  g_assert_cmpint (cli_token_ttl ("r", "3600"), ==, 0);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  const char *src = g_getenv ("VOXGATE_SOURCE_DIR");
  g_autofree char *dir_override
      = g_strdup_printf ("agent.pipelines_dir=%s/pipelines", src ? src : VOXGATE_SOURCE_DIR);
  const char *overrides[]
      = { "agent.pipeline=loopback.pipeline", dir_override, "rate_limit.token_per_minute=0", NULL };
  gw = vg_test_gateway_start (overrides);
  vg_test_gateway_run (gw, create_rooms, NULL);
  http = soup_session_new ();
  VgTestClient *offerer = vg_test_client_new ("offerer", NULL);
  g_autoptr (GError) error = NULL;
  offer = vg_test_client_make_offer (offerer, 5000, &error);
  g_assert_no_error (error);
  vg_test_client_free (offerer);

  g_test_add_func ("/rules/room-names/invalid", test_invalid_room_names);
  g_test_add_func ("/rules/room-names/valid", test_valid_room_names);
  g_test_add_func ("/rules/grants-are-room-scoped", test_grants_are_room_scoped);
  g_test_add_func ("/rules/identities", test_identities);
  g_test_add_func ("/rules/numbers", test_numbers);
  int rc = g_test_run ();

  g_free (offer);
  g_object_unref (http);
  vg_test_gateway_run (gw, free_rooms, NULL);
  vg_test_gateway_stop (gw);
  return rc;
}
