/* The store against a real database: the same cases for SQLite and for a
 * PostgreSQL started by tests/harness/postgres.sh. The backend is the first
 * argument after the GTest options: "sqlite" or "postgres". */
#include "store-fixture.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#define FLUSH_US (20 * G_USEC_PER_SEC)

typedef struct
{
  char *url;
  char *dir;
  VgStore *store;
} Fixture;

static void
fixture_open (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  f->store = vg_store_open (NULL, f->url, f->dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->store);
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  guint applied = 0;

  f->url = vg_test_store_new_url ();
  f->dir = vg_test_store_new_dir ();
  fixture_open (f);
  g_assert_true (vg_store_migrate (f->store, &applied, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (applied, ==, 6);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  vg_store_close (f->store);
  g_free (f->url);
  g_free (f->dir);
}

static JsonArray *
query (Fixture *f, VgStoreQuery q, const char *const *params, guint n, GError **error)
{
  return vg_store_query_sync (f->store, q, params, n, NULL, error);
}

static JsonArray *
query_ok (Fixture *f, VgStoreQuery q, const char *const *params, guint n)
{
  g_autoptr (GError) error = NULL;
  JsonArray *rows = query (f, q, params, n, &error);
  g_assert_no_error (error);
  g_assert_nonnull (rows);
  return rows;
}

static JsonObject *
row (JsonArray *rows, guint i)
{
  return json_array_get_object_element (rows, i);
}

static void
flush (Fixture *f)
{
  g_assert_true (vg_store_flush (f->store, FLUSH_US));
}

static void assert_messages (Fixture *f, const char *id, guint n);

/* ---- migrations ---- */

static void
test_migrations (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) versions = NULL;
  g_autoptr (JsonArray) names = NULL;
  const char *expected[] = { "idx_conversations_room",
                             "idx_conversations_active_node",
                             "idx_messages_conversation",
                             "idx_messages_timestamp",
                             "idx_subtopics_topic",
                             "idx_assessments_learner",
                             "idx_assessments_subtopic",
                             "idx_subtopic_examples_lookup",
                             "assessments",
                             "subtopic_examples",
                             "conversations",
                             "messages",
                             "schema_migrations",
                             "session_analytics",
                             "subtopics",
                             "user_profiles" };
  guint applied = 99;

  /* A second run applies nothing and changes nothing. */
  g_assert_true (vg_store_migrate (f->store, &applied, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (applied, ==, 0);
  versions = query_ok (f, VG_STORE_Q_MIGRATIONS_LIST, NULL, 0);
  g_assert_cmpuint (json_array_get_length (versions), ==, 6);
  g_assert_cmpint (json_object_get_int_member (row (versions, 0), "version"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (row (versions, 0), "name"), ==, "initial");
  g_assert_cmpstr (json_object_get_string_member (row (versions, 1), "name"), ==, "seed_subtopics");
  g_assert_cmpstr (json_object_get_string_member (row (versions, 2), "name"), ==, "tutor");
  g_assert_cmpstr (json_object_get_string_member (row (versions, 3), "name"), ==,
                   "session_analytics");
  g_assert_cmpstr (json_object_get_string_member (row (versions, 4), "name"), ==, "recordings");
  g_assert_cmpstr (json_object_get_string_member (row (versions, 5), "name"), ==,
                   "conversation_node");

  names = vg_test_store_sql (
      f->url, f->dir,
      vg_test_store_backend () == VG_TEST_POSTGRES
          ? "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public' "
            "UNION SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
          : "SELECT name FROM sqlite_master WHERE type IN ('table', 'index')",
      NULL, 0);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      gboolean found = FALSE;
      for (guint j = 0; j < json_array_get_length (names); j++)
        found |= g_str_equal (json_object_get_string_member (row (names, j), "name"), expected[i]);
      if (!found)
        g_error ("%s missing", expected[i]);
    }
  {
    /* The seeds are applied once. */
    g_autoptr (JsonArray) seeds
        = query_ok (f, VG_STORE_Q_SUBTOPICS_LIST, (const char *[]){ NULL }, 1);
    g_assert_cmpuint (json_array_get_length (seeds), ==, 5);
  }
}

/* ---- subtopics ---- */

static void
test_subtopics_crud (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) math
      = query_ok (f, VG_STORE_Q_SUBTOPICS_LIST, (const char *[]){ "mathematics" }, 1);
  g_autoptr (JsonArray) created = NULL, got = NULL, updated = NULL, dup = NULL, after = NULL;
  g_autofree char *id = NULL;
  g_autofree char *now = vg_store_time_text (g_get_real_time ());
  gint64 changes = -1;

  g_assert_cmpuint (json_array_get_length (math), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (row (math, 0), "name"), ==, "Fractions");

  created = query_ok (f, VG_STORE_Q_SUBTOPIC_CREATE,
                      (const char *[]){ "history", "Rome", "The empire", "Be vivid" }, 4);
  g_assert_cmpuint (json_array_get_length (created), ==, 1);
  id = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (row (created, 0), "id"));
  {
    g_autofree char *t
        = vg_store_time_parse (json_object_get_string_member (row (created, 0), "created_at"));
    g_assert_nonnull (t);
  }

  got = query_ok (f, VG_STORE_Q_SUBTOPIC_GET, (const char *[]){ id }, 1);
  g_assert_cmpstr (json_object_get_string_member (row (got, 0), "description"), ==, "The empire");

  updated = query_ok (f, VG_STORE_Q_SUBTOPIC_UPDATE,
                      (const char *[]){ id, NULL, "Ancient Rome", NULL, NULL, now }, 6);
  g_assert_cmpstr (json_object_get_string_member (row (updated, 0), "name"), ==, "Ancient Rome");
  g_assert_cmpstr (json_object_get_string_member (row (updated, 0), "instructions"), ==,
                   "Be vivid");
  g_assert_cmpstr (json_object_get_string_member (row (updated, 0), "updated_at"), ==, now);

  dup = query (f, VG_STORE_Q_SUBTOPIC_CREATE, (const char *[]){ "history", "Ancient Rome", "", "" },
               4, &error);
  g_assert_null (dup);
  g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_CONFLICT);
  g_clear_error (&error);

  json_array_unref (vg_store_query_sync (f->store, VG_STORE_Q_SUBTOPIC_DELETE,
                                         (const char *[]){ id }, 1, &changes, &error));
  g_assert_no_error (error);
  g_assert_cmpint (changes, ==, 1);
  after = query_ok (f, VG_STORE_Q_SUBTOPIC_GET, (const char *[]){ id }, 1);
  g_assert_cmpuint (json_array_get_length (after), ==, 0);
  json_array_unref (vg_store_query_sync (f->store, VG_STORE_Q_SUBTOPIC_DELETE,
                                         (const char *[]){ id }, 1, &changes, &error));
  g_assert_no_error (error);
  g_assert_cmpint (changes, ==, 0);
}

/* ---- the conversation write path ---- */

static char *
start_conversation (Fixture *f, const char *room, const char *identity)
{
  g_autoptr (GError) error = NULL;
  char *id
      = vg_store_conversation_start (f->store, room, identity, 1, "echo.pipeline", "echo", &error);
  g_assert_no_error (error);
  g_assert_true (vg_store_is_uuid (id));
  return id;
}

static void
add_message (Fixture *f, const char *conversation, const char *role, const char *text)
{
  g_autoptr (GError) error = NULL;
  VgStoreMessage m = { role, text, "item_1", 100, 900, FALSE };
  g_assert_true (vg_store_message_add (f->store, conversation, &m, &error));
  g_assert_no_error (error);
}

static void
test_conversation (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = start_conversation (f, "room-1", "alice");
  VgStoreMessage truncated = { "assistant", "Two plus two is", "item_2", 1000, -1, TRUE };
  VgStoreAnalytics a = { id,    "room-1", "alice", g_get_real_time () - 60 * G_USEC_PER_SEC,
                         60.5,  3,        2,       1,
                         420.0, 800.0,    1200,    3400,
                         20.5,  18.25,    7,       3.5 };
  g_autoptr (JsonArray) conv = NULL, msgs = NULL, analytics = NULL, daily = NULL, profile = NULL;

  add_message (f, id, "user", "What is two plus two?");
  g_assert_true (vg_store_message_add (f->store, id, &truncated, &error));
  g_assert_true (
      vg_store_tool_call_add (f->store, id, "add", "{\"a\":2,\"b\":2}", "{\"sum\":4}", &error));
  add_message (f, id, "assistant", "Four.");
  g_assert_true (vg_store_conversation_end (f->store, id, "completed", &error));
  g_assert_true (vg_store_analytics_write (f->store, &a, &error));
  g_assert_true (vg_store_profile_touch (f->store, "alice", "Alice", &error));
  g_assert_no_error (error);
  flush (f);

  conv = query_ok (f, VG_STORE_Q_CONVERSATION_GET, (const char *[]){ id }, 1);
  g_assert_cmpuint (json_array_get_length (conv), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (row (conv, 0), "status"), ==, "completed");
  g_assert_cmpstr (json_object_get_string_member (row (conv, 0), "pipeline"), ==, "echo.pipeline");
  g_assert_cmpint (json_object_get_int_member (row (conv, 0), "subtopic_id"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (row (conv, 0), "message_count"), ==, 4);
  g_assert_false (json_object_get_null_member (row (conv, 0), "ended_at"));

  msgs = query_ok (f, VG_STORE_Q_MESSAGES_LIST, (const char *[]){ id }, 1);
  g_assert_cmpuint (json_array_get_length (msgs), ==, 4);
  g_assert_cmpstr (json_object_get_string_member (row (msgs, 0), "text"), ==,
                   "What is two plus two?");
  g_assert_cmpint (json_object_get_int_member (row (msgs, 0), "audio_start_ms"), ==, 100);
  g_assert_false (json_object_get_boolean_member (row (msgs, 0), "truncated"));
  g_assert_true (json_object_get_boolean_member (row (msgs, 1), "truncated"));
  g_assert_true (json_object_get_null_member (row (msgs, 1), "audio_end_ms"));
  g_assert_cmpstr (json_object_get_string_member (row (msgs, 2), "role"), ==, "tool");
  g_assert_cmpstr (json_object_get_string_member (row (msgs, 2), "tool_name"), ==, "add");
  g_assert_cmpstr (json_object_get_string_member (row (msgs, 2), "tool_result"), ==, "{\"sum\":4}");
  g_assert_cmpstr (json_object_get_string_member (row (msgs, 3), "text"), ==, "Four.");

  analytics = query_ok (f, VG_STORE_Q_ANALYTICS_LIST,
                        (const char *[]){ "room-1", NULL, NULL, NULL, "10" }, 5);
  g_assert_cmpuint (json_array_get_length (analytics), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (row (analytics, 0), "conversation_id"), ==, id);
  g_assert_cmpfloat (json_object_get_double_member (row (analytics, 0), "duration_seconds"), ==,
                     60.5);
  g_assert_cmpint (json_object_get_int_member (row (analytics, 0), "tokens_out"), ==, 3400);
  g_assert_cmpint (json_object_get_int_member (row (analytics, 0), "interruptions"), ==, 1);
  g_assert_cmpfloat (json_object_get_double_member (row (analytics, 0), "jitter_ms"), ==, 3.5);

  daily = query_ok (f, VG_STORE_Q_ANALYTICS_DAILY, (const char *[]){ NULL, NULL, NULL }, 3);
  g_assert_cmpuint (json_array_get_length (daily), ==, 1);
  g_assert_cmpint (json_object_get_int_member (row (daily, 0), "sessions"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (row (daily, 0), "tokens_in"), ==, 1200);
  g_assert_cmpint (strlen (json_object_get_string_member (row (daily, 0), "day")), ==, 10);

  profile = query_ok (f, VG_STORE_Q_PROFILE_GET, (const char *[]){ "alice" }, 1);
  g_assert_cmpstr (json_object_get_string_member (row (profile, 0), "display_name"), ==, "Alice");
  g_assert_false (json_object_get_null_member (row (profile, 0), "last_seen_at"));
  g_assert_cmpstr (json_object_get_string_member (row (profile, 0), "preferences"), ==, "{}");
}

/* Quotes, SQL keywords and placeholders are data, stored and read back literally. */
static void
test_literal_strings (Fixture *f, gconstpointer data)
{
  const char *nasty[] = { "Robert'); DROP TABLE messages; --",
                          "\"double\" and 'single' quotes",
                          "back\\slash \\' \\\"",
                          "$1 $2 ?1 :name %s %d",
                          "SELECT * FROM conversations WHERE 1=1 OR ''=''",
                          "unicode: \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\x93",
                          "; COMMIT; BEGIN" };
  g_autofree char *id = start_conversation (f, "room-q", "o'brien \"; DROP TABLE x; --");
  g_autoptr (JsonArray) msgs = NULL, conv = NULL, sub = NULL, found = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (nasty); i++)
    add_message (f, id, "user", nasty[i]);
  flush (f);
  msgs = query_ok (f, VG_STORE_Q_MESSAGES_LIST, (const char *[]){ id }, 1);
  g_assert_cmpuint (json_array_get_length (msgs), ==, G_N_ELEMENTS (nasty));
  for (guint i = 0; i < G_N_ELEMENTS (nasty); i++)
    g_assert_cmpstr (json_object_get_string_member (row (msgs, i), "text"), ==, nasty[i]);
  conv = query_ok (
      f, VG_STORE_Q_CONVERSATIONS_LIST,
      (const char *[]){ NULL, "o'brien \"; DROP TABLE x; --", NULL, NULL, NULL, NULL, "10" }, 7);
  g_assert_cmpuint (json_array_get_length (conv), ==, 1);

  sub = query_ok (f, VG_STORE_Q_SUBTOPIC_CREATE,
                  (const char *[]){ "it's", nasty[0], nasty[1], nasty[3] }, 4);
  found = query_ok (f, VG_STORE_Q_SUBTOPICS_LIST, (const char *[]){ "it's" }, 1);
  g_assert_cmpuint (json_array_get_length (found), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (row (found, 0), "name"), ==, nasty[0]);
  g_assert_cmpstr (json_object_get_string_member (row (found, 0), "instructions"), ==, nasty[3]);
}

static void
assert_refused (Fixture *f, VgStoreQuery q, const char *const *params, guint n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) rows = query (f, q, params, n, &error);
  g_assert_null (rows);
  g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
}

/* Oversized and mistyped values are refused by the write calls and by the schema. */
static void
test_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = start_conversation (f, "room-r", "bob");
  g_autofree char *huge = g_malloc (VG_STORE_TEXT_MAX + 2);
  g_autofree char *big_name = g_strnfill (201, 'n');
  g_autoptr (GString) big_prefs = g_string_new ("{\"k\":\"");
  g_autofree char *now = vg_store_time_text (g_get_real_time ());
  VgStoreMessage m = { "user", huge, NULL, -1, -1, FALSE };
  VgStoreMessage bad_role = { "admin", "hi", NULL, -1, -1, FALSE };
  VgStoreMessage backwards = { "user", "hi", NULL, 500, 100, FALSE };
  VgStoreMessage bad_utf8 = { "user", "\xff\xfe", NULL, -1, -1, FALSE };
  VgStoreAnalytics negative = { id, "room-r", "bob", g_get_real_time (), -1.0 };
  g_autoptr (JsonArray) msgs = NULL;

  memset (huge, 'x', VG_STORE_TEXT_MAX + 1);
  huge[VG_STORE_TEXT_MAX + 1] = '\0';
  g_assert_false (vg_store_message_add (f->store, id, &m, &error));
  g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (vg_store_message_add (f->store, id, &bad_role, &error));
  g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (vg_store_message_add (f->store, id, &backwards, &error));
  g_clear_error (&error);
  g_assert_false (vg_store_message_add (f->store, id, &bad_utf8, &error));
  g_clear_error (&error);
  g_assert_false (vg_store_message_add (f->store, "not-a-uuid'; --", &bad_role, &error));
  g_clear_error (&error);
  g_assert_false (vg_store_conversation_end (f->store, id, "exploded", &error));
  g_clear_error (&error);
  g_assert_false (vg_store_analytics_write (f->store, &negative, &error));
  g_clear_error (&error);
  g_assert_null (vg_store_conversation_start (f->store, "", "bob", 0, NULL, NULL, &error));
  g_clear_error (&error);
  g_assert_false (vg_store_profile_touch (f->store, big_name, NULL, &error));
  g_clear_error (&error);
  flush (f);
  msgs = query_ok (f, VG_STORE_Q_MESSAGES_LIST, (const char *[]){ id }, 1);
  g_assert_cmpuint (json_array_get_length (msgs), ==, 0);

  /* The schema refuses what reaches it. */
  assert_refused (f, VG_STORE_Q_SUBTOPIC_CREATE, (const char *[]){ "t", big_name, "", "" }, 4);
  assert_refused (f, VG_STORE_Q_SUBTOPIC_CREATE, (const char *[]){ "", "empty topic", "", "" }, 4);
  assert_refused (f, VG_STORE_Q_PROFILE_PUT, (const char *[]){ "bob", NULL, "[1, 2]", now }, 4);
  assert_refused (f, VG_STORE_Q_PROFILE_PUT, (const char *[]){ "bob", NULL, "\"text\"", now }, 4);
  while (big_prefs->len <= VG_STORE_PREFERENCES_MAX)
    g_string_append (big_prefs, "0123456789");
  g_string_append (big_prefs, "\"}");
  assert_refused (f, VG_STORE_Q_PROFILE_PUT, (const char *[]){ "bob", NULL, big_prefs->str, now },
                  4);
  {
    g_autoptr (JsonArray) ok
        = query_ok (f, VG_STORE_Q_PROFILE_PUT,
                    (const char *[]){ "bob", "Bob", "{\"voice\": \"alloy\"}", now }, 4);
    g_autoptr (JsonParser) p = json_parser_new ();
    g_assert_true (json_parser_load_from_data (
        p, json_object_get_string_member (row (ok, 0), "preferences"), -1, NULL));
    g_assert_cmpstr (
        json_object_get_string_member (json_node_get_object (json_parser_get_root (p)), "voice"),
        ==, "alloy");
  }
}

/* A write the database refuses (a message of an unknown conversation) is
 * dropped alone: the rest of its batch is written. */
static void
test_refused_in_batch (Fixture *f, gconstpointer data)
{
  g_autofree char *id = start_conversation (f, "room-b", "gina");
  g_autofree char *ghost = g_uuid_string_random ();

  vg_store_set_queue_limit (f->store, 100000);
  add_message (f, id, "user", "message 0");
  add_message (f, ghost, "user", "to nobody");
  add_message (f, id, "user", "message 1");
  add_message (f, id, "user", "message 2");
  flush (f);
  assert_messages (f, id, 3);
  {
    g_autoptr (JsonArray) none
        = query_ok (f, VG_STORE_Q_MESSAGES_LIST, (const char *[]){ ghost }, 1);
    g_assert_cmpuint (json_array_get_length (none), ==, 0);
  }
}

/* Cursor pagination over conversations, and the room / identity / time filters. */
static void
test_pagination (Fixture *f, gconstpointer data)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *cursor_time = NULL, *cursor_id = NULL;
  g_autofree char *from
      = vg_store_time_text (g_get_real_time () - G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC);
  g_autofree char *last_time = NULL;
  guint pages = 0, total = 0;

  for (guint i = 0; i < 25; i++)
    {
      g_autofree char *id
          = start_conversation (f, i % 2 ? "odd" : "even", i % 5 ? "learner" : "teacher");
    }
  flush (f);
  for (;;)
    {
      const char *params[] = { NULL, NULL, from, NULL, cursor_time, cursor_id, "10" };
      g_autoptr (JsonArray) page = query_ok (f, VG_STORE_Q_CONVERSATIONS_LIST, params, 7);
      guint n = json_array_get_length (page);

      pages++;
      for (guint i = 0; i < n; i++)
        {
          const char *t = json_object_get_string_member (row (page, i), "started_at");
          g_assert_true (g_hash_table_add (
              seen, g_strdup (json_object_get_string_member (row (page, i), "id"))));
          if (last_time)
            g_assert_cmpstr (t, <=, last_time);
          g_free (last_time);
          last_time = g_strdup (t);
        }
      total += n;
      if (n < 10)
        break;
      g_free (cursor_time);
      g_free (cursor_id);
      cursor_time = g_strdup (json_object_get_string_member (row (page, n - 1), "started_at"));
      cursor_id = g_strdup (json_object_get_string_member (row (page, n - 1), "id"));
    }
  g_assert_cmpuint (total, ==, 25);
  g_assert_cmpuint (pages, ==, 3);
  {
    g_autoptr (JsonArray) odd
        = query_ok (f, VG_STORE_Q_CONVERSATIONS_LIST,
                    (const char *[]){ "odd", NULL, NULL, NULL, NULL, NULL, "100" }, 7);
    g_autoptr (JsonArray) teacher
        = query_ok (f, VG_STORE_Q_CONVERSATIONS_LIST,
                    (const char *[]){ NULL, "teacher", NULL, NULL, NULL, NULL, "100" }, 7);
    g_autoptr (JsonArray) future
        = query_ok (f, VG_STORE_Q_CONVERSATIONS_LIST,
                    (const char *[]){ NULL, NULL, last_time, from, NULL, NULL, "100" }, 7);
    g_assert_cmpuint (json_array_get_length (odd), ==, 12);
    g_assert_cmpuint (json_array_get_length (teacher), ==, 5);
    g_assert_cmpuint (json_array_get_length (future), ==, 0);
  }
}

/* The async API calls back on the caller's main context. */
static void
on_rows (JsonArray *rows, gint64 changes, const GError *error, gpointer user_data)
{
  guint *count = user_data;
  g_assert_no_error (error);
  *count = json_array_get_length (rows) + 1;
}

static void
test_async_read (Fixture *f, gconstpointer data)
{
  guint count = 0;

  vg_store_query (f->store, VG_STORE_Q_SUBTOPICS_LIST, (const char *[]){ NULL }, 1, on_rows,
                  &count);
  while (count == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (count, ==, 6);
}

/* ---- no lost writes ---- */

static void
assert_messages (Fixture *f, const char *id, guint n)
{
  g_autoptr (JsonArray) msgs = query_ok (f, VG_STORE_Q_MESSAGES_LIST, (const char *[]){ id }, 1);
  g_assert_cmpuint (json_array_get_length (msgs), ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("message %u", i);
      g_assert_cmpstr (json_object_get_string_member (row (msgs, i), "text"), ==, text);
    }
}

/* Writes past the memory bound go to the spool, which is replayed in order. */
static void
test_spool_overflow (Fixture *f, gconstpointer data)
{
  g_autofree char *id = start_conversation (f, "room-s", "carol");

  vg_store_set_queue_limit (f->store, 2);
  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *text = g_strdup_printf ("message %u", i);
      add_message (f, id, i % 2 ? "assistant" : "user", text);
    }
  flush (f);
  assert_messages (f, id, 40);
}

/* PostgreSQL stops mid-conversation and comes back: every message once, in order. */
static void
test_outage (Fixture *f, gconstpointer data)
{
  g_autofree char *id = start_conversation (f, "room-o", "dave");
  guint i = 0;

  for (; i < 5; i++)
    {
      g_autofree char *text = g_strdup_printf ("message %u", i);
      add_message (f, id, "user", text);
    }
  flush (f);
  vg_test_store_pg_stop ();
  vg_store_set_queue_limit (f->store, 4); /* some stay in memory, the rest spool */
  for (; i < 15; i++)
    {
      g_autofree char *text = g_strdup_printf ("message %u", i);
      add_message (f, id, "assistant", text);
    }
  g_usleep (300 * 1000);
  g_assert_false (vg_store_flush (f->store, 500 * 1000));
  g_assert_false (vg_store_is_up (f->store));
  g_assert_cmpuint (vg_store_pending (f->store), ==, 10);
  vg_test_store_pg_start ();
  flush (f);
  g_assert_true (vg_store_is_up (f->store));
  assert_messages (f, id, 15);
}

/* The child of test_kill_replay: spools six messages, then dies by SIGKILL. */
static int
kill_child (const char *url, const char *dir, const char *id)
{
  Fixture f = { g_strdup (url), g_strdup (dir) };

  fixture_open (&f);
  vg_store_set_queue_limit (f.store, 0); /* every write straight to the spool */
  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *text = g_strdup_printf ("message %u", i);
      add_message (&f, id, "user", text);
    }
  raise (SIGKILL);
  return 1;
}

/* The process dies with spooled writes: the next open replays them, once;
 * replaying the same spool again duplicates nothing. */
/* Writes made before the schema exists are kept and retried, not dropped. */
static void
test_before_migrations (void)
{
  Fixture f = { vg_test_store_new_url (), vg_test_store_new_dir () };
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL;

  fixture_open (&f);
  id = start_conversation (&f, "room-m", "frank");
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *text = g_strdup_printf ("message %u", i);
      add_message (&f, id, "user", text);
    }
  g_assert_false (vg_store_flush (f.store, 300 * 1000));
  g_assert_cmpuint (vg_store_pending (f.store), ==, 4);
  g_assert_true (vg_store_migrate (f.store, NULL, &error));
  g_assert_no_error (error);
  flush (&f);
  assert_messages (&f, id, 3);
  teardown (&f, NULL);
}

static void
test_kill_replay (Fixture *f, gconstpointer data)
{
  g_autofree char *id = start_conversation (f, "room-k", "erin");
  g_autofree char *spool = g_build_filename (f->dir, "store-spool.jsonl", NULL);
  g_autofree char *copy = NULL;
  gsize len = 0;

  flush (f);
  vg_store_close (f->store);
  if (vg_test_store_backend () == VG_TEST_POSTGRES)
    vg_test_store_pg_stop ();
  {
    g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
    const char *argv[] = { self, "--kill-child", f->url, f->dir, id, NULL };
    g_autoptr (GError) error = NULL;
    int status = 0;

    g_assert_true (g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                 NULL, NULL, &status, &error));
    g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  }
  if (vg_test_store_backend () == VG_TEST_POSTGRES)
    {
      /* Nothing could reach the database: all six are in the spool. */
      g_assert_true (g_file_get_contents (spool, &copy, &len, NULL));
      g_assert_cmpuint (len, >, 0);
      vg_test_store_pg_start ();
    }
  else
    g_file_get_contents (spool, &copy, &len, NULL); /* the child may have replayed some */

  fixture_open (f);
  flush (f);
  g_assert_false (g_file_test (spool, G_FILE_TEST_EXISTS));
  assert_messages (f, id, 6);
  if (copy)
    {
      vg_store_close (f->store);
      /* The same spool again, ending in a line torn by a crash mid-append. */
      g_autofree char *torn = g_strconcat (copy, "[\"message\",\"0f0e", NULL);
      g_assert_true (g_file_set_contents (spool, torn, -1, NULL));
      fixture_open (f);
      flush (f);
      assert_messages (f, id, 6);
    }
}

/* The status and end of a conversation (times in the store's one form). */
static void
conversation_state (Fixture *f, const char *id, char **status, char **ended_at)
{
  g_autoptr (JsonArray) rows = query_ok (f, VG_STORE_Q_CONVERSATION_GET, (const char *[]){ id }, 1);
  g_assert_cmpuint (json_array_get_length (rows), ==, 1);
  *status = g_strdup (json_object_get_string_member (row (rows, 0), "status"));
  *ended_at
      = g_strdup (json_object_get_string_member_with_default (row (rows, 0), "ended_at", NULL));
}

static void
assert_state (Fixture *f, const char *id, const char *status, const char *ended_at)
{
  g_autofree char *s = NULL, *e = NULL;
  conversation_state (f, id, &s, &e);
  g_assert_cmpstr (s, ==, status);
  g_assert_cmpstr (e, ==, ended_at);
}

/* A node killed with conversations active (a store closed without ending
 * them, as after a SIGKILL once its writes were in): at its next start,
 * vg_store_recover_node marks its own abandoned, ended at their last
 * message or their start, and leaves another node's live conversation, an
 * ended one, and the ones it starts afterwards alone. */
static void
test_recover_node (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (vg_store_recover_node (f->store, "node-a", &error));
  g_assert_no_error (error);
  g_autofree char *talked = start_conversation (f, "room-r", "rita");
  g_autofree char *silent = start_conversation (f, "room-r", "sam");
  g_autofree char *ended = start_conversation (f, "room-r", "tom");
  add_message (f, talked, "user", "hello");
  add_message (f, talked, "assistant", "hi there");
  g_assert_true (vg_store_conversation_end (f->store, ended, "completed", NULL));
  flush (f);
  /* Another node on the same database, still serving. */
  g_autoptr (GError) e2 = NULL;
  VgStore *other = vg_store_open (NULL, f->url, f->dir, &e2);
  g_assert_no_error (e2);
  g_assert_true (vg_store_recover_node (other, "node-b", NULL));
  g_autofree char *elsewhere
      = vg_store_conversation_start (other, "room-r", "uma", 0, "", "", NULL);
  g_assert_true (vg_store_flush (other, FLUSH_US));

  g_autofree char *s = NULL, *talked_last = NULL, *silent_start = NULL, *ended_at = NULL;
  {
    g_autoptr (JsonArray) rows
        = query_ok (f, VG_STORE_Q_MESSAGES_LIST, (const char *[]){ talked }, 1);
    g_assert_cmpuint (json_array_get_length (rows), ==, 2);
    talked_last = g_strdup (json_object_get_string_member (row (rows, 1), "created_at"));
  }
  {
    g_autoptr (JsonArray) rows
        = query_ok (f, VG_STORE_Q_CONVERSATION_GET, (const char *[]){ silent }, 1);
    silent_start = g_strdup (json_object_get_string_member (row (rows, 0), "started_at"));
  }
  conversation_state (f, ended, &s, &ended_at);
  g_assert_cmpstr (s, ==, "completed");
  assert_state (f, talked, "active", NULL);

  /* node-a "killed": closed with its conversations active; starts again. */
  vg_store_close (f->store);
  fixture_open (f);
  g_assert_false (vg_store_recover_node (f->store, "", &error));
  g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (vg_store_recover_node (f->store, "node-a", &error));
  g_autofree char *after = start_conversation (f, "room-r", "vera");
  flush (f);

  assert_state (f, talked, "abandoned", talked_last);
  assert_state (f, silent, "abandoned", silent_start);
  assert_state (f, ended, "completed", ended_at);
  assert_state (f, elsewhere, "active", NULL);
  assert_state (f, after, "active", NULL);
  vg_store_close (other);
}

/* A spool an older gateway left has analytics in the form before migration
 * 004 (op "analytics", 18 parameters): it still replays, with no tool calls
 * and no understanding. */
static void
test_old_analytics_spool (Fixture *f, gconstpointer data)
{
  g_autofree char *spool = g_build_filename (f->dir, "store-spool.jsonl", NULL);
  g_autofree char *id = g_uuid_string_random ();
  g_autofree char *now = vg_store_time_text (g_get_real_time ());
  g_autofree char *line = g_strdup_printf (
      "[\"analytics\",\"%s\",null,\"old-room\",\"olga\",\"%s\",\"12.5\",\"2\",\"2\","
      "\"1\",null,null,\"10\",\"20\",\"3.5\",\"4\",\"0\",\"0.5\",\"%s\"]\n",
      id, now, now);
  g_autoptr (JsonArray) rows = NULL;
  JsonObject *o;

  vg_store_close (f->store);
  g_assert_true (g_file_set_contents (spool, line, -1, NULL));
  fixture_open (f);
  flush (f);
  g_assert_false (g_file_test (spool, G_FILE_TEST_EXISTS));
  rows = query_ok (f, VG_STORE_Q_ANALYTICS_LIST,
                   (const char *[]){ "old-room", NULL, NULL, NULL, "10" }, 5);
  g_assert_cmpuint (json_array_get_length (rows), ==, 1);
  o = json_array_get_object_element (rows, 0);
  g_assert_cmpint (json_object_get_int_member (o, "user_turns"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (o, "tool_calls"), ==, 0);
  g_assert_true (json_object_get_null_member (o, "understanding_start"));
  g_assert_true (json_object_get_null_member (o, "response_latency_p50_ms"));
}

int
main (int argc, char **argv)
{
  const char *backend;
  int status;

  if (argc == 5 && g_str_equal (argv[1], "--kill-child"))
    return kill_child (argv[2], argv[3], argv[4]);
  g_test_init (&argc, &argv, NULL);
  /* The outage cases log warnings on purpose (writes failing, kept, retried). */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  backend = argc > 1 ? argv[1] : g_getenv ("VG_TEST_STORE_BACKEND");
  if (!backend)
    backend = "sqlite";
  g_setenv ("VG_TEST_STORE_BACKEND", backend, TRUE);
  vg_test_store_setup (g_str_equal (backend, "postgres") ? VG_TEST_POSTGRES : VG_TEST_SQLITE);

#define ADD(name, fn)                                                                              \
  do                                                                                               \
    {                                                                                              \
      g_autofree char *p = g_strdup_printf ("/store/%s/%s", vg_test_store_backend_name (), name);  \
      g_test_add (p, Fixture, NULL, setup, fn, teardown);                                          \
    }                                                                                              \
  while (0)
  ADD ("migrations", test_migrations);
  ADD ("subtopics-crud", test_subtopics_crud);
  ADD ("conversation", test_conversation);
  ADD ("literal-strings", test_literal_strings);
  ADD ("refused", test_refused);
  ADD ("refused-in-batch", test_refused_in_batch);
  ADD ("pagination", test_pagination);
  ADD ("async-read", test_async_read);
  ADD ("spool-overflow", test_spool_overflow);
  if (vg_test_store_backend () == VG_TEST_POSTGRES)
    ADD ("outage", test_outage);
  ADD ("kill-replay", test_kill_replay);
  ADD ("old-analytics-spool", test_old_analytics_spool);
  ADD ("recover-node", test_recover_node);
  {
    g_autofree char *p
        = g_strdup_printf ("/store/%s/before-migrations", vg_test_store_backend_name ());
    g_test_add_func (p, test_before_migrations);
  }
  status = g_test_run ();
  vg_test_store_teardown ();
  return status;
}
