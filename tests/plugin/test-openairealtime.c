/* test-openairealtime.c: openairealtime against the in-process fake
 * Realtime server: session config, appends, a full paced turn, barge-in,
 * function calls, reconnects, expiry, bad frames, 401/429, bus messages. */
#include "plugin-test-util.h"

#include <string.h>

/* Starts an agent with short turns and waits until its session is set up. */
static void
start_agent (VgRtFixture *f, const char *first_property, ...)
{
  va_list args;

  f->agent = vg_test_agent_new ("openairealtime", f->server, "silence-duration-ms", 200,
                                "append-ms", 50, NULL);
  (void)first_property;
  (void)args;
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-state", "state", "listening", 5000, TRUE));
}

static void
test_session_config (VgRtFixture *f, gconstpointer data)
{
  const char *tools = "[{\"type\":\"function\",\"name\":\"get_time\",\"description\":\"Time\","
                      "\"parameters\":{\"type\":\"object\",\"properties\":{}}}]";
  g_autoptr (JsonObject) update = NULL;
  JsonObject *session, *input, *td, *output;

  f->agent = vg_test_agent_new ("openairealtime", f->server, "voice", "cedar", "instructions",
                                "Be brief.", "vad-threshold", 0.7, "silence-duration-ms", 350,
                                "prefix-padding-ms", 250, "tools", tools, NULL);
  update = vg_rt_server_wait (f->server, "session.update", 0, 5000);
  g_assert_nonnull (update);
  session = json_object_get_object_member (update, "session");
  g_assert_cmpstr (json_object_get_string_member (session, "type"), ==, "realtime");
  g_assert_cmpstr (json_object_get_string_member (session, "instructions"), ==, "Be brief.");
  g_assert_false (json_object_has_member (session, "voice"));
  g_assert_false (json_object_has_member (session, "temperature"));
  input = json_object_get_object_member (json_object_get_object_member (session, "audio"), "input");
  output
      = json_object_get_object_member (json_object_get_object_member (session, "audio"), "output");
  g_assert_cmpint (
      json_object_get_int_member (json_object_get_object_member (input, "format"), "rate"), ==,
      24000);
  g_assert_cmpstr (
      json_object_get_string_member (json_object_get_object_member (input, "format"), "type"), ==,
      "audio/pcm");
  td = json_object_get_object_member (input, "turn_detection");
  g_assert_cmpstr (json_object_get_string_member (td, "type"), ==, "server_vad");
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (td, "threshold"), 0.7, 1e-9);
  g_assert_cmpint (json_object_get_int_member (td, "silence_duration_ms"), ==, 350);
  g_assert_cmpint (json_object_get_int_member (td, "prefix_padding_ms"), ==, 250);
  g_assert_true (json_object_get_boolean_member (td, "interrupt_response"));
  g_assert_cmpstr (json_object_get_string_member (output, "voice"), ==, "cedar");
  g_assert_cmpstr (
      json_object_get_string_member (
          json_array_get_object_element (json_object_get_array_member (session, "tools"), 0),
          "name"),
      ==, "get_time");
  /* The server accepted it as is. */
  g_assert_true (vg_rt_logged (f->server, "session.updated", 0, 2000));
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-state", "state", "listening", 2000, TRUE));
}

static void
test_append_rate (VgRtFixture *f, gconstpointer data)
{
  GPtrArray *log;
  guint i, appends = 0;
  gint64 deadline;

  start_agent (f, NULL);
  /* 1 s of quiet audio in 20 ms buffers: 48 000 bytes in 50 ms appends. */
  vg_test_push_silence (f->agent->h, 1000);
  deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  while (vg_rt_server_get_appended_bytes (f->server) < 48000 && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  g_assert_cmpuint (vg_rt_server_get_appended_bytes (f->server), ==, 48000);
  log = vg_rt_server_get_log (f->server);
  for (i = 0; i < log->len; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (log, i);

      if (e->from_client && strcmp (e->type, "input_audio_buffer.append") == 0)
        {
          appends++;
          g_assert_cmpint (json_object_get_int_member (e->event, "audio_bytes"), ==, 2400);
        }
    }
  g_ptr_array_unref (log);
  g_assert_cmpuint (appends, ==, 20);
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
}

static void
test_full_turn (VgRtFixture *f, gconstpointer data)
{
  gint64 first = 0, last = 0;
  guint got;
  GstBuffer *buf;
  GstClockTime prev = GST_CLOCK_TIME_NONE;
  guint i;

  start_agent (f, NULL);
  vg_test_drain_output (f->agent->h);
  vg_rt_fixture_push_turn (f);
  got = vg_test_pull_audio (f->agent->h, 1000, 5000, &first, &last);
  /* Exactly what the server sent (1000 ms), paced: 50 periods of 20 ms
   * take at least 49 periods of wall time. */
  g_assert_cmpuint (got, ==, 1000);
  g_assert_cmpint (last - first, >=, 980000 - 30000);
  /* Afterwards only silence, and timestamps stay contiguous. */
  for (i = 0; i < 10; i++)
    {
      buf = gst_harness_pull (f->agent->h);
      g_assert_true (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP));
      if (GST_CLOCK_TIME_IS_VALID (prev))
        g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, prev + 20 * GST_MSECOND);
      prev = GST_BUFFER_PTS (buf);
      gst_buffer_unref (buf);
    }
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
  g_assert_cmpuint (vg_test_agent_errors (f->agent), ==, 0);
}

static void
test_bus_messages (VgRtFixture *f, gconstpointer data)
{
  const GstStructure *s;
  const char *const states[]
      = { "connecting", "listening", "thinking", "speaking", "listening", NULL };
  guint i;
  gint received_ms = -2, played_ms = -2, total = 0;

  start_agent (f, NULL);
  vg_rt_fixture_push_turn (f);
  vg_test_pull_audio (f->agent->h, 1000, 5000, NULL, NULL);
  s = vg_test_agent_wait (f->agent, "realtime-usage", NULL, NULL, 3000, TRUE);
  g_assert_nonnull (s);
  g_assert_true (gst_structure_get_int (s, "total-tokens", &total));
  g_assert_cmpint (total, >, 0);
  g_assert_true (gst_structure_get_int (s, "latency-first-audio-received-ms", &received_ms));
  g_assert_true (gst_structure_get_int (s, "latency-first-audio-played-ms", &played_ms));
  g_assert_cmpint (received_ms, >=, 0);
  g_assert_cmpint (played_ms, >=, received_ms);
  g_assert_cmpstr (gst_structure_get_string (s, "status"), ==, "completed");

  s = vg_test_agent_wait (f->agent, "realtime-transcript", "role", "user", 3000, TRUE);
  g_assert_nonnull (s);
  /* The final "listening" comes from the element's own thread once the
   * paced output has drained: after the last period was pulled, not
   * before it (a loaded or sanitized run showed the gap). */
  g_assert_true (vg_test_agent_wait_states (f->agent, states, 3000));
  /* user transcript: final one carries the whole text */
  for (i = 0; i < f->agent->messages->len; i++)
    {
      const GstStructure *m = gst_message_get_structure (g_ptr_array_index (f->agent->messages, i));
      gboolean final = FALSE;

      if (m && gst_structure_has_name (m, "realtime-transcript"))
        {
          g_assert_true (gst_structure_get_boolean (m, "final", &final));
          g_assert_nonnull (gst_structure_get_string (m, "item-id"));
          if (final && strcmp (gst_structure_get_string (m, "role"), "user") == 0)
            g_assert_true (g_str_has_prefix (gst_structure_get_string (m, "text"), "user turn"));
        }
    }
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-transcript", "role", "assistant", 100, TRUE));
}

static void
barge_in (VgRtFixture *f, gboolean interrupt_response, gboolean flush_downstream)
{
  g_autoptr (JsonObject) truncate = NULL;
  JsonNode *end;
  GstEvent *ev;
  gboolean flushed = FALSE;
  guint pulled;

  vg_rt_server_set_response_audio_ms (f->server, 3000);
  f->agent = vg_test_agent_new ("openairealtime", f->server, "silence-duration-ms", 200,
                                "append-ms", 50, "interrupt-response", interrupt_response,
                                "flush-downstream", flush_downstream, NULL);
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-state", "state", "listening", 5000, TRUE));
  vg_test_drain_output (f->agent->h);
  vg_rt_fixture_push_turn (f);
  pulled = vg_test_pull_audio (f->agent->h, 500, 5000, NULL, NULL);
  g_assert_cmpuint (pulled, ==, 500);
  /* The user talks over the agent. */
  vg_test_push_tone (f->agent->h, 200);

  truncate = vg_rt_server_wait (f->server, "conversation.item.truncate", 0, 3000);
  g_assert_nonnull (truncate);
  end = json_object_get_member (truncate, "audio_end_ms");
  g_assert_cmpint (json_node_get_value_type (end), ==, G_TYPE_INT64);
  /* At least what we pulled, at most what could have been played by now
   * and certainly less than the 3 s the server sent. */
  g_assert_cmpint (json_node_get_int (end), >=, 500);
  g_assert_cmpint (json_node_get_int (end), <, 1500);
  g_assert_cmpint (json_object_get_int_member (truncate, "content_index"), ==, 0);
  g_assert_true (vg_rt_logged (f->server, "conversation.item.truncated", 0, 2000));

  /* The queued audio is gone: only silence follows... */
  g_usleep (60000);
  vg_test_drain_output (f->agent->h);
  g_assert_cmpuint (vg_test_pull_audio (f->agent->h, 20, 300, NULL, NULL), ==, 0);
  /* ...and downstream was flushed only when asked to (flush-downstream):
   * a flush resets muxers such as wavenc (test-recording.c). */
  while ((ev = gst_harness_try_pull_event (f->agent->h)) != NULL)
    {
      if (GST_EVENT_TYPE (ev) == GST_EVENT_FLUSH_START)
        flushed = TRUE;
      gst_event_unref (ev);
    }
  g_assert_cmpint (flushed, ==, flush_downstream);

  /* response.cancel only when the server does not interrupt by itself. */
  g_assert_cmpuint (vg_rt_server_count (f->server, "response.cancel"), ==,
                    (interrupt_response ? 0 : 1));
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
}

static void
test_barge_in (VgRtFixture *f, gconstpointer data)
{
  barge_in (f, TRUE, FALSE);
}

static void
test_barge_in_flush_downstream (VgRtFixture *f, gconstpointer data)
{
  barge_in (f, TRUE, TRUE);
}

static void
test_barge_in_cancel (VgRtFixture *f, gconstpointer data)
{
  /* Generation only a bit faster than real time, so that the response is
   * still active when the user barges in; our response.cancel takes effect
   * 200 ms later, as over a network: the deltas sent meanwhile must not be
   * heard. */
  VgRtServerOptions opt = { .seed = 3, .burst_interval_ms = 60, .cancel_delay_ms = 200 };

  vg_rt_server_free (f->server);
  vg_rt_fixture_server (f, &opt);
  barge_in (f, FALSE, FALSE);
}

/* Barge-in before any of the reply was played: the item is deleted, not
 * truncated. A test clock that never advances keeps the output from playing
 * while the reply is received. */
static void
test_barge_in_nothing_played (VgRtFixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) added = NULL, del = NULL;

  start_agent (f, NULL);
  gst_harness_use_testclock (f->agent->h);
  vg_rt_fixture_push_turn (f);
  g_assert_true (vg_rt_logged (f->server, "response.done", 0, 5000));
  added = vg_rt_server_wait (f->server, "response.output_item.added", 0, 100);
  g_assert_nonnull (added);
  vg_test_push_tone (f->agent->h, 200);
  del = vg_rt_server_wait (f->server, "conversation.item.delete", 0, 3000);
  g_assert_nonnull (del);
  g_assert_cmpstr (
      json_object_get_string_member (del, "item_id"), ==,
      json_object_get_string_member (json_object_get_object_member (added, "item"), "id"));
  g_assert_true (vg_rt_logged (f->server, "conversation.item.deleted", 0, 2000));
  g_assert_cmpuint (vg_rt_server_count (f->server, "conversation.item.truncate"), ==, 0);
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
}

static void
on_function_call (GstElement *element, const char *call_id, const char *name, const char *arguments,
                  gpointer data)
{
  guint *calls = data;

  (*calls)++;
  g_assert_cmpstr (name, ==, "get_weather");
  g_assert_cmpstr (arguments, ==, "{\"city\":\"Paris\"}");
  g_signal_emit_by_name (element, "send-function-result", call_id, "{\"temp_c\":21}");
}

static void
test_function_call (VgRtFixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) log = NULL;
  const GstStructure *s;
  guint calls = 0, i;
  gint done_at = -1, output_at = -1, create_at = -1;
  g_autofree char *call_id = NULL;

  vg_rt_server_script_function_call (f->server, "get_weather", "{\"city\":\"Paris\"}");
  start_agent (f, NULL);
  g_signal_connect (f->agent->h->element, "function-call", G_CALLBACK (on_function_call), &calls);
  vg_rt_fixture_push_turn (f);
  s = vg_test_agent_wait (f->agent, "realtime-function-call", NULL, NULL, 5000, TRUE);
  g_assert_nonnull (s);
  g_assert_cmpstr (gst_structure_get_string (s, "name"), ==, "get_weather");
  call_id = g_strdup (gst_structure_get_string (s, "call-id"));
  /* The model answers after the result: a spoken response follows. */
  g_assert_true (vg_rt_logged (f->server, "response.created", 1, 5000));
  g_assert_cmpuint (vg_test_pull_audio (f->agent->h, 200, 5000, NULL, NULL), ==, 200);
  g_assert_cmpuint (calls, ==, 1);

  log = vg_rt_server_get_log (f->server);
  for (i = 0; i < log->len; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (log, i);

      if (!e->from_client && strcmp (e->type, "response.done") == 0 && done_at < 0)
        done_at = i;
      if (e->from_client && strcmp (e->type, "conversation.item.create") == 0)
        {
          JsonObject *item = json_object_get_object_member (e->event, "item");

          g_assert_cmpstr (json_object_get_string_member (item, "type"), ==,
                           "function_call_output");
          g_assert_cmpstr (json_object_get_string_member (item, "call_id"), ==, call_id);
          g_assert_cmpstr (json_object_get_string_member (item, "output"), ==, "{\"temp_c\":21}");
          output_at = i;
        }
      if (e->from_client && strcmp (e->type, "response.create") == 0)
        create_at = i;
    }
  g_assert_cmpint (output_at, >=, 0);
  g_assert_cmpint (done_at, >=, 0);
  g_assert_cmpint (create_at, >, done_at);
  g_assert_cmpint (create_at, >, output_at);
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
}

/* After a completed turn, the history replayed on a new session. */
static void
assert_replayed (VgRtFixture *f, guint session)
{
  g_autoptr (GPtrArray) log = vg_rt_server_get_log (f->server);
  gboolean user = FALSE, assistant = FALSE;
  guint i;

  for (i = 0; i < log->len; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (log, i);
      JsonObject *item, *part;

      if (!e->from_client || e->connection != session
          || strcmp (e->type, "conversation.item.create") != 0)
        continue;
      item = json_object_get_object_member (e->event, "item");
      part = json_array_get_object_element (json_object_get_array_member (item, "content"), 0);
      if (strcmp (json_object_get_string_member (item, "role"), "user") == 0)
        {
          g_assert_cmpstr (json_object_get_string_member (part, "type"), ==, "input_text");
          user = TRUE;
        }
      else
        {
          g_assert_cmpstr (json_object_get_string_member (part, "type"), ==, "output_text");
          assistant = TRUE;
        }
    }
  g_assert_true (user);
  g_assert_true (assistant);
}

static void
test_reconnect (VgRtFixture *f, gconstpointer data)
{
  start_agent (f, NULL);
  vg_rt_fixture_push_turn (f);
  g_assert_cmpuint (vg_test_pull_audio (f->agent->h, 1000, 5000, NULL, NULL), ==, 1000);
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-transcript", "role", "user", 3000, TRUE));
  vg_rt_server_drop_connections (f->server);
  g_assert_true (vg_rt_logged (f->server, "session.update", 1, 5000));
  g_assert_cmpuint (vg_rt_server_get_sessions (f->server), ==, 2);
  g_assert_true (vg_rt_logged (f->server, "conversation.item.create", 1, 2000));
  assert_replayed (f, 2);
  /* and it still talks */
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-state", "state", "listening", 3000, FALSE));
  vg_test_drain_output (f->agent->h);
  vg_rt_fixture_push_turn (f);
  g_assert_cmpuint (vg_test_pull_audio (f->agent->h, 1000, 5000, NULL, NULL), ==, 1000);
  g_assert_cmpuint (vg_test_agent_errors (f->agent), ==, 0);
}

static void
test_session_expiry (VgRtFixture *f, gconstpointer data)
{
  VgRtServerOptions opt = { .seed = 7, .session_expiry_ms = 700 };
  const GstStructure *s;

  vg_rt_server_free (f->server);
  vg_rt_fixture_server (f, &opt);
  start_agent (f, NULL);
  s = vg_test_agent_wait (f->agent, "realtime-error", "code", "session_expired", 3000, TRUE);
  g_assert_nonnull (s);
  g_assert_true (vg_rt_logged (f->server, "session.update", 1, 3000));
  g_assert_cmpuint (vg_rt_server_get_sessions (f->server), >=, 2);
  g_assert_cmpuint (vg_test_agent_errors (f->agent), ==, 0);
}

static void
test_bad_frames (VgRtFixture *f, gconstpointer data)
{
  g_autofree char *huge = NULL;
  guint64 bad = 0;
  guint got;
  gsize huge_len = 17 * 1024 * 1024;

  start_agent (f, NULL);
  vg_rt_server_inject (f->server, "this is not json");
  vg_rt_server_inject (f->server, "[1,2,3]");
  vg_rt_server_inject (f->server, "{\"no_type\":true}");
  vg_rt_server_inject (f->server, "{\"type\":\"response.brand_new_event\",\"x\":1}");
  vg_rt_server_inject (f->server, "{\"type\":\"response.output_audio.delta\",\"item_id\":"
                                  "\"item_nobody_knows\",\"delta\":\"AAAA\"}");
  vg_rt_server_inject (f->server, "{\"type\":\"conversation.item.truncated\",\"item_id\":7}");
  vg_rt_server_inject (f->server, "{\"type\":\"error\",\"error\":42}");
  /* A frame above the element's limit: libsoup closes, the element comes back. */
  huge = g_malloc (huge_len + 1);
  memset (huge, 'x', huge_len);
  memcpy (huge, "{\"type\":\"x\",\"pad\":\"", 19);
  memcpy (huge + huge_len - 2, "\"}", 2);
  huge[huge_len] = '\0';
  vg_rt_server_inject (f->server, huge);
  g_assert_true (vg_rt_logged (f->server, "session.update", 1, 5000));
  g_object_get (f->agent->h->element, "bad-frames", &bad, NULL);
  g_assert_cmpuint (bad, >=, 4);
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-state", "state", "listening", 3000, TRUE));

  /* Bad base64 in a delta of a real response is dropped... */
  vg_rt_server_script_close_mid_response (f->server);
  vg_test_drain_output (f->agent->h);
  vg_rt_fixture_push_turn (f);
  /* ...and a close in the middle of a response: the half that had
   * arrived is dropped from the playout (not all heard), the element
   * reconnects and the new session answers again (1000 ms). */
  g_assert_true (vg_rt_logged (f->server, "session.update", 2, 5000));
  got = vg_test_pull_audio (f->agent->h, 2000, 3000, NULL, NULL);
  g_assert_cmpuint (got, >=, 1000);
  g_assert_cmpuint (got, <, 1500);
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-state", "state", "listening", 3000, FALSE));
  vg_test_drain_output (f->agent->h);
  vg_rt_fixture_push_turn (f);
  g_assert_cmpuint (vg_test_pull_audio (f->agent->h, 1000, 5000, NULL, NULL), ==, 1000);
  g_assert_cmpuint (vg_test_agent_errors (f->agent), ==, 0);
}

static void
test_bad_base64 (VgRtFixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) added = NULL;
  g_autofree char *frame = NULL;
  guint64 bad = 0;

  vg_rt_server_set_response_audio_ms (f->server, 3000);
  start_agent (f, NULL);
  vg_rt_fixture_push_turn (f);
  added = vg_rt_server_wait (f->server, "response.output_item.added", 0, 5000);
  g_assert_nonnull (added);
  frame = g_strdup_printf (
      "{\"type\":\"response.output_audio.delta\",\"item_id\":\"%s\","
      "\"delta\":\"@@not*base64!\"}",
      json_object_get_string_member (json_object_get_object_member (added, "item"), "id"));
  vg_rt_server_inject (f->server, frame);
  vg_rt_server_inject (f->server, "{\"type\":\"response.output_audio.delta\",\"item_id\":1}");
  g_assert_cmpuint (vg_test_pull_audio (f->agent->h, 3000, 6000, NULL, NULL), ==, 3000);
  g_object_get (f->agent->h->element, "bad-frames", &bad, NULL);
  g_assert_cmpuint (bad, ==, 2);
  g_assert_cmpuint (vg_test_agent_errors (f->agent), ==, 0);
}

static void
test_unauthorized (VgRtFixture *f, gconstpointer data)
{
  VgRtServerOptions opt = { .api_key = "sk-right" };
  const GstStructure *s;
  guint i;

  vg_rt_server_free (f->server);
  vg_rt_fixture_server (f, &opt);
  f->agent = vg_test_agent_new ("openairealtime", f->server, NULL);
  s = vg_test_agent_wait (f->agent, "realtime-error", NULL, NULL, 5000, TRUE);
  g_assert_nonnull (s);
  g_assert_cmpstr (gst_structure_get_string (s, "code"), ==, "invalid_api_key");
  /* The element error follows the realtime-error message. */
  for (i = 0; i < 100 && vg_test_agent_errors (f->agent) == 0; i++)
    g_usleep (10000);
  g_assert_cmpuint (vg_test_agent_errors (f->agent), ==, 1);
  g_assert_nonnull (vg_test_agent_wait (f->agent, "realtime-state", "state", "error", 100, TRUE));
  /* no retry */
  g_usleep (800 * 1000);
  g_assert_cmpuint (vg_rt_server_get_handshakes (f->server), ==, 1);
  g_assert_cmpuint (vg_rt_server_get_sessions (f->server), ==, 0);
}

static void
test_rate_limited (VgRtFixture *f, gconstpointer data)
{
  vg_rt_server_refuse_handshakes (f->server, 429, 1);
  f->agent = vg_test_agent_new ("openairealtime", f->server, NULL);
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-state", "state", "listening", 8000, TRUE));
  g_assert_cmpuint (vg_rt_server_get_handshakes (f->server), ==, 2);
  g_assert_cmpuint (vg_test_agent_errors (f->agent), ==, 0);
}

/* ---- calling back into the element (no lock is held across a bus post or
 * a signal emission: the I/O thread would hold it while we wait) ---- */

typedef struct
{
  GstElement *element;
  const char *call_id; /* NULL: not from function-call */
} Touch;

/* Another thread: reads properties (each getter takes the lock the I/O
 * thread would hold), then emits an action. */
static void
touch_element (gpointer data, gpointer unused)
{
  Touch *t = data;
  guint64 bad_frames, dropped;
  gboolean flush;

  g_object_get (t->element, "bad-frames", &bad_frames, "dropped-input-bytes", &dropped,
                "flush-downstream", &flush, NULL);
  if (t->call_id != NULL)
    g_signal_emit_by_name (t->element, "send-function-result", t->call_id, "{\"temp_c\":21}");
  else
    g_signal_emit_by_name (t->element, "send-text", ""); /* handed over, then ignored */
}

static gint sync_calls;

static GstBusSyncReply
reenter_from_sync_handler (GstBus *bus, GstMessage *msg, gpointer data)
{
  Touch t = { GST_ELEMENT (GST_MESSAGE_SRC (msg)), NULL };
  g_autofree char *voice = NULL;

  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ELEMENT)
    return GST_BUS_PASS;
  g_object_get (t.element, "voice", &voice, NULL);
  g_assert_true (vg_test_run_elsewhere (touch_element, &t, 5000));
  g_atomic_int_inc (&sync_calls);
  return GST_BUS_PASS;
}

static void
on_function_call_reenter (GstElement *element, const char *call_id, const char *name,
                          const char *arguments, gpointer data)
{
  Touch t = { element, call_id };
  gint *calls = data;
  guint64 bad_frames;

  g_atomic_int_inc (calls);
  g_object_get (element, "bad-frames", &bad_frames, NULL);
  g_assert_true (vg_test_run_elsewhere (touch_element, &t, 5000));
}

static void
test_reenter (VgRtFixture *f, gconstpointer data)
{
  gint calls = 0;

  g_atomic_int_set (&sync_calls, 0);
  vg_rt_server_script_function_call (f->server, "get_weather", "{\"city\":\"Paris\"}");
  start_agent (f, NULL);
  gst_bus_set_sync_handler (f->agent->bus, reenter_from_sync_handler, NULL, NULL);
  g_signal_connect (f->agent->h->element, "function-call", G_CALLBACK (on_function_call_reenter),
                    &calls);
  vg_rt_fixture_push_turn (f);
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-function-call", NULL, NULL, 5000, TRUE));
  /* The result sent from the other thread got the model to answer. */
  g_assert_true (vg_rt_logged (f->server, "response.created", 1, 5000));
  g_assert_cmpuint (vg_test_pull_audio (f->agent->h, 200, 5000, NULL, NULL), ==, 200);
  g_assert_cmpint (g_atomic_int_get (&calls), ==, 1);
  g_assert_cmpint (g_atomic_int_get (&sync_calls), >=, 4);
  gst_bus_set_sync_handler (f->agent->bus, NULL, NULL, NULL);
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
}

static void
test_send_text (VgRtFixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) create = NULL;
  JsonObject *part;

  start_agent (f, NULL);
  g_signal_emit_by_name (f->agent->h->element, "send-text", "Hello there");
  create = vg_rt_server_wait (f->server, "conversation.item.create", 0, 3000);
  g_assert_nonnull (create);
  part = json_array_get_object_element (
      json_object_get_array_member (json_object_get_object_member (create, "item"), "content"), 0);
  g_assert_cmpstr (json_object_get_string_member (part, "text"), ==, "Hello there");
  g_assert_cmpuint (vg_test_pull_audio (f->agent->h, 1000, 5000, NULL, NULL), ==, 1000);
  g_signal_emit_by_name (f->agent->h->element, "cancel-response");
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
}

/* Manual turns, and audio pushed before the session exists: it waits
 * (bounded) for the session.update instead of being lost. */
static void
test_manual_turn_early_audio (VgRtFixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) log = NULL;
  gint update_at = -1, first_append_at = -1;
  guint i;

  f->agent = vg_test_agent_new ("openairealtime", f->server, "turn-detection", 2, NULL);
  vg_test_push_tone (f->agent->h, 600);
  g_assert_true (gst_harness_push_event (f->agent->h, gst_event_new_eos ()));
  g_assert_true (vg_rt_logged (f->server, "input_audio_buffer.commit", 0, 5000));
  g_assert_true (vg_rt_logged (f->server, "response.create", 0, 2000));
  g_assert_cmpuint (vg_test_pull_audio (f->agent->h, 1000, 5000, NULL, NULL), ==, 1000);
  g_assert_cmpuint (vg_rt_server_get_appended_bytes (f->server), ==, 600 * 48);
  log = vg_rt_server_get_log (f->server);
  for (i = 0; i < log->len; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (log, i);

      if (e->from_client && strcmp (e->type, "session.update") == 0 && update_at < 0)
        update_at = i;
      if (e->from_client && strcmp (e->type, "input_audio_buffer.append") == 0
          && first_append_at < 0)
        first_append_at = i;
    }
  g_assert_cmpint (update_at, >=, 0);
  g_assert_cmpint (first_append_at, >, update_at);
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
}

static JsonObject *
update_session (JsonObject *update)
{
  return json_object_get_object_member (update, "session");
}

/* instructions and tools set while PLAYING reach the running session as a
 * partial session.update, and a new session after a reconnect is
 * configured with them. */
static void
test_live_session_update (VgRtFixture *f, gconstpointer data)
{
  const char *tools = "[{\"type\":\"function\",\"name\":\"check_understanding\","
                      "\"description\":\"Record\",\"parameters\":{\"type\":\"object\","
                      "\"properties\":{}}}]";
  g_autoptr (JsonObject) live = NULL;
  g_autoptr (JsonObject) updated = NULL;
  g_autoptr (JsonObject) live_tools = NULL;
  g_autoptr (JsonObject) replayed = NULL;
  g_autofree char *kept = NULL;
  GLogLevelFlags fatal;
  JsonObject *session;

  start_agent (f, NULL);
  g_object_set (f->agent->h->element, "instructions", "Teach common denominators.", NULL);
  live = vg_rt_server_wait (f->server, "session.update", 1, 3000);
  g_assert_nonnull (live);
  session = update_session (live);
  g_assert_cmpstr (json_object_get_string_member (session, "type"), ==, "realtime");
  g_assert_cmpstr (json_object_get_string_member (session, "instructions"), ==,
                   "Teach common denominators.");
  /* Only what changed: the audio configuration (voice included, which the
   * server refuses to change once it spoke) is not sent again. */
  g_assert_false (json_object_has_member (session, "audio"));
  g_assert_false (json_object_has_member (session, "tools"));
  /* The server took it. */
  updated = vg_rt_server_wait (f->server, "session.updated", 1, 2000);
  g_assert_nonnull (updated);
  g_assert_cmpstr (json_object_get_string_member (update_session (updated), "instructions"), ==,
                   "Teach common denominators.");

  g_object_set (f->agent->h->element, "tools", tools, NULL);
  live_tools = vg_rt_server_wait (f->server, "session.update", 2, 3000);
  g_assert_nonnull (live_tools);
  session = update_session (live_tools);
  g_assert_false (json_object_has_member (session, "instructions"));
  g_assert_cmpstr (
      json_object_get_string_member (
          json_array_get_object_element (json_object_get_array_member (session, "tools"), 0),
          "name"),
      ==, "check_understanding");
  g_assert_true (vg_rt_logged (f->server, "session.updated", 2, 2000));

  /* Invalid tools are ignored with a warning: nothing is sent. (Structured
   * logging: g_test_expect_message() of GLib 2.74 does not see it.) */
  fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_object_set (f->agent->h->element, "tools", "{not json", NULL);
  g_log_set_always_fatal (fatal);
  g_object_get (f->agent->h->element, "tools", &kept, NULL);
  g_assert_cmpstr (kept, ==, tools);
  g_usleep (300000);
  g_assert_cmpuint (vg_rt_server_count (f->server, "session.update"), ==, 3);

  /* A new session is configured with the latest values. */
  vg_rt_server_drop_connections (f->server);
  replayed = vg_rt_server_wait (f->server, "session.update", 3, 5000);
  g_assert_nonnull (replayed);
  session = update_session (replayed);
  g_assert_true (json_object_has_member (session, "audio"));
  g_assert_cmpstr (json_object_get_string_member (session, "instructions"), ==,
                   "Teach common denominators.");
  g_assert_cmpstr (
      json_object_get_string_member (
          json_array_get_object_element (json_object_get_array_member (session, "tools"), 0),
          "name"),
      ==, "check_understanding");
  g_assert_cmpuint (vg_rt_server_get_sessions (f->server), ==, 2);
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
  g_assert_cmpuint (vg_test_agent_errors (f->agent), ==, 0);
}

/* Waits for the final assistant transcript. */
static const char *
wait_assistant_final (VgRtFixture *f, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;
  guint i;

  do
    {
      vg_test_agent_poll (f->agent);
      for (i = 0; i < f->agent->messages->len; i++)
        {
          const GstStructure *m
              = gst_message_get_structure (g_ptr_array_index (f->agent->messages, i));
          gboolean final = FALSE;

          if (m && gst_structure_has_name (m, "realtime-transcript")
              && g_strcmp0 (gst_structure_get_string (m, "role"), "assistant") == 0
              && gst_structure_get_boolean (m, "final", &final) && final)
            return gst_structure_get_string (m, "text");
        }
      g_usleep (10000);
    }
  while (g_get_monotonic_time () < deadline);
  return NULL;
}

/* The greeting: respond before any user audio, and the reply is heard. */
static void
test_respond (VgRtFixture *f, gconstpointer data)
{
  const char *greeting = "Greet Ana by name and open common denominators.";
  g_autoptr (JsonObject) create = NULL;
  g_autofree char *used = NULL;
  JsonObject *response;
  gint64 t0, first_us = 0;

  start_agent (f, NULL);
  vg_test_drain_output (f->agent->h);
  t0 = g_get_monotonic_time ();
  g_signal_emit_by_name (f->agent->h->element, "respond", greeting);
  g_assert_cmpuint (vg_test_pull_audio (f->agent->h, 200, 5000, &first_us, NULL), ==, 200);
  g_test_message ("respond -> first audio at the src pad: %.1f ms (fake server, %u ms deltas "
                  "every %u ms)",
                  (first_us - t0) / 1000.0, 100, 5);
  create = vg_rt_server_wait (f->server, "response.create", 0, 1000);
  g_assert_nonnull (create);
  response = json_object_get_object_member (create, "response");
  g_assert_nonnull (response);
  g_assert_cmpstr (json_object_get_string_member (response, "instructions"), ==, greeting);
  used = vg_rt_server_dup_response_instructions (f->server, 0);
  g_assert_cmpstr (used, ==, greeting);
  /* Before any user audio: nothing was appended, the agent spoke first. */
  g_assert_cmpuint (vg_rt_server_get_appended_bytes (f->server), ==, 0);
  g_assert_cmpuint (vg_rt_server_count (f->server, "input_audio_buffer.append"), ==, 0);
  g_assert_cmpstr (wait_assistant_final (f, 3000), ==, greeting);
  g_assert_nonnull (
      vg_test_agent_wait (f->agent, "realtime-state", "state", "speaking", 100, TRUE));
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
  g_assert_cmpuint (vg_test_agent_errors (f->agent), ==, 0);
}

/* respond as soon as the element plays, before the session exists: the
 * request waits for the session's configuration, then is heard. */
static void
test_respond_before_session (VgRtFixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) log = NULL;
  gint update_at = -1, create_at = -1;
  guint i;

  f->agent = vg_test_agent_new ("openairealtime", f->server, NULL);
  g_signal_emit_by_name (f->agent->h->element, "respond", "Welcome.");
  g_assert_cmpuint (vg_test_pull_audio (f->agent->h, 200, 5000, NULL, NULL), ==, 200);
  log = vg_rt_server_get_log (f->server);
  for (i = 0; i < log->len; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (log, i);

      if (e->from_client && strcmp (e->type, "session.update") == 0 && update_at < 0)
        update_at = i;
      if (e->from_client && strcmp (e->type, "response.create") == 0 && create_at < 0)
        create_at = i;
    }
  g_assert_cmpint (update_at, >=, 0);
  g_assert_cmpint (create_at, >, update_at);
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
}

/* respond while a response is under way waits for its response.done:
 * three in a row become three responses, in order, none refused. */
static void
test_respond_deferred (VgRtFixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) log = NULL;
  gint done_at[3] = { -1, -1, -1 }, create_at[3] = { -1, -1, -1 };
  guint i, creates = 0, dones = 0;

  start_agent (f, NULL);
  g_signal_emit_by_name (f->agent->h->element, "respond", "First.");
  g_assert_true (vg_rt_logged (f->server, "response.created", 0, 3000));
  g_signal_emit_by_name (f->agent->h->element, "respond", NULL);
  g_signal_emit_by_name (f->agent->h->element, "respond", "Third.");
  g_assert_true (vg_rt_logged (f->server, "response.done", 2, 10000));
  g_assert_cmpuint (vg_rt_server_count (f->server, "response.create"), ==, 3);
  log = vg_rt_server_get_log (f->server);
  for (i = 0; i < log->len; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (log, i);

      if (e->from_client && strcmp (e->type, "response.create") == 0 && creates < 3)
        create_at[creates++] = i;
      if (!e->from_client && strcmp (e->type, "response.done") == 0 && dones < 3)
        done_at[dones++] = i;
    }
  g_assert_cmpint (create_at[1], >, done_at[0]);
  g_assert_cmpint (create_at[2], >, done_at[1]);
  {
    g_autofree char *a = vg_rt_server_dup_response_instructions (f->server, 0);
    g_autofree char *b = vg_rt_server_dup_response_instructions (f->server, 1);
    g_autofree char *c = vg_rt_server_dup_response_instructions (f->server, 2);

    g_assert_cmpstr (a, ==, "First.");
    g_assert_cmpstr (b, ==, ""); /* NULL: a plain response.create */
    g_assert_cmpstr (c, ==, "Third.");
  }
  g_assert_false (json_object_has_member (
      ((VgRtLogEntry *)g_ptr_array_index (log, create_at[1]))->event, "response"));
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
  g_assert_cmpuint (vg_test_agent_errors (f->agent), ==, 0);
}

/* A respond waiting behind a response is dropped when the user speaks:
 * their turn gets the next response. */
static void
test_respond_dropped_on_speech (VgRtFixture *f, gconstpointer data)
{
  g_autofree char *next = NULL;

  /* 20 s of audio at 20x real time: still running when the user speaks. */
  vg_rt_server_set_response_audio_ms (f->server, 20000);
  start_agent (f, NULL);
  g_signal_emit_by_name (f->agent->h->element, "respond", "First.");
  g_assert_true (vg_rt_logged (f->server, "response.created", 0, 3000));
  g_signal_emit_by_name (f->agent->h->element, "respond", "Second.");
  vg_rt_server_set_response_audio_ms (f->server, 300);
  vg_rt_fixture_push_turn (f);
  g_assert_true (vg_rt_logged (f->server, "input_audio_buffer.speech_started", 0, 3000));
  g_assert_true (vg_rt_logged (f->server, "response.created", 1, 5000));
  g_assert_true (vg_rt_logged (f->server, "response.done", 1, 5000));
  g_usleep (200000);
  next = vg_rt_server_dup_response_instructions (f->server, 1);
  g_assert_cmpstr (next, ==, ""); /* the user's turn, not "Second." */
  g_assert_cmpuint (vg_rt_server_count (f->server, "response.create"), ==, 1);
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_debug_enabled (FALSE); /* keep TAP logs readable */
  gst_init (&argc, &argv);
#define ADD(path, fn)                                                                              \
  g_test_add (path, VgRtFixture, NULL, vg_rt_fixture_setup, fn, vg_rt_fixture_teardown)
  ADD ("/openairealtime/session-config", test_session_config);
  ADD ("/openairealtime/append-rate", test_append_rate);
  ADD ("/openairealtime/full-turn-paced", test_full_turn);
  ADD ("/openairealtime/bus-messages", test_bus_messages);
  ADD ("/openairealtime/barge-in", test_barge_in);
  ADD ("/openairealtime/barge-in-flush-downstream", test_barge_in_flush_downstream);
  ADD ("/openairealtime/barge-in-cancel", test_barge_in_cancel);
  ADD ("/openairealtime/barge-in-nothing-played", test_barge_in_nothing_played);
  ADD ("/openairealtime/function-call", test_function_call);
  ADD ("/openairealtime/reenter-from-callbacks", test_reenter);
  ADD ("/openairealtime/send-text", test_send_text);
  ADD ("/openairealtime/manual-turn-early-audio", test_manual_turn_early_audio);
  ADD ("/openairealtime/live-session-update", test_live_session_update);
  ADD ("/openairealtime/respond", test_respond);
  ADD ("/openairealtime/respond-before-session", test_respond_before_session);
  ADD ("/openairealtime/respond-deferred", test_respond_deferred);
  ADD ("/openairealtime/respond-dropped-on-speech", test_respond_dropped_on_speech);
  ADD ("/openairealtime/reconnect", test_reconnect);
  ADD ("/openairealtime/session-expiry", test_session_expiry);
  ADD ("/openairealtime/bad-frames", test_bad_frames);
  ADD ("/openairealtime/bad-base64", test_bad_base64);
  ADD ("/openairealtime/unauthorized", test_unauthorized);
  ADD ("/openairealtime/rate-limited", test_rate_limited);
  return g_test_run ();
}
