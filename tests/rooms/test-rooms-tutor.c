/* tutor.pipeline against the fake Realtime server (tests/realtime-server):
 * a client's typed text reaches openairealtime (send-text), the agent's
 * state and transcript come back on "events" with its voice, and an
 * interrupt (cancel-response) silences it. */
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
  VgRtServerOptions o = { .api_key = "test-key", .response_audio_ms = 6000, .quiet = TRUE };
  g_autoptr (GError) error = NULL;
  VgRtServer *server = vg_rt_server_new (&o, &error);
  g_assert_no_error (error);
  g_autofree char *url = vg_rt_server_get_url (server);
  g_setenv ("OPENAI_API_KEY", "test-key", TRUE);

  VgRoomsFixture f;
  vg_rooms_fixture_init_agent (&f, "tutor.pipeline", url);
  f.room = g_strdup ("tutor");
  VgTestClientOptions co = { .data_channel = TRUE };
  VgTestClient *c = vg_rooms_fixture_client (&f, "learner", &co);
  g_assert_true (vg_test_client_start (c, &error));
  g_assert_true (vg_test_client_wait_connected (c, 10000));
  g_assert_true (vg_test_client_wait_channel_open (c, 5000));
  g_autofree char *session = vg_test_client_wait_event (c, "session", NULL, NULL, 5000);
  g_assert_nonnull (session);
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

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rooms/tutor/text-and-interrupt", test_text_and_interrupt);
  return g_test_run ();
}
