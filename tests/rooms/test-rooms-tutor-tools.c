/* The tutor's tools in a room (tutor.pipeline, the fake Realtime server, a
 * real store): the session declares the tools with their schemas, and each
 * scripted function call, valid or not, is answered through the rooms'
 * agent hooks and the tutor: the output reaches the server as a
 * function_call_output item, the learner's "events" channel gets the tool
 * event with the result, and the store holds the assessment (in the session
 * end_session summarized) and, through the conversation recorder, each call
 * as a tool message with its result. switch_subtopic sends the instructions
 * recomposed for the new subtopic (with the token's name for the learner)
 * and moves the conversation and the room, so later examples and
 * assessments are the new subtopic's; after end_session the goodbye plays,
 * then the learner leaves and its conversation is completed. An operator's
 * HTTP tool that takes 2 s stalls neither the learner's audio to the model
 * nor the tutor's to the learner, nor the main context. */
#include "rooms-fixture.h"
#include "store-fixture.h"
#include "tutor-test-env.h"
#include "gateway/subscribers/conversation-recorder.h"
#include "gateway/tutor/tutor.h"
#include "gateway/tutor/tutor-http-tools.h"
#include "gateway/tutor-rooms/tutor-rooms.h"
#include "vg-build-config.h"
#include "vg-rt-server.h"
#include <libsoup/soup.h>
#include <string.h>
#include "soup-listen.h"

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

#define BASE_INSTRUCTIONS "You are a patient tutor."
#define TOKEN_NAME "Ada Token"
#define PROFILE_NAME "Profile Name"

/* A room as the gateway runs it: tutor.pipeline on the fake Realtime
 * server, a registry made by vg_rooms_new (so its events reach the
 * conversation recorder), its agents bound to the tutor (gateway/
 * tutor-rooms) with the HTTP tools given, one learner whose token names it
 * TOKEN_NAME, connected with its events channel open. */
typedef struct
{
  VgTutorTestEnv env;
  VgRecorder *recorder;
  VgRoomsFixture f;
  VgTutor *tutor;
  VgTutorRooms *binding;
  VgTestClient *client;
  gint64 started_us; /* when the client started (and its microphone) */
} TutorRoom;

static gboolean
have_openairealtime (void)
{
  GstElementFactory *factory = gst_element_factory_find ("openairealtime");
  if (!factory)
    return FALSE;
  gst_object_unref (factory);
  return TRUE;
}

static void
tutor_room_init (TutorRoom *t, const VgRtServerOptions *server_options,
                 VgTutorHttpTools *http_tools, const VgTestClientOptions *client_options,
                 guint answer_delay_ms)
{
  g_autoptr (GError) error = NULL;
  vg_tutor_test_env_init (&t->env, server_options, BASE_INSTRUCTIONS);
  t->recorder = vg_recorder_new (t->env.app);
  t->f = (VgRoomsFixture){ .rooms = vg_rooms_new (t->env.app),
                           .kind = VG_PARTICIPANT_PUBLISHER,
                           .display_name = TOKEN_NAME,
                           .answer_delay_ms = answer_delay_ms };
  t->tutor = vg_tutor_new_with_store (t->env.store);
  vg_tutor_set_http_tools (t->tutor, http_tools);
  t->binding = vg_tutor_rooms_new (t->f.rooms, t->tutor, http_tools);
  t->f.room = g_strdup ("tutor-tools");
  VgRoomOptions ro = { .empty_timeout_s = -1, .subtopic_id = t->env.fractions };
  g_assert_nonnull (vg_rooms_create (t->f.rooms, t->f.room, &ro, &error));
  g_assert_no_error (error);
  t->client = vg_rooms_fixture_client (&t->f, "learner", client_options);
  t->started_us = g_get_monotonic_time ();
  g_assert_true (vg_test_client_start (t->client, &error));
  g_assert_true (vg_test_client_wait_connected (t->client, 10000));
  g_assert_true (vg_test_client_wait_channel_open (t->client, 5000));
  /* The room answers client events once it has greeted the channel. */
  g_autofree char *session = vg_test_client_wait_event (t->client, "session", NULL, NULL, 5000);
  g_assert_nonnull (session);
}

static void
tutor_room_clear (TutorRoom *t)
{
  vg_test_client_free (t->client);
  vg_tutor_rooms_free (t->binding);
  vg_rooms_free (t->f.rooms);
  g_free (t->f.room);
  vg_tutor_free (t->tutor);
  vg_recorder_free (t->recorder);
  vg_tutor_test_env_clear (&t->env);
}

/* The agent's response to the next scripted call: respond, not typed text:
 * text would cancel the spoken answer to the previous call, and a cancel
 * can cross that answer's end. */
static void
agent_respond (TutorRoom *t, const char *instructions)
{
  g_signal_emit_by_name (vg_room_get_agent (vg_rooms_lookup (t->f.rooms, t->f.room)), "respond",
                         instructions);
}

static void
test_tools (void)
{
  if (!have_openairealtime ())
    {
      g_test_skip ("openairealtime is not built (plugins/)");
      return;
    }
  TutorRoom t;
  VgRtServerOptions o = { .api_key = "test-key", .response_audio_ms = 200, .quiet = TRUE };
  VgTestClientOptions co = { .data_channel = TRUE };
  tutor_room_init (&t, &o, NULL, &co, 0);
  VgRtServer *server = t.env.server;
  VgStore *store = t.env.store;
  VgTestClient *c = t.client;
  gint64 fractions = t.env.fractions,
         percentages = vg_test_store_subtopic_id (store, "Percentages");

  /* The session declared the tools with their schemas: exactly the tutor's
   * declaration. */
  g_autoptr (JsonObject) update = wait_server_event (server, "session.update", 0, 5000);
  g_assert_nonnull (update);
  JsonNode *declared_node
      = json_object_get_member (json_object_get_object_member (update, "session"), "tools");
  g_assert_nonnull (declared_node);
  g_autoptr (JsonNode) tutor_tools = json_from_string (vg_tutor_tools_json (), NULL);
  g_assert_true (json_node_equal (declared_node, tutor_tools));
  JsonArray *declared = json_node_get_array (declared_node);
  g_assert_cmpuint (json_array_get_length (declared), ==, 5);
  JsonObject *check = json_array_get_object_element (declared, 0);
  g_assert_cmpstr (json_object_get_string_member (check, "name"), ==, "check_understanding");
  g_assert_true (json_object_has_member (
      json_object_get_object_member (json_object_get_object_member (check, "parameters"),
                                     "properties"),
      "level"));

  /* The learner renamed themself in their profile since joining (the data
   * API can): the session keeps the name the token gave it. */
  g_assert_true (vg_store_flush (store, 20 * G_USEC_PER_SEC));
  g_assert_true (vg_store_profile_touch (store, "learner", PROFILE_NAME, NULL));

  /* Each call, then what must come of it: a fragment of the result. Until
   * the switch the room teaches Fractions, then Percentages. */
  const char *const calls[][3] = {
    { "check_understanding",
      "{\"concept\":\"common denominators\",\"level\":\"developing\",\"evidence\":\"found 12\"}",
      "\"level_name\":\"developing\"" },
    { "check_understanding", "{\"concept\":\"common denominators\",\"level\":\"genius\"}",
      "\"level\\\" must be" },
    { "check_understanding", "{not json", "not JSON" },
    { "provide_example", "{\"concept\":\"adding fractions\"}", "7/12" },
    { "provide_example", "{\"concept\":\"percent change\"}", "known_concepts" },
    { "provide_example", "{\"concept\":\"adding fractions\",\"difficulty\":\"impossible\"}",
      "\"difficulty\\\" must be" },
    { "get_learner_progress", "{}", "\"concept\":\"common denominators\"" },
    /* Nobody reads another learner's progress through the model. */
    { "get_learner_progress", "{\"identity\":\"someone-else\"}", "unknown argument" },
    { "teleport", "{}", "unknown tool" },
    { "switch_subtopic", "{\"subtopic\":\"Astrology\"}", "known_subtopics" },
    { "switch_subtopic", "{\"subtopic\":true}", "\"subtopic\\\" is required" },
    { "switch_subtopic", "{\"subtopic\":\"Percentages\"}", "\"name\":\"Percentages\"" },
    { "provide_example", "{\"concept\":\"percent change\",\"difficulty\":\"hard\"}",
      "\"concept\":\"percent change\"" },
    { "provide_example", "{\"concept\":\"adding fractions\"}", "known_concepts" },
    { "check_understanding",
      "{\"concept\":\"percent change\",\"level\":\"emerging\",\"evidence\":\"divided by 65\"}",
      "\"level_name\":\"emerging\"" },
    { "end_session", "{\"summary\":42}", "\"summary\\\" must be a string" },
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
      agent_respond (&t, "go on");

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
   * composed for Percentages, naming the learner as their token did. */
  gboolean switched = FALSE;
  for (guint n = updates_before_switch; !switched; n++)
    {
      g_autoptr (JsonObject) u = wait_server_event (server, "session.update", n, 5000);
      g_assert_nonnull (u);
      const char *instructions = json_object_get_string_member_with_default (
          json_object_get_object_member (u, "session"), "instructions", "");
      switched = strstr (instructions, "Percentages") != NULL;
      if (switched)
        {
          g_assert_nonnull (strstr (instructions, BASE_INSTRUCTIONS));
          g_assert_nonnull (strstr (instructions, TOKEN_NAME));
          g_assert_null (strstr (instructions, PROFILE_NAME));
        }
    }
  /* The room moved too: its events and a rejoin's conversation carry it. */
  g_assert_cmpint (vg_room_get_subtopic_id (vg_rooms_lookup (t.f.rooms, t.f.room)), ==,
                   percentages);

  /* After end_session the goodbye plays, then the learner is removed (well
   * before the 15 s fallback) and its conversation completed. */
  g_assert_true (vg_test_wait_until (learner_gone, &t.f, 10000));
  g_assert_true (vg_test_wait_until (conversation_completed, store, 10000));
  g_assert_true (vg_store_flush (store, 20 * G_USEC_PER_SEC));
  g_autoptr (JsonArray) conv = vg_test_store_sql (
      t.env.url, t.env.dir, "SELECT subtopic_id, status, summary FROM conversations", NULL, 0);
  g_assert_cmpuint (json_array_get_length (conv), ==, 1);
  JsonObject *cr = json_array_get_object_element (conv, 0);
  g_assert_cmpint (json_object_get_int_member (cr, "subtopic_id"), ==, percentages);
  g_assert_cmpstr (json_object_get_string_member (cr, "status"), ==, "completed");
  g_assert_cmpstr (json_object_get_string_member (cr, "summary"), ==,
                   "Common denominators: developing.");

  /* Two assessments, the valid calls', with the room's learner and the
   * subtopic taught when each was made. */
  g_autoptr (JsonArray) rows = vg_test_store_sql (
      t.env.url, t.env.dir,
      "SELECT a.identity, a.subtopic_id, a.concept, a.level, c.summary FROM assessments a "
      "JOIN conversations c ON c.id = a.conversation_id ORDER BY a.concept",
      NULL, 0);
  g_assert_cmpuint (json_array_get_length (rows), ==, 2);
  const struct
  {
    gint64 subtopic;
    const char *concept;
    gint64 level;
  } expect[] = { { fractions, "common denominators", 2 }, { percentages, "percent change", 1 } };
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++)
    {
      JsonObject *r = json_array_get_object_element (rows, i);
      g_assert_cmpstr (json_object_get_string_member (r, "identity"), ==, "learner");
      g_assert_cmpint (json_object_get_int_member (r, "subtopic_id"), ==, expect[i].subtopic);
      g_assert_cmpstr (json_object_get_string_member (r, "concept"), ==, expect[i].concept);
      g_assert_cmpint (json_object_get_int_member (r, "level"), ==, expect[i].level);
      /* The assessment belongs to the session that end_session summarized. */
      g_assert_cmpstr (json_object_get_string_member (r, "summary"), ==,
                       "Common denominators: developing.");
    }

  /* The recorder stored each call once, with the result the agent got. */
  g_autoptr (JsonArray) tools = vg_test_store_sql (
      t.env.url, t.env.dir,
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
  tutor_room_clear (&t);
}

/* ---- a slow operator tool ---- */

#define SLOW_TOOL_MS 2000
#define STALL_BOUND_MS (SLOW_TOOL_MS / 4)
/* What the learner sends (the agent appends it at 24 kHz, 16 bit mono). */
#define APPEND_BYTES_PER_S 48000.0

/* The operator's tool server, on a thread and context of its own (as
 * another process would be): it answers after SLOW_TOOL_MS, and notes the
 * room the gateway named. */
typedef struct
{
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  SoupServer *server;
  guint port;
  GMutex lock;
  char *room;
} SlowTool;

static gboolean
slow_tool_reply (gpointer data)
{
  SoupServerMessage *msg = data;
  static const char body[] = "{\"looked_up\":true}";
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, body,
                                    sizeof body - 1);
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_unpause (msg);
  g_object_unref (msg);
  return G_SOURCE_REMOVE;
}

static void
slow_tool_handle (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                  gpointer data)
{
  SlowTool *tool = data;
  g_mutex_lock (&tool->lock);
  g_free (tool->room);
  tool->room = g_strdup (soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "X-Voxgate-Room"));
  g_mutex_unlock (&tool->lock);
  soup_server_message_pause (msg);
  GSource *later = g_timeout_source_new (SLOW_TOOL_MS);
  g_source_set_callback (later, slow_tool_reply, g_object_ref (msg), NULL);
  g_source_attach (later, tool->context);
  g_source_unref (later);
}

static gpointer
slow_tool_thread (gpointer data)
{
  SlowTool *tool = data;
  g_main_context_push_thread_default (tool->context);
  g_main_loop_run (tool->loop);
  g_main_context_pop_thread_default (tool->context);
  return NULL;
}

static void
slow_tool_start (SlowTool *tool)
{
  g_autoptr (GError) error = NULL;
  g_mutex_init (&tool->lock);
  tool->context = g_main_context_new ();
  tool->loop = g_main_loop_new (tool->context, FALSE);
  /* The server belongs to the context that is thread default when it is made. */
  g_main_context_push_thread_default (tool->context);
  tool->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (tool->server, NULL, slow_tool_handle, tool, NULL);
  tool->port = vg_test_soup_listen_local (tool->server, 0, &error);
  g_assert_no_error (error);
  g_main_context_pop_thread_default (tool->context);
  tool->thread = g_thread_new ("slow-tool", slow_tool_thread, tool);
}

static void
slow_tool_stop (SlowTool *tool)
{
  g_main_loop_quit (tool->loop);
  g_thread_join (tool->thread);
  g_main_context_push_thread_default (tool->context);
  g_object_unref (tool->server);
  while (g_main_context_iteration (tool->context, FALSE))
    ;
  g_main_context_pop_thread_default (tool->context);
  g_main_loop_unref (tool->loop);
  g_main_context_unref (tool->context);
  g_mutex_clear (&tool->lock);
  g_free (tool->room);
}

/* Over the log entries between from_us and to_us: the learner's audio the
 * agent appended (bytes) and the longest time without an append (ms),
 * counting the window's edges. */
static void
appends_between (VgRtServer *server, gint64 from_us, gint64 to_us, guint64 *bytes,
                 double *longest_gap_ms)
{
  GPtrArray *log = vg_rt_server_get_log (server);
  gint64 last = from_us, gap = 0;
  *bytes = 0;
  for (guint i = 0; i < log->len; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (log, i);
      if (!e->from_client || e->time_us < from_us || e->time_us > to_us
          || strcmp (e->type, "input_audio_buffer.append") != 0)
        continue;
      *bytes += (guint64)json_object_get_int_member (e->event, "audio_bytes");
      gap = MAX (gap, e->time_us - last);
      last = e->time_us;
    }
  gap = MAX (gap, to_us - last);
  g_ptr_array_unref (log);
  *longest_gap_ms = gap / 1000.0;
}

/* The server's time of the first entry of type (a server event when
 * from_client is FALSE) at or after index from; 0 when none. */
static gint64
logged_at (VgRtServer *server, const char *type, gboolean from_client, guint *index)
{
  GPtrArray *log = vg_rt_server_get_log (server);
  gint64 at = 0;
  for (guint i = *index; i < log->len && !at; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (log, i);
      if (e->from_client == from_client && strcmp (e->type, type) == 0)
        {
          at = e->time_us;
          *index = i;
        }
    }
  g_ptr_array_unref (log);
  return at;
}

/* The server's time of the client's first function_call_output item at or
 * after index; 0 when none. Other items (the learner's typed text, a
 * conversation replayed after a reconnect) are not the tool's answer. */
static gint64
output_logged_at (VgRtServer *server, guint *index)
{
  GPtrArray *log = vg_rt_server_get_log (server);
  gint64 at = 0;
  for (guint i = *index; i < log->len && !at; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (log, i);
      if (!e->from_client || strcmp (e->type, "conversation.item.create") != 0
          || !json_object_has_member (e->event, "item"))
        continue;
      JsonObject *item = json_object_get_object_member (e->event, "item");
      if (g_strcmp0 (json_object_get_string_member_with_default (item, "type", NULL),
                     "function_call_output")
          == 0)
        {
          at = e->time_us;
          *index = i;
        }
    }
  g_ptr_array_unref (log);
  return at;
}

/* The main context's pulse: the longest time between two ticks of a 10 ms
 * timer (the rooms, the hooks and the tutor's answers run there). */
typedef struct
{
  gint64 last_us, longest_us;
} Pulse;

static gboolean
pulse_tick (gpointer data)
{
  Pulse *p = data;
  gint64 now = g_get_monotonic_time ();
  if (p->last_us)
    p->longest_us = MAX (p->longest_us, now - p->last_us);
  p->last_us = now;
  return G_SOURCE_CONTINUE;
}

static gboolean
hearing_agent (gpointer data)
{
  return vg_test_client_tone_level (data, 330, 60) > 0.05;
}

/* The learner's audio reaches the server steadily: at least 0.8 s of it
 * appended over the last second, with no gap of a third of it. The amount
 * alone is not flow: the peer's connect-time backlog comes as a burst of
 * appends (1.6 s of them in a clean-clone CI run) and, when it ran ahead of
 * the clock, none for as long after it (rx-timeline.h); a tool call made in
 * that pause measured the pause. */
static gboolean
learner_audio_flowing (gpointer data)
{
  gint64 now = g_get_monotonic_time ();
  guint64 bytes;
  double gap_ms;
  appends_between (data, now - G_USEC_PER_SEC, now, &bytes, &gap_ms);
  return bytes >= 0.8 * APPEND_BYTES_PER_S && gap_ms < 1000.0 / 3;
}

/* An operator's tool that takes SLOW_TOOL_MS stalls nothing: while it runs,
 * the learner's audio keeps reaching the Realtime server at real-time rate
 * and the tutor's reply already under way keeps playing to the learner
 * without a gap. */
static void
test_slow_http_tool (void)
{
  if (!have_openairealtime ())
    {
      g_test_skip ("openairealtime is not built (plugins/)");
      return;
    }
  SlowTool tool = { 0 };
  g_autoptr (GError) error = NULL;
  slow_tool_start (&tool);
  g_autofree char *file = g_strdup_printf (
      "[{\"name\":\"slow_lookup\",\"description\":\"Looks something up, slowly.\","
      "\"parameters\":{\"type\":\"object\",\"properties\":{}},"
      "\"url\":\"http://127.0.0.1:%u/lookup\",\"timeout_ms\":%u}]",
      tool.port, SLOW_TOOL_MS * 3);
  VgTutorHttpTools *http_tools = vg_tutor_http_tools_parse (file, strlen (file), &error);
  g_assert_no_error (error);
  vg_tutor_http_tools_set_signer (http_tools, "test-key", "test-secret-test-secret-test-secret");

  /* Not quiet: the server logs each append with its size. The learner
   * speaks a tone all along, which the server's VAD is told to ignore, so
   * no turn interrupts the tutor. */
  TutorRoom t;
  VgRtServerOptions o
      = { .api_key = "test-key", .response_audio_ms = 200, .vad_rms_threshold = 0.99 };
  VgTestClientOptions co = { .data_channel = TRUE, .tone_hz = 440 };
  tutor_room_init (&t, &o, http_tools, &co, 0);
  VgRtServer *server = t.env.server;

  /* The session declares the operator's tool after the built-in ones, with
   * its schema and without its URL. */
  g_autoptr (JsonObject) update = wait_server_event (server, "session.update", 0, 5000);
  g_assert_nonnull (update);
  JsonArray *declared
      = json_object_get_array_member (json_object_get_object_member (update, "session"), "tools");
  g_assert_cmpuint (json_array_get_length (declared), ==, 6);
  JsonObject *slow = json_array_get_object_element (declared, 5);
  g_assert_cmpstr (json_object_get_string_member (slow, "name"), ==, "slow_lookup");
  g_assert_true (json_object_has_member (slow, "parameters"));
  g_assert_false (json_object_has_member (slow, "url"));

  /* The greeting (200 ms) first, then a long reply, sent faster than real
   * time and played out over 6 s: it is playing while the tool runs. (The
   * learner's audio no longer pauses ~1 s after the greeting:
   * /rooms/tutor-tools/learner-audio-from-start.) */
  g_autoptr (JsonObject) greeted = wait_server_event (server, "response.done", 0, 10000);
  g_assert_nonnull (greeted);
  vg_rt_server_set_response_audio_ms (server, 6000);
  agent_respond (&t, "tell a long story");
  g_autoptr (JsonObject) told = wait_server_event (server, "response.done", 1, 10000);
  g_assert_nonnull (told);
  g_assert_true (vg_test_wait_until (hearing_agent, t.client, 5000));
  /* What is measured is whether the call stops audio that was flowing: on a
   * loaded machine the learner's peer may still be connecting its
   * microphone's stream when the tutor's reply starts. */
  g_assert_true (vg_test_wait_until (learner_audio_flowing, server, 10000));

  /* Now the model calls the slow tool. */
  guint from = 0;
  logged_at (server, "response.done", FALSE, &from);
  vg_rt_server_set_response_audio_ms (server, 300);
  vg_test_client_watch_audio (t.client, 0.05);
  Pulse pulse = { 0 };
  guint pulse_source = g_timeout_add (10, pulse_tick, &pulse);
  vg_rt_server_script_function_call (server, "slow_lookup", "{}");
  agent_respond (&t, "look it up");
  g_autofree char *event
      = vg_test_client_wait_event (t.client, "tool", "name", "slow_lookup", SLOW_TOOL_MS + 8000);
  VgTestAudioWatch heard;
  vg_test_client_get_audio_watch (t.client, &heard);
  vg_test_client_watch_audio (t.client, 0);
  g_source_remove (pulse_source);
  if (!event)
    dump_server_log (server);
  g_assert_nonnull (event);
  g_assert_nonnull (strstr (event, "\"looked_up\":true"));
  g_mutex_lock (&tool.lock);
  g_assert_cmpstr (tool.room, ==, t.f.room);
  g_mutex_unlock (&tool.lock);

  /* The call, as the server saw it: from the arguments to the output. */
  gint64 called_us = logged_at (server, "response.function_call_arguments.done", FALSE, &from);
  gint64 answered_us = output_logged_at (server, &from);
  g_assert_cmpint (called_us, >, 0);
  g_assert_cmpint (answered_us, >, called_us);
  double call_ms = (answered_us - called_us) / 1000.0;
  guint64 bytes;
  double append_gap_ms;
  appends_between (server, called_us, answered_us, &bytes, &append_gap_ms);
  double rate = bytes / (call_ms / 1000.0) / APPEND_BYTES_PER_S;
  if (rate <= 0.75 || append_gap_ms >= STALL_BOUND_MS)
    dump_server_log (server);
  g_test_message (
      "slow tool: %.0f ms at the server; learner audio appended meanwhile at %.2fx "
      "real time, longest gap between appends %.0f ms; the learner heard %" G_GUINT64_FORMAT
      " buffers, longest quiet run %.0f ms, longest interval %.0f ms; the main "
      "context's longest pause %.0f ms",
      call_ms, rate, append_gap_ms, heard.buffers, heard.longest_quiet_ms,
      heard.longest_interval_ms, pulse.longest_us / 1000.0);
  /* The tool really was slow... */
  g_assert_cmpfloat (call_ms, >=, SLOW_TOOL_MS - 50);
  /* ...and the learner's audio kept flowing, 100 ms appends on time. A
   * stall would show a gap of the call's length (2 s) and a rate near 0;
   * the bounds (STALL_BOUND_MS, a quarter of the call) leave room for a
   * loaded 2-core machine, where threads alone wait a few hundred ms (idle:
   * gaps of ~100 ms, main context pauses of ~15 ms; under ASan at load 20:
   * 342 ms and 397 ms)... */
  g_assert_cmpfloat (rate, >, 0.75);
  g_assert_cmpfloat (append_gap_ms, <, STALL_BOUND_MS);
  /* ...and so did the tutor's voice, without a quiet 20 ms frame over the
   * call's time... */
  g_assert_cmpfloat (heard.buffers * 20.0, >, 0.9 * call_ms);
  g_assert_cmpfloat (heard.longest_quiet_ms, <, 100);
  g_assert_cmpfloat (heard.longest_interval_ms, <, STALL_BOUND_MS);
  /* ...and the main context ran on (media does not need it, but the room's
   * events, other rooms' tool answers and joins do). */
  g_assert_cmpfloat (pulse.longest_us / 1000.0, <, STALL_BOUND_MS);
  g_assert_cmpuint (vg_rt_server_get_errors (server), ==, 0);

  tutor_room_clear (&t);
  vg_tutor_http_tools_free (http_tools);
  slow_tool_stop (&tool);
}

/* ---- the learner's audio from the first second ---- */

/* The learner's peer holds its microphone's audio until DTLS is up; the
 * answer is delayed this much more, so the backlog is at least that. */
#define BACKLOG_MS 600
/* The measured stretch starts once the backlog is behind: it reached the
 * room at the connection, spread over its own length (the time the peer took
 * to connect), plus this margin; it lasts WINDOW_MS. */
#define BACKLOG_MARGIN_MS 300
#define WINDOW_MS 5000
#define APPEND_GAP_BOUND_MS 300
#define AUDIO_LOST_BOUND_MS 150

/* The learner's audio lost over [from_us, to_us], in ms: how much further the
 * appended audio fell behind wall time by the last second than in the first.
 * Lag at an append = wall time since the window's first append minus the
 * audio appended since. A late append (a busy scheduler) raises the lag
 * until the queued appends catch up; lost audio raises it for good. The
 * smallest lag of each second is taken, where no delay is pending, so
 * neither the 100 ms steps nor a passing stall count. */
static double
audio_lost_ms (VgRtServer *server, gint64 from_us, gint64 to_us)
{
  GPtrArray *log = vg_rt_server_get_log (server);
  gint64 first_us = 0;
  double audio_s = 0, early = G_MAXDOUBLE, late = G_MAXDOUBLE;
  for (guint i = 0; i < log->len; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (log, i);
      if (!e->from_client || e->time_us < from_us || e->time_us > to_us
          || strcmp (e->type, "input_audio_buffer.append") != 0)
        continue;
      if (!first_us)
        first_us = e->time_us;
      else
        audio_s += json_object_get_int_member (e->event, "audio_bytes") / APPEND_BYTES_PER_S;
      double lag_ms = (e->time_us - first_us) / 1000.0 - audio_s * 1000;
      if (e->time_us < from_us + G_USEC_PER_SEC)
        early = MIN (early, lag_ms);
      if (e->time_us > to_us - G_USEC_PER_SEC)
        late = MIN (late, lag_ms);
    }
  g_ptr_array_unref (log);
  g_assert_cmpfloat (early, <, G_MAXDOUBLE);
  g_assert_cmpfloat (late, <, G_MAXDOUBLE);
  return late - early;
}

/* The learner speaks from the start, and its peer (like a GStreamer
 * webrtcbin or aiortc client) queued its microphone while connecting: the
 * first RTP comes as a burst. That stale audio must not cost the fresh
 * audio after it. It did: the jitterbuffer spread the burst ahead of the
 * clock, the agent's mixer laid it end to end and ran ahead by the backlog,
 * and a second later resynchronised to the timestamps, dropping as much
 * of what the learner said while the tutor greeted (the 0.4-0.7 s "append
 * gap" ~1.2 s after the agent first spoke). The appends over the first
 * seconds after the backlog, while the tutor greets, must be continuous
 * and lose nothing. */
static void
test_learner_audio_from_start (void)
{
  if (!have_openairealtime ())
    {
      g_test_skip ("openairealtime is not built (plugins/)");
      return;
    }
  TutorRoom t;
  /* The tone is not speech to the server's VAD: no turn cuts the greeting. */
  VgRtServerOptions o
      = { .api_key = "test-key", .response_audio_ms = 1000, .vad_rms_threshold = 0.99 };
  VgTestClientOptions co = { .data_channel = TRUE, .tone_hz = 440 };
  tutor_room_init (&t, &o, NULL, &co, BACKLOG_MS);
  VgRtServer *server = t.env.server;

  g_autoptr (JsonObject) greeting = wait_server_event (server, "response.created", 0, 10000);
  g_assert_nonnull (greeting);
  double connect_s = vg_test_client_get_connect_seconds (t.client);
  g_assert_cmpfloat (connect_s, >, BACKLOG_MS / 1000.0);
  gint64 connected_us = t.started_us + (gint64)(connect_s * G_USEC_PER_SEC);
  gint64 from_us = connected_us + (gint64)(connect_s * G_USEC_PER_SEC) + BACKLOG_MARGIN_MS * 1000;
  gint64 to_us = from_us + WINDOW_MS * 1000;
  while (g_get_monotonic_time () < to_us + 300 * 1000)
    vg_test_run_for (100);

  guint64 bytes;
  double gap_ms;
  appends_between (server, from_us, to_us, &bytes, &gap_ms);
  g_test_message ("learner's audio over %u ms from %.0f ms after connecting (in %.0f ms, the "
                  "peer's backlog): %.0f ms appended, longest gap between appends %.0f ms",
                  WINDOW_MS, (from_us - connected_us) / 1000.0, connect_s * 1000,
                  bytes / APPEND_BYTES_PER_S * 1000, gap_ms);
  /* A lost stretch shows as a gap of its length without a catch-up (with
   * the backlog above: >= 600 ms); a busy scheduler delays appends by up
   * to ~200 ms at load 20, and they catch up. */
  g_assert_cmpfloat (gap_ms, <, APPEND_GAP_BOUND_MS);
  double lost_ms = audio_lost_ms (server, from_us, to_us);
  g_test_message ("lost %.0f ms", lost_ms);
  g_assert_cmpfloat (lost_ms, <, AUDIO_LOST_BOUND_MS);
  /* Nothing appended twice either: at most one 100 ms append beyond wall time. */
  g_assert_cmpfloat (bytes / APPEND_BYTES_PER_S * 1000, <, WINDOW_MS + 200);
  g_assert_cmpuint (vg_rt_server_get_errors (server), ==, 0);
  tutor_room_clear (&t);
}

/* The Realtime server closes the socket in the middle of an answer: the
 * learner's events channel says the agent is reconnecting, the answer is
 * asked for again and comes, and the conversation record keeps the typed
 * question once, the cut answer (marked truncated) and the full one. */
static void
test_realtime_close_mid_answer (void)
{
  if (!have_openairealtime ())
    {
      g_test_skip ("openairealtime is not built (plugins/)");
      return;
    }
  TutorRoom t;
  VgRtServerOptions o = { .api_key = "test-key", .response_audio_ms = 400 };
  VgTestClientOptions co = { .data_channel = TRUE };
  tutor_room_init (&t, &o, NULL, &co, 0);
  VgRtServer *server = t.env.server;

  /* The greeting first, whole. */
  g_autoptr (JsonObject) greeted = wait_server_event (server, "response.done", 0, 10000);
  g_assert_nonnull (greeted);
  vg_rt_server_set_response_audio_ms (server, 3000);
  vg_rt_server_script_close_mid_response (server);
  g_assert_true (
      vg_test_client_send_event (t.client, "{\"type\":\"text\",\"text\":\"What is a half?\"}"));
  g_autofree char *reconnecting
      = vg_test_client_wait_event (t.client, "agent_state", "state", "reconnecting", 10000);
  g_assert_nonnull (reconnecting);
  /* The second session answers (its response.done is the second logged). */
  g_autoptr (JsonObject) answered = wait_server_event (server, "response.done", 1, 10000);
  g_assert_nonnull (answered);
  g_assert_cmpuint (vg_rt_server_get_sessions (server), ==, 2);

  /* The record: the typed question once, the greeting, the cut answer
   * marked truncated, the full answer. */
  g_assert_true (vg_store_flush (t.env.store, 20 * G_USEC_PER_SEC));
  for (guint i = 0; i < 50; i++)
    {
      g_autoptr (JsonArray) n = vg_test_store_sql (
          t.env.url, t.env.dir, "SELECT COUNT(*) AS n FROM messages WHERE role = 'assistant'", NULL,
          0);
      if (json_object_get_int_member (json_array_get_object_element (n, 0), "n") >= 3)
        break;
      vg_test_run_for (100);
      vg_store_flush (t.env.store, 20 * G_USEC_PER_SEC);
    }
  g_autoptr (JsonArray) rows = vg_test_store_sql (
      t.env.url, t.env.dir,
      "SELECT role, text, CAST(truncated AS integer) AS truncated FROM messages "
      "WHERE role IN ('user', 'assistant') ORDER BY seq",
      NULL, 0);
  guint users = 0, answers = 0, cut = 0;
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *r = json_array_get_object_element (rows, i);
      const char *role = json_object_get_string_member (r, "role");
      g_test_message ("record: %s%s: %s", role,
                      json_object_get_int_member (r, "truncated") ? " (truncated)" : "",
                      json_object_get_string_member (r, "text"));
      if (g_str_equal (role, "user")
          && g_strcmp0 (json_object_get_string_member (r, "text"), "What is a half?") == 0)
        users++;
      else if (g_str_equal (role, "assistant"))
        {
          answers++;
          cut += json_object_get_int_member (r, "truncated") != 0;
        }
    }
  g_assert_cmpuint (users, ==, 1);
  g_assert_cmpuint (answers, ==, 3);
  g_assert_cmpuint (cut, ==, 1);
  /* The second session was told the question and the cut answer. */
  guint replayed = 0;
  g_autoptr (GPtrArray) log = vg_rt_server_get_log (server);
  for (guint i = 0; i < log->len; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (log, i);
      if (e->from_client && e->connection == 2 && g_str_equal (e->type, "conversation.item.create"))
        replayed++;
    }
  g_assert_cmpuint (replayed, >=, 2);
  g_assert_cmpuint (vg_rt_server_get_errors (server), ==, 0);
  tutor_room_clear (&t);
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
  g_test_add_func ("/rooms/tutor-tools/slow-http-tool", test_slow_http_tool);
  g_test_add_func ("/rooms/tutor-tools/learner-audio-from-start", test_learner_audio_from_start);
  g_test_add_func ("/rooms/tutor-tools/without-hooks", test_without_hooks);
  g_test_add_func ("/rooms/tutor-tools/realtime-close-mid-answer", test_realtime_close_mid_answer);
  int status = g_test_run ();
  vg_test_store_teardown ();
  return status;
}
