/* The tutor's tools (gateway/tutor) against a real store: each tool's result
 * for valid calls, an error result (and no row) for every malformed call,
 * and the time from vg_tutor_call to the answer on the caller's context
 * (p50/p95 printed as a TAP comment). SQLite or PostgreSQL, the first
 * argument after the GTest options. */
#include "store-fixture.h"
#include "gateway/tutor/tutor.h"
#include <string.h>

#define FLUSH_US (20 * G_USEC_PER_SEC)

typedef struct
{
  char *url, *dir;
  VgStore *store;
  gint64 fractions;
  char *conversation; /* ana's, active, on fractions */
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  f->store = vg_test_store_open_new (NULL, &f->url, &f->dir);
  f->fractions = vg_test_store_subtopic_id (f->store, "Fractions");
  f->conversation = vg_store_conversation_start (f->store, "room-1", "ana", f->fractions,
                                                 "tutor.pipeline", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (vg_store_flush (f->store, FLUSH_US));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  vg_store_close (f->store);
  g_free (f->conversation);
  g_free (f->url);
  g_free (f->dir);
}

/* Runs a tool as ana in Fractions; returns the parsed result object. */
static JsonObject *
run_as (Fixture *f, const char *identity, gint64 subtopic, const char *name, const char *args)
{
  VgTutorCall call = { identity, subtopic, name, args };
  g_autofree char *out = vg_tutor_tool_run (f->store, &call);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_nonnull (out);
  if (!json_parser_load_from_data (parser, out, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    g_error ("not a JSON object: %s", out);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static JsonObject *
run (Fixture *f, const char *name, const char *args)
{
  return run_as (f, "ana", f->fractions, name, args);
}

/* The call's result is {"error": "...containing want..."}. */
static void
assert_error (Fixture *f, const char *name, const char *args, const char *want)
{
  g_autoptr (JsonObject) r = run (f, name, args);
  const char *error = json_object_get_string_member_with_default (r, "error", NULL);
  if (!error || !strstr (error, want))
    g_error ("%s(%.80s): wanted an error with \"%s\", got \"%s\"", name, args, want,
             error ? error : "no error");
}

static gint64
count_assessments (Fixture *f)
{
  g_assert_true (vg_store_flush (f->store, FLUSH_US));
  g_autoptr (JsonArray) rows
      = vg_test_store_sql (f->url, f->dir, "SELECT count(*) AS n FROM assessments", NULL, 0);
  return json_object_get_int_member (json_array_get_object_element (rows, 0), "n");
}

static void
test_declaration (void)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, vg_tutor_tools_json (), -1, NULL));
  JsonArray *tools = json_node_get_array (json_parser_get_root (parser));
  const char *names[] = { "check_understanding", "provide_example", "get_learner_progress",
                          "switch_subtopic", "end_session" };
  g_assert_cmpuint (json_array_get_length (tools), ==, G_N_ELEMENTS (names));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      JsonObject *t = json_array_get_object_element (tools, i);
      g_assert_cmpstr (json_object_get_string_member (t, "type"), ==, "function");
      g_assert_cmpstr (json_object_get_string_member (t, "name"), ==, names[i]);
      g_assert_true (strlen (json_object_get_string_member (t, "description")) > 20);
      JsonObject *p = json_object_get_object_member (t, "parameters");
      g_assert_cmpstr (json_object_get_string_member (p, "type"), ==, "object");
      g_assert_true (json_object_has_member (p, "properties"));
    }
  JsonObject *level = json_object_get_object_member (
      json_object_get_object_member (
          json_object_get_object_member (json_array_get_object_element (tools, 0), "parameters"),
          "properties"),
      "level");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (level, "enum")), ==, 4);
}

static void
test_check_understanding (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) first = run (
      f, "check_understanding",
      "{\"concept\":\" Common  Denominators\",\"level\":\"proficient\",\"evidence\":\"found 12\"}");
  g_assert_false (json_object_has_member (first, "error"));
  g_assert_cmpstr (json_object_get_string_member (first, "concept"), ==, "common denominators");
  g_assert_cmpint (json_object_get_int_member (first, "level"), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (first, "level_name"), ==, "proficient");
  g_assert_cmpint (json_object_get_int_member (first, "assessments"), ==, 1);
  g_assert_cmpfloat (json_object_get_double_member (first, "mean_level"), ==, 3.0);
  g_assert_cmpint (count_assessments (f), ==, 1);

  /* A level as a number; the running understanding counts both. */
  g_autoptr (JsonObject) second
      = run (f, "check_understanding",
             "{\"concept\":\"common denominators\",\"level\":1,\"evidence\":\"guessed 7\"}");
  g_assert_cmpint (json_object_get_int_member (second, "level"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (second, "level_name"), ==, "emerging");
  g_assert_cmpint (json_object_get_int_member (second, "assessments"), ==, 2);
  g_assert_cmpfloat (json_object_get_double_member (second, "mean_level"), ==, 2.0);
  g_assert_cmpint (count_assessments (f), ==, 2);

  /* The rows carry the learner, the session, the subtopic and the evidence. */
  g_autoptr (JsonArray) rows = vg_test_store_sql (
      f->url, f->dir,
      "SELECT identity, conversation_id, subtopic_id, concept, level, evidence FROM assessments "
      "ORDER BY level",
      NULL, 0);
  JsonObject *r = json_array_get_object_element (rows, 0);
  g_assert_cmpstr (json_object_get_string_member (r, "identity"), ==, "ana");
  g_assert_cmpstr (json_object_get_string_member (r, "conversation_id"), ==, f->conversation);
  g_assert_cmpint (json_object_get_int_member (r, "subtopic_id"), ==, f->fractions);
  g_assert_cmpstr (json_object_get_string_member (r, "evidence"), ==, "guessed 7");

  /* Every malformed call: an error the model can read, and no row. */
  g_autofree char *long_evidence = g_strnfill (VG_STORE_EVIDENCE_MAX + 1, 'x');
  g_autofree char *too_long
      = g_strdup_printf ("{\"concept\":\"x\",\"level\":2,\"evidence\":\"%s\"}", long_evidence);
  g_autofree char *huge_text = g_strnfill (16 * 1024, 'y');
  g_autofree char *huge = g_strdup_printf ("{\"concept\":\"%s\"}", huge_text);
  g_autofree char *long_concept_text = g_strnfill (VG_STORE_CONCEPT_MAX + 1, 'c');
  g_autofree char *long_concept
      = g_strdup_printf ("{\"concept\":\"%s\",\"level\":2,\"evidence\":\"e\"}", long_concept_text);
  const char *const cases[][2] = {
    { "{\"concept\":", "not JSON" },
    { "[1,2]", "must be a JSON object" },
    { "\"text\"", "must be a JSON object" },
    { "{\"level\":2,\"evidence\":\"e\"}", "\"concept\" is required" },
    { "{\"concept\":7,\"level\":2,\"evidence\":\"e\"}", "\"concept\" must be a string" },
    { "{\"concept\":\"  \",\"level\":2,\"evidence\":\"e\"}", "must not be empty" },
    { "{\"concept\":\"x\",\"evidence\":\"e\"}", "\"level\" is required" },
    { "{\"concept\":\"x\",\"level\":\"expert\",\"evidence\":\"e\"}", "\"level\" must be" },
    { "{\"concept\":\"x\",\"level\":5,\"evidence\":\"e\"}", "\"level\" must be" },
    { "{\"concept\":\"x\",\"level\":0,\"evidence\":\"e\"}", "\"level\" must be" },
    { "{\"concept\":\"x\",\"level\":2.5,\"evidence\":\"e\"}", "\"level\" must be" },
    { "{\"concept\":\"x\",\"level\":\"not yet assessed\",\"evidence\":\"e\"}",
      "\"level\" must be" },
    { "{\"concept\":\"x\",\"level\":2}", "\"evidence\" is required" },
    { "{\"concept\":\"x\",\"level\":2,\"evidence\":[]}", "\"evidence\" must be a string" },
    { "{\"concept\":\"x\",\"level\":2,\"evidence\":\"e\",\"score\":9}", "unknown argument" },
    { too_long, "\"evidence\" is longer than" },
    { huge, "longer than" },
    { long_concept, "concept" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    assert_error (f, "check_understanding", cases[i][0], cases[i][1]);
  /* No learner in the room. */
  g_autoptr (JsonObject) nobody = run_as (f, NULL, f->fractions, "check_understanding",
                                          "{\"concept\":\"x\",\"level\":2,\"evidence\":\"e\"}");
  g_assert_nonnull (strstr (json_object_get_string_member (nobody, "error"), "no learner"));
  g_assert_cmpint (count_assessments (f), ==, 2);
}

static void
test_provide_example (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) e = run (f, "provide_example", "{\"concept\":\"Adding Fractions\"}");
  g_assert_cmpstr (json_object_get_string_member (e, "concept"), ==, "adding fractions");
  g_assert_cmpstr (json_object_get_string_member (e, "difficulty"), ==, "medium");
  g_assert_cmpstr (json_object_get_string_member (e, "problem"), ==, "What is 1/3 + 1/4?");
  g_assert_nonnull (strstr (json_object_get_string_member (e, "solution"), "7/12"));
  g_assert_cmpint (json_object_get_int_member (e, "more_examples"), ==, 1);

  g_autoptr (JsonObject) hard
      = run (f, "provide_example", "{\"concept\":\"adding fractions\",\"difficulty\":\"hard\"}");
  g_assert_nonnull (strstr (json_object_get_string_member (hard, "solution"), "4 1/6"));

  g_autoptr (JsonObject) unknown = run (f, "provide_example", "{\"concept\":\"percent change\"}");
  g_assert_nonnull (strstr (json_object_get_string_member (unknown, "error"),
                            "unknown concept \"percent change\""));
  JsonArray *known = json_object_get_array_member (unknown, "known_concepts");
  g_assert_cmpuint (json_array_get_length (known), ==, 5);
  g_assert_cmpstr (json_array_get_string_element (known, 0), ==, "adding fractions");

  g_autoptr (JsonObject) no_easy
      = run (f, "provide_example", "{\"concept\":\"adding fractions\",\"difficulty\":\"easy\"}");
  g_assert_nonnull (strstr (json_object_get_string_member (no_easy, "error"), "no easy example"));

  assert_error (f, "provide_example", "{\"concept\":\"x\",\"difficulty\":\"trivial\"}",
                "\"difficulty\" must be one of");
  assert_error (f, "provide_example", "{\"concept\":\"x\",\"difficulty\":3}",
                "\"difficulty\" must be a string");
  assert_error (f, "provide_example", "{}", "\"concept\" is required");
  assert_error (f, "provide_example", "{\"topic\":\"x\",\"concept\":\"x\"}", "unknown argument");
  g_autoptr (JsonObject) no_subtopic
      = run_as (f, "ana", 0, "provide_example", "{\"concept\":\"adding fractions\"}");
  g_assert_nonnull (strstr (json_object_get_string_member (no_subtopic, "error"), "no subtopic"));
}

static void
test_progress_and_end (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) empty = run (f, "get_learner_progress", "{}");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (empty, "concepts")), ==,
                    0);
  g_autoptr (JsonObject) a = run (
      f, "check_understanding",
      "{\"concept\":\"equivalent fractions\",\"level\":\"mastered\",\"evidence\":\"2/4 = 1/2\"}");
  g_assert_false (json_object_has_member (a, "error"));
  g_assert_true (vg_store_flush (f->store, FLUSH_US));
  /* "" is what a model sends for a call without arguments. */
  g_autoptr (JsonObject) p = run (f, "get_learner_progress", "");
  JsonArray *concepts = json_object_get_array_member (p, "concepts");
  g_assert_cmpuint (json_array_get_length (concepts), ==, 1);
  JsonObject *c = json_array_get_object_element (concepts, 0);
  g_assert_cmpstr (json_object_get_string_member (c, "concept"), ==, "equivalent fractions");
  g_assert_cmpint (json_object_get_int_member (c, "level"), ==, 4);
  g_assert_cmpstr (json_object_get_string_member (c, "level_name"), ==, "mastered");
  g_assert_cmpint (json_object_get_int_member (c, "assessments"), ==, 1);
  assert_error (f, "get_learner_progress", "{\"identity\":\"bob\"}", "unknown argument");

  g_autoptr (JsonObject) ok
      = run (f, "end_session", "{\"summary\":\"Equivalent fractions: mastered.\"}");
  g_assert_true (json_object_get_boolean_member (ok, "ok"));
  g_assert_true (vg_store_flush (f->store, FLUSH_US));
  g_autoptr (GPtrArray) sessions = vg_store_learner_sessions (f->store, "ana", 0, 5, NULL);
  g_assert_cmpuint (sessions->len, ==, 1);
  g_assert_cmpstr (((VgLearnerSession *)sessions->pdata[0])->summary, ==,
                   "Equivalent fractions: mastered.");
  assert_error (f, "end_session", "{}", "\"summary\" is required");
  g_autofree char *big_text = g_strnfill (VG_STORE_SUMMARY_MAX + 1, 's');
  g_autofree char *big = g_strdup_printf ("{\"summary\":\"%s\"}", big_text);
  assert_error (f, "end_session", big, "\"summary\" is longer than");
  g_autoptr (JsonObject) none
      = run_as (f, "bob", f->fractions, "end_session", "{\"summary\":\"hi\"}");
  g_assert_nonnull (strstr (json_object_get_string_member (none, "error"), "no session"));
}

static gint64
conversation_subtopic (Fixture *f)
{
  g_assert_true (vg_store_flush (f->store, FLUSH_US));
  const char *params[] = { f->conversation };
  g_autoptr (JsonArray) rows = vg_test_store_sql (
      f->url, f->dir, "SELECT subtopic_id FROM conversations WHERE id = $1::uuid", params, 1);
  g_assert_cmpuint (json_array_get_length (rows), ==, 1);
  JsonObject *r = json_array_get_object_element (rows, 0);
  return json_object_get_null_member (r, "subtopic_id")
             ? 0
             : json_object_get_int_member (r, "subtopic_id");
}

/* switch_subtopic moves ana's active conversation, by name or by id, and
 * answers the subtopic; anything else leaves it where it was. */
static void
test_switch_subtopic (Fixture *f, gconstpointer data)
{
  gint64 percentages = vg_test_store_subtopic_id (f->store, "Percentages");
  g_autoptr (JsonObject) r = run (f, "switch_subtopic", "{\"subtopic\":\" percentages \"}");
  g_assert_false (json_object_has_member (r, "error"));
  JsonObject *st = json_object_get_object_member (r, "subtopic");
  g_assert_cmpint (json_object_get_int_member (st, "id"), ==, percentages);
  g_assert_cmpstr (json_object_get_string_member (st, "name"), ==, "Percentages");
  g_assert_cmpstr (json_object_get_string_member (st, "topic"), ==, "mathematics");
  g_assert_true (strlen (json_object_get_string_member (st, "description")) > 0);
  g_assert_cmpint (conversation_subtopic (f), ==, percentages);

  /* The store write on its own, and back by id through the tool. */
  g_autoptr (GError) error = NULL;
  g_assert_true (vg_store_conversation_set_subtopic (f->store, f->conversation, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpint (conversation_subtopic (f), ==, 0);
  g_assert_false (vg_store_conversation_set_subtopic (f->store, "not-a-uuid", 1, &error));
  g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
  g_autofree char *by_id = g_strdup_printf ("{\"subtopic\":%" G_GINT64_FORMAT "}", f->fractions);
  g_autoptr (JsonObject) back = run (f, "switch_subtopic", by_id);
  g_assert_false (json_object_has_member (back, "error"));
  g_assert_cmpint (conversation_subtopic (f), ==, f->fractions);

  /* Unknown: an error naming the subtopics there are; nothing moves. */
  g_autoptr (JsonObject) unknown = run (f, "switch_subtopic", "{\"subtopic\":\"Astrology\"}");
  g_assert_nonnull (strstr (json_object_get_string_member (unknown, "error"), "unknown subtopic"));
  JsonArray *known = json_object_get_array_member (unknown, "known_subtopics");
  gboolean listed = FALSE;
  for (guint i = 0; i < json_array_get_length (known); i++)
    listed |= g_str_equal (json_array_get_string_element (known, i), "Photosynthesis");
  g_assert_true (listed);
  assert_error (f, "switch_subtopic", "{\"subtopic\":999999}", "unknown subtopic");
  assert_error (f, "switch_subtopic", "{}", "\"subtopic\" is required");
  assert_error (f, "switch_subtopic", "{\"subtopic\":true}", "\"subtopic\" is required");
  assert_error (f, "switch_subtopic", "{\"subtopic\":\"Fractions\",\"x\":1}", "unknown argument");
  g_autoptr (JsonObject) none
      = run_as (f, "bob", f->fractions, "switch_subtopic", "{\"subtopic\":\"Fractions\"}");
  g_assert_nonnull (strstr (json_object_get_string_member (none, "error"), "no session"));
  g_assert_cmpint (conversation_subtopic (f), ==, f->fractions);
}

static void
test_unknown_tool (Fixture *f, gconstpointer data)
{
  assert_error (f, "switch_topic", "{}", "unknown tool \"switch_topic\"");
  assert_error (f, "", "{}", "unknown tool");
  VgTutorCall call = { "ana", 1, NULL, NULL };
  g_autofree char *out = vg_tutor_tool_run (f->store, &call);
  g_assert_nonnull (strstr (out, "unknown tool"));
  /* Without a store every tool still answers. */
  VgTutorCall progress = { "ana", 1, "get_learner_progress", "{}" };
  g_autofree char *no_store = vg_tutor_tool_run (NULL, &progress);
  g_assert_nonnull (strstr (no_store, "\"error\""));
}

typedef struct
{
  gint64 start_us;
  GArray *ms;
  char *output;
} Timing;

static void
answered (const VgTutorOutcome *outcome, gpointer data)
{
  const char *output = outcome->output_json;
  Timing *t = data;
  double ms = (g_get_monotonic_time () - t->start_us) / 1000.0;
  g_array_append_val (t->ms, ms);
  g_free (t->output);
  t->output = g_strdup (output);
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

#define LATENCY_CALLS 25

/* Each tool through vg_tutor_call: the call queued on this thread's
 * context, run on the tutor's workers, answered back here. One call at a
 * time, as a model makes them. */
static void
test_latency (Fixture *f, gconstpointer data)
{
  const char *const calls[][2] = {
    { "check_understanding",
      "{\"concept\":\"common denominators\",\"level\":\"developing\",\"evidence\":\"12\"}" },
    { "provide_example", "{\"concept\":\"adding fractions\"}" },
    { "get_learner_progress", "{}" },
    { "end_session", "{\"summary\":\"A summary.\"}" },
  };
  VgTutor *tutor = vg_tutor_new_with_store (f->store);
  GString *report = g_string_new ("tool latency (vg_tutor_call to answer, ms):");
  double worst_p95 = 0;
  for (guint c = 0; c < G_N_ELEMENTS (calls); c++)
    {
      Timing t = { 0, g_array_new (FALSE, FALSE, sizeof (double)), NULL };
      for (guint i = 0; i < LATENCY_CALLS; i++)
        {
          VgTutorCall call = { "ana", f->fractions, calls[c][0], calls[c][1] };
          guint before = t.ms->len;
          t.start_us = g_get_monotonic_time ();
          vg_tutor_call (tutor, &call, answered, &t, NULL);
          while (t.ms->len == before)
            g_main_context_iteration (NULL, TRUE);
          if (strstr (t.output, "\"error\""))
            g_error ("%s: %s", calls[c][0], t.output);
        }
      g_array_sort (t.ms, compare_double);
      double p50 = g_array_index (t.ms, double, LATENCY_CALLS / 2);
      double p95 = g_array_index (t.ms, double, (LATENCY_CALLS * 95) / 100);
      worst_p95 = MAX (worst_p95, p95);
      g_string_append_printf (report, " %s p50 %.1f p95 %.1f;", calls[c][0], p50, p95);
      g_array_unref (t.ms);
      g_free (t.output);
    }
  g_test_message ("%s (%s)", report->str, vg_test_store_backend_name ());
  g_string_free (report, TRUE);
  vg_tutor_free (tutor);
  /* The goal is 50 ms; the bound leaves room for a loaded test machine. */
  g_assert_cmpfloat (worst_p95, <, 250);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  const char *backend = argc > 1 ? argv[1] : "sqlite";
  vg_test_store_setup (g_str_equal (backend, "postgres") ? VG_TEST_POSTGRES : VG_TEST_SQLITE);
#define ADD(name, fn)                                                                              \
  do                                                                                               \
    {                                                                                              \
      g_autofree char *p                                                                           \
          = g_strdup_printf ("/tutor-tools/%s/%s", vg_test_store_backend_name (), name);           \
      g_test_add (p, Fixture, NULL, setup, fn, teardown);                                          \
    }                                                                                              \
  while (0)
  g_test_add_func ("/tutor-tools/declaration", test_declaration);
  ADD ("check-understanding", test_check_understanding);
  ADD ("provide-example", test_provide_example);
  ADD ("progress-and-end", test_progress_and_end);
  ADD ("switch-subtopic", test_switch_subtopic);
  ADD ("unknown-tool", test_unknown_tool);
  ADD ("latency", test_latency);
  int status = g_test_run ();
  vg_test_store_teardown ();
  return status;
}
