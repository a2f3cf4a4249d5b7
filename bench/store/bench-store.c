/* Store benchmark: how many messages per second the store sustains through
 * its queue into the database, and the latency of reading one conversation
 * with 1000 messages (the data API's GET /api/conversations/{id} queries),
 * and the tutor's reads a tool makes (goal: a tool answers in < 50 ms, store
 * reads included): a learner's understanding of a concept, their progress,
 * and a subtopic's worked examples, over ASSESSMENTS assessment rows.
 *
 *   bench-store URL DATA_DIR [MESSAGES] [READS] [ASSESSMENTS]
 *
 * Prints one JSON object. */
#include "gateway/store/store.h"

#include <stdio.h>
#include <stdlib.h>

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double
percentile (double *sorted, guint n, double p)
{
  return sorted[MIN (n - 1, (guint)(n * p))];
}

static gint64
fractions_id (VgStore *store)
{
  g_autoptr (JsonArray) rows = vg_store_query_sync (
      store, VG_STORE_Q_SUBTOPICS_LIST, (const char *[]){ "mathematics" }, 1, NULL, NULL);

  for (guint i = 0; rows && i < json_array_get_length (rows); i++)
    {
      JsonObject *r = json_array_get_object_element (rows, i);
      if (g_str_equal (json_object_get_string_member (r, "name"), "Fractions"))
        return json_object_get_int_member (r, "id");
    }
  return 0;
}

/* Assessments by 100 learners on 10 concepts, a tenth of them by the one
 * learner read back; then n_reads of each tutor read. Prints JSON members. */
static gboolean
bench_tutor (VgStore *store, guint n_assessments, guint n_reads)
{
  static const char *const concepts[]
      = { "equivalent fractions", "simplifying fractions", "common denominators",
          "adding fractions",     "comparing fractions",   "improper fractions",
          "mixed numbers",        "multiplying fractions", "dividing fractions",
          "fractions of amounts" };
  g_autofree double *understanding = g_new (double, n_reads);
  g_autofree double *progress = g_new (double, n_reads);
  g_autofree double *examples = g_new (double, n_reads);
  g_autoptr (GError) error = NULL;
  gint64 subtopic = fractions_id (store);

  for (guint i = 0; i < n_assessments; i++)
    {
      g_autofree char *learner
          = i % 10 == 0 ? g_strdup ("bench-learner") : g_strdup_printf ("learner-%u", i % 100);
      VgAssessment a = { learner,      NULL,
                         subtopic,     concepts[(i / 10) % G_N_ELEMENTS (concepts)],
                         (int)(i % 5), "answered the question on the first try" };
      if (!vg_store_assessment_add (store, &a, &error))
        return FALSE;
    }
  if (!vg_store_flush (store, 120 * G_USEC_PER_SEC))
    return FALSE;
  for (guint i = 0; i < n_reads; i++)
    {
      VgUnderstanding u = { 0 };
      GPtrArray *rows;
      gint64 t0 = g_get_monotonic_time ();

      if (!vg_store_understanding (store, "bench-learner", concepts[i % G_N_ELEMENTS (concepts)],
                                   &u, &error)
          || u.assessments == 0)
        return FALSE;
      understanding[i] = (g_get_monotonic_time () - t0) / 1000.0;
      vg_understanding_clear (&u);

      t0 = g_get_monotonic_time ();
      if (!(rows = vg_store_learner_progress (store, "bench-learner", subtopic, &error)))
        return FALSE;
      progress[i] = (g_get_monotonic_time () - t0) / 1000.0;
      g_ptr_array_unref (rows);

      t0 = g_get_monotonic_time ();
      rows = vg_store_subtopic_examples (store, subtopic, "adding fractions", i % 2 ? NULL : "hard",
                                         &error);
      examples[i] = (g_get_monotonic_time () - t0) / 1000.0;
      if (!rows || rows->len == 0)
        return FALSE;
      g_ptr_array_unref (rows);
    }
  qsort (understanding, n_reads, sizeof (double), compare_doubles);
  qsort (progress, n_reads, sizeof (double), compare_doubles);
  qsort (examples, n_reads, sizeof (double), compare_doubles);
  printf (",\"assessments\":%u,\"understanding_p50_ms\":%.2f,\"understanding_p95_ms\":%.2f,"
          "\"learner_progress_p50_ms\":%.2f,\"learner_progress_p95_ms\":%.2f,"
          "\"subtopic_examples_p50_ms\":%.2f,\"subtopic_examples_p95_ms\":%.2f",
          n_assessments, percentile (understanding, n_reads, 0.5),
          percentile (understanding, n_reads, 0.95), percentile (progress, n_reads, 0.5),
          percentile (progress, n_reads, 0.95), percentile (examples, n_reads, 0.5),
          percentile (examples, n_reads, 0.95));
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  guint n_messages = argc > 3 ? atoi (argv[3]) : 20000;
  guint n_reads = argc > 4 ? atoi (argv[4]) : 200;
  guint n_assessments = argc > 5 ? atoi (argv[5]) : 5000;
  g_autofree char *conversation = NULL, *reader = NULL;
  g_autofree double *lat = g_new (double, n_reads);
  g_autofree char *text = g_strnfill (120, 'w');
  VgStore *store;
  gint64 start, elapsed;

  if (argc < 3)
    {
      g_printerr ("usage: %s URL DATA_DIR [MESSAGES] [READS]\n", argv[0]);
      return 2;
    }
  store = vg_store_open (NULL, argv[1], argv[2], &error);
  if (!store || !vg_store_migrate (store, NULL, &error))
    {
      g_printerr ("bench-store: %s\n", error->message);
      return 1;
    }

  /* Write throughput: enqueue as fast as the caller can, until all are in. */
  conversation = vg_store_conversation_start (store, "bench", "bench-user", 0, "echo.pipeline",
                                              "echo", NULL);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < n_messages; i++)
    {
      VgStoreMessage m = { i % 2 ? "assistant" : "user", text, "item", i * 10, i * 10 + 5, FALSE };
      vg_store_message_add (store, conversation, &m, NULL);
    }
  if (!vg_store_flush (store, 600 * G_USEC_PER_SEC))
    {
      g_printerr ("bench-store: writes did not complete\n");
      return 1;
    }
  elapsed = g_get_monotonic_time () - start;

  /* Read latency: one conversation of 1000 messages, read whole. */
  reader = vg_store_conversation_start (store, "bench", "reader", 0, "echo.pipeline", "echo", NULL);
  for (guint i = 0; i < 1000; i++)
    {
      VgStoreMessage m = { i % 2 ? "assistant" : "user", text, "item", -1, -1, FALSE };
      vg_store_message_add (store, reader, &m, NULL);
    }
  vg_store_flush (store, 60 * G_USEC_PER_SEC);
  for (guint i = 0; i < n_reads; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      JsonArray *conv = vg_store_query_sync (store, VG_STORE_Q_CONVERSATION_GET,
                                             (const char *[]){ reader }, 1, NULL, &error);
      JsonArray *rows = vg_store_query_sync (store, VG_STORE_Q_MESSAGES_LIST,
                                             (const char *[]){ reader }, 1, NULL, &error);
      lat[i] = (g_get_monotonic_time () - t0) / 1000.0;
      if (!rows || json_array_get_length (rows) != 1000 || !conv)
        {
          g_printerr ("bench-store: read failed\n");
          return 1;
        }
      json_array_unref (rows);
      json_array_unref (conv);
    }
  qsort (lat, n_reads, sizeof (double), compare_doubles);
  printf ("{\"backend\":\"%s\",\"messages\":%u,\"messages_per_second\":%.0f,\"read_1000_messages_"
          "p50_ms\":%.2f,"
          "\"read_1000_messages_p99_ms\":%.2f,\"reads\":%u",
          vg_store_backend_name (store), n_messages, n_messages / (elapsed / 1e6), lat[n_reads / 2],
          lat[MIN (n_reads - 1, (guint)(n_reads * 0.99))], n_reads);
  if (!bench_tutor (store, n_assessments, n_reads))
    {
      g_printerr ("\nbench-store: tutor reads failed\n");
      return 1;
    }
  printf ("}\n");
  vg_store_close (store);
  return 0;
}
