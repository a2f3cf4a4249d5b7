/* The tutor's tools in a room (tutor.pipeline, the fake Realtime server, a
 * real store): the session declares the tools with their schemas, and each
 * scripted function call, valid or not, is answered through the rooms'
 * agent hooks and the tutor: the output reaches the server as a
 * function_call_output item, the learner's "events" channel gets the tool
 * event with the result, and the store holds the assessment (in the session
 * end_session summarized) and, through the conversation recorder, each call
 * as a tool message with its result. switch_subtopic sends the instructions
 * recomposed for the new subtopic and moves the conversation; after
 * end_session the goodbye plays, then the learner leaves and its
 * conversation is completed. */
#include "rooms-fixture.h"
#include "store-fixture.h"
#include "gateway/subscribers/conversation-recorder.h"
#include "gateway/tutor/tutor.h"
#include "vg-build-config.h"
#include "vg-rt-server.h"
#include <string.h>

/* The composition root's wiring (main.c), on the fixture's registry. */
typedef struct
{
  VgRooms *rooms;
  VgTutor *tutor;
} Wiring;

typedef struct
{
  Wiring *wiring;
  char *room, *call_id, *identity;
} Answer;

static void
answer_free (gpointer data)
{
  Answer *a = data;
  g_free (a->room);
  g_free (a->call_id);
  g_free (a->identity);
  g_free (a);
}

/* As main.c's tool_answered: a switch's instructions go live before the
 * result; after end_session the learner leaves once the goodbye played. */
static void
answered (const VgTutorOutcome *outcome, gpointer data)
{
  Answer *a = data;
  if (outcome->instructions)
    g_assert_true (
        vg_rooms_set_agent_instructions (a->wiring->rooms, a->room, outcome->instructions));
  g_assert_true (
      vg_rooms_answer_tool_call (a->wiring->rooms, a->room, a->call_id, outcome->output_json));
  if (outcome->end_session)
    g_assert_true (vg_rooms_leave_after_reply (a->wiring->rooms, a->room, a->identity, 15000));
}

static void
tool_call (gpointer data, const VgAgentToolCall *call)
{
  Wiring *w = data;
  Answer *a = g_new0 (Answer, 1);
  a->wiring = w;
  a->room = g_strdup (call->room);
  a->call_id = g_strdup (call->call_id);
  a->identity = g_strdup (call->identity);
  VgTutorCall c = { call->identity, call->subtopic_id, call->name, call->arguments,
                    "You are a patient tutor." };
  vg_tutor_call (w->tutor, &c, answered, a, answer_free);
}

static const char *
tools (gpointer data, const char *template_name)
{
  return vg_tutor_tools_json ();
}

static const VgAgentHooks hooks = { .tool_call = tool_call, .tools = tools };

typedef struct
{
  VgRtServer *server;
  const char *type;
  guint nth;
  JsonObject *found;
} ServerWait;

static gboolean
server_logged (gpointer data)
{
  ServerWait *w = data;
  w->found = vg_rt_server_wait (w->server, w->type, w->nth, 0);
  return w->found != NULL;
}

/* The room lives on this thread's context: poll the server's log while
 * iterating it. */
static JsonObject *
wait_server_event (VgRtServer *server, const char *type, guint nth, guint timeout_ms)
{
  ServerWait w = { server, type, nth, NULL };
  vg_test_wait_until (server_logged, &w, timeout_ms);
  return w.found;
}

static void
dump_server_log (VgRtServer *server)
{
  GPtrArray *log = vg_rt_server_get_log (server);
  for (guint i = 0; i < log->len; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (log, i);
      g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), e->event);
      g_autofree char *text = json_to_string (node, FALSE);
      g_test_message ("server log: %s %s %.300s", e->from_client ? "<-" : "->", e->type, text);
    }
  g_ptr_array_unref (log);
}

static int
compare_ms (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* For each call, the server's time from sending function_call_arguments.done
 * to receiving its function_call_output: the agent, the room, the tutor and
 * the WebSocket both ways. Sorted, in ms. */
static GArray *
call_round_trips (VgRtServer *server)
{
  GArray *ms = g_array_new (FALSE, FALSE, sizeof (double));
  GPtrArray *log = vg_rt_server_get_log (server);
  for (guint i = 0; i < log->len; i++)
    {
      VgRtLogEntry *done = g_ptr_array_index (log, i);
      if (done->from_client || strcmp (done->type, "response.function_call_arguments.done") != 0)
        continue;
      const char *call_id = json_object_get_string_member (done->event, "call_id");
      for (guint j = i + 1; j < log->len; j++)
        {
          VgRtLogEntry *e = g_ptr_array_index (log, j);
          JsonObject *item = e->from_client && strcmp (e->type, "conversation.item.create") == 0
                                 ? json_object_get_object_member (e->event, "item")
                                 : NULL;
          if (item
              && g_strcmp0 (json_object_get_string_member_with_default (item, "call_id", NULL),
                            call_id)
                     == 0)
            {
              double d = (e->time_us - done->time_us) / 1000.0;
              g_array_append_val (ms, d);
              break;
            }
        }
    }
  g_ptr_array_unref (log);
  g_array_sort (ms, compare_ms);
  return ms;
}

static JsonObject *
wait_server_event_now (VgRtServer *server, const char *type, guint nth)
{
  return vg_rt_server_wait (server, type, nth, 0);
}

static gboolean
learner_gone (gpointer data)
{
  VgRoomsFixture *f = data;
  VgRoom *room = vg_rooms_lookup (f->rooms, f->room);
  return room && !vg_room_lookup_participant (room, "learner");
}

/* The recorder ends the conversation when the participant leaves. */
static gboolean
conversation_completed (gpointer data)
{
  VgStore *store = data;
  vg_store_flush (store, G_USEC_PER_SEC);
  g_autoptr (GPtrArray) sessions = vg_store_learner_sessions (store, "learner", 0, 5, NULL);
  return sessions && sessions->len == 1
         && g_strcmp0 (((VgLearnerSession *)sessions->pdata[0])->status, "completed") == 0;
}

static gint64
subtopic_named (VgStore *store, const char *name)
{
  g_autoptr (JsonArray) rows = vg_store_query_sync (store, VG_STORE_Q_SUBTOPICS_LIST,
                                                    (const char *[]){ NULL }, 1, NULL, NULL);
  for (guint i = 0; rows && i < json_array_get_length (rows); i++)
    {
      JsonObject *r = json_array_get_object_element (rows, i);
      if (g_str_equal (json_object_get_string_member (r, "name"), name))
        return json_object_get_int_member (r, "id");
    }
  g_error ("no subtopic %s", name);
}

static gint64
fractions_id (VgStore *store)
{
  g_autoptr (JsonArray) rows = vg_store_query_sync (store, VG_STORE_Q_SUBTOPICS_LIST,
                                                    (const char *[]){ NULL }, 1, NULL, NULL);
  for (guint i = 0; rows && i < json_array_get_length (rows); i++)
    {
      JsonObject *r = json_array_get_object_element (rows, i);
      if (g_str_equal (json_object_get_string_member (r, "name"), "Fractions"))
        return json_object_get_int_member (r, "id");
    }
  g_error ("no Fractions subtopic");
}

/* The "result" object of a tool event text. */
static JsonObject *
event_result (const char *event)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_data (parser, event, -1, NULL));
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  JsonNode *result = json_object_get_member (o, "result");
  g_assert_nonnull (result);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (result));
  return json_object_ref (json_node_get_object (result));
}

static void
test_tools (void)
{
  GstElementFactory *factory = gst_element_factory_find ("openairealtime");
  if (!factory)
    {
      g_test_skip ("openairealtime is not built (plugins/)");
      return;
    }
  gst_object_unref (factory);

  g_autoptr (GError) error = NULL;
  g_autofree char *url = vg_test_store_new_url ();
  g_autofree char *dir = vg_test_store_new_dir ();
  VgStore *store = vg_store_open (NULL, url, dir, &error);
  g_assert_no_error (error);
  g_assert_true (vg_store_migrate (store, NULL, &error));
  gint64 fractions = fractions_id (store);

  VgRtServerOptions o = { .api_key = "test-key", .response_audio_ms = 200, .quiet = TRUE };
  VgRtServer *server = vg_rt_server_new (&o, &error);
  g_assert_no_error (error);
  g_autofree char *server_url = vg_rt_server_get_url (server);
  g_setenv ("OPENAI_API_KEY", "test-key", TRUE);

  /* A registry as the gateway makes it (vg_rooms_new), so its events reach
   * the recorder; the fixture's signaller joins through it. */
  VgConfig *cfg = vg_config_new ();
  const char *src = g_getenv ("VOXGATE_SOURCE_DIR");
  g_autofree char *pipelines = g_build_filename (src ? src : VOXGATE_SOURCE_DIR, "pipelines", NULL);
  const char *const overrides[][3] = {
    { "agent", "pipelines_dir", pipelines },
    { "agent", "pipeline", "tutor.pipeline" },
    { "agent", "realtime_url", server_url },
  };
  for (guint i = 0; i < G_N_ELEMENTS (overrides); i++)
    g_assert_true (
        vg_config_set (cfg, overrides[i][0], overrides[i][1], overrides[i][2], "test", &error));
  VgApp *app = vg_app_new (cfg);
  app->store = store;
  VgRecorder *recorder = vg_recorder_new (app);
  VgRoomsFixture f = { .rooms = vg_rooms_new (app), .kind = VG_PARTICIPANT_PUBLISHER };
  Wiring wiring = { f.rooms, vg_tutor_new_with_store (store) };
  vg_rooms_set_agent_hooks (f.rooms, &hooks, &wiring);
  f.room = g_strdup ("tutor-tools");
  VgRoomOptions ro = { .empty_timeout_s = -1, .subtopic_id = fractions };
  g_assert_nonnull (vg_rooms_create (f.rooms, f.room, &ro, &error));
  g_assert_no_error (error);
  VgTestClientOptions co = { .data_channel = TRUE };
  VgTestClient *c = vg_rooms_fixture_client (&f, "learner", &co);
  g_assert_true (vg_test_client_start (c, &error));
  g_assert_true (vg_test_client_wait_connected (c, 10000));
  g_assert_true (vg_test_client_wait_channel_open (c, 5000));
  /* The room answers client events once it has greeted the channel. */
  g_autofree char *session = vg_test_client_wait_event (c, "session", NULL, NULL, 5000);
  g_assert_nonnull (session);

  /* The session declared the tools with their schemas. */
  g_autoptr (JsonObject) update = wait_server_event (server, "session.update", 0, 5000);
  g_assert_nonnull (update);
  JsonArray *declared
      = json_object_get_array_member (json_object_get_object_member (update, "session"), "tools");
  g_assert_cmpuint (json_array_get_length (declared), ==, 5);
  JsonObject *check = json_array_get_object_element (declared, 0);
  g_assert_cmpstr (json_object_get_string_member (check, "name"), ==, "check_understanding");
  g_assert_true (json_object_has_member (
      json_object_get_object_member (json_object_get_object_member (check, "parameters"),
                                     "properties"),
      "level"));

  /* Each call, then what must come of it: a fragment of the result. */
  const char *const calls[][3] = {
    { "check_understanding",
      "{\"concept\":\"common denominators\",\"level\":\"developing\",\"evidence\":\"found 12\"}",
      "\"level_name\":\"developing\"" },
    { "check_understanding", "{\"concept\":\"common denominators\",\"level\":\"genius\"}",
      "\"level\\\" must be" },
    { "check_understanding", "{not json", "not JSON" },
    { "provide_example", "{\"concept\":\"adding fractions\"}", "7/12" },
    { "provide_example", "{\"concept\":\"percent change\"}", "known_concepts" },
    { "get_learner_progress", "{}", "\"concept\":\"common denominators\"" },
    { "teleport", "{}", "unknown tool" },
    { "switch_subtopic", "{\"subtopic\":\"Astrology\"}", "known_subtopics" },
    { "switch_subtopic", "{\"subtopic\":\"Percentages\"}", "\"name\":\"Percentages\"" },
    { "end_session", "{\"summary\":\"Common denominators: developing.\"}", "\"ok\":true" },
  };
  guint outputs = 0;
  guint updates_before_switch = 0;
  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      /* Skip the session.updates before the switch (the greeting's, the first). */
      for (gboolean more = g_str_equal (calls[i][0], "switch_subtopic"); more;)
        {
          g_autoptr (JsonObject) u
              = wait_server_event_now (server, "session.update", updates_before_switch);
          if ((more = u != NULL))
            updates_before_switch++;
        }
      /* get_learner_progress reads what the store has written. */
      g_assert_true (vg_store_flush (store, 20 * G_USEC_PER_SEC));
      vg_rt_server_script_function_call (server, calls[i][0], calls[i][1]);
      /* respond, not typed text: text would cancel the spoken answer to the
       * previous call, and a cancel can cross that answer's end. */
      g_signal_emit_by_name (vg_room_get_agent (vg_rooms_lookup (f.rooms, f.room)), "respond",
                             "go on");

      g_autofree char *event = vg_test_client_wait_event (c, "tool", "name", calls[i][0], 10000);
      if (!event)
        dump_server_log (server);
      g_assert_nonnull (event);
      g_autoptr (JsonObject) result = event_result (event);
      g_assert_nonnull (strstr (event, calls[i][2]));

      /* The same output reached the server, for this call. */
      JsonObject *item = NULL;
      while (!item)
        {
          g_autoptr (JsonObject) created
              = wait_server_event (server, "conversation.item.create", outputs, 5000);
          g_assert_nonnull (created);
          JsonObject *it = json_object_get_object_member (created, "item");
          outputs++;
          if (g_strcmp0 (json_object_get_string_member (it, "type"), "function_call_output") == 0)
            item = json_object_ref (it);
        }
      const char *output = json_object_get_string_member (item, "output");
      g_assert_nonnull (strstr (output, calls[i][2]) ? output : NULL);
      g_assert_cmpuint (json_object_get_member (result, "error") != NULL, ==,
                        strstr (output, "\"error\"") != NULL);
      json_object_unref (item);
    }
  if (vg_rt_server_get_errors (server))
    dump_server_log (server);
  g_assert_cmpuint (vg_rt_server_get_errors (server), ==, 0);
  GArray *trips = call_round_trips (server);
  g_assert_cmpuint (trips->len, ==, G_N_ELEMENTS (calls));
  g_test_message ("tool calls at the server, arguments.done to function_call_output: "
                  "p50 %.1f ms, max %.1f ms",
                  g_array_index (trips, double, trips->len / 2),
                  g_array_index (trips, double, trips->len - 1));
  g_array_unref (trips);

  /* The switch went live: a session.update after it carries instructions
   * composed for Percentages. */
  gboolean switched = FALSE;
  for (guint n = updates_before_switch; !switched; n++)
    {
      g_autoptr (JsonObject) u = wait_server_event (server, "session.update", n, 5000);
      g_assert_nonnull (u);
      const char *instructions = json_object_get_string_member_with_default (
          json_object_get_object_member (u, "session"), "instructions", "");
      switched = strstr (instructions, "Percentages") != NULL;
    }

  /* After end_session the goodbye plays, then the learner is removed (well
   * before the 15 s fallback) and its conversation completed. */
  g_assert_true (vg_test_wait_until (learner_gone, &f, 10000));
  g_assert_true (vg_test_wait_until (conversation_completed, store, 10000));
  g_assert_true (vg_store_flush (store, 20 * G_USEC_PER_SEC));
  g_autoptr (JsonArray) conv = vg_test_store_sql (
      url, dir, "SELECT subtopic_id, status, summary FROM conversations", NULL, 0);
  g_assert_cmpuint (json_array_get_length (conv), ==, 1);
  JsonObject *cr = json_array_get_object_element (conv, 0);
  g_assert_cmpint (json_object_get_int_member (cr, "subtopic_id"), ==,
                   subtopic_named (store, "Percentages"));
  g_assert_cmpstr (json_object_get_string_member (cr, "status"), ==, "completed");
  g_assert_cmpstr (json_object_get_string_member (cr, "summary"), ==,
                   "Common denominators: developing.");

  /* One assessment: the valid call's, with the room's learner and subtopic. */
  g_assert_true (vg_store_flush (store, 20 * G_USEC_PER_SEC));
  g_autoptr (JsonArray) rows = vg_test_store_sql (
      url, dir,
      "SELECT a.identity, a.subtopic_id, a.concept, a.level, c.summary FROM assessments a "
      "JOIN conversations c ON c.id = a.conversation_id",
      NULL, 0);
  g_assert_cmpuint (json_array_get_length (rows), ==, 1);
  JsonObject *r = json_array_get_object_element (rows, 0);
  g_assert_cmpstr (json_object_get_string_member (r, "identity"), ==, "learner");
  g_assert_cmpint (json_object_get_int_member (r, "subtopic_id"), ==, fractions);
  g_assert_cmpint (json_object_get_int_member (r, "level"), ==, 2);
  /* The assessment belongs to the session that end_session summarized. */
  g_assert_cmpstr (json_object_get_string_member (r, "summary"), ==,
                   "Common denominators: developing.");

  /* The recorder stored each call once, with the result the agent got. */
  g_autoptr (JsonArray) tools = vg_test_store_sql (
      url, dir,
      "SELECT tool_name, tool_arguments, tool_result FROM messages WHERE role = 'tool' "
      "ORDER BY seq",
      NULL, 0);
  g_assert_cmpuint (json_array_get_length (tools), ==, G_N_ELEMENTS (calls));
  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      JsonObject *m = json_array_get_object_element (tools, i);
      g_assert_cmpstr (json_object_get_string_member (m, "tool_name"), ==, calls[i][0]);
      g_assert_cmpstr (json_object_get_string_member (m, "tool_arguments"), ==, calls[i][1]);
      const char *stored = json_object_get_string_member_with_default (m, "tool_result", "");
      g_assert_nonnull (strstr (stored, calls[i][2]) ? stored : NULL);
    }

  vg_test_client_free (c);
  vg_rooms_free (f.rooms);
  g_free (f.room);
  vg_tutor_free (wiring.tutor);
  vg_recorder_free (recorder);
  app->store = NULL;
  vg_app_free (app);
  vg_rt_server_free (server);
  vg_store_close (store);
}

/* Without hooks (a gateway without the tutor) a call still gets an answer
 * at once, the "no such tool" error, and the tool event shows no result. */
static void
test_without_hooks (void)
{
  GstElementFactory *factory = gst_element_factory_find ("openairealtime");
  if (!factory)
    {
      g_test_skip ("openairealtime is not built (plugins/)");
      return;
    }
  gst_object_unref (factory);
  g_autoptr (GError) error = NULL;
  VgRtServerOptions o = { .api_key = "test-key", .response_audio_ms = 200, .quiet = TRUE };
  VgRtServer *server = vg_rt_server_new (&o, &error);
  g_assert_no_error (error);
  g_autofree char *server_url = vg_rt_server_get_url (server);
  g_setenv ("OPENAI_API_KEY", "test-key", TRUE);
  VgRoomsFixture f;
  vg_rooms_fixture_init_agent (&f, "tutor.pipeline", server_url);
  f.room = g_strdup ("no-tools");
  VgTestClientOptions co = { .data_channel = TRUE };
  VgTestClient *c = vg_rooms_fixture_client (&f, "learner", &co);
  g_assert_true (vg_test_client_start (c, &error));
  g_assert_true (vg_test_client_wait_connected (c, 10000));
  g_assert_true (vg_test_client_wait_channel_open (c, 5000));
  g_autofree char *session = vg_test_client_wait_event (c, "session", NULL, NULL, 5000);
  g_assert_nonnull (session);

  g_autoptr (JsonObject) update = wait_server_event (server, "session.update", 0, 5000);
  g_assert_nonnull (update);
  JsonNode *declared
      = json_object_get_member (json_object_get_object_member (update, "session"), "tools");
  g_assert_true (!declared || json_array_get_length (json_node_get_array (declared)) == 0);

  vg_rt_server_script_function_call (server, "check_understanding", "{}");
  g_assert_true (vg_test_client_send_event (c, "{\"type\":\"text\",\"text\":\"hi\"}"));
  g_autofree char *event
      = vg_test_client_wait_event (c, "tool", "name", "check_understanding", 10000);
  g_assert_nonnull (event);
  g_assert_nonnull (strstr (event, "\"result\":null"));
  JsonObject *item = NULL;
  for (guint n = 0; !item; n++)
    {
      g_autoptr (JsonObject) created
          = wait_server_event (server, "conversation.item.create", n, 5000);
      g_assert_nonnull (created);
      JsonObject *it = json_object_get_object_member (created, "item");
      if (g_strcmp0 (json_object_get_string_member (it, "type"), "function_call_output") == 0)
        item = json_object_ref (it);
    }
  g_assert_cmpstr (json_object_get_string_member (item, "output"), ==,
                   "{\"error\":\"no such tool on this gateway\"}");
  json_object_unref (item);

  vg_test_client_free (c);
  vg_rooms_fixture_clear (&f);
  vg_rt_server_free (server);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  vg_test_store_setup (VG_TEST_SQLITE);
  g_test_add_func ("/rooms/tutor-tools/calls", test_tools);
  g_test_add_func ("/rooms/tutor-tools/without-hooks", test_without_hooks);
  int status = g_test_run ();
  vg_test_store_teardown ();
  return status;
}
