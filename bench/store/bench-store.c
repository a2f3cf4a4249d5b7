/* Store benchmark: how many messages per second the store sustains through
 * its queue into the database, and the latency of reading one conversation
 * with 1000 messages (the data API's GET /api/conversations/{id} queries).
 *
 *   bench-store URL DATA_DIR [MESSAGES] [READS]
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

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  guint n_messages = argc > 3 ? atoi (argv[3]) : 20000;
  guint n_reads = argc > 4 ? atoi (argv[4]) : 200;
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
          "\"read_1000_messages_p99_ms\":%.2f,\"reads\":%u}\n",
          vg_store_backend_name (store), n_messages, n_messages / (elapsed / 1e6), lat[n_reads / 2],
          lat[MIN (n_reads - 1, (guint)(n_reads * 0.99))], n_reads);
  vg_store_close (store);
  return 0;
}
