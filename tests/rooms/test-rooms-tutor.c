/* tutor.pipeline against the fake Realtime server (tests/realtime-server):
 * a client's typed text reaches openairealtime (send-text), the agent's
 * state and transcript come back on "events" with its voice, and an
 * interrupt (cancel-response) silences it; talking over its reply silences
 * it at the listener within a measured time (printed as a TAP comment). */
#include "rooms-fixture.h"
#include "vg-rt-server.h"
#include <string.h>

typedef struct
{
  VgRtServer *server;
  const char *type;
  JsonObject *found;
} ServerWait;

static gboolean
server_logged (gpointer data)
{
  ServerWait *w = data;
  w->found = vg_rt_server_wait (w->server, w->type, 0, 0);
  return w->found != NULL;
}

/* vg_rt_server_wait blocks; the room lives on this thread's main context,
 * so poll while iterating it. */
static JsonObject *
wait_server_event (VgRtServer *server, const char *type, guint timeout_ms)
{
  ServerWait w = { server, type, NULL };
  vg_test_wait_until (server_logged, &w, timeout_ms);
  return w.found;
}

static gboolean
heard_voice (gpointer data)
{
  return vg_test_client_rms (data, 300) > 0.004;
}

/* A tutor room on the fake Realtime server (6 s replies) with one learner
 * whose events channel is open; returns the learner's session message. */
static char *
open_tutor_room (VgRtServer **server, VgRoomsFixture *f, VgTestClient **c)
{
  VgRtServerOptions o = { .api_key = "test-key", .response_audio_ms = 6000, .quiet = TRUE };
  g_autoptr (GError) error = NULL;
  *server = vg_rt_server_new (&o, &error);
  g_assert_no_error (error);
  g_autofree char *url = vg_rt_server_get_url (*server);
  g_setenv ("OPENAI_API_KEY", "test-key", TRUE);

  vg_rooms_fixture_init_agent (f, "tutor.pipeline", url);
  f->room = g_strdup ("tutor");
  VgTestClientOptions co = { .data_channel = TRUE };
  *c = vg_rooms_fixture_client (f, "learner", &co);
  g_assert_true (vg_test_client_start (*c, &error));
  g_assert_true (vg_test_client_wait_connected (*c, 10000));
  g_assert_true (vg_test_client_wait_channel_open (*c, 5000));
  char *session = vg_test_client_wait_event (*c, "session", NULL, NULL, 5000);
  g_assert_nonnull (session);
  return session;
}

static void
test_text_and_interrupt (void)
{
  GstElementFactory *factory = gst_element_factory_find ("openairealtime");
  if (!factory)
    {
      g_test_skip ("openairealtime is not built (plugins/)");
      return;
    }
  gst_object_unref (factory);
  VgRtServer *server;
  VgRoomsFixture f;
  VgTestClient *c;
  g_autofree char *session = open_tutor_room (&server, &f, &c);
  g_assert_nonnull (strstr (session, "\"agent\":\"tutor.pipeline\""));

  g_assert_true (vg_test_client_send_event (c, "{\"type\":\"text\",\"text\":\"hello tutor\"}"));
  JsonObject *item = wait_server_event (server, "conversation.item.create", 5000);
  g_assert_nonnull (item);
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), item);
  g_autofree char *item_text = json_to_string (node, FALSE);
  g_assert_nonnull (strstr (item_text, "hello tutor"));
  json_object_unref (item);

  g_autofree char *speaking
      = vg_test_client_wait_event (c, "agent_state", "state", "speaking", 5000);
  g_assert_nonnull (speaking);
  g_autofree char *transcript
      = vg_test_client_wait_event (c, "transcript", "role", "assistant", 5000);
  g_assert_nonnull (transcript);
  g_assert_true (vg_test_wait_until (heard_voice, c, 5000));

  /* The response lasts 6 s; an interrupt stops it well before. */
  g_assert_true (vg_test_client_send_event (c, "{\"type\":\"interrupt\"}"));
  vg_test_run_for (800);
  double rms = vg_test_client_rms (c, 300);
  g_test_message ("rms after interrupt %.4f", rms);
  g_assert_cmpfloat (rms, <, 0.002);

  /* Barge-in stops one answer, not the tutor: the next one is heard. */
  g_assert_true (vg_test_client_send_event (c, "{\"type\":\"text\",\"text\":\"go on\"}"));
  g_assert_true (vg_test_wait_until (heard_voice, c, 5000));

  vg_test_client_free (c);
  vg_rooms_fixture_clear (&f);
  vg_rt_server_free (server);
}

/* Monotonic time at which the server sent its nth (0-based)
 * input_audio_buffer.speech_started, or 0. */
static gint64
speech_started_us (VgRtServer *server, guint nth)
{
  GPtrArray *log = vg_rt_server_get_log (server);
  gint64 us = 0;
  for (guint i = 0; i < log->len && us == 0; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (log, i);
      if (!e->from_client && strcmp (e->type, "input_audio_buffer.speech_started") == 0
          && nth-- == 0)
        us = e->time_us;
    }
  g_ptr_array_unref (log);
  return us;
}

typedef struct
{
  VgRtServer *server;
  VgTestClient *client;
  guint nth;
} BargeInWait;

static gboolean
barge_in_done (gpointer data)
{
  BargeInWait *w = data;
  return vg_test_client_get_silence_us (w->client) != 0
         && speech_started_us (w->server, w->nth) != 0;
}

static gboolean
loud_voice (gpointer data)
{
  return vg_test_client_rms (data, 100) > 0.05;
}

static int
compare_ms (gconstpointer a, gconstpointer b)
{
  return *(const gint *)a - *(const gint *)b;
}

#define BARGE_INS 5
#define BARGE_IN_WAIT_MS 15000

/* The user talks over the tutor's reply (server VAD): how long after the
 * server's speech_started the listener stops hearing the agent. The path:
 * the WebSocket, the agent dropping its queue, the next 20 ms period,
 * Opus, RTP over loopback and the receiver's 40 ms jitter buffer. Each
 * interrupting turn is answered, and that answer is interrupted next. */
static void
test_barge_in_silence (void)
{
  VgRtServer *server;
  VgRoomsFixture f;
  VgTestClient *c;
  g_autofree char *session = open_tutor_room (&server, &f, &c);
  g_assert_true (vg_test_client_send_event (c, "{\"type\":\"text\",\"text\":\"hello\"}"));

  gint ms[BARGE_INS];
  GString *all = g_string_new (NULL);
  for (guint i = 0; i < BARGE_INS; i++)
    {
      /* The reply (to the text, then to the previous interruption) plays. */
      g_assert_true (vg_test_wait_until (loud_voice, c, 15000));
      vg_test_run_for (300);
      vg_test_client_arm_silence (c, 0.01);
      vg_test_client_send_tone (c, 440);
      BargeInWait w = { server, c, i };
      /* What is measured is the time from speech_started to silence; this
       * only bounds how long the tone may take to reach the server's VAD.
       * 5 s ran out in 2 of 3 clean-clone CI runs with another test beside
       * this one (the first barge-in, seconds after connecting: the
       * learner's audio can pause there under load, docs/RELIABILITY.md). */
      g_assert_true (vg_test_wait_until (barge_in_done, &w, BARGE_IN_WAIT_MS));
      gint64 started = speech_started_us (server, i);
      if (vg_test_client_get_silence_us (c) < started)
        {
          /* A dropout in the reply (a starved machine), not the cut: watch
           * again from now on, which can only overstate the delay. */
          g_test_message ("barge-in %u: dropout before speech_started, measured again", i);
          vg_test_client_arm_silence (c, 0.01);
          g_assert_true (vg_test_wait_until (barge_in_done, &w, BARGE_IN_WAIT_MS));
        }
      ms[i] = (gint)((vg_test_client_get_silence_us (c) - started) / 1000);
      g_string_append_printf (all, " %d", ms[i]);
      /* It stays silent while the user talks, then answers. */
      vg_test_run_for (400);
      g_assert_cmpfloat (vg_test_client_rms (c, 300), <, 0.002);
      vg_test_client_arm_silence (c, 0);
      vg_test_client_send_tone (c, 0);
    }
  qsort (ms, BARGE_INS, sizeof ms[0], compare_ms);
  g_test_message ("barge-in: the receiver hears silence %d ms (p50), %d ms (max) after the "
                  "server's speech_started; all:%s",
                  ms[BARGE_INS / 2], ms[BARGE_INS - 1], all->str);
  g_string_free (all, TRUE);
  /* The goal is < 100 ms (measured: about 40); the bound leaves room for a
   * loaded machine and still catches queued audio being played out. */
  g_assert_cmpint (ms[0], >, 0);
  g_assert_cmpint (ms[BARGE_INS - 1], <, 250);

  vg_test_client_free (c);
  vg_rooms_fixture_clear (&f);
  vg_rt_server_free (server);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rooms/tutor/text-and-interrupt", test_text_and_interrupt);
  g_test_add_func ("/rooms/tutor/barge-in-silence", test_barge_in_silence);
  return g_test_run ();
}
