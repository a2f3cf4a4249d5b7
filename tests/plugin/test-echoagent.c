/* test-echoagent.c: echoagent plays each user turn back in real time,
 * posts the same messages as openairealtime and stops when the user
 * speaks again. */
#include "plugin-test-util.h"

static void
test_turn_played_back (void)
{
  VgTestAgent *agent = vg_test_agent_new ("echoagent", NULL, "silence-ms", 200, NULL);
  const char *const states[] = { "listening", "thinking", "speaking", "listening", NULL };
  const GstStructure *s;
  gint64 first = 0, last = 0;
  guint got;

  vg_test_drain_output (agent->h);
  vg_test_push_silence (agent->h, 200);
  vg_test_push_tone (agent->h, 1000);
  vg_test_push_silence (agent->h, 300);
  s = vg_test_agent_wait (agent, "realtime-transcript", "role", "user", 2000, TRUE);
  g_assert_nonnull (s);
  g_assert_true (g_str_has_prefix (gst_structure_get_string (s, "text"), "(echo) 1."));
  /* The turn (1 s of tone plus the quiet lead-in kept before it) comes
   * back at real-time pace. */
  got = vg_test_pull_audio (agent->h, 5000, 2500, &first, &last);
  g_assert_cmpuint (got, >=, 1000);
  g_assert_cmpuint (got, <=, 1300);
  g_assert_cmpint (last - first, >=, (gint64)(got - 20) * 1000 - 30000);
  g_assert_nonnull (
      vg_test_agent_wait (agent, "realtime-transcript", "role", "assistant", 100, TRUE));
  g_assert_true (vg_test_agent_wait_states (agent, states, 1000));
  g_assert_cmpuint (vg_test_agent_errors (agent), ==, 0);
  vg_test_agent_free (agent);
}

static void
barge_in (gboolean flush_downstream)
{
  VgTestAgent *agent = vg_test_agent_new ("echoagent", NULL, "silence-ms", 200, "flush-downstream",
                                          flush_downstream, NULL);
  guint flush_start = 0, flush_stop = 0, segment = 0;

  vg_test_drain_output (agent->h);
  vg_test_push_tone (agent->h, 2000);
  vg_test_push_silence (agent->h, 300);
  g_assert_cmpuint (vg_test_pull_audio (agent->h, 300, 2000, NULL, NULL), ==, 300);
  vg_test_count_events (agent->h, &flush_start, &flush_stop, &segment);
  g_assert_cmpuint (flush_start, ==, 0);
  segment = 0;
  /* The user speaks again: the playback stops at once. */
  vg_test_push_tone (agent->h, 200);
  g_usleep (60000);
  vg_test_drain_output (agent->h);
  g_assert_cmpuint (vg_test_pull_audio (agent->h, 20, 300, NULL, NULL), ==, 0);
  /* Downstream is flushed (with a new segment) only when asked to: a flush
   * resets muxers such as wavenc (test-recording.c). */
  vg_test_count_events (agent->h, &flush_start, &flush_stop, &segment);
  g_assert_cmpuint (flush_start, ==, flush_downstream ? 1 : 0);
  g_assert_cmpuint (flush_stop, ==, flush_start);
  g_assert_cmpuint (segment, ==, flush_start);
  g_assert_nonnull (vg_test_agent_wait (agent, "realtime-state", "state", "listening", 100, TRUE));
  /* A barge-in ends one answer, not the playout: the next turn is heard
   * (a flush once left the source pad flushing for good). */
  vg_test_push_tone (agent->h, 1000);
  vg_test_push_silence (agent->h, 300);
  g_assert_cmpuint (vg_test_pull_audio (agent->h, 300, 3000, NULL, NULL), ==, 300);
  g_assert_cmpuint (vg_test_agent_errors (agent), ==, 0);
  vg_test_agent_free (agent);
}

static void
test_barge_in (void)
{
  barge_in (FALSE);
}

static void
test_barge_in_flush_downstream (void)
{
  barge_in (TRUE);
}

static void
test_silence_when_idle (void)
{
  VgTestAgent *agent = vg_test_agent_new ("echoagent", NULL, NULL);
  GstBuffer *buf;
  GstClockTime prev = GST_CLOCK_TIME_NONE;
  guint i;

  for (i = 0; i < 10; i++)
    {
      buf = gst_harness_pull (agent->h);
      g_assert_true (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP));
      g_assert_cmpuint (gst_buffer_get_size (buf), ==, 960);
      if (GST_CLOCK_TIME_IS_VALID (prev))
        g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, prev + 20 * GST_MSECOND);
      prev = GST_BUFFER_PTS (buf);
      gst_buffer_unref (buf);
    }
  vg_test_agent_free (agent);
}

/* respond without any user audio: a short beep and an echoed transcript,
 * speaking then listening. */
static void
test_respond (void)
{
  VgTestAgent *agent = vg_test_agent_new ("echoagent", NULL, NULL);
  const char *const states[] = { "speaking", "listening", NULL };
  const GstStructure *s;
  guint got;

  vg_test_drain_output (agent->h);
  g_signal_emit_by_name (agent->h->element, "respond", "Greet the learner");
  got = vg_test_pull_audio (agent->h, 1000, 1500, NULL, NULL);
  g_assert_cmpuint (got, >=, 280);
  g_assert_cmpuint (got, <=, 320);
  s = vg_test_agent_wait (agent, "realtime-transcript", "role", "assistant", 1000, TRUE);
  g_assert_nonnull (s);
  /* The instructions themselves (a composed prompt) are not repeated. */
  g_assert_cmpstr (gst_structure_get_string (s, "text"), ==,
                   "(echo) a reply without input (17 characters of instructions)");
  g_assert_true (vg_test_agent_wait_states (agent, states, 1000));
  /* Without instructions the reply is the same beep. */
  g_signal_emit_by_name (agent->h->element, "respond", NULL);
  g_assert_cmpuint (vg_test_pull_audio (agent->h, 1000, 1500, NULL, NULL), >=, 280);
  g_assert_nonnull (vg_test_agent_wait (agent, "realtime-transcript", "text",
                                        "(echo) a reply without input (0 characters of instructions)",
                                        1000, TRUE));
  g_assert_cmpuint (vg_test_agent_errors (agent), ==, 0);
  vg_test_agent_free (agent);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_debug_enabled (FALSE); /* keep TAP logs readable */
  gst_init (&argc, &argv);
  g_test_add_func ("/echoagent/silence-when-idle", test_silence_when_idle);
  g_test_add_func ("/echoagent/turn-played-back", test_turn_played_back);
  g_test_add_func ("/echoagent/barge-in", test_barge_in);
  g_test_add_func ("/echoagent/barge-in-flush-downstream", test_barge_in_flush_downstream);
  g_test_add_func ("/echoagent/respond", test_respond);
  return g_test_run ();
}
