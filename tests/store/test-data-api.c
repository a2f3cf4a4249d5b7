/* The data API over HTTP against a real gateway server and a real store
 * (SQLite or PostgreSQL, the first argument after the GTest options). */
#include "gateway-fixture.h"
#include "store-fixture.h"
#include "gateway/core/jwt.h"

#include <string.h>

typedef struct
{
  guint status;
  JsonNode *json;
} Reply;

static VgTestGateway *gw;
static char *admin_token;
static char *user_token;

static Reply
http (const char *method, const char *path, const char *body, const char *token)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree char *url = vg_test_gateway_url (gw, path);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  Reply r = { 0 };

  g_assert_nonnull (msg);
  if (token)
    {
      g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);
      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
    }
  if (body)
    {
      g_autoptr (GBytes) b = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, "application/json", b);
    }
  bytes = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  r.status = soup_message_get_status (msg);
  if (g_bytes_get_size (bytes))
    {
      g_autofree char *text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      r.json = json_from_string (text, NULL);
    }
  return r;
}

static Reply
admin (const char *method, const char *path, const char *body)
{
  return http (method, path, body, admin_token);
}

static void
reply_clear (Reply *r)
{
  g_clear_pointer (&r->json, json_node_unref);
}

static JsonObject *
obj (Reply *r)
{
  g_assert_nonnull (r->json);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (r->json));
  return json_node_get_object (r->json);
}

static void
assert_error (Reply *r, guint status, const char *code)
{
  g_assert_cmpuint (r->status, ==, status);
  g_assert_cmpstr (
      json_object_get_string_member (json_object_get_object_member (obj (r), "error"), "code"), ==,
      code);
  reply_clear (r);
}

static void
test_auth (void)
{
  /* The catalogue is public for the web page's picker, without instructions;
   * a token that is not an admin's still may not read it. */
  Reply r = http ("GET", "/api/subtopics", NULL, NULL);
  g_assert_cmpuint (r.status, ==, 200);
  JsonArray *rows = json_object_get_array_member (obj (&r), "subtopics");
  g_assert_cmpuint (json_array_get_length (rows), >, 0);
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);
      g_assert_true (json_object_has_member (row, "name"));
      g_assert_false (json_object_has_member (row, "instructions"));
    }
  reply_clear (&r);
  r = http ("POST", "/api/subtopics", "{\"topic\":\"x\",\"name\":\"y\"}", NULL);
  g_assert_cmpuint (r.status, ==, 401);
  g_assert_nonnull (json_object_get_object_member (obj (&r), "error"));
  reply_clear (&r);
  r = http ("GET", "/api/subtopics", NULL, user_token);
  g_assert_cmpuint (r.status, ==, 403);
  reply_clear (&r);
  r = http ("GET", "/api/conversations", NULL, user_token);
  g_assert_cmpuint (r.status, ==, 403);
  reply_clear (&r);
}

static void
test_subtopics (void)
{
  Reply r = admin ("GET", "/api/subtopics?topic=mathematics", NULL);
  g_autofree char *path = NULL;
  gint64 id;

  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (obj (&r), "subtopics")),
                    ==, 2);
  reply_clear (&r);

  r = admin ("POST", "/api/subtopics",
             "{\"topic\":\"history\",\"name\":\"Rome's \\\"fall\\\"; DROP TABLE subtopics\"}");
  g_assert_cmpuint (r.status, ==, 201);
  id = json_object_get_int_member (obj (&r), "id");
  g_assert_cmpstr (json_object_get_string_member (obj (&r), "name"), ==,
                   "Rome's \"fall\"; DROP TABLE subtopics");
  reply_clear (&r);
  path = g_strdup_printf ("/api/subtopics/%" G_GINT64_FORMAT, id);

  r = admin ("POST", "/api/subtopics",
             "{\"topic\":\"history\",\"name\":\"Rome's \\\"fall\\\"; DROP TABLE subtopics\"}");
  assert_error (&r, 409, "already_exists");
  r = admin ("POST", "/api/subtopics", "{\"topic\":\"history\"}");
  assert_error (&r, 400, "invalid_argument");
  r = admin ("POST", "/api/subtopics", "{\"topic\":\"history\",\"name\":42}");
  assert_error (&r, 400, "invalid_argument");
  r = admin ("POST", "/api/subtopics", "{\"topic\":\"history\",\"name\":\"x\",\"colour\":\"red\"}");
  assert_error (&r, 400, "invalid_argument");
  {
    g_autofree char *long_name = g_strnfill (201, 'a');
    g_autofree char *body = g_strdup_printf ("{\"topic\":\"t\",\"name\":\"%s\"}", long_name);
    r = admin ("POST", "/api/subtopics", body);
    assert_error (&r, 400, "invalid_argument");
  }

  r = admin ("GET", path, NULL);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (obj (&r), "topic"), ==, "history");
  reply_clear (&r);
  r = admin ("PUT", path, "{\"description\":\"The late empire\"}");
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (obj (&r), "description"), ==, "The late empire");
  reply_clear (&r);
  r = admin ("PUT", path, "{}");
  assert_error (&r, 400, "invalid_argument");
  r = admin ("DELETE", path, NULL);
  g_assert_cmpuint (r.status, ==, 204);
  reply_clear (&r);
  r = admin ("DELETE", path, NULL);
  assert_error (&r, 404, "not_found");
  r = admin ("GET", path, NULL);
  assert_error (&r, 404, "not_found");
  r = admin ("PUT", "/api/subtopics/99999999", "{\"name\":\"x\"}");
  assert_error (&r, 404, "not_found");
  r = admin ("GET", "/api/subtopics/abc", NULL);
  assert_error (&r, 400, "invalid_argument");
  r = admin ("GET", "/api/subtopics/-1", NULL);
  assert_error (&r, 400, "invalid_argument");
}

typedef struct
{
  char *ids[5];
} Conversations;

static void
write_conversations (VgApp *app, gpointer data)
{
  Conversations *c = data;

  for (guint i = 0; i < 5; i++)
    {
      c->ids[i] = vg_store_conversation_start (app->store, "data-room", i == 4 ? "zoe" : "yann", 0,
                                               "echo.pipeline", "echo", NULL);
      for (guint j = 0; j < 3; j++)
        {
          g_autofree char *text = g_strdup_printf ("turn %u", j);
          VgStoreMessage m
              = { j % 2 ? "assistant" : "user", text, NULL, j * 1000, j * 1000 + 500, FALSE };
          g_assert_true (vg_store_message_add (app->store, c->ids[i], &m, NULL));
        }
      g_assert_true (vg_store_conversation_end (app->store, c->ids[i], "completed", NULL));
    }
  {
    VgStoreAnalytics a = { c->ids[0], "data-room", "yann", g_get_real_time (),
                           42.0,      2,           1,      0,
                           300,       450,         10,     20,
                           5.5,       4.5,         0,      1.25 };
    g_assert_true (vg_store_analytics_write (app->store, &a, NULL));
  }
  g_assert_true (vg_store_flush (app->store, 20 * G_USEC_PER_SEC));
}

static void
test_conversations (void)
{
  Conversations c = { 0 };
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *cursor = NULL;
  Reply r;

  vg_test_gateway_run (gw, write_conversations, &c);
  for (guint page = 0;; page++)
    {
      g_autofree char *path
          = cursor ? g_strdup_printf ("/api/conversations?room=data-room&limit=2&cursor=%s", cursor)
                   : g_strdup ("/api/conversations?room=data-room&limit=2");
      JsonArray *list;
      JsonNode *next;

      r = admin ("GET", path, NULL);
      g_assert_cmpuint (r.status, ==, 200);
      list = json_object_get_array_member (obj (&r), "conversations");
      for (guint i = 0; i < json_array_get_length (list); i++)
        g_assert_true (
            g_hash_table_add (seen, g_strdup (json_object_get_string_member (
                                        json_array_get_object_element (list, i), "id"))));
      next = json_object_get_member (obj (&r), "next_cursor");
      g_clear_pointer (&cursor, g_free);
      if (!JSON_NODE_HOLDS_NULL (next))
        cursor = g_strdup (json_node_get_string (next));
      reply_clear (&r);
      g_assert_cmpuint (page, <, 3);
      if (!cursor)
        break;
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, 5);

  r = admin ("GET", "/api/conversations?identity=zoe", NULL);
  g_assert_cmpuint (
      json_array_get_length (json_object_get_array_member (obj (&r), "conversations")), ==, 1);
  reply_clear (&r);
  r = admin ("GET", "/api/conversations?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z", NULL);
  g_assert_cmpuint (
      json_array_get_length (json_object_get_array_member (obj (&r), "conversations")), ==, 0);
  reply_clear (&r);
  r = admin ("GET", "/api/conversations?from=yesterday", NULL);
  assert_error (&r, 400, "invalid_argument");
  r = admin ("GET", "/api/conversations?limit=0", NULL);
  assert_error (&r, 400, "invalid_argument");
  r = admin ("GET", "/api/conversations?limit=201", NULL);
  assert_error (&r, 400, "invalid_argument");
  r = admin ("GET", "/api/conversations?cursor=bm90IGEgY3Vyc29y", NULL);
  assert_error (&r, 400, "invalid_argument");

  {
    g_autofree char *path = g_strdup_printf ("/api/conversations/%s", c.ids[2]);
    JsonArray *msgs;
    r = admin ("GET", path, NULL);
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_cmpstr (json_object_get_string_member (obj (&r), "status"), ==, "completed");
    msgs = json_object_get_array_member (obj (&r), "messages");
    g_assert_cmpuint (json_array_get_length (msgs), ==, 3);
    for (guint j = 0; j < 3; j++)
      {
        g_autofree char *text = g_strdup_printf ("turn %u", j);
        g_assert_cmpstr (
            json_object_get_string_member (json_array_get_object_element (msgs, j), "text"), ==,
            text);
      }
    reply_clear (&r);
  }
  r = admin ("GET", "/api/conversations/00000000-0000-4000-8000-000000000000", NULL);
  assert_error (&r, 404, "not_found");
  r = admin ("GET", "/api/conversations/nope'--", NULL);
  assert_error (&r, 404, "not_found");

  /* Filters follow the room-name and identity rules, as every endpoint does. */
  r = admin ("GET", "/api/conversations?room=a%3Ab", NULL);
  assert_error (&r, 400, "invalid_room");
  r = admin ("GET", "/api/analytics/daily?room=.x", NULL);
  assert_error (&r, 400, "invalid_room");
  r = admin ("GET", "/api/analytics?identity=eve%0Aforged", NULL);
  assert_error (&r, 400, "invalid_identity");
  r = admin ("GET", "/api/conversations?identity=a%E2%80%AEb", NULL);
  assert_error (&r, 400, "invalid_identity");

  r = admin ("GET", "/api/analytics?room=data-room", NULL);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (obj (&r), "sessions")), ==,
                    1);
  reply_clear (&r);
  r = admin ("GET", "/api/analytics/daily?room=data-room", NULL);
  g_assert_cmpuint (r.status, ==, 200);
  {
    JsonArray *days = json_object_get_array_member (obj (&r), "days");
    g_assert_cmpuint (json_array_get_length (days), ==, 1);
    g_assert_cmpint (
        json_object_get_int_member (json_array_get_object_element (days, 0), "sessions"), ==, 1);
  }
  reply_clear (&r);
  r = admin ("GET", "/api/analytics?to=13:00", NULL);
  assert_error (&r, 400, "invalid_argument");
  for (guint i = 0; i < 5; i++)
    g_free (c.ids[i]);
}

static void
test_users (void)
{
  Reply r = admin ("GET", "/api/users/nobody", NULL);
  g_autoptr (GString) big = g_string_new ("{\"preferences\":{\"k\":\"");

  assert_error (&r, 404, "not_found");
  r = admin ("PUT", "/api/users/o'neil",
             "{\"display_name\":\"O'Neil\",\"preferences\":{\"voice\":\"alloy\",\"n\":[1,2]}}");
  g_assert_cmpuint (r.status, ==, 200);
  reply_clear (&r);
  r = admin ("GET", "/api/users/o'neil", NULL);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (obj (&r), "display_name"), ==, "O'Neil");
  g_assert_cmpstr (json_object_get_string_member (
                       json_object_get_object_member (obj (&r), "preferences"), "voice"),
                   ==, "alloy");
  reply_clear (&r);
  r = admin ("PUT", "/api/users/o'neil", "{\"preferences\":[1]}");
  assert_error (&r, 400, "invalid_argument");
  r = admin ("PUT", "/api/users/o'neil", "{\"display_name\":\"x\"}");
  assert_error (&r, 400, "invalid_argument");
  r = admin ("PUT", "/api/users/o'neil", "{\"preferences\":{},\"display_name\":7}");
  assert_error (&r, 400, "invalid_argument");
  while (big->len < 17000)
    g_string_append (big, "0123456789");
  g_string_append (big, "\"}}");
  r = admin ("PUT", "/api/users/o'neil", big->str);
  assert_error (&r, 400, "invalid_argument");
  r = admin ("PUT", "/api/users/o'neil", "not json");
  g_assert_cmpuint (r.status, ==, 400);
  reply_clear (&r);
}

static char *
mint_claims (const char *identity, const char *room, gboolean join, gboolean admin, gboolean list)
{
  VgClaims c = { 0 };

  c.identity = (char *)identity;
  c.expires_at = g_get_real_time () / G_USEC_PER_SEC + 600;
  c.video.room = (char *)room;
  c.video.room_join = join;
  c.video.room_admin = admin;
  c.video.room_list = list;
  return vg_jwt_mint (&c, "devkey", "secret");
}

typedef struct
{
  gint64 subtopic;
  char *lena, *mark;
} Learners;

static void
write_learners (VgApp *app, gpointer data)
{
  Learners *l = data;
  VgAssessment a = { "lena", NULL, l->subtopic, "fractions", VG_LEVEL_DEVELOPING, "said so" };

  l->lena = vg_store_conversation_start (app->store, "lena-room", "lena", l->subtopic,
                                         "echo.pipeline", "echo", NULL);
  l->mark = vg_store_conversation_start (app->store, "mark-room", "mark", l->subtopic,
                                         "echo.pipeline", "echo", NULL);
  a.conversation_id = l->lena;
  g_assert_true (vg_store_assessment_add (app->store, &a, NULL));
  a.level = VG_LEVEL_MASTERED;
  g_assert_true (vg_store_assessment_add (app->store, &a, NULL));
  g_assert_true (
      vg_store_conversation_set_summary (app->store, l->lena, "halves and thirds", NULL));
  g_assert_true (vg_store_conversation_end (app->store, l->lena, "completed", NULL));
  g_assert_true (vg_store_profile_touch (app->store, "lena", "Lena", NULL));
  g_assert_true (vg_store_profile_touch (app->store, "mark", "Mark", NULL));
  g_assert_true (vg_store_flush (app->store, 20 * G_USEC_PER_SEC));
}

static void
write_session_analytics (VgApp *app, gpointer data)
{
  Learners *l = data;
  gint64 connected = g_get_real_time ();
  VgAssessment later = { "lena", l->lena, l->subtopic, "fractions", VG_LEVEL_EMERGING, NULL };
  VgStoreAnalytics a = { l->lena, "lena-room", "lena", connected, 30.0, 3, 3, 2, 300, 900 };
  VgStoreAnalytics m = { l->mark, "mark-room", "mark", connected, 5.0 };

  a.audio_seconds_in = 12.5;
  a.audio_seconds_out = 14.0;
  a.tool_calls = 4;
  a.response_latency_p50_ms = 310;
  m.response_latency_mean_ms = m.response_latency_p95_ms = m.response_latency_p50_ms = -1;
  /* Stamps are in microseconds: the next assessment is after connected. */
  g_usleep (2000);
  g_assert_true (vg_store_assessment_add (app->store, &later, NULL));
  g_assert_true (vg_store_analytics_write (app->store, &a, NULL));
  g_assert_true (vg_store_analytics_write (app->store, &m, NULL));
  g_assert_true (vg_store_flush (app->store, 20 * G_USEC_PER_SEC));
}

static guint
status_of (const char *path, const char *token)
{
  Reply r = http ("GET", path, NULL, token);
  guint status = r.status;

  reply_clear (&r);
  return status;
}

/* A learner reads their own profile, progress and sessions; an admin reads
 * everyone's; a room-scoped roomAdmin (of any room) reads nothing. */
static void
test_learner_access (void)
{
  g_autofree char *lena = mint_claims ("lena", "lena-room", TRUE, FALSE, FALSE);
  g_autofree char *lena_elsewhere = mint_claims ("lena", "other-room", TRUE, FALSE, FALSE);
  g_autofree char *lena_no_join = mint_claims ("lena", NULL, FALSE, FALSE, TRUE);
  g_autofree char *room_admin = mint_claims ("ops", "lena-room", TRUE, TRUE, TRUE);
  g_autofree char *admin_no_list = mint_claims ("ops", NULL, FALSE, TRUE, FALSE);
  g_autofree char *lena_conv = NULL, *mark_conv = NULL, *progress = NULL;
  Learners l = { 0 };
  Reply r = admin ("GET", "/api/subtopics", NULL);
  JsonArray *rows;
  JsonObject *row;

  g_assert_cmpuint (r.status, ==, 200);
  l.subtopic = json_object_get_int_member (
      json_array_get_object_element (json_object_get_array_member (obj (&r), "subtopics"), 0),
      "id");
  reply_clear (&r);
  vg_test_gateway_run (gw, write_learners, &l);
  lena_conv = g_strdup_printf ("/api/conversations/%s", l.lena);
  mark_conv = g_strdup_printf ("/api/conversations/%s", l.mark);

  /* Own data, with a participant token of any room. */
  g_assert_cmpuint (status_of ("/api/users/lena", lena), ==, 200);
  g_assert_cmpuint (status_of ("/api/users/lena", lena_elsewhere), ==, 200);
  g_assert_cmpuint (status_of (lena_conv, lena), ==, 200);
  r = http ("GET", "/api/users/lena/progress", NULL, lena);
  g_assert_cmpuint (r.status, ==, 200);
  rows = json_object_get_array_member (obj (&r), "progress");
  g_assert_cmpuint (json_array_get_length (rows), ==, 1);
  row = json_array_get_object_element (rows, 0);
  g_assert_cmpstr (json_object_get_string_member (row, "concept"), ==, "fractions");
  g_assert_cmpint (json_object_get_int_member (row, "assessments"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (row, "latest_level"), ==, VG_LEVEL_MASTERED);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (row, "mean_level"), 3.0, 1e-9);
  reply_clear (&r);
  progress = g_strdup_printf ("/api/users/lena/progress?subtopic_id=%" G_GINT64_FORMAT, l.subtopic);
  r = http ("GET", progress, NULL, lena);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (obj (&r), "progress")), ==,
                    1);
  reply_clear (&r);
  r = http ("GET", "/api/users/lena/progress?subtopic_id=99999999", NULL, lena);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (obj (&r), "progress")), ==,
                    0);
  reply_clear (&r);
  r = http ("GET", "/api/users/lena/sessions?limit=5", NULL, lena);
  g_assert_cmpuint (r.status, ==, 200);
  rows = json_object_get_array_member (obj (&r), "sessions");
  g_assert_cmpuint (json_array_get_length (rows), ==, 1);
  row = json_array_get_object_element (rows, 0);
  g_assert_cmpstr (json_object_get_string_member (row, "id"), ==, l.lena);
  g_assert_cmpstr (json_object_get_string_member (row, "summary"), ==, "halves and thirds");
  g_assert_cmpstr (json_object_get_string_member (row, "status"), ==, "completed");
  reply_clear (&r);

  /* Nobody else's. */
  r = http ("GET", "/api/users/mark", NULL, lena);
  assert_error (&r, 403, "permission_denied");
  r = http ("GET", "/api/users/mark/progress", NULL, lena);
  assert_error (&r, 403, "permission_denied");
  r = http ("GET", "/api/users/mark/sessions", NULL, lena);
  assert_error (&r, 403, "permission_denied");
  r = http ("GET", mark_conv, NULL, lena);
  assert_error (&r, 403, "permission_denied");
  g_assert_cmpuint (status_of ("/api/conversations", lena), ==, 403);
  r = http ("PUT", "/api/users/lena", "{\"preferences\":{}}", lena);
  assert_error (&r, 403, "permission_denied"); /* reading only: profiles are written by admins */
  g_assert_cmpuint (status_of ("/api/analytics", lena), ==, 403);
  g_assert_cmpuint (status_of ("/api/users/lena", lena_no_join), ==, 403);
  g_assert_cmpuint (status_of ("/api/users/lena/progress", NULL), ==, 401);

  /* roomAdmin scoped to a room administers that room, not the data of every room. */
  g_assert_cmpuint (status_of ("/api/conversations", room_admin), ==, 403);
  g_assert_cmpuint (status_of (mark_conv, room_admin), ==, 403);
  g_assert_cmpuint (status_of ("/api/users/mark", room_admin), ==, 403);
  g_assert_cmpuint (status_of ("/api/subtopics", room_admin), ==, 403);
  g_assert_cmpuint (status_of ("/api/analytics", admin_no_list), ==, 403);

  /* The admin reads everyone's. */
  g_assert_cmpuint (status_of (mark_conv, admin_token), ==, 200);
  g_assert_cmpuint (status_of ("/api/users/mark", admin_token), ==, 200);
  g_assert_cmpuint (status_of ("/api/users/lena/progress", admin_token), ==, 200);
  g_assert_cmpuint (status_of ("/api/users/mark/sessions", admin_token), ==, 200);

  /* Inputs are validated. */
  r = http ("GET", "/api/users/lena/progress?subtopic_id=x", NULL, lena);
  assert_error (&r, 400, "invalid_argument");
  r = http ("GET", "/api/users/lena/sessions?subtopic_id=-1", NULL, lena);
  assert_error (&r, 400, "invalid_argument");
  r = http ("GET", "/api/users/lena/sessions?limit=0", NULL, lena);
  assert_error (&r, 400, "invalid_argument");
  r = admin ("GET", "/api/users/a%0Ab/sessions", NULL);
  assert_error (&r, 400, "invalid_argument");

  /* Analytics: the understanding of the subtopic before the learner connected
   * (levels 2 and 4) and at the end (one more, level 1, during the session). */
  vg_test_gateway_run (gw, write_session_analytics, &l);
  r = admin ("GET", "/api/analytics?identity=lena", NULL);
  g_assert_cmpuint (r.status, ==, 200);
  rows = json_object_get_array_member (obj (&r), "sessions");
  g_assert_cmpuint (json_array_get_length (rows), ==, 1);
  row = json_array_get_object_element (rows, 0);
  g_assert_cmpint (json_object_get_int_member (row, "tool_calls"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (row, "interruptions"), ==, 2);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (row, "response_latency_p50_ms"),
                                  310.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (row, "understanding_start"), 3.0,
                                  1e-9);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (row, "understanding_end"),
                                  7.0 / 3.0, 1e-9);
  reply_clear (&r);
  r = admin ("GET", "/api/analytics?identity=mark", NULL);
  row = json_array_get_object_element (json_object_get_array_member (obj (&r), "sessions"), 0);
  g_assert_cmpint (json_object_get_int_member (row, "tool_calls"), ==, 0);
  g_assert_true (json_object_get_null_member (row, "understanding_start"));
  g_assert_true (json_object_get_null_member (row, "understanding_end"));
  g_assert_true (json_object_get_null_member (row, "response_latency_p50_ms"));
  reply_clear (&r);
  r = admin ("GET", "/api/analytics/daily?room=lena-room", NULL);
  g_assert_cmpint (
      json_object_get_int_member (
          json_array_get_object_element (json_object_get_array_member (obj (&r), "days"), 0),
          "tool_calls"),
      ==, 4);
  reply_clear (&r);
  g_free (l.lena);
  g_free (l.mark);
}

typedef struct
{
  char *url;
  char *dir;
} OpenArgs;

static void
open_store (VgApp *app, gpointer data)
{
  OpenArgs *a = data;
  g_autoptr (GError) error = NULL;

  app->store = vg_store_open (app, a->url, a->dir, &error);
  g_assert_no_error (error);
  g_assert_true (vg_store_migrate (app->store, NULL, &error));
  g_assert_no_error (error);
}

static void
close_store (VgApp *app, gpointer data)
{
  VgStore *store = app->store;
  app->store = NULL;
  vg_store_close (store);
}

static char *
mint (gboolean is_admin)
{
  VgClaims c = { 0 };
  char *token;

  c.identity = "tester";
  c.expires_at = g_get_real_time () / G_USEC_PER_SEC + 600;
  c.video.room_admin = is_admin;
  c.video.room_list = is_admin;
  c.video.room_join = !is_admin;
  c.video.room = is_admin ? NULL : "data-room";
  token = vg_jwt_mint (&c, "devkey", "secret");
  return token;
}

int
main (int argc, char **argv)
{
  OpenArgs a;
  int status;

  g_test_init (&argc, &argv, NULL);
  vg_test_store_setup (argc > 1 && g_str_equal (argv[1], "postgres") ? VG_TEST_POSTGRES
                                                                     : VG_TEST_SQLITE);
  a.url = vg_test_store_new_url ();
  a.dir = vg_test_store_new_dir ();
  gw = vg_test_gateway_start (NULL);
  vg_test_gateway_run (gw, open_store, &a);
  admin_token = mint (TRUE);
  user_token = mint (FALSE);

  g_test_add_func ("/data-api/auth", test_auth);
  g_test_add_func ("/data-api/subtopics", test_subtopics);
  g_test_add_func ("/data-api/conversations-analytics", test_conversations);
  g_test_add_func ("/data-api/users", test_users);
  g_test_add_func ("/data-api/learner-access", test_learner_access);
  status = g_test_run ();

  vg_test_gateway_run (gw, close_store, NULL);
  vg_test_gateway_stop (gw);
  g_free (admin_token);
  g_free (user_token);
  g_free (a.url);
  g_free (a.dir);
  vg_test_store_teardown ();
  return status;
}
