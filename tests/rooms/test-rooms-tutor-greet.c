/* The tutor speaks first (tutor.pipeline, the fake Realtime server, a real
 * SQLite store, the agents bound to the tutor): when a learner's
 * audio path is up, the session gets the composed instructions (subtopic
 * and name) and a greeting response is asked for before any user audio is
 * committed, and the learner hears it. The rooms' agents are bound to the
 * tutor as the gateway binds them (gateway/tutor-rooms). The time from the offer leaving the
 * client (the WHIP POST) to the first greeting audio it hears is measured
 * over fresh rooms and printed as a TAP comment. A returning learner's
 * greeting recalls the last session's summary; echo.pipeline (no model)
 * greets with its beep. */
#include "rooms-fixture.h"
#include "store-fixture.h"
#include "tutor-test-env.h"
#include "gateway/tutor/tutor.h"
#include "gateway/tutor-rooms/tutor-rooms.h"
#include "vg-build-config.h"
#include "vg-rt-server.h"
#include <string.h>

#define BASE_INSTRUCTIONS "You are Professor Quill, a patient tutor."

/* A signaller that joins like a WHIP POST whose token names the learner and
 * asks for a subtopic. */
typedef struct
{
  VgRooms *rooms;
  const char *room, *display_name;
  gint64 subtopic_id;
} Signaller;

typedef struct
{
  VgTestClient *client;
  VgTestAnswerFunc reply;
} Pending;

static void
joined (VgParticipant *p, const char *answer, const GError *error, gpointer data)
{
  Pending *pending = data;
  pending->reply (pending->client, answer, answer ? 201 : 500, error ? error->message : NULL);
  g_free (pending);
}

static void
signal_join (VgTestClient *client, const char *offer, VgTestAnswerFunc reply, gpointer data)
{
  Signaller *s = data;
  g_autoptr (GError) error = NULL;
  VgRoom *room = vg_rooms_lookup_or_create (s->rooms, s->room, &error);
  g_assert_nonnull (room);
  Pending *pending = g_new0 (Pending, 1);
  pending->client = client;
  pending->reply = reply;
  VgJoinRequest req = { .kind = VG_PARTICIPANT_PUBLISHER,
                        .identity = vg_test_client_get_label (client),
                        .name = s->display_name,
                        .offer_sdp = offer,
                        .subtopic_id = s->subtopic_id };
  if (!vg_room_join (room, &req, joined, pending, &error))
    {
      g_free (pending);
      reply (client, NULL, 400, error->message);
    }
}

static gboolean
heard_first_audio (gpointer data)
{
  return vg_test_client_get_first_audio_seconds (data) >= 0;
}

static void
dump_server_log (VgRtServer *server, guint from)
{
  GPtrArray *log = vg_rt_server_get_log (server);
  for (guint i = from; i < log->len; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (log, i);
      g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), e->event);
      g_autofree char *text = json_to_string (node, FALSE);
      g_test_message ("server log: %s %s %.300s", e->from_client ? "<-" : "->", e->type, text);
    }
  g_ptr_array_unref (log);
}

/* What one learner's session sent the server, from log entry `from` on:
 * the instructions of the last session.update that had some, those of the
 * first response.create, and whether user audio was committed before it. */
typedef struct
{
  char *session_instructions, *response_instructions;
  gboolean committed_before_response;
} SessionSeen;

static void
session_seen (VgRtServer *server, guint from, SessionSeen *out)
{
  *out = (SessionSeen){ 0 };
  GPtrArray *log = vg_rt_server_get_log (server);
  gboolean committed = FALSE;
  for (guint i = from; i < log->len && !out->response_instructions; i++)
    {
      VgRtLogEntry *e = g_ptr_array_index (log, i);
      if (strstr (e->type, "input_audio_buffer.commit"))
        committed = TRUE;
      if (!e->from_client)
        continue;
      if (g_str_equal (e->type, "session.update"))
        {
          JsonObject *session = json_object_get_object_member (e->event, "session");
          const char *text
              = session ? json_object_get_string_member_with_default (session, "instructions", NULL)
                        : NULL;
          if (text)
            {
              g_free (out->session_instructions);
              out->session_instructions = g_strdup (text);
            }
        }
      else if (g_str_equal (e->type, "response.create"))
        {
          JsonObject *response = json_object_get_object_member (e->event, "response");
          out->response_instructions = g_strdup (
              response ? json_object_get_string_member_with_default (response, "instructions", "")
                       : "");
          out->committed_before_response = committed;
        }
    }
  g_ptr_array_unref (log);
}

static void
session_seen_clear (SessionSeen *s)
{
  g_free (s->session_instructions);
  g_free (s->response_instructions);
}

typedef struct
{
  VgTutorTestEnv env;
  VgRooms *rooms;
  VgTutor *tutor;
  VgTutorRooms *binding;
} Greeter;

static void
greeter_init (Greeter *g)
{
  /* Replies of 1 s: the greeting is still playing when it is measured. */
  VgRtServerOptions o = { .api_key = "test-key", .response_audio_ms = 1000, .quiet = TRUE };
  vg_tutor_test_env_init (&g->env, &o, BASE_INSTRUCTIONS);
  g->rooms = vg_rooms_new (g->env.app);
  g->tutor = vg_tutor_new_with_store (g->env.store);
  g->binding = vg_tutor_rooms_new (g->rooms, g->tutor, NULL);
}

static void
greeter_clear (Greeter *g)
{
  vg_tutor_rooms_free (g->binding);
  vg_rooms_free (g->rooms);
  vg_tutor_free (g->tutor);
  vg_tutor_test_env_clear (&g->env);
}

static guint
server_log_length (VgRtServer *server)
{
  GPtrArray *log = vg_rt_server_get_log (server);
  guint n = log->len;
  g_ptr_array_unref (log);
  return n;
}

/* One learner joins a fresh room and says nothing: returns the seconds from
 * the offer leaving to the first greeting audio heard, and what the server
 * saw of the session. */
static double
greet_one (Greeter *g, const char *room, const char *identity, const char *display_name,
           SessionSeen *seen)
{
  g_autoptr (GError) error = NULL;
  guint from = server_log_length (g->env.server);
  Signaller s = { g->rooms, room, display_name, g->env.fractions };
  VgTestClient *c = vg_test_client_new (identity, NULL);
  vg_test_client_use_signaller (c, signal_join, &s);
  g_assert_true (vg_test_client_start (c, &error));
  g_assert_true (vg_test_client_wait_connected (c, 10000));
  gboolean heard = vg_test_wait_until (heard_first_audio, c, 5000);
  if (!heard)
    dump_server_log (g->env.server, from);
  g_assert_true (heard);
  double seconds = vg_test_client_get_first_audio_seconds (c);
  session_seen (g->env.server, from, seen);
  vg_test_client_free (c);
  g_assert_true (vg_rooms_delete (g->rooms, room, &error));
  return seconds;
}

static gboolean have_openairealtime (void);

/* The tutor greets first even when the learner speaks from the moment the
 * audio path is up: the greeting's response.create reaches the server before
 * the learner's first turn is committed (which here it is, by server VAD
 * after 400 ms of speech), so the greeting is not an answer to it. */
static void
test_learner_speaks_first (void)
{
  if (!have_openairealtime ())
    {
      g_test_skip ("openairealtime is not built (plugins/)");
      return;
    }
  Greeter g;
  greeter_init (&g);
  g_autoptr (GError) error = NULL;
  Signaller s = { g.rooms, "talkative", "Ada", g.env.fractions };
  VgTestClientOptions co = { .tone_hz = 440 };
  VgTestClient *c = vg_test_client_new ("ada", &co);
  vg_test_client_use_signaller (c, signal_join, &s);
  g_assert_true (vg_test_client_start (c, &error));
  g_assert_true (vg_test_client_wait_connected (c, 10000));
  /* 800 ms: the room may drop up to ~300 ms of what arrives in the burst at
   * connection (rx-timeline.c), and the server's VAD needs more than that
   * left to commit a turn; a greeting delayed 1.5 s still comes too late. */
  vg_test_run_for (800);
  vg_test_client_send_tone (c, 0);
  /* The learner's turn was committed... */
  JsonObject *committed = NULL;
  for (gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
       !committed && g_get_monotonic_time () < end;)
    {
      vg_test_run_for (20);
      committed = vg_rt_server_wait (g.env.server, "input_audio_buffer.committed", 0, 0);
    }
  if (!committed)
    dump_server_log (g.env.server, 0);
  g_assert_nonnull (committed);
  json_object_unref (committed);
  /* ...after the greeting was asked for. */
  SessionSeen seen;
  session_seen (g.env.server, 0, &seen);
  g_assert_nonnull (seen.response_instructions);
  g_assert_nonnull (strstr (seen.response_instructions, "Speak first"));
  g_assert_false (seen.committed_before_response);
  session_seen_clear (&seen);
  vg_test_client_free (c);
  greeter_clear (&g);
}

static gboolean
have_openairealtime (void)
{
  GstElementFactory *factory = gst_element_factory_find ("openairealtime");
  if (!factory)
    return FALSE;
  gst_object_unref (factory);
  return TRUE;
}

static int
compare_seconds (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

#define LEARNERS 5

static void
test_greeting (void)
{
  if (!have_openairealtime ())
    {
      g_test_skip ("openairealtime is not built (plugins/)");
      return;
    }
  Greeter g;
  greeter_init (&g);
  double seconds[LEARNERS];
  GString *all = g_string_new (NULL);
  for (guint i = 0; i < LEARNERS; i++)
    {
      g_autofree char *room = g_strdup_printf ("greet-%u", i);
      g_autofree char *identity = g_strdup_printf ("learner-%u", i);
      g_autofree char *name = g_strdup_printf ("Ada Lovelace %u", i);
      SessionSeen seen;
      seconds[i] = greet_one (&g, room, identity, name, &seen);
      g_string_append_printf (all, " %.0f", seconds[i] * 1000);
      /* The session runs on the composed instructions: the persona, the
       * token's subtopic and the learner's name. */
      g_assert_nonnull (seen.session_instructions);
      g_assert_nonnull (strstr (seen.session_instructions, BASE_INSTRUCTIONS));
      g_assert_nonnull (strstr (seen.session_instructions, "Fractions"));
      g_assert_nonnull (strstr (seen.session_instructions, name));
      /* The first response is the greeting, asked for before any user
       * audio was committed, and it keeps the persona. */
      g_assert_nonnull (seen.response_instructions);
      g_assert_false (seen.committed_before_response);
      g_assert_nonnull (strstr (seen.response_instructions, "Speak first"));
      g_assert_nonnull (strstr (seen.response_instructions, "by the name"));
      g_assert_nonnull (strstr (seen.response_instructions, "Introduce today's subtopic"));
      g_assert_nonnull (strstr (seen.response_instructions, BASE_INSTRUCTIONS));
      session_seen_clear (&seen);
    }
  g_assert_cmpuint (vg_tutor_rooms_get_greetings (g.binding), ==, LEARNERS);
  qsort (seconds, LEARNERS, sizeof seconds[0], compare_seconds);
  /* p95 of 5 is the slowest. */
  g_test_message ("greeting: offer (WHIP POST) to first greeting audio at the client: "
                  "p50 %.0f ms, p95 %.0f ms over %u fresh rooms; all (ms):%s",
                  seconds[LEARNERS / 2] * 1000, seconds[LEARNERS - 1] * 1000, LEARNERS, all->str);
  g_string_free (all, TRUE);
  /* The goal is p95 < 1.5 s; the bound leaves room for a loaded machine. */
  g_assert_cmpfloat (seconds[LEARNERS - 1], <, 5.0);
  greeter_clear (&g);
}

static void
test_returning_learner (void)
{
  if (!have_openairealtime ())
    {
      g_test_skip ("openairealtime is not built (plugins/)");
      return;
    }
  Greeter g;
  greeter_init (&g);
  g_autoptr (GError) error = NULL;
  /* An earlier, finished session on the subtopic, with its summary. */
  g_autofree char *id = vg_store_conversation_start (
      g.env.store, "earlier", "grace", g.env.fractions, "tutor.pipeline", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (vg_store_conversation_set_summary (g.env.store, id,
                                                    "We added 1/3 and 1/4 over twelfths.", &error));
  g_assert_true (vg_store_conversation_end (g.env.store, id, "completed", &error));
  g_assert_true (vg_store_flush (g.env.store, 20 * G_USEC_PER_SEC));

  SessionSeen seen;
  greet_one (&g, "again", "grace", "Grace", &seen);
  g_assert_nonnull (seen.response_instructions);
  g_assert_false (seen.committed_before_response);
  g_assert_nonnull (strstr (seen.response_instructions, "Welcome them back"));
  g_assert_nonnull (strstr (seen.response_instructions, "We added 1/3 and 1/4 over twelfths."));
  session_seen_clear (&seen);
  greeter_clear (&g);
}

/* echo.pipeline speaks no language: the greeting is its beep, heard by the
 * learner before it says anything, through the same hooks (a tutor without
 * a store greets without history). */
static void
test_echo_greeting (void)
{
  if (!vg_rooms_fixture_have_echoagent ())
    {
      g_test_skip ("echoagent is not built (plugins/)");
      return;
    }
  VgRoomsFixture f;
  vg_rooms_fixture_init (&f, NULL, "echo.pipeline", 15000);
  VgTutor *tutor = vg_tutor_new_with_store (NULL);
  VgTutorRooms *binding = vg_tutor_rooms_new (f.rooms, tutor, NULL);
  f.room = g_strdup ("echo-greet");
  g_autoptr (GError) error = NULL;
  VgTestClientOptions co = { .data_channel = TRUE };
  VgTestClient *c = vg_rooms_fixture_client (&f, "learner", &co);
  g_assert_true (vg_test_client_start (c, &error));
  g_assert_true (vg_test_client_wait_connected (c, 10000));
  g_assert_true (vg_test_wait_until (heard_first_audio, c, 5000));
  g_assert_cmpuint (vg_tutor_rooms_get_greetings (binding), ==, 1);
  /* The greeting's transcript was published before the events channel
   * opened: it still arrives, after the session message. */
  g_assert_true (vg_test_client_wait_channel_open (c, 5000));
  g_autofree char *greeting
      = vg_test_client_wait_event (c, "transcript", "role", "assistant", 5000);
  g_assert_nonnull (greeting);
  g_test_message ("echo greeting heard %.0f ms after the offer",
                  vg_test_client_get_first_audio_seconds (c) * 1000);
  vg_test_client_free (c);
  vg_tutor_rooms_free (binding);
  vg_rooms_fixture_clear (&f);
  vg_tutor_free (tutor);
}

typedef struct
{
  char *instructions, *response;
  gboolean freed;
} Composed;

static void
composed (const char *instructions, const char *response, gpointer data)
{
  Composed *c = data;
  c->instructions = g_strdup (instructions);
  c->response = g_strdup (response);
}

static void
composed_done (gpointer data)
{
  ((Composed *)data)->freed = TRUE;
}

static gboolean
composed_freed (gpointer data)
{
  return ((Composed *)data)->freed;
}

/* A load that fails (here an identity the store refuses) still greets, from
 * what there is: the base instructions, the token's name, no history. */
static void
test_failed_load (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *url = vg_test_store_new_url ();
  g_autofree char *dir = vg_test_store_new_dir ();
  VgStore *store = vg_store_open (NULL, url, dir, &error);
  g_assert_no_error (error);
  g_assert_true (vg_store_migrate (store, NULL, &error));
  VgTutor *tutor = vg_tutor_new_with_store (store);
  g_autofree char *identity = g_strnfill (200, 'x');
  VgTutorGreeting greeting
      = { identity, vg_test_store_subtopic_id (store, "Fractions"), "Grace", BASE_INSTRUCTIONS };
  Composed c = { 0 };
  /* The failed load is logged as a warning (structured logging, which
   * g_test_expect_message does not see): not fatal here. */
  GLogLevelFlags fatal = g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
  vg_tutor_greet (tutor, &greeting, composed, &c, composed_done);
  g_assert_true (vg_test_wait_until (composed_freed, &c, 5000));
  g_log_set_always_fatal (fatal);
  g_assert_nonnull (strstr (c.instructions, BASE_INSTRUCTIONS));
  g_assert_nonnull (strstr (c.instructions, "Grace"));
  g_assert_true (g_str_has_prefix (c.response, c.instructions));
  g_assert_nonnull (strstr (c.response, "Speak first"));
  g_assert_null (strstr (c.response, "Welcome them back"));
  g_free (c.instructions);
  g_free (c.response);
  vg_tutor_free (tutor);
  vg_store_close (store);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  vg_test_store_setup (VG_TEST_SQLITE);
  g_test_add_func ("/rooms/tutor-greet/greeting", test_greeting);
  g_test_add_func ("/rooms/tutor-greet/returning-learner", test_returning_learner);
  g_test_add_func ("/rooms/tutor-greet/learner-speaks-first", test_learner_speaks_first);
  g_test_add_func ("/rooms/tutor-greet/echo", test_echo_greeting);
  g_test_add_func ("/rooms/tutor-greet/failed-load", test_failed_load);
  int status = g_test_run ();
  vg_test_store_teardown ();
  return status;
}
