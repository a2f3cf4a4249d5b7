/* The conversation recorder's session analytics, from the events it gets in
 * a session, on a real store (SQLite or PostgreSQL, the first argument after
 * the GTest options): turns, talk time, barge-ins, tool calls, the response
 * latency's median and p95, and the learner's understanding of the subtopic
 * before and after. */
#include "store-fixture.h"
#include "gateway/core/app.h"
#include "gateway/core/events.h"
#include "gateway/subscribers/conversation-recorder.h"

#define SUBTOPIC 2 /* Percentages, seeded */

static VgApp *app;

static void
assess (int level)
{
  VgAssessment a = { "rita", NULL, SUBTOPIC, "percent of", level, NULL };

  g_assert_true (vg_store_assessment_add (app->store, &a, NULL));
  g_assert_true (vg_store_flush (app->store, 20 * G_USEC_PER_SEC));
  /* Stamps are in microseconds: what follows is strictly later. */
  g_usleep (2000);
}

static void
emit_agent (VgEventType type, const char *role, double audio_seconds, double latency_ms)
{
  VgEvent e = { .type = type,
                .room = "rec-room",
                .connect_seconds = -1,
                .role = role,
                .text = "words",
                .final = TRUE,
                .tool_name = "check_understanding",
                .tool_arguments = "{}",
                .tool_result = "{}",
                .response_latency_ms = latency_ms,
                .audio_seconds = audio_seconds };

  vg_events_emit (app->events, &e);
}

static void
test_session (void)
{
  VgRecorder *recorder = vg_recorder_new (app);
  VgEvent joined = { .type = VG_EVENT_PARTICIPANT_JOINED,
                     .room = "rec-room",
                     .identity = "rita",
                     .participant_is_publisher = TRUE,
                     .room_pipeline = "echo.pipeline",
                     .room_subtopic_id = SUBTOPIC,
                     .connect_seconds = 0.2 };
  VgEvent left = { .type = VG_EVENT_PARTICIPANT_LEFT, .room = "rec-room", .identity = "rita" };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) rows = NULL;
  JsonObject *o;

  assess (VG_LEVEL_DEVELOPING);
  vg_events_emit (app->events, &joined);
  emit_agent (VG_EVENT_AGENT_TRANSCRIPT, "user", 1.5, -1);
  emit_agent (VG_EVENT_AGENT_USAGE, NULL, -1, 300);
  emit_agent (VG_EVENT_AGENT_TRANSCRIPT, "assistant", 2.0, -1);
  emit_agent (VG_EVENT_AGENT_TOOL_CALL, NULL, -1, -1);
  emit_agent (VG_EVENT_AGENT_USAGE, NULL, -1, 100);
  emit_agent (VG_EVENT_AGENT_INTERRUPTED, NULL, -1, -1);
  emit_agent (VG_EVENT_AGENT_TRANSCRIPT, "user", 0.5, -1);
  emit_agent (VG_EVENT_AGENT_TOOL_CALL, NULL, -1, -1);
  emit_agent (VG_EVENT_AGENT_USAGE, NULL, -1, 200);
  emit_agent (VG_EVENT_AGENT_TRANSCRIPT, "assistant", 3.0, -1);
  assess (VG_LEVEL_MASTERED);
  vg_events_emit (app->events, &left);
  vg_recorder_free (recorder);
  g_assert_true (vg_store_flush (app->store, 20 * G_USEC_PER_SEC));

  rows = vg_store_query_sync (app->store, VG_STORE_Q_ANALYTICS_LIST,
                              (const char *const[]){ "rec-room", "rita", NULL, NULL, "10" }, 5,
                              NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (rows), ==, 1);
  o = json_array_get_object_element (rows, 0);
  g_assert_cmpint (json_object_get_int_member (o, "user_turns"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (o, "agent_turns"), ==, 2);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "audio_seconds_in"), 2.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "audio_seconds_out"), 5.0,
                                  1e-9);
  g_assert_cmpint (json_object_get_int_member (o, "interruptions"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (o, "tool_calls"), ==, 2);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "response_latency_p50_ms"), 200,
                                  1e-9);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "response_latency_p95_ms"), 300,
                                  1e-9);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "response_latency_mean_ms"),
                                  200, 1e-9);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "understanding_start"),
                                  VG_LEVEL_DEVELOPING, 1e-9);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (o, "understanding_end"),
                                  (VG_LEVEL_DEVELOPING + VG_LEVEL_MASTERED) / 2.0, 1e-9);
}

int
main (int argc, char **argv)
{
  g_autofree char *url = NULL, *dir = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  vg_test_store_setup (argc > 1 && g_str_equal (argv[1], "postgres") ? VG_TEST_POSTGRES
                                                                     : VG_TEST_SQLITE);
  app = vg_app_new (vg_config_new ());
  app->store = vg_test_store_open_new (app, &url, &dir);

  g_test_add_func ("/recorder/session-analytics", test_session);
  status = g_test_run ();

  vg_store_close (app->store);
  app->store = NULL;
  vg_app_free (app);
  vg_test_store_teardown ();
  return status;
}
