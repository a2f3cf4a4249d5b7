/* test-openairealtime-faults.c: openairealtime when the Realtime server
 * fails (issue 20, docs/REALTIME-PROTOCOL.md section 8): a close in the
 * middle of a response, 429 with Retry-After at the handshake,
 * rate_limit_exceeded mid-session, session_expired, and a stall without a
 * close. Each test checks how the element recovers (backoff, the replay
 * with tool calls, silence instead of the dead session's audio, the state
 * events, closed transcripts) and prints the time from the fault to audio
 * again ("# recovery ..." in the TAP log). */
#include "plugin-test-util.h"

#include <string.h>

/* An agent with short turns and a 1 s stall watchdog, once listening. */
static void
start_agent (VgRtFixture *f)
{
  f->agent = vg_test_agent_new ("openairealtime", f->server, "silence-duration-ms", 200,
                                "append-ms", 50, "stall-timeout-ms", 1000, NULL);
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-state", "state", "listening", 5000, TRUE));
}

/* Monotonic time of the last event the server sent on a connection. */
static gint64
last_server_event_us (VgRtServer *server, guint connection)
{
  g_autoptr (GPtrArray) log = vg_rt_server_get_log (server);
  gint64 t = 0;
  guint i;

  for (i = 0; i < log->len; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (log, i);

      if (!e->from_client && e->connection == connection)
        t = e->time_us;
    }
  return t;
}

typedef struct
{
  guint before_ms;       /* audio of the interrupted response that was heard */
  gint64 audio_again_us; /* first audio after the fault's silence, 0 if none */
  guint after_ms;        /* audio after that */
} Recovery;

/* Gap periods in a row that count as the fault's silence: single gaps
 * come from deltas that arrive just late at real-time delivery. */
#define SILENCE_PERIODS 5

/* Where the output is when pull_recovery starts. */
typedef enum
{
  BEFORE_ANSWER, /* the answer the fault interrupts has not started */
  IN_ANSWER,     /* it plays */
  NO_ANSWER,     /* none comes before the fault: silence, then audio */
} OutputAt;

/* Pulls the paced output: the audio of the answer the fault interrupts,
 * then a silence, then audio again until after_ms of it were pulled or
 * timeout_ms passed. */
static void
pull_recovery (GstHarness *h, OutputAt at, guint after_ms, guint timeout_ms, Recovery *r)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;
  /* 0: before the first audio, 1: in it, 2: in the silence, 3: audio again */
  guint phase = at == BEFORE_ANSWER ? 0 : at == IN_ANSWER ? 1 : 2, gaps = 0;

  memset (r, 0, sizeof *r);
  while (r->after_ms < after_ms && g_get_monotonic_time () < deadline)
    {
      GstBuffer *buf = gst_harness_try_pull (h);
      gboolean gap;
      guint ms;

      if (buf == NULL)
        {
          g_usleep (2000);
          continue;
        }
      gap = GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP);
      ms = GST_BUFFER_DURATION (buf) / GST_MSECOND;
      gst_buffer_unref (buf);
      gaps = gap ? gaps + 1 : 0;
      if (phase == 0 && !gap)
        phase = 1;
      else if (phase == 1 && gaps >= SILENCE_PERIODS)
        phase = 2;
      else if (phase == 2 && !gap)
        {
          phase = 3;
          r->audio_again_us = g_get_monotonic_time ();
        }
      if (!gap && phase == 1)
        r->before_ms += ms;
      else if (!gap && phase == 3)
        r->after_ms += ms;
    }
}

static void
report (const char *fault, gint64 fault_us, const Recovery *r)
{
  g_assert_cmpint (fault_us, >, 0);
  g_assert_cmpint (r->audio_again_us, >, fault_us);
  g_test_message ("recovery %s: %" G_GINT64_FORMAT " ms from the fault to audio again"
                  " (%u ms of the interrupted response heard)",
                  fault, (r->audio_again_us - fault_us) / 1000, r->before_ms);
}

/* The client items of a connection, in order: "message:ROLE:TEXT",
 * "function_call:CALL_ID:NAME:ARGS" or "function_call_output:CALL_ID:OUT". */
static GPtrArray *
items_sent (VgRtServer *server, guint connection)
{
  g_autoptr (GPtrArray) log = vg_rt_server_get_log (server);
  GPtrArray *items = g_ptr_array_new_with_free_func (g_free);
  guint i;

  for (i = 0; i < log->len; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (log, i);
      JsonObject *item;
      const char *type;

      if (!e->from_client || e->connection != connection
          || strcmp (e->type, "conversation.item.create") != 0)
        continue;
      item = json_object_get_object_member (e->event, "item");
      type = json_object_get_string_member (item, "type");
      if (strcmp (type, "message") == 0)
        {
          JsonObject *part
              = json_array_get_object_element (json_object_get_array_member (item, "content"), 0);

          g_ptr_array_add (items, g_strdup_printf ("message:%s:%s",
                                                   json_object_get_string_member (item, "role"),
                                                   json_object_get_string_member (part, "text")));
        }
      else if (strcmp (type, "function_call") == 0)
        g_ptr_array_add (items,
                         g_strdup_printf ("function_call:%s:%s:%s",
                                          json_object_get_string_member (item, "call_id"),
                                          json_object_get_string_member (item, "name"),
                                          json_object_get_string_member (item, "arguments")));
      else
        g_ptr_array_add (items, g_strdup_printf ("function_call_output:%s:%s",
                                                 json_object_get_string_member (item, "call_id"),
                                                 json_object_get_string_member (item, "output")));
    }
  return items;
}

static gboolean
has_prefix (gconstpointer item, gconstpointer prefix)
{
  return g_str_has_prefix (item, prefix);
}

static gboolean
has_item (GPtrArray *items, const char *text)
{
  return g_ptr_array_find_with_equal_func (items, text, g_str_equal, NULL);
}

/* The first final assistant transcript posted, or NULL. */
static const char *
first_final_assistant_text (VgTestAgent *agent)
{
  guint i;

  vg_test_agent_poll (agent);
  for (i = 0; i < agent->messages->len; i++)
    {
      const GstStructure *s = gst_message_get_structure (g_ptr_array_index (agent->messages, i));
      gboolean final = FALSE;

      if (s != NULL && gst_structure_has_name (s, "realtime-transcript")
          && g_strcmp0 (gst_structure_get_string (s, "role"), "assistant") == 0
          && gst_structure_get_boolean (s, "final", &final) && final)
        return gst_structure_get_string (s, "text");
    }
  return NULL;
}

/* The server closes the socket after half of a 3 s answer. The rest of
 * what was queued is dropped (silence, not a cut-off word trailing on),
 * the partial answer is closed in the transcripts and replayed, and the
 * new session is asked to answer again. */
static void
test_close_mid_response (VgRtFixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) items = NULL;
  g_autofree char *replayed = NULL;
  const char *partial;
  Recovery r;

  vg_rt_server_set_response_audio_ms (f->server, 3000);
  start_agent (f);
  vg_rt_server_script_close_mid_response (f->server);
  vg_test_drain_output (f->agent->h);
  vg_rt_fixture_push_turn (f);
  pull_recovery (f->agent->h, BEFORE_ANSWER, 1000, 8000, &r);
  report ("close mid-response", last_server_event_us (f->server, 1), &r);
  /* 1500 ms had arrived when the server closed, 20x faster than real
   * time: most of it was still queued and is not heard. */
  g_assert_cmpuint (r.before_ms, <, 1000);
  g_assert_cmpuint (r.after_ms, >=, 1000);
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-state", "state", "reconnecting", 100, TRUE));
  g_assert_cmpuint (vg_rt_server_get_sessions (f->server), ==, 2);
  /* The second session heard the partial answer, then was asked again. */
  partial = first_final_assistant_text (f->agent);
  g_assert_nonnull (partial);
  items = items_sent (f->server, 2);
  g_assert_cmpstr (partial, !=, "");
  replayed = g_strdup_printf ("message:assistant:%s", partial);
  g_assert_true (has_item (items, replayed));
  g_assert_true (vg_rt_logged (f->server, "response.create", 0, 100));
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
  g_assert_cmpuint (vg_test_agent_errors (f->agent), ==, 0);
}

/* 429 with Retry-After at the first handshake and at a reconnect: the
 * element waits what the server asked (longer than its own backoff). */
static void
test_handshake_retry_after (VgRtFixture *f, gconstpointer data)
{
  gint64 t0 = g_get_monotonic_time (), waited_ms;
  const GstStructure *s;

  vg_rt_server_refuse_handshakes_retry_after (f->server, 429, 1, 3);
  start_agent (f);
  waited_ms = (g_get_monotonic_time () - t0) / 1000;
  g_test_message ("429 Retry-After: 3 at the first handshake: listening after %" G_GINT64_FORMAT
                  " ms",
                  waited_ms);
  /* The backoff alone (3 extra steps) would be 1-2 s. */
  g_assert_cmpint (waited_ms, >=, 3000);
  g_assert_cmpuint (vg_rt_server_get_handshakes (f->server), ==, 2);
  s = vg_test_agent_wait (f->agent, "realtime-error", "code", "rate_limited", 100, TRUE);
  g_assert_nonnull (s);

  /* Mid-session: the connection drops and the next handshake is refused. */
  vg_rt_server_refuse_handshakes_retry_after (f->server, 429, 1, 2);
  t0 = g_get_monotonic_time ();
  vg_rt_server_drop_connections (f->server);
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-state", "state", "reconnecting", 3000, TRUE));
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-state", "state", "listening", 8000, FALSE));
  waited_ms = (g_get_monotonic_time () - t0) / 1000;
  g_test_message ("429 Retry-After: 2 at a reconnect: listening after %" G_GINT64_FORMAT " ms",
                  waited_ms);
  g_assert_cmpint (waited_ms, >=, 2000);
  g_assert_cmpuint (vg_rt_server_get_handshakes (f->server), ==, 4);
  vg_test_drain_output (f->agent->h);
  vg_rt_fixture_push_turn (f);
  g_assert_cmpuint (vg_test_pull_audio (f->agent->h, 1000, 5000, NULL, NULL), ==, 1000);
  g_assert_cmpuint (vg_test_agent_errors (f->agent), ==, 0);
}

/* rate_limit_exceeded instead of the answer, twice: the element asks
 * again after a backoff (at least the server's "try again in"), on the
 * same session, and the answer comes. */
static void
test_rate_limit_mid_session (VgRtFixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) first = NULL;
  g_autoptr (GPtrArray) log = NULL;
  gint64 refused_us[2] = { 0, 0 }, created_us[2] = { 0, 0 };
  guint i, refused = 0, created = 0;
  Recovery r;

  start_agent (f);
  vg_rt_server_script_rate_limit (f->server, 2, 400);
  vg_test_drain_output (f->agent->h);
  vg_rt_fixture_push_turn (f);
  pull_recovery (f->agent->h, NO_ANSWER, 1000, 8000, &r);
  g_assert_cmpuint (r.after_ms, ==, 1000);
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-error", "code", "rate_limit_exceeded", 100, TRUE));
  g_assert_cmpuint (vg_rt_server_get_sessions (f->server), ==, 1);
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 2);

  /* Each retry came after the server's 400 ms. */
  log = vg_rt_server_get_log (f->server);
  for (i = 0; i < log->len; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (log, i);

      if (!e->from_client && strcmp (e->type, "error") == 0 && refused < 2)
        refused_us[refused++] = e->time_us;
      if (e->from_client && strcmp (e->type, "response.create") == 0 && created < 2)
        created_us[created++] = e->time_us;
    }
  g_assert_cmpuint (refused, ==, 2);
  g_assert_cmpuint (created, ==, 2);
  g_assert_cmpint (created_us[0] - refused_us[0], >=, 400 * 1000);
  g_assert_cmpint (created_us[1] - refused_us[1], >=, 400 * 1000);
  report ("rate_limit_exceeded x2", refused_us[0], &r);
  g_assert_cmpuint (vg_test_agent_errors (f->agent), ==, 0);
}

/* session_expired in the middle of an answer: reconnect at once, silence,
 * replay, the answer again. */
static void
test_session_expired_mid_response (VgRtFixture *f, gconstpointer data)
{
  /* Deltas at real time: the answer is still coming when the session ends. */
  VgRtServerOptions opt = { .seed = 42, .burst_interval_ms = 100 };
  g_autoptr (JsonObject) added = NULL;
  gint64 fault_us;
  Recovery r;

  vg_rt_server_free (f->server);
  vg_rt_fixture_server (f, &opt);
  vg_rt_server_set_response_audio_ms (f->server, 3000);
  start_agent (f);
  vg_test_drain_output (f->agent->h);
  vg_rt_fixture_push_turn (f);
  added = vg_rt_server_wait (f->server, "response.output_item.added", 0, 5000);
  g_assert_nonnull (added);
  g_assert_cmpuint (vg_test_pull_audio (f->agent->h, 200, 3000, NULL, NULL), ==, 200);
  fault_us = g_get_monotonic_time ();
  vg_rt_server_inject (f->server, "{\"type\":\"error\",\"event_id\":\"event_x\",\"error\":{"
                                  "\"type\":\"invalid_request_error\",\"code\":\"session_expired\","
                                  "\"message\":\"Your session hit the maximum duration of 60 "
                                  "minutes.\",\"param\":null,\"event_id\":null}}");
  pull_recovery (f->agent->h, IN_ANSWER, 1000, 8000, &r);
  report ("session_expired mid-response", fault_us, &r);
  g_assert_cmpuint (r.before_ms + 200, <, 3000);
  g_assert_cmpuint (r.after_ms, >=, 1000);
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-error", "code", "session_expired", 100, TRUE));
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-state", "state", "reconnecting", 100, TRUE));
  g_assert_cmpuint (vg_rt_server_get_sessions (f->server), ==, 2);
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
  g_assert_cmpuint (vg_test_agent_errors (f->agent), ==, 0);
}

/* The server stops in the middle of an answer without closing (pings
 * still answered): the watchdog gives up after stall-timeout-ms,
 * reconnects and the answer comes again. */
static void
test_stall (VgRtFixture *f, gconstpointer data)
{
  Recovery r;
  gint64 fault_us;
  const GstStructure *s;

  vg_rt_server_set_response_audio_ms (f->server, 3000);
  start_agent (f);
  vg_rt_server_script_stall_mid_response (f->server);
  vg_test_drain_output (f->agent->h);
  vg_rt_fixture_push_turn (f);
  pull_recovery (f->agent->h, BEFORE_ANSWER, 1000, 10000, &r);
  fault_us = last_server_event_us (f->server, 1);
  report ("stall mid-response (stall-timeout-ms 1000)", fault_us, &r);
  s = vg_test_agent_wait (f->agent, "realtime-error", "code", "server_stalled", 100, TRUE);
  g_assert_nonnull (s);
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-state", "state", "reconnecting", 100, TRUE));
  /* Not before the timeout: the silence lasted at least that long. */
  g_assert_cmpint (r.audio_again_us - fault_us, >=, 1000 * 1000);
  /* What had arrived (1500 ms) played until the watchdog cut it. */
  g_assert_cmpuint (r.before_ms, <=, 1500);
  g_assert_cmpuint (r.after_ms, >=, 1000);
  g_assert_cmpuint (vg_rt_server_get_sessions (f->server), ==, 2);
  g_assert_cmpuint (vg_test_agent_errors (f->agent), ==, 0);
}

/* A connection lost after response.done: the answer had fully arrived,
 * it keeps playing to the end, and no answer is asked for again. */
static void
test_drop_after_complete_response (VgRtFixture *f, gconstpointer data)
{
  vg_rt_server_set_response_audio_ms (f->server, 3000);
  start_agent (f);
  vg_test_drain_output (f->agent->h);
  vg_rt_fixture_push_turn (f);
  g_assert_true (vg_rt_logged (f->server, "response.done", 0, 5000));
  g_assert_cmpuint (vg_test_pull_audio (f->agent->h, 200, 3000, NULL, NULL), ==, 200);
  vg_rt_server_drop_connections (f->server);
  g_assert_cmpuint (vg_test_pull_audio (f->agent->h, 2800, 5000, NULL, NULL), ==, 2800);
  g_assert_true (vg_rt_logged (f->server, "session.updated", 1, 3000));
  g_assert_cmpuint (vg_rt_server_count (f->server, "response.create"), ==, 0);
  g_assert_cmpuint (vg_test_agent_errors (f->agent), ==, 0);
}

/* session.created's expires_at: the element renews the session at a quiet
 * moment before it expires (a quarter of its lifetime ahead), with the
 * replay, so session_expired never comes and nothing is cut. */
static void
test_renew_before_expiry (VgRtFixture *f, gconstpointer data)
{
  VgRtServerOptions opt = { .seed = 42, .session_expiry_ms = 4000 };
  g_autoptr (JsonObject) created = NULL;
  g_autoptr (GPtrArray) items = NULL;
  gint64 lifetime_ms;

  vg_rt_server_free (f->server);
  vg_rt_fixture_server (f, &opt);
  start_agent (f);
  created = vg_rt_server_wait (f->server, "session.created", 0, 100);
  g_assert_nonnull (created);
  lifetime_ms = json_object_get_int_member (json_object_get_object_member (created, "session"),
                                            "expires_at")
                    * 1000
                - g_get_real_time () / 1000;
  vg_test_drain_output (f->agent->h);
  vg_rt_fixture_push_turn (f);
  g_assert_cmpuint (vg_test_pull_audio (f->agent->h, 1000, 5000, NULL, NULL), ==, 1000);
  /* The second session comes before the first would have expired. */
  g_assert_true (vg_rt_logged (f->server, "session.created", 1, (guint)MAX (lifetime_ms, 0) + 500));
  g_assert_true (vg_rt_logged (f->server, "session.updated", 1, 2000));
  g_test_message (
      "renewed with %" G_GINT64_FORMAT " ms of the first session left",
      json_object_get_int_member (json_object_get_object_member (created, "session"), "expires_at")
              * 1000
          - g_get_real_time () / 1000);
  g_assert_null (
      vg_test_agent_wait (f->agent, "realtime-error", "code", "session_expired", 10, TRUE));
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
  /* With the conversation so far. */
  g_assert_true (vg_rt_logged (f->server, "conversation.item.create", 1, 2000));
  items = items_sent (f->server, 2);
  g_assert_true (g_ptr_array_find_with_equal_func (items, "message:assistant:", has_prefix, NULL));
  g_assert_cmpuint (vg_rt_server_count (f->server, "response.create"), ==, 0);
  g_assert_cmpuint (vg_test_agent_errors (f->agent), ==, 0);
}

/* Silence while nothing is owed is no stall: no reconnect. */
static void
test_idle_is_no_stall (VgRtFixture *f, gconstpointer data)
{
  start_agent (f);
  vg_test_drain_output (f->agent->h);
  vg_rt_fixture_push_turn (f);
  g_assert_cmpuint (vg_test_pull_audio (f->agent->h, 1000, 5000, NULL, NULL), ==, 1000);
  /* Three stall timeouts of quiet after the answer. */
  g_usleep (3 * G_USEC_PER_SEC);
  vg_test_agent_poll (f->agent);
  g_assert_null (
      vg_test_agent_wait (f->agent, "realtime-error", "code", "server_stalled", 10, TRUE));
  g_assert_cmpuint (vg_rt_server_get_sessions (f->server), ==, 1);
}

static void
on_function_call (GstElement *element, const char *call_id, const char *name, const char *arguments,
                  gpointer data)
{
  g_signal_emit_by_name (element, "send-function-result", call_id, "{\"temp_c\":21}");
}

/* A tool call and its output are replayed to the next session as items,
 * in order, and the strict fake server accepts them. */
static void
test_replay_tool_calls (VgRtFixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) first = NULL;
  g_autoptr (GPtrArray) second = NULL;
  g_autofree char *call = NULL;
  g_autofree char *output = NULL;
  const GstStructure *s;
  guint call_at = 0, output_at = 0, user_at = 0;

  vg_rt_server_script_function_call (f->server, "get_weather", "{\"city\":\"Paris\"}");
  start_agent (f);
  g_signal_connect (f->agent->h->element, "function-call", G_CALLBACK (on_function_call), NULL);
  vg_rt_fixture_push_turn (f);
  s = vg_test_agent_wait (f->agent, "realtime-function-call", NULL, NULL, 5000, TRUE);
  g_assert_nonnull (s);
  call = g_strdup_printf ("function_call:%s:get_weather:{\"city\":\"Paris\"}",
                          gst_structure_get_string (s, "call-id"));
  output = g_strdup_printf ("function_call_output:%s:{\"temp_c\":21}",
                            gst_structure_get_string (s, "call-id"));
  g_assert_cmpuint (vg_test_pull_audio (f->agent->h, 1000, 5000, NULL, NULL), ==, 1000);
  g_assert_true (vg_rt_logged (f->server, "response.done", 1, 3000));

  vg_rt_server_drop_connections (f->server);
  g_assert_true (vg_rt_logged (f->server, "session.update", 1, 5000));
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-state", "state", "listening", 5000, FALSE));
  /* The first session got the output; the second, three replayed items
   * (user, call, output) and the assistant's answer: wait for them all. */
  g_assert_true (vg_rt_logged (f->server, "conversation.item.create", 4, 3000));
  second = items_sent (f->server, 2);
  for (guint i = 0; i < second->len; i++)
    g_test_message ("replayed: %s", (const char *)g_ptr_array_index (second, i));
  g_assert_true (g_ptr_array_find_with_equal_func (second, call, g_str_equal, &call_at));
  g_assert_true (g_ptr_array_find_with_equal_func (second, output, g_str_equal, &output_at));
  g_assert_cmpuint (call_at, <, output_at);
  /* In the conversation's order: the user's turn (whenever its transcript
   * came) before the call it caused. */
  g_assert_true (g_ptr_array_find_with_equal_func (second, "message:user:", has_prefix, &user_at));
  g_assert_cmpuint (user_at, <, call_at);
  /* The output was sent once on the first connection, not again there. */
  first = items_sent (f->server, 1);
  g_assert_true (has_item (first, output));
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
  /* A nothing-owed drop asks for no answer. */
  g_assert_cmpuint (vg_rt_server_count (f->server, "response.create"), ==, 1);
  g_assert_cmpuint (vg_test_agent_errors (f->agent), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_debug_enabled (FALSE);
  gst_init (&argc, &argv);
#define ADD(path, fn)                                                                              \
  g_test_add (path, VgRtFixture, NULL, vg_rt_fixture_setup, fn, vg_rt_fixture_teardown)
  ADD ("/openairealtime-faults/close-mid-response", test_close_mid_response);
  ADD ("/openairealtime-faults/handshake-429-retry-after", test_handshake_retry_after);
  ADD ("/openairealtime-faults/rate-limit-mid-session", test_rate_limit_mid_session);
  ADD ("/openairealtime-faults/session-expired-mid-response", test_session_expired_mid_response);
  ADD ("/openairealtime-faults/stall", test_stall);
  ADD ("/openairealtime-faults/drop-after-complete-response", test_drop_after_complete_response);
  ADD ("/openairealtime-faults/idle-is-no-stall", test_idle_is_no_stall);
  ADD ("/openairealtime-faults/renew-before-expiry", test_renew_before_expiry);
  ADD ("/openairealtime-faults/replay-tool-calls", test_replay_tool_calls);
  return g_test_run ();
}
