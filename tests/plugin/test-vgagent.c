/* test-vgagent.c: GstVgAgent alone, through a trivial subclass living in
 * this test, so that a new agent inherits tested behaviour: the paced
 * output, barge-in, state changes, the handing of actions to an owner
 * context, and calls back into the element from a bus sync handler and a
 * function-call handler (no lock may be held across either).
 *
 * The base is linked in statically (plugins/meson.build, vgagent): this
 * process must not load libgstvoxgate.so, which has its own GstVgAgent. */
#include "gstvgagent.h"
#include "plugin-test-util.h"

/* ---- the test agent: each turn (or typed text) is played back ---- */

#define TEST_TYPE_AGENT (test_agent_get_type ())
G_DECLARE_FINAL_TYPE (TestAgent, test_agent, TEST, AGENT, GstVgAgent)

struct _TestAgent
{
  GstVgAgent parent;

  gboolean use_owner; /* set before start: run an owner thread */

  /* the owner thread, between start and stop (state-change thread) */
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;

  GByteArray *input; /* sink streaming thread */
  guint turns;

  /* atomics, read by the test */
  gint starts, stops, texts, interrupts, results;
  gpointer text_thread; /* thread that ran the last handle_text */
};

G_DEFINE_TYPE (TestAgent, test_agent, GST_TYPE_VG_AGENT);

static gpointer
owner_main (gpointer loop)
{
  g_main_loop_run (loop); /* the context is only used through the base */
  return NULL;
}

static gboolean
test_agent_start (GstVgAgent *agent)
{
  TestAgent *self = TEST_AGENT (agent);

  g_atomic_int_inc (&self->starts);
  if (self->use_owner)
    {
      self->context = g_main_context_new ();
      self->loop = g_main_loop_new (self->context, FALSE);
      self->thread = g_thread_new ("test-owner", owner_main, self->loop);
      gst_vg_agent_set_owner_context (agent, self->context);
    }
  gst_vg_agent_set_state (agent, "listening");
  return TRUE;
}

static void
test_agent_stop (GstVgAgent *agent)
{
  TestAgent *self = TEST_AGENT (agent);

  g_atomic_int_inc (&self->stops);
  if (!self->use_owner)
    return;
  gst_vg_agent_set_owner_context (agent, NULL);
  g_main_loop_quit (self->loop);
  g_thread_join (self->thread);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
}

static GstFlowReturn
test_agent_handle_audio (GstVgAgent *agent, GstBuffer *buf)
{
  TestAgent *self = TEST_AGENT (agent);
  GstMapInfo map;

  gst_buffer_map (buf, &map, GST_MAP_READ);
  g_byte_array_append (self->input, map.data, map.size);
  gst_buffer_unmap (buf, &map);
  return GST_FLOW_OK;
}

static void
test_agent_turn_ended (GstVgAgent *agent)
{
  TestAgent *self = TEST_AGENT (agent);
  g_autofree char *item = g_strdup_printf ("reply_%u", ++self->turns);

  gst_vg_agent_set_state (agent, "thinking");
  gst_vg_agent_post_transcript (agent, "assistant", item, "(replayed)", TRUE);
  gst_vg_agent_queue_audio (agent, item, self->input->data, self->input->len);
  g_byte_array_set_size (self->input, 0);
}

/* "call" makes the agent call a function; anything else is answered with
 * a second of tone. */
static void
test_agent_handle_text (GstVgAgent *agent, const char *text)
{
  TestAgent *self = TEST_AGENT (agent);
  GstBuffer *tone;
  GstMapInfo map;

  g_atomic_pointer_set (&self->text_thread, g_thread_self ());
  g_atomic_int_inc (&self->texts);
  if (g_strcmp0 (text, "call") == 0)
    {
      gst_vg_agent_call_function (agent, "call_1", "lookup", "{\"q\":1}");
      return;
    }
  if (text == NULL || text[0] == '\0')
    return;
  tone = vg_test_tone (1000);
  gst_buffer_map (tone, &map, GST_MAP_READ);
  gst_vg_agent_queue_audio (agent, "text_reply", map.data, map.size);
  gst_buffer_unmap (tone, &map);
  gst_buffer_unref (tone);
}

static void
test_agent_interrupt (GstVgAgent *agent)
{
  g_atomic_int_inc (&TEST_AGENT (agent)->interrupts);
  GST_VG_AGENT_CLASS (test_agent_parent_class)->interrupt (agent);
}

static void
test_agent_function_result (GstVgAgent *agent, const char *call_id, const char *output)
{
  g_assert_cmpstr (call_id, ==, "call_1");
  g_assert_cmpstr (output, ==, "{\"a\":2}");
  g_atomic_int_inc (&TEST_AGENT (agent)->results);
}

static void
test_agent_finalize (GObject *object)
{
  g_byte_array_unref (TEST_AGENT (object)->input);
  G_OBJECT_CLASS (test_agent_parent_class)->finalize (object);
}

static void
test_agent_init (TestAgent *self)
{
  self->input = g_byte_array_new ();
}

static void
test_agent_class_init (TestAgentClass *klass)
{
  GstVgAgentClass *agent_class = GST_VG_AGENT_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = test_agent_finalize;
  agent_class->start = test_agent_start;
  agent_class->stop = test_agent_stop;
  agent_class->handle_audio = test_agent_handle_audio;
  agent_class->turn_ended = test_agent_turn_ended;
  agent_class->handle_text = test_agent_handle_text;
  agent_class->interrupt = test_agent_interrupt;
  agent_class->function_result = test_agent_function_result;
  gst_element_class_set_static_metadata (GST_ELEMENT_CLASS (klass), "Test agent", "Filter/Audio",
                                         "Plays each turn back", "voxgate");
}

/* ---- helpers ---- */

static VgTestAgent *
new_agent (gboolean use_owner, gboolean flush_downstream)
{
  VgTestAgent *agent;
  TestAgent *self;

  /* The owner thread is chosen at start, which the harness does at once:
   * the factory's default instance is replaced by one configured first. */
  agent = vg_test_agent_new ("vgtestagent", NULL, "flush-downstream", flush_downstream, NULL);
  self = TEST_AGENT (agent->h->element);
  if (use_owner)
    {
      gst_element_set_state (agent->h->element, GST_STATE_READY);
      self->use_owner = TRUE;
      gst_harness_play (agent->h);
      g_assert_cmpint (g_atomic_int_get (&self->starts), ==, 2);
    }
  g_atomic_int_set (&self->starts, 0);
  g_atomic_int_set (&self->stops, 0);
  return agent;
}

/* ---- tests ---- */

static void
test_class (void)
{
  VgTestAgent *agent = vg_test_agent_new ("vgtestagent", NULL, NULL);
  GstElement *e = agent->h->element;
  GstPadTemplate *templ;
  g_autoptr (GstCaps) caps = gst_caps_from_string (VG_TEST_CAPS);
  gboolean flush = TRUE;

  g_assert_true (G_TYPE_IS_ABSTRACT (GST_TYPE_VG_AGENT));
  g_assert_true (GST_IS_VG_AGENT (e));
  templ = gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (e), "src");
  g_assert_true (gst_caps_is_equal (GST_PAD_TEMPLATE_CAPS (templ), caps));
  templ = gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (e), "sink");
  g_assert_true (gst_caps_is_equal (GST_PAD_TEMPLATE_CAPS (templ), caps));
  g_assert_true (GST_OBJECT_FLAG_IS_SET (e, GST_ELEMENT_FLAG_SOURCE));
  g_object_get (e, "flush-downstream", &flush, NULL);
  g_assert_false (flush);
  g_assert_cmpuint (g_signal_lookup ("send-text", TEST_TYPE_AGENT), !=, 0);
  g_assert_cmpuint (g_signal_lookup ("cancel-response", TEST_TYPE_AGENT), !=, 0);
  g_assert_cmpuint (g_signal_lookup ("send-function-result", TEST_TYPE_AGENT), !=, 0);
  g_assert_cmpuint (g_signal_lookup ("function-call", TEST_TYPE_AGENT), !=, 0);
  g_assert_nonnull (vg_test_agent_wait (agent, "realtime-state", "state", "listening", 100, TRUE));
  vg_test_agent_free (agent);
}

/* A turn comes back in 20 ms periods on the clock, contiguous in running
 * time, then silence (gap buffers) keeps the pace. */
static void
test_pacing (gconstpointer data)
{
  VgTestAgent *agent = new_agent (GPOINTER_TO_INT (data), FALSE);
  const char *const states[] = { "listening", "thinking", "speaking", "listening", NULL };
  GstClockTime next = GST_CLOCK_TIME_NONE;
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC, start = 0, end = 0;
  guint audio_ms = 0, gaps_after = 0;

  vg_test_drain_output (agent->h);
  vg_test_push_tone (agent->h, 1000);
  g_assert_true (gst_harness_push_event (agent->h, gst_event_new_eos ()));
  g_assert_nonnull (
      vg_test_agent_wait (agent, "realtime-transcript", "role", "assistant", 2000, TRUE));
  while (gaps_after < 5 && g_get_monotonic_time () < deadline)
    {
      GstBuffer *buf = gst_harness_pull (agent->h);

      g_assert_nonnull (buf);
      g_assert_cmpuint (GST_BUFFER_DURATION (buf), ==, 20 * GST_MSECOND);
      if (GST_CLOCK_TIME_IS_VALID (next))
        g_assert_cmpuint (GST_BUFFER_PTS (buf), ==, next);
      next = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
      if (!GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP))
        {
          if (audio_ms == 0)
            start = g_get_monotonic_time ();
          audio_ms += 20;
          end = g_get_monotonic_time ();
        }
      else if (audio_ms > 0)
        gaps_after++;
      gst_buffer_unref (buf);
    }
  g_assert_cmpuint (audio_ms, ==, 1000);
  /* Real time, not as fast as possible (with some slack for the harness). */
  g_assert_cmpint (end - start, >=, (1000 - 20) * 1000 - 60000);
  g_assert_true (vg_test_agent_wait_states (agent, states, 500));
  g_assert_cmpuint (vg_test_agent_errors (agent), ==, 0);
  vg_test_agent_free (agent);
}

typedef struct
{
  gboolean owner;
  gboolean flush_downstream;
} BargeInCase;

/* cancel-response cuts the playback at once; downstream is flushed only
 * with flush-downstream; the next reply plays. */
static void
test_barge_in (gconstpointer data)
{
  const BargeInCase *c = data;
  VgTestAgent *agent = new_agent (c->owner, c->flush_downstream);
  TestAgent *self = TEST_AGENT (agent->h->element);
  guint flush_start = 0, flush_stop = 0, segment = 0;

  vg_test_drain_output (agent->h);
  g_signal_emit_by_name (agent->h->element, "send-text", "hello");
  g_assert_cmpuint (vg_test_pull_audio (agent->h, 300, 2000, NULL, NULL), ==, 300);
  g_assert_nonnull (vg_test_agent_wait (agent, "realtime-state", "state", "speaking", 500, TRUE));
  vg_test_count_events (agent->h, &flush_start, &flush_stop, &segment);
  segment = 0;
  g_signal_emit_by_name (agent->h->element, "cancel-response");
  g_usleep (60000);
  vg_test_drain_output (agent->h);
  g_assert_cmpuint (vg_test_pull_audio (agent->h, 20, 300, NULL, NULL), ==, 0);
  vg_test_count_events (agent->h, &flush_start, &flush_stop, &segment);
  g_assert_cmpuint (flush_start, ==, c->flush_downstream ? 1 : 0);
  g_assert_cmpuint (flush_stop, ==, flush_start);
  g_assert_cmpuint (segment, ==, flush_start);
  g_assert_cmpint (g_atomic_int_get (&self->interrupts), ==, 1);
  g_assert_nonnull (vg_test_agent_wait (agent, "realtime-state", "state", "listening", 500, FALSE));
  /* A cut ends one answer, not the output. */
  g_signal_emit_by_name (agent->h->element, "send-text", "again");
  g_assert_cmpuint (vg_test_pull_audio (agent->h, 300, 2000, NULL, NULL), ==, 300);
  g_assert_cmpuint (vg_test_agent_errors (agent), ==, 0);
  vg_test_agent_free (agent);
}

static gboolean
block_owner (gpointer data)
{
  g_usleep (GPOINTER_TO_UINT (data) * 1000);
  return G_SOURCE_REMOVE;
}

/* Live output (no preroll); stop and start again; actions run in the
 * owner context, and none of a stopped session runs afterwards. */
static void
test_state_changes (void)
{
  VgTestAgent *agent = new_agent (TRUE, FALSE);
  GstElement *e = agent->h->element;
  TestAgent *self = TEST_AGENT (e);

  g_signal_emit_by_name (e, "send-text", "hello");
  g_assert_cmpuint (vg_test_pull_audio (agent->h, 100, 2000, NULL, NULL), ==, 100);
  g_assert_true (g_atomic_pointer_get (&self->text_thread) == (gpointer)self->thread);

  /* Work queued behind a busy owner when the element stops is dropped. */
  g_main_context_invoke (self->context, block_owner, GUINT_TO_POINTER (200));
  g_signal_emit_by_name (e, "send-text", "late");
  g_assert_cmpint (gst_element_set_state (e, GST_STATE_READY), ==, GST_STATE_CHANGE_SUCCESS);
  g_assert_cmpint (g_atomic_int_get (&self->stops), ==, 1);
  g_assert_cmpint (g_atomic_int_get (&self->texts), ==, 1);
  g_signal_emit_by_name (e, "send-text", "not started");
  g_usleep (100000);
  g_assert_cmpint (g_atomic_int_get (&self->texts), ==, 1);

  g_assert_cmpint (gst_element_set_state (e, GST_STATE_PAUSED), ==, GST_STATE_CHANGE_NO_PREROLL);
  g_assert_cmpint (g_atomic_int_get (&self->starts), ==, 1);
  g_assert_cmpint (gst_element_set_state (e, GST_STATE_PLAYING), ==, GST_STATE_CHANGE_SUCCESS);
  vg_test_drain_output (agent->h);
  g_signal_emit_by_name (e, "send-text", "hello");
  g_assert_cmpuint (vg_test_pull_audio (agent->h, 300, 3000, NULL, NULL), ==, 300);
  g_assert_cmpint (g_atomic_int_get (&self->texts), ==, 2);
  g_assert_true (g_atomic_pointer_get (&self->text_thread) == (gpointer)self->thread);
  g_assert_cmpuint (vg_test_agent_errors (agent), ==, 0);
  vg_test_agent_free (agent);
  /* NULL (teardown) stopped the last session. */
}

/* ---- calling back into the element ---- */

/* Another thread: reads and writes a property, then emits an action. */
static void
touch_element (GstElement *element, gboolean from_function_call)
{
  gboolean flush;

  g_object_get (element, "flush-downstream", &flush, NULL);
  g_object_set (element, "flush-downstream", flush, NULL);
  if (from_function_call)
    g_signal_emit_by_name (element, "send-function-result", "call_1", "{\"a\":2}");
  else
    g_signal_emit_by_name (element, "send-text", "");
}

static void
touch_element_packed (gpointer data, gpointer unused)
{
  gpointer *args = data;

  touch_element (args[0], GPOINTER_TO_INT (args[1]));
}

/* Waiting for another thread that calls into the element deadlocks (and
 * fails after 5 s) if this thread holds a lock of the element, even a
 * recursive one. */
static void
call_from_other_thread (GstElement *element, gboolean from_function_call)
{
  gpointer data[] = { element, GINT_TO_POINTER (from_function_call) };

  g_assert_true (vg_test_run_elsewhere (touch_element_packed, data, 5000));
}

static gint sync_calls;

static GstBusSyncReply
reenter_from_sync_handler (GstBus *bus, GstMessage *msg, gpointer data)
{
  const GstStructure *s = gst_message_get_structure (msg);
  GstElement *element = GST_ELEMENT (GST_MESSAGE_SRC (msg));
  gboolean flush;

  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ELEMENT || s == NULL)
    return GST_BUS_PASS;
  g_object_get (element, "flush-downstream", &flush, NULL);
  call_from_other_thread (element, FALSE);
  g_atomic_int_inc (&sync_calls);
  if (gst_structure_has_name (s, "realtime-state")
      && g_strcmp0 (gst_structure_get_string (s, "state"), "speaking") == 0)
    g_signal_emit_by_name (element, "send-text", "call"); /* a function call follows */
  return GST_BUS_PASS;
}

static void
on_function_call (GstElement *element, const char *call_id, const char *name, const char *arguments,
                  gpointer data)
{
  gint *calls = data;

  g_assert_cmpstr (call_id, ==, "call_1");
  g_assert_cmpstr (name, ==, "lookup");
  g_assert_cmpstr (arguments, ==, "{\"q\":1}");
  if (g_atomic_int_add (calls, 1) > 0)
    return;
  call_from_other_thread (element, TRUE);
  g_signal_emit_by_name (element, "cancel-response");
}

static void
test_reenter (gconstpointer data)
{
  VgTestAgent *agent = new_agent (GPOINTER_TO_INT (data), FALSE);
  TestAgent *self = TEST_AGENT (agent->h->element);
  gint calls = 0;

  g_atomic_int_set (&sync_calls, 0);
  gst_bus_set_sync_handler (agent->bus, reenter_from_sync_handler, NULL, NULL);
  g_signal_connect (agent->h->element, "function-call", G_CALLBACK (on_function_call), &calls);
  vg_test_drain_output (agent->h);
  g_signal_emit_by_name (agent->h->element, "send-text", "hello");
  g_assert_nonnull (
      vg_test_agent_wait (agent, "realtime-function-call", "call-id", "call_1", 3000, TRUE));
  g_assert_nonnull (
      vg_test_agent_wait (agent, "realtime-state", "state", "listening", 2000, FALSE));
  g_assert_cmpint (g_atomic_int_get (&calls), >=, 1);
  g_assert_cmpint (g_atomic_int_get (&self->results), ==, 1);
  g_assert_cmpint (g_atomic_int_get (&self->interrupts), ==, 1);
  g_assert_cmpint (g_atomic_int_get (&sync_calls), >=, 3);
  gst_bus_set_sync_handler (agent->bus, NULL, NULL, NULL);
  g_assert_cmpuint (vg_test_agent_errors (agent), ==, 0);
  vg_test_agent_free (agent);
}

/* The test agent implements no respond: the default says so on the bus
 * instead of leaving the application waiting for a greeting. */
static void
test_respond_default (gconstpointer data)
{
  VgTestAgent *agent = new_agent (GPOINTER_TO_INT (data), FALSE);
  const GstStructure *s;

  g_signal_emit_by_name (agent->h->element, "respond", "Say hello");
  s = vg_test_agent_wait (agent, "realtime-error", "code", "respond_unsupported", 2000, TRUE);
  g_assert_nonnull (s);
  g_assert_false (g_value_get_boolean (gst_structure_get_value (s, "fatal")));
  g_assert_cmpuint (vg_test_agent_errors (agent), ==, 0);
  vg_test_agent_free (agent);
}

int
main (int argc, char **argv)
{
  static const BargeInCase cases[] = { { FALSE, FALSE }, { FALSE, TRUE }, { TRUE, FALSE } };

  g_test_init (&argc, &argv, NULL);
  g_log_set_debug_enabled (FALSE);
  gst_init (&argc, &argv);
  gst_element_register (NULL, "vgtestagent", GST_RANK_NONE, TEST_TYPE_AGENT);
  g_test_add_func ("/vgagent/class", test_class);
  g_test_add_data_func ("/vgagent/pacing", GINT_TO_POINTER (FALSE), test_pacing);
  g_test_add_data_func ("/vgagent/pacing-owner", GINT_TO_POINTER (TRUE), test_pacing);
  g_test_add_data_func ("/vgagent/barge-in", &cases[0], test_barge_in);
  g_test_add_data_func ("/vgagent/barge-in-flush-downstream", &cases[1], test_barge_in);
  g_test_add_data_func ("/vgagent/barge-in-owner", &cases[2], test_barge_in);
  g_test_add_func ("/vgagent/state-changes", test_state_changes);
  g_test_add_data_func ("/vgagent/reenter", GINT_TO_POINTER (FALSE), test_reenter);
  g_test_add_data_func ("/vgagent/reenter-owner", GINT_TO_POINTER (TRUE), test_reenter);
  g_test_add_data_func ("/vgagent/respond-default", GINT_TO_POINTER (FALSE), test_respond_default);
  g_test_add_data_func ("/vgagent/respond-default-owner", GINT_TO_POINTER (TRUE),
                        test_respond_default);
  return g_test_run ();
}
