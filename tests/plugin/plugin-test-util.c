/* plugin-test-util.c: see plugin-test-util.h. */
#include "plugin-test-util.h"

#include <math.h>
#include <string.h>

#define RATE 24000

static GstBuffer *
make_audio (guint ms, double amplitude)
{
  guint n = RATE * ms / 1000, i;
  GstBuffer *buf = gst_buffer_new_allocate (NULL, n * 2, NULL);
  GstMapInfo map;
  gint16 *s;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  s = (gint16 *)map.data;
  for (i = 0; i < n; i++)
    s[i] = (gint16)(amplitude * 32767 * sin (2 * G_PI * 440.0 * i / RATE));
  gst_buffer_unmap (buf, &map);
  return buf;
}

GstBuffer *
vg_test_tone (guint ms)
{
  return make_audio (ms, 0.3);
}

GstBuffer *
vg_test_silence (guint ms)
{
  return make_audio (ms, 0.0);
}

void
vg_test_push_tone (GstHarness *h, guint ms)
{
  guint t;

  for (t = 0; t < ms; t += 20)
    g_assert_cmpint (gst_harness_push (h, vg_test_tone (20)), ==, GST_FLOW_OK);
}

void
vg_test_push_silence (GstHarness *h, guint ms)
{
  guint t;

  for (t = 0; t < ms; t += 20)
    g_assert_cmpint (gst_harness_push (h, vg_test_silence (20)), ==, GST_FLOW_OK);
}

VgTestAgent *
vg_test_agent_new (const char *element_name, VgRtServer *server, const char *first_property, ...)
{
  VgTestAgent *agent = g_new0 (VgTestAgent, 1);
  va_list args;

  GstElement *element = gst_element_factory_make (element_name, NULL);

  gst_object_ref_sink (element);
  g_assert_nonnull (element);
  /* Properties first: the harness may start the element right away. */
  if (server != NULL)
    {
      g_autofree char *url = vg_rt_server_get_url (server);

      g_object_set (element, "url", url, "api-key", "sk-test", NULL);
    }
  if (first_property != NULL)
    {
      va_start (args, first_property);
      g_object_set_valist (G_OBJECT (element), first_property, args);
      va_end (args);
    }
  agent->bus = gst_bus_new ();
  agent->messages = g_ptr_array_new_with_free_func ((GDestroyNotify)gst_message_unref);
  gst_element_set_bus (element, agent->bus);
  agent->h = gst_harness_new_with_element (element, "sink", "src");
  gst_object_unref (element);
  /* The harness starts on a test clock; the elements re-arm their clock
   * wait when the clock changes. */
  gst_harness_use_systemclock (agent->h);
  gst_harness_set_src_caps_str (agent->h, VG_TEST_CAPS);
  gst_harness_play (agent->h);
  return agent;
}

void
vg_test_agent_free (VgTestAgent *agent)
{
  gst_harness_teardown (agent->h);
  gst_bus_set_flushing (agent->bus, TRUE);
  gst_object_unref (agent->bus);
  g_ptr_array_unref (agent->messages);
  g_free (agent);
}

static gboolean
matches (GstMessage *msg, const char *name, const char *field, const char *value)
{
  const GstStructure *s = gst_message_get_structure (msg);

  if (s == NULL || !gst_structure_has_name (s, name))
    return FALSE;
  return field == NULL || g_strcmp0 (gst_structure_get_string (s, field), value) == 0;
}

void
vg_test_agent_poll (VgTestAgent *agent)
{
  GstMessage *msg;

  while ((msg = gst_bus_pop_filtered (agent->bus, GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR)))
    g_ptr_array_add (agent->messages, msg);
}

const GstStructure *
vg_test_agent_wait (VgTestAgent *agent, const char *name, const char *field, const char *value,
                    guint timeout_ms, gboolean from_start)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;
  guint i;

  if (from_start)
    {
      vg_test_agent_poll (agent);
      for (i = 0; i < agent->messages->len; i++)
        if (matches (g_ptr_array_index (agent->messages, i), name, field, value))
          return gst_message_get_structure (g_ptr_array_index (agent->messages, i));
    }
  for (;;)
    {
      gint64 left = deadline - g_get_monotonic_time ();
      GstMessage *msg;

      if (left <= 0)
        return NULL;
      msg = gst_bus_timed_pop_filtered (agent->bus, left * GST_USECOND,
                                        GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR);
      if (msg == NULL)
        return NULL;
      g_ptr_array_add (agent->messages, msg);
      if (matches (msg, name, field, value))
        return gst_message_get_structure (msg);
    }
}

static gboolean
states_in_order (VgTestAgent *agent, const char *const *states)
{
  guint i, j = 0;

  vg_test_agent_poll (agent);
  for (i = 0; i < agent->messages->len && states[j] != NULL; i++)
    if (matches (g_ptr_array_index (agent->messages, i), "realtime-state", "state", states[j]))
      j++;
  return states[j] == NULL;
}

gboolean
vg_test_agent_wait_states (VgTestAgent *agent, const char *const *states, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;

  while (!states_in_order (agent, states))
    {
      gint64 left = deadline - g_get_monotonic_time ();

      if (left <= 0
          || !vg_test_agent_wait (agent, "realtime-state", NULL, NULL, left / 1000 + 1, FALSE))
        return states_in_order (agent, states);
    }
  return TRUE;
}

guint
vg_test_agent_errors (VgTestAgent *agent)
{
  guint i, n = 0;

  vg_test_agent_poll (agent);
  for (i = 0; i < agent->messages->len; i++)
    if (GST_MESSAGE_TYPE (g_ptr_array_index (agent->messages, i)) == GST_MESSAGE_ERROR)
      n++;
  return n;
}

guint
vg_test_pull_audio (GstHarness *h, guint audio_ms, guint timeout_ms, gint64 *first_us,
                    gint64 *last_us)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;
  guint got = 0;

  while (got < audio_ms && g_get_monotonic_time () < deadline)
    {
      GstBuffer *buf = gst_harness_try_pull (h);

      if (buf == NULL)
        {
          g_usleep (5000);
          continue;
        }
      if (!GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP))
        {
          if (first_us && got == 0)
            *first_us = g_get_monotonic_time ();
          got += GST_BUFFER_DURATION (buf) / GST_MSECOND;
          if (last_us)
            *last_us = g_get_monotonic_time ();
        }
      gst_buffer_unref (buf);
    }
  return got;
}

typedef struct
{
  GFunc func;
  gpointer data;
  GAsyncQueue *done; /* gets one item when func returned */
} Elsewhere;

static gpointer
elsewhere_main (gpointer data)
{
  Elsewhere *e = data;

  e->func (e->data, NULL);
  g_async_queue_push (e->done, GINT_TO_POINTER (1));
  return NULL;
}

gboolean
vg_test_run_elsewhere (GFunc func, gpointer data, guint timeout_ms)
{
  Elsewhere *e = g_new0 (Elsewhere, 1);
  GThread *thread;

  e->func = func;
  e->data = data;
  e->done = g_async_queue_new ();
  thread = g_thread_new ("test-elsewhere", elsewhere_main, e);
  if (g_async_queue_timeout_pop (e->done, (guint64)timeout_ms * 1000) == NULL)
    return FALSE; /* e is the stuck thread's */
  g_thread_join (thread);
  g_async_queue_unref (e->done);
  g_free (e);
  return TRUE;
}

void
vg_test_drain_output (GstHarness *h)
{
  GstBuffer *buf;

  while ((buf = gst_harness_try_pull (h)) != NULL)
    gst_buffer_unref (buf);
}

void
vg_test_count_events (GstHarness *h, guint *flush_start, guint *flush_stop, guint *segment)
{
  GstEvent *ev;

  while ((ev = gst_harness_try_pull_event (h)) != NULL)
    {
      if (GST_EVENT_TYPE (ev) == GST_EVENT_FLUSH_START)
        (*flush_start)++;
      else if (GST_EVENT_TYPE (ev) == GST_EVENT_FLUSH_STOP)
        (*flush_stop)++;
      else if (GST_EVENT_TYPE (ev) == GST_EVENT_SEGMENT)
        (*segment)++;
      gst_event_unref (ev);
    }
}

void
vg_rt_fixture_server (VgRtFixture *f, const VgRtServerOptions *opt)
{
  g_autoptr (GError) error = NULL;

  f->server = vg_rt_server_new (opt, &error);
  g_assert_no_error (error);
}

void
vg_rt_fixture_setup (VgRtFixture *f, gconstpointer data)
{
  VgRtServerOptions opt = { .seed = 42 };

  vg_rt_fixture_server (f, &opt);
}

void
vg_rt_fixture_teardown (VgRtFixture *f, gconstpointer data)
{
  if (f->agent)
    vg_test_agent_free (f->agent);
  vg_rt_server_free (f->server);
}

gboolean
vg_rt_logged (VgRtServer *server, const char *type, guint nth, guint timeout_ms)
{
  JsonObject *o = vg_rt_server_wait (server, type, nth, timeout_ms);

  if (o == NULL)
    return FALSE;
  json_object_unref (o);
  return TRUE;
}

void
vg_rt_fixture_push_turn (VgRtFixture *f)
{
  vg_test_push_tone (f->agent->h, VG_TEST_TURN_SPEECH_MS);
  vg_test_push_silence (f->agent->h, VG_TEST_TURN_SILENCE_MS);
}
