/* The tutor's tool latency through a whole room: tutor.pipeline on the
 * fake Realtime server, the rooms' agents bound to the tutor as the gateway
 * binds them (gateway/tutor-rooms), a real store (SQLite, or PostgreSQL
 * started by tests/harness/postgres.sh). For each call, the server's time
 * from sending response.function_call_arguments.done to receiving the
 * function_call_output item: the agent, the room, the tutor's worker with
 * its store reads and writes, and the WebSocket both ways.
 *
 *   bench-tutor-tools sqlite|postgres [ROUNDS] [CALLS_PER_ROUND]
 *
 * Each round a learner joins, the first four tools are called
 * CALLS_PER_ROUND times each, interleaved, then end_session, which ends the
 * learner's session. Prints per tool n, p50, p95 and max (ms) as one JSON
 * object on its last line. */
#include "tests/rooms/rooms-fixture.h"
#include "store-fixture.h"
#include "tutor-test-env.h"
#include "gateway/subscribers/conversation-recorder.h"
#include "gateway/tutor/tutor.h"
#include "gateway/tutor-rooms/tutor-rooms.h"
#include "vg-build-config.h"
#include "vg-rt-server.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tool_names[]
    = { "check_understanding", "provide_example", "get_learner_progress", "switch_subtopic",
        "end_session" };

/* Whether the last switch_subtopic moved the room to Percentages. */
static gboolean in_percentages;

/* Valid arguments for call i of a tool: what a lesson would send. */
static char *
arguments (const char *tool, guint i)
{
  static const char *const concepts[] = { "common denominators", "adding fractions" };
  static const char *const levels[] = { "emerging", "developing", "proficient" };
  if (g_str_equal (tool, "check_understanding"))
    return g_strdup_printf ("{\"concept\":\"%s\",\"level\":\"%s\",\"evidence\":\"call %u\"}",
                            concepts[i % 2], levels[i % 3], i);
  if (g_str_equal (tool, "provide_example"))
    return g_strdup (in_percentages ? "{\"concept\":\"percent change\"}"
                                    : "{\"concept\":\"adding fractions\"}");
  if (g_str_equal (tool, "get_learner_progress"))
    return g_strdup ("{}");
  if (g_str_equal (tool, "switch_subtopic"))
    {
      /* Back and forth (the room follows: see provide_example). */
      in_percentages = !in_percentages;
      return g_strdup (in_percentages ? "{\"subtopic\":\"Percentages\"}"
                                      : "{\"subtopic\":\"Fractions\"}");
    }
  return g_strdup ("{\"summary\":\"A benchmark session.\"}");
}

static gboolean
learner_gone (gpointer data)
{
  VgRoomsFixture *f = data;
  VgRoom *room = vg_rooms_lookup (f->rooms, f->room);
  return !room || vg_room_count_participants (room) == 0;
}

/* One call: scripted, the agent asked to respond, and waited for at the
 * learner (the tool event); FALSE when it did not come. */
static gboolean
call (VgRoomsFixture *f, VgRtServer *server, VgTestClient *c, const char *tool, guint i)
{
  g_autofree char *args = arguments (tool, i);
  vg_rt_server_script_function_call (server, tool, args);
  g_signal_emit_by_name (vg_room_get_agent (vg_rooms_lookup (f->rooms, f->room)), "respond",
                         "go on");
  g_autofree char *event = vg_test_client_wait_event (c, "tool", "name", tool, 10000);
  if (!event)
    g_printerr ("bench-tutor-tools: no answer to %s\n", tool);
  else if (strstr (event, "\"error\""))
    g_printerr ("bench-tutor-tools: %s answered an error: %s\n", tool, event);
  return event != NULL;
}

static int
compare_ms (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Per tool name, the server's arguments.done -> function_call_output, ms. */
static GHashTable *
round_trips (VgRtServer *server)
{
  GHashTable *by_tool
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
  GPtrArray *log = vg_rt_server_get_log (server);
  for (guint i = 0; i < log->len; i++)
    {
      VgRtLogEntry *done = g_ptr_array_index (log, i);
      if (done->from_client || strcmp (done->type, "response.function_call_arguments.done") != 0)
        continue;
      const char *call_id = json_object_get_string_member (done->event, "call_id");
      const char *name = json_object_get_string_member (done->event, "name");
      for (guint j = i + 1; j < log->len; j++)
        {
          VgRtLogEntry *e = g_ptr_array_index (log, j);
          JsonObject *item = e->from_client && strcmp (e->type, "conversation.item.create") == 0
                                 ? json_object_get_object_member (e->event, "item")
                                 : NULL;
          if (!item
              || g_strcmp0 (json_object_get_string_member_with_default (item, "call_id", NULL),
                            call_id)
                     != 0)
            continue;
          GArray *ms = g_hash_table_lookup (by_tool, name);
          if (!ms)
            {
              ms = g_array_new (FALSE, FALSE, sizeof (double));
              g_hash_table_insert (by_tool, g_strdup (name), ms);
            }
          double d = (e->time_us - done->time_us) / 1000.0;
          g_array_append_val (ms, d);
          break;
        }
    }
  g_ptr_array_unref (log);
  return by_tool;
}

static double
percentile (GArray *sorted, double p)
{
  guint i = (guint)(p * (sorted->len - 1) + 0.5);
  return g_array_index (sorted, double, MIN (i, sorted->len - 1));
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  if (argc < 2 || !(g_str_equal (argv[1], "sqlite") || g_str_equal (argv[1], "postgres")))
    {
      g_printerr ("usage: %s sqlite|postgres [ROUNDS] [CALLS_PER_ROUND]\n", argv[0]);
      return 2;
    }
  guint rounds = argc > 2 ? (guint)atoi (argv[2]) : 5;
  guint per_round = argc > 3 ? (guint)atoi (argv[3]) : 4;
  if (rounds == 0 || per_round == 0)
    return 2;
  vg_test_store_setup (g_str_equal (argv[1], "postgres") ? VG_TEST_POSTGRES : VG_TEST_SQLITE);
  g_autoptr (GError) error = NULL;
  VgTutorTestEnv env;
  VgRtServerOptions o = { .api_key = "test-key", .response_audio_ms = 200, .quiet = TRUE };
  vg_tutor_test_env_init (&env, &o, "You are a patient tutor.");
  VgStore *store = env.store;
  VgRtServer *server = env.server;
  VgApp *app = env.app;
  gint64 fractions = env.fractions;
  VgRecorder *recorder = vg_recorder_new (app);
  VgRoomsFixture f = { .rooms = vg_rooms_new (app), .kind = VG_PARTICIPANT_PUBLISHER };
  VgTutor *tutor = vg_tutor_new_with_store (store);
  VgTutorRooms *binding = vg_tutor_rooms_new (f.rooms, tutor, NULL);
  f.room = g_strdup ("bench-tools");
  VgRoomOptions ro = { .empty_timeout_s = -1, .subtopic_id = fractions };
  g_assert_nonnull (vg_rooms_create (f.rooms, f.room, &ro, &error));

  gboolean ok = TRUE;
  for (guint r = 0; r < rounds && ok; r++)
    {
      g_autofree char *learner = g_strdup_printf ("learner-%u", r);
      VgTestClientOptions co = { .data_channel = TRUE };
      VgTestClient *c = vg_rooms_fixture_client (&f, learner, &co);
      ok = vg_test_client_start (c, &error) && vg_test_client_wait_connected (c, 10000)
           && vg_test_client_wait_channel_open (c, 5000);
      g_autofree char *session
          = ok ? vg_test_client_wait_event (c, "session", NULL, NULL, 5000) : NULL;
      ok = ok && session;
      /* Each tool in turn, so each sees a store with the others' writes. */
      for (guint i = 0; i < per_round && ok; i++)
        for (guint t = 0; t < G_N_ELEMENTS (tool_names) - 1 && ok; t++)
          ok = call (&f, server, c, tool_names[t], r * per_round + i);
      ok = ok && call (&f, server, c, "end_session", r);
      /* The goodbye plays, then the learner leaves; the next one joins. */
      ok = ok && vg_test_wait_until (learner_gone, &f, 15000);
      vg_test_client_free (c);
    }

  GHashTable *trips = round_trips (server);
  GString *json = g_string_new ("{");
  g_string_append_printf (json, "\"backend\":\"%s\",\"ok\":%s,\"tools\":{",
                          vg_test_store_backend_name (), ok ? "true" : "false");
  for (guint t = 0; t < G_N_ELEMENTS (tool_names); t++)
    {
      GArray *ms = g_hash_table_lookup (trips, tool_names[t]);
      if (!ms || ms->len == 0)
        continue;
      g_array_sort (ms, compare_ms);
      g_string_append_printf (json,
                              "%s\"%s\":{\"n\":%u,\"p50_ms\":%.1f,\"p95_ms\":%.1f,"
                              "\"max_ms\":%.1f}",
                              t ? "," : "", tool_names[t], ms->len, percentile (ms, 0.5),
                              percentile (ms, 0.95), g_array_index (ms, double, ms->len - 1));
      g_printerr ("%s %-22s n=%3u p50 %6.1f ms  p95 %6.1f ms  max %6.1f ms\n",
                  vg_test_store_backend_name (), tool_names[t], ms->len, percentile (ms, 0.5),
                  percentile (ms, 0.95), g_array_index (ms, double, ms->len - 1));
    }
  g_string_append (json, "}}");
  printf ("%s\n", json->str);
  g_string_free (json, TRUE);
  g_hash_table_unref (trips);

  vg_tutor_rooms_free (binding);
  vg_rooms_free (f.rooms);
  g_free (f.room);
  vg_tutor_free (tutor);
  vg_recorder_free (recorder);
  vg_tutor_test_env_clear (&env);
  vg_test_store_teardown ();
  return ok ? 0 : 1;
}
