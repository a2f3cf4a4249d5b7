/* The tutor's store calls (assessments, understanding, worked examples,
 * summaries, earlier sessions) against a real database: the same cases for
 * SQLite and for a PostgreSQL started by tests/harness/postgres.sh. The
 * backend is the first argument after the GTest options. */
#include "store-fixture.h"

#include <string.h>

#define FLUSH_US (20 * G_USEC_PER_SEC)

typedef struct
{
  char *url;
  char *dir;
  VgStore *store;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->store = vg_test_store_open_new (NULL, &f->url, &f->dir);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  vg_store_close (f->store);
  g_free (f->url);
  g_free (f->dir);
}

static void
flush (Fixture *f)
{
  g_assert_true (vg_store_flush (f->store, FLUSH_US));
}

static void
assess (Fixture *f, const char *identity, const char *conversation, gint64 subtopic,
        const char *concept, int level)
{
  g_autoptr (GError) error = NULL;
  VgAssessment a = { identity, conversation, subtopic, concept, level, "said so" };

  g_assert_true (vg_store_assessment_add (f->store, &a, &error));
  g_assert_no_error (error);
  /* Distinct times, so "latest" is well defined. */
  g_usleep (2000);
}

static void
test_levels (void)
{
  VgUnderstandingLevel level = 99;

  g_assert_cmpstr (vg_store_level_name (VG_LEVEL_NONE), ==, "not yet assessed");
  g_assert_cmpstr (vg_store_level_name (3), ==, "proficient");
  g_assert_cmpstr (vg_store_level_name (4), ==, "mastered");
  g_assert_null (vg_store_level_name (5));
  g_assert_null (vg_store_level_name (-1));
  g_assert_true (vg_store_level_from_name ("Developing", &level));
  g_assert_cmpint (level, ==, VG_LEVEL_DEVELOPING);
  g_assert_false (vg_store_level_from_name ("expert", &level));
  g_assert_false (vg_store_level_from_name (NULL, &level));
}

static void
test_concept_normalize (void)
{
  const char *refused[] = { "", "   ", "tab\x01here", "\xff\xfe", NULL };
  g_autofree char *a = vg_store_concept_normalize ("  Common \t Denominators\n", NULL);
  g_autofree char *b = vg_store_concept_normalize ("Días  DE la semana", NULL);
  g_autofree char *long_ok = g_strnfill (VG_STORE_CONCEPT_MAX, 'x');
  g_autofree char *too_long = g_strnfill (VG_STORE_CONCEPT_MAX + 1, 'x');
  g_autofree char *n = NULL;

  g_assert_cmpstr (a, ==, "common denominators");
  g_assert_cmpstr (b, ==, "días de la semana");
  n = vg_store_concept_normalize (long_ok, NULL);
  g_assert_cmpstr (n, ==, long_ok);
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_null (vg_store_concept_normalize (refused[i], &error));
      g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
    }
  {
    g_autoptr (GError) error = NULL;
    g_assert_null (vg_store_concept_normalize (too_long, &error));
    g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
  }
}

/* Levels 1, 3, 2 on one concept: latest 2, mean 2, first and latest times in order. */
static void
test_understanding (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 fractions = vg_test_store_subtopic_id (f->store, "Fractions");
  g_autofree char *conv = vg_store_conversation_start (f->store, "room-1", "ana", fractions,
                                                       "echo.pipeline", "", &error);
  g_autofree char *fractions_text = g_strdup_printf ("%" G_GINT64_FORMAT, fractions);
  VgUnderstanding u = { 0 };
  g_autoptr (JsonArray) rows = NULL;

  g_assert_no_error (error);
  assess (f, "ana", conv, fractions, "Common denominators", VG_LEVEL_EMERGING);
  assess (f, "ana", conv, fractions, "common  denominators", VG_LEVEL_PROFICIENT);
  assess (f, "ana", NULL, fractions, " COMMON DENOMINATORS ", VG_LEVEL_DEVELOPING);
  assess (f, "ana", conv, fractions, "adding fractions", VG_LEVEL_MASTERED);
  assess (f, "ben", NULL, fractions, "common denominators", VG_LEVEL_MASTERED);
  flush (f);

  g_assert_true (vg_store_understanding (f->store, "ana", "Common Denominators", &u, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (u.concept, ==, "common denominators");
  g_assert_cmpuint (u.assessments, ==, 3);
  g_assert_cmpint (u.latest_level, ==, VG_LEVEL_DEVELOPING);
  g_assert_cmpfloat_with_epsilon (u.mean_level, 2.0, 1e-9);
  g_assert_nonnull (u.first_at);
  g_assert_nonnull (u.latest_at);
  g_assert_cmpint (strlen (u.first_at), ==, 27);
  g_assert_cmpstr (u.first_at, <, u.latest_at);
  vg_understanding_clear (&u);

  /* Another learner's assessments are theirs. */
  g_assert_true (vg_store_understanding (f->store, "ben", "common denominators", &u, &error));
  g_assert_cmpuint (u.assessments, ==, 1);
  g_assert_cmpint (u.latest_level, ==, VG_LEVEL_MASTERED);
  vg_understanding_clear (&u);

  /* Never assessed: not an error. */
  g_assert_true (vg_store_understanding (f->store, "ana", "long division", &u, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (u.concept, ==, "long division");
  g_assert_cmpuint (u.assessments, ==, 0);
  g_assert_cmpint (u.latest_level, ==, VG_LEVEL_NONE);
  g_assert_null (u.first_at);
  vg_understanding_clear (&u);

  /* The row keeps its conversation and subtopic; the evidence is stored. */
  rows = vg_test_store_sql (f->url, f->dir,
                            "SELECT count(*) AS n FROM assessments WHERE identity = 'ana' "
                            "AND conversation_id IS NOT NULL AND subtopic_id = $1::bigint "
                            "AND evidence = 'said so'",
                            (const char *[]){ fractions_text }, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (rows, 0), "n"), ==,
                   3);
}

static void
test_progress (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 fractions = vg_test_store_subtopic_id (f->store, "Fractions");
  gint64 percentages = vg_test_store_subtopic_id (f->store, "Percentages");
  g_autoptr (GPtrArray) all = NULL, in_fractions = NULL, none = NULL;
  VgUnderstanding *u;

  assess (f, "ana", NULL, fractions, "adding fractions", VG_LEVEL_EMERGING);
  assess (f, "ana", NULL, fractions, "adding fractions", VG_LEVEL_DEVELOPING);
  assess (f, "ana", NULL, percentages, "percent change", VG_LEVEL_PROFICIENT);
  /* The same concept met in another subtopic. */
  assess (f, "ana", NULL, percentages, "adding fractions", VG_LEVEL_MASTERED);
  assess (f, "ben", NULL, fractions, "comparing fractions", VG_LEVEL_MASTERED);
  flush (f);

  all = vg_store_learner_progress (f->store, "ana", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, 2);
  u = all->pdata[0];
  g_assert_cmpstr (u->concept, ==, "adding fractions");
  g_assert_cmpuint (u->assessments, ==, 3);
  g_assert_cmpint (u->latest_level, ==, VG_LEVEL_MASTERED);
  g_assert_cmpfloat_with_epsilon (u->mean_level, 7.0 / 3.0, 1e-9);
  u = all->pdata[1];
  g_assert_cmpstr (u->concept, ==, "percent change");
  g_assert_cmpint (u->latest_level, ==, VG_LEVEL_PROFICIENT);

  in_fractions = vg_store_learner_progress (f->store, "ana", fractions, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (in_fractions->len, ==, 1);
  u = in_fractions->pdata[0];
  g_assert_cmpuint (u->assessments, ==, 2);
  g_assert_cmpint (u->latest_level, ==, VG_LEVEL_DEVELOPING);
  g_assert_cmpfloat_with_epsilon (u->mean_level, 1.5, 1e-9);

  none = vg_store_learner_progress (f->store, "nobody", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (none->len, ==, 0);
}

static void
test_assessment_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *big = g_strnfill (VG_STORE_EVIDENCE_MAX + 1, 'e');
  g_autofree char *fits = g_strnfill (VG_STORE_EVIDENCE_MAX, 'e');
  VgAssessment bad[] = {
    { "ana", NULL, 0, "fractions", 5, NULL },
    { "ana", NULL, 0, "fractions", -1, NULL },
    { "ana", NULL, 0, "", 2, NULL },
    { "ana", NULL, 0, "frac\ttions\x07", 2, NULL },
    { "ana", NULL, 0, NULL, 2, NULL },
    { "ana", NULL, 0, "fractions", 2, big },
    { "ana", "not-a-uuid", 0, "fractions", 2, NULL },
    { "", NULL, 0, "fractions", 2, NULL },
    { NULL, NULL, 0, "fractions", 2, NULL },
  };
  VgAssessment ok = { "ana", "00000000-0000-4000-8000-000000000000", 999999, "fractions", 0, fits };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) rows = NULL;
  VgUnderstanding u = { 0 };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) e = NULL;
      g_assert_false (vg_store_assessment_add (f->store, &bad[i], &e));
      g_assert_error (e, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
    }
  /* Unknown conversation and subtopic ids are stored as none, not refused. */
  g_assert_true (vg_store_assessment_add (f->store, &ok, &error));
  g_assert_no_error (error);
  flush (f);
  rows = vg_test_store_sql (f->url, f->dir,
                            "SELECT conversation_id, subtopic_id, level FROM assessments", NULL, 0);
  g_assert_cmpuint (json_array_get_length (rows), ==, 1);
  {
    JsonObject *r = json_array_get_object_element (rows, 0);
    g_assert_true (json_object_get_null_member (r, "conversation_id"));
    g_assert_true (json_object_get_null_member (r, "subtopic_id"));
    g_assert_cmpint (json_object_get_int_member (r, "level"), ==, 0);
  }
  g_assert_true (vg_store_understanding (f->store, "ana", "fractions", &u, &error));
  g_assert_cmpuint (u.assessments, ==, 1);
  vg_understanding_clear (&u);
  g_assert_false (vg_store_understanding (f->store, "ana", "\x01", &u, &error));
  g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
}

/* Every shipped subtopic has at least three worked examples, over more than
 * one concept and difficulty, in the normalized concept form. */
static void
test_seeded_examples (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonArray) per_subtopic = vg_test_store_sql (
      f->url, f->dir,
      "SELECT s.name, count(e.id) AS n, count(DISTINCT e.concept) AS concepts, "
      "count(DISTINCT e.difficulty) AS difficulties FROM subtopics s "
      "LEFT JOIN subtopic_examples e ON e.subtopic_id = s.id GROUP BY s.name",
      NULL, 0);
  g_autoptr (JsonArray) concepts = vg_test_store_sql (
      f->url, f->dir, "SELECT DISTINCT concept FROM subtopic_examples", NULL, 0);

  g_assert_cmpuint (json_array_get_length (per_subtopic), ==, 5);
  for (guint i = 0; i < json_array_get_length (per_subtopic); i++)
    {
      JsonObject *r = json_array_get_object_element (per_subtopic, i);
      if (json_object_get_int_member (r, "n") < 3 || json_object_get_int_member (r, "concepts") < 2
          || json_object_get_int_member (r, "difficulties") < 2)
        g_error ("%s: too few examples", json_object_get_string_member (r, "name"));
    }
  for (guint i = 0; i < json_array_get_length (concepts); i++)
    {
      const char *c
          = json_object_get_string_member (json_array_get_object_element (concepts, i), "concept");
      g_autofree char *n = vg_store_concept_normalize (c, NULL);
      g_assert_cmpstr (n, ==, c);
    }
}

static void
test_examples (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 fractions = vg_test_store_subtopic_id (f->store, "Fractions");
  g_autoptr (GPtrArray) adding = NULL, hard = NULL, unknown = NULL, no_subtopic = NULL, gone = NULL;
  VgSubtopicExample *e;

  adding = vg_store_subtopic_examples (f->store, fractions, " Adding  Fractions", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (adding->len, ==, 2);
  e = adding->pdata[0];
  g_assert_cmpstr (e->difficulty, ==, "medium"); /* easiest first */
  g_assert_cmpstr (e->concept, ==, "adding fractions");
  g_assert_cmpint (e->subtopic_id, ==, fractions);
  g_assert_cmpstr (e->problem, ==, "What is 1/3 + 1/4?");
  g_assert_nonnull (strstr (e->solution, "7/12"));
  g_assert_cmpstr (((VgSubtopicExample *)adding->pdata[1])->difficulty, ==, "hard");

  hard = vg_store_subtopic_examples (f->store, fractions, "adding fractions", "hard", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hard->len, ==, 1);
  g_assert_nonnull (strstr (((VgSubtopicExample *)hard->pdata[0])->solution, "4 1/6"));

  /* Unknown concept, or a concept of another subtopic: empty, not an error. */
  unknown = vg_store_subtopic_examples (f->store, fractions, "percent change", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (unknown->len, ==, 0);
  no_subtopic = vg_store_subtopic_examples (f->store, 0, "adding fractions", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (no_subtopic->len, ==, 0);

  g_assert_null (
      vg_store_subtopic_examples (f->store, fractions, "adding fractions", "trivial", &error));
  g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (vg_store_subtopic_examples (f->store, fractions, "", NULL, &error));
  g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
  g_clear_error (&error);

  {
    g_auto (GStrv) concepts = vg_store_subtopic_concepts (f->store, fractions, &error);
    g_auto (GStrv) none = vg_store_subtopic_concepts (f->store, 999999, &error);
    const char *expected[]
        = { "adding fractions",     "common denominators",   "comparing fractions",
            "equivalent fractions", "simplifying fractions", NULL };
    g_assert_no_error (error);
    g_assert_cmpstrv (concepts, expected);
    g_assert_cmpuint (g_strv_length (none), ==, 0);
  }

  /* A deleted subtopic takes its examples with it. */
  {
    g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, fractions);
    g_autoptr (JsonArray) rows = NULL;
    g_autoptr (JsonArray) left = NULL;
    rows = vg_store_query_sync (f->store, VG_STORE_Q_SUBTOPIC_DELETE, (const char *[]){ id }, 1,
                                NULL, &error);
    g_assert_no_error (error);
    left = vg_test_store_sql (f->url, f->dir,
                              "SELECT count(*) AS n FROM subtopic_examples WHERE subtopic_id = "
                              "$1::bigint",
                              (const char *[]){ id }, 1);
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (left, 0), "n"), ==,
                     0);
  }
}

static char *
session (Fixture *f, const char *identity, gint64 subtopic, const char *summary)
{
  g_autoptr (GError) error = NULL;
  char *id = vg_store_conversation_start (f->store, "room-1", identity, subtopic, "echo.pipeline",
                                          "", &error);

  g_assert_no_error (error);
  if (summary)
    {
      g_assert_true (vg_store_conversation_set_summary (f->store, id, summary, &error));
      g_assert_no_error (error);
    }
  g_assert_true (vg_store_conversation_end (f->store, id, "completed", &error));
  g_usleep (2000);
  return id;
}

static void
test_sessions (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 fractions = vg_test_store_subtopic_id (f->store, "Fractions");
  gint64 percentages = vg_test_store_subtopic_id (f->store, "Percentages");
  g_autofree char *first = session (f, "ana", fractions, "Met halves and quarters.");
  g_autofree char *other = session (f, "ana", percentages, "Discounts.");
  g_autofree char *second = session (f, "ana", fractions, NULL);
  g_autofree char *bens = session (f, "ben", fractions, "Ben's session.");
  g_autofree char *big = g_strnfill (VG_STORE_SUMMARY_MAX + 1, 's');
  g_autoptr (GPtrArray) on_fractions = NULL, latest = NULL, any = NULL;
  g_autoptr (JsonArray) conv = NULL;
  VgLearnerSession *s;

  /* A later summary replaces the earlier one; NULL clears. */
  g_assert_true (
      vg_store_conversation_set_summary (f->store, first, "Adding with 1/3 + 1/4: solid.", &error));
  g_assert_true (vg_store_conversation_set_summary (f->store, other, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (vg_store_conversation_set_summary (f->store, second, big, &error));
  g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (vg_store_conversation_set_summary (f->store, "nope", "x", &error));
  g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
  g_clear_error (&error);
  flush (f);

  on_fractions = vg_store_learner_sessions (f->store, "ana", fractions, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (on_fractions->len, ==, 2);
  s = on_fractions->pdata[0];
  g_assert_cmpstr (s->id, ==, second); /* newest first */
  g_assert_null (s->summary);
  g_assert_cmpstr (s->status, ==, "completed");
  g_assert_nonnull (s->ended_at);
  s = on_fractions->pdata[1];
  g_assert_cmpstr (s->id, ==, first);
  g_assert_cmpstr (s->summary, ==, "Adding with 1/3 + 1/4: solid.");
  g_assert_cmpstr (s->started_at, <, ((VgLearnerSession *)on_fractions->pdata[0])->started_at);

  latest = vg_store_learner_sessions (f->store, "ana", fractions, 1, &error);
  g_assert_cmpuint (latest->len, ==, 1);
  g_assert_cmpstr (((VgLearnerSession *)latest->pdata[0])->id, ==, second);
  any = vg_store_learner_sessions (f->store, "ana", 0, 10, &error);
  g_assert_cmpuint (any->len, ==, 3);
  g_assert_cmpstr (((VgLearnerSession *)any->pdata[1])->id, ==, other);
  g_assert_null (((VgLearnerSession *)any->pdata[1])->summary);

  g_assert_null (vg_store_learner_sessions (f->store, "ana", fractions, 0, &error));
  g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (vg_store_learner_sessions (f->store, "", fractions, 5, &error));
  g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* The data API's conversation shows the summary. */
  conv = vg_store_query_sync (f->store, VG_STORE_Q_CONVERSATION_GET, (const char *[]){ first }, 1,
                              NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (
      json_object_get_string_member (json_array_get_object_element (conv, 0), "summary"), ==,
      "Adding with 1/3 + 1/4: solid.");
}

int
main (int argc, char **argv)
{
  const char *backend;
  int status;

  g_test_init (&argc, &argv, NULL);
  backend = argc > 1 ? argv[1] : "sqlite";
  vg_test_store_setup (g_str_equal (backend, "postgres") ? VG_TEST_POSTGRES : VG_TEST_SQLITE);

#define ADD(name, fn)                                                                              \
  do                                                                                               \
    {                                                                                              \
      g_autofree char *p = g_strdup_printf ("/tutor/%s/%s", vg_test_store_backend_name (), name);  \
      g_test_add (p, Fixture, NULL, setup, fn, teardown);                                          \
    }                                                                                              \
  while (0)
  g_test_add_func ("/tutor/levels", test_levels);
  g_test_add_func ("/tutor/concept-normalize", test_concept_normalize);
  ADD ("understanding", test_understanding);
  ADD ("progress", test_progress);
  ADD ("assessment-refused", test_assessment_refused);
  ADD ("seeded-examples", test_seeded_examples);
  ADD ("examples", test_examples);
  ADD ("sessions", test_sessions);
  status = g_test_run ();
  vg_test_store_teardown ();
  return status;
}
