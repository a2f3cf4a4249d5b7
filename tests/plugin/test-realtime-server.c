/* test-realtime-server.c: the fake Realtime server itself follows
 * docs/REALTIME-PROTOCOL.md: 401, session.created first, strict session.update,
 * refusals the real API gives. A plain libsoup client drives it. */
#include "vg-rt-server.h"

#include <libsoup/soup.h>
#include <string.h>

typedef struct
{
  VgRtServer *server;
  SoupSession *session;
  SoupWebsocketConnection *ws;
  GQueue frames; /* JsonObject */
  guint status;
  gboolean done;
} Fixture;

static void
on_message (SoupWebsocketConnection *ws, gint type, GBytes *msg, gpointer data)
{
  Fixture *f = data;
  JsonNode *node = json_from_string (g_bytes_get_data (msg, NULL), NULL);

  g_queue_push_tail (&f->frames, json_object_ref (json_node_get_object (node)));
  json_node_unref (node);
}

static void
on_connected (GObject *source, GAsyncResult *res, gpointer data)
{
  Fixture *f = data;

  f->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), res, NULL);
  if (f->ws)
    g_signal_connect (f->ws, "message", G_CALLBACK (on_message), f);
  f->done = TRUE;
}

static gboolean
connect_with (Fixture *f, const char *key)
{
  g_autofree char *url = vg_rt_server_get_url (f->server);
  SoupMessage *msg = soup_message_new ("GET", url);

  if (key)
    {
      g_autofree char *auth = g_strconcat ("Bearer ", key, NULL);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
    }
  f->done = FALSE;
  soup_session_websocket_connect_async (f->session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        on_connected, f);
  while (!f->done)
    g_main_context_iteration (NULL, TRUE);
  f->status = soup_message_get_status (msg);
  g_object_unref (msg);
  return f->ws != NULL;
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *)data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Next frame of this type (earlier frames of other types stay queued), or
 * NULL after 3 s. */
static JsonObject *
next_frame (Fixture *f, const char *type)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (3000, timeout_cb, &timed_out);
  GList *l;

  for (;;)
    {
      for (l = f->frames.head; l != NULL; l = l->next)
        if (strcmp (json_object_get_string_member (l->data, "type"), type) == 0)
          {
            JsonObject *o = l->data;

            g_queue_delete_link (&f->frames, l);
            g_source_remove (id);
            return o;
          }
      if (timed_out)
        return NULL;
      g_main_context_iteration (NULL, TRUE);
    }
}

static void
setup (Fixture *f, gconstpointer data)
{
  VgRtServerOptions opt = { .api_key = "sk-test", .response_audio_ms = 200, .seed = 1 };

  f->server = vg_rt_server_new (&opt, NULL);
  g_assert_nonnull (f->server);
  f->session = soup_session_new ();
  g_queue_init (&f->frames);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  if (f->ws)
    {
      soup_websocket_connection_close (f->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_object_unref (f->ws);
    }
  g_queue_clear_full (&f->frames, (GDestroyNotify)json_object_unref);
  g_object_unref (f->session);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  vg_rt_server_free (f->server);
}

static void
expect_error (Fixture *f, const char *code)
{
  g_autoptr (JsonObject) e = next_frame (f, "error");

  g_assert_nonnull (e);
  g_assert_cmpstr (
      json_object_get_string_member (json_object_get_object_member (e, "error"), "code"), ==, code);
}

static void
test_unauthorized (Fixture *f, gconstpointer data)
{
  g_assert_false (connect_with (f, NULL));
  g_assert_cmpuint (f->status, ==, 401);
  g_assert_false (connect_with (f, "sk-wrong"));
  g_assert_cmpuint (f->status, ==, 401);
  g_assert_cmpuint (vg_rt_server_get_sessions (f->server), ==, 0);
}

static void
test_session_update_validation (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) created = NULL, updated = NULL;

  g_assert_true (connect_with (f, "sk-test"));
  created = g_queue_is_empty (&f->frames) ? next_frame (f, "session.created")
                                          : g_queue_pop_head (&f->frames);
  g_assert_cmpstr (json_object_get_string_member (created, "type"), ==, "session.created");
  g_assert_true (
      json_object_has_member (json_object_get_object_member (created, "session"), "expires_at"));
  soup_websocket_connection_send_text (f->ws, "{\"type\":\"session.update\",\"session\":"
                                              "{\"instructions\":\"x\"}}");
  expect_error (f, "missing_required_parameter");
  soup_websocket_connection_send_text (f->ws, "{\"type\":\"session.update\",\"session\":"
                                              "{\"type\":\"realtime\",\"temperature\":0.8}}");
  expect_error (f, "unknown_parameter");
  soup_websocket_connection_send_text (f->ws, "{\"type\":\"session.update\",\"session\":"
                                              "{\"type\":\"realtime\",\"voice\":\"marin\"}}");
  expect_error (f, "unknown_parameter");
  soup_websocket_connection_send_text (
      f->ws,
      "{\"type\":\"session.update\",\"session\":{\"type\":\"realtime\",\"audio\":{\"output\":"
      "{\"voice\":\"cedar\"}}}}");
  updated = next_frame (f, "session.updated");
  g_assert_nonnull (updated);
  g_assert_cmpstr (json_object_get_string_member (
                       json_object_get_object_member (
                           json_object_get_object_member (
                               json_object_get_object_member (updated, "session"), "audio"),
                           "output"),
                       "voice"),
                   ==, "cedar");
  soup_websocket_connection_send_text (f->ws, "not json");
  expect_error (f, "invalid_event");
}

static void
test_response_rules (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) added = NULL, done = NULL, truncated = NULL;
  g_autofree char *msg = NULL;
  const char *item_id;

  g_assert_true (connect_with (f, "sk-test"));
  soup_websocket_connection_send_text (f->ws, "{\"type\":\"response.cancel\"}");
  expect_error (f, "response_cancel_not_active");
  soup_websocket_connection_send_text (f->ws, "{\"type\":\"input_audio_buffer.commit\"}");
  expect_error (f, "input_audio_buffer_commit_empty");
  soup_websocket_connection_send_text (f->ws, "{\"type\":\"response.create\"}");
  soup_websocket_connection_send_text (f->ws, "{\"type\":\"response.create\"}");
  expect_error (f, "conversation_already_has_active_response");
  added = next_frame (f, "response.output_item.added");
  g_assert_nonnull (added);
  item_id = json_object_get_string_member (json_object_get_object_member (added, "item"), "id");
  done = next_frame (f, "response.done");
  g_assert_nonnull (done);
  /* Truncation: integer, within the item's 200 ms of audio. */
  msg = g_strdup_printf ("{\"type\":\"conversation.item.truncate\",\"item_id\":\"%s\","
                         "\"content_index\":0,\"audio_end_ms\":120.5}",
                         item_id);
  soup_websocket_connection_send_text (f->ws, msg);
  expect_error (f, "invalid_type");
  g_free (msg);
  msg = g_strdup_printf ("{\"type\":\"conversation.item.truncate\",\"item_id\":\"%s\","
                         "\"content_index\":0,\"audio_end_ms\":900}",
                         item_id);
  soup_websocket_connection_send_text (f->ws, msg);
  expect_error (f, "invalid_value");
  g_free (msg);
  msg = g_strdup_printf ("{\"type\":\"conversation.item.truncate\",\"item_id\":\"%s\","
                         "\"content_index\":0,\"audio_end_ms\":120}",
                         item_id);
  soup_websocket_connection_send_text (f->ws, msg);
  truncated = next_frame (f, "conversation.item.truncated");
  g_assert_nonnull (truncated);
  g_assert_cmpint (json_object_get_int_member (truncated, "audio_end_ms"), ==, 120);
  g_assert_cmpuint (vg_rt_server_count (f->server, "conversation.item.truncate"), ==, 3);
}

/* response.create with a response object: strict keys, a string
 * instructions, and a reply that says the instructions. */
static void
test_response_instructions (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonObject) done = NULL, transcript = NULL;
  g_autofree char *first = NULL, *second = NULL, *none = NULL;

  g_assert_true (connect_with (f, "sk-test"));
  soup_websocket_connection_send_text (
      f->ws, "{\"type\":\"response.create\",\"response\":{\"temperature\":0.8}}");
  expect_error (f, "unknown_parameter");
  soup_websocket_connection_send_text (
      f->ws, "{\"type\":\"response.create\",\"response\":{\"instructions\":42}}");
  expect_error (f, "invalid_type");
  soup_websocket_connection_send_text (f->ws, "{\"type\":\"response.create\",\"response\":\"hi\"}");
  expect_error (f, "invalid_type");
  none = vg_rt_server_dup_response_instructions (f->server, 0);
  g_assert_null (none);
  soup_websocket_connection_send_text (f->ws,
                                       "{\"type\":\"response.create\",\"response\":{"
                                       "\"instructions\":\"  Hello   Ana, welcome back \"}}");
  transcript = next_frame (f, "response.output_audio_transcript.done");
  g_assert_nonnull (transcript);
  g_assert_cmpstr (json_object_get_string_member (transcript, "transcript"), ==,
                   "Hello Ana, welcome back");
  done = next_frame (f, "response.done");
  g_assert_nonnull (done);
  first = vg_rt_server_dup_response_instructions (f->server, 0);
  g_assert_cmpstr (first, ==, "  Hello   Ana, welcome back ");
  soup_websocket_connection_send_text (f->ws, "{\"type\":\"response.create\"}");
  g_clear_pointer (&done, json_object_unref);
  done = next_frame (f, "response.done");
  g_assert_nonnull (done);
  second = vg_rt_server_dup_response_instructions (f->server, 1);
  g_assert_cmpstr (second, ==, "");
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 3);
}

/* The response's function call, NULL when it spoke instead. */
static char *
next_response_call (Fixture *f, char **arguments)
{
  g_autoptr (JsonObject) added = next_frame (f, "response.output_item.added");
  g_autoptr (JsonObject) done = NULL, args = NULL;
  JsonObject *item;

  g_assert_nonnull (added);
  item = json_object_get_object_member (added, "item");
  done = next_frame (f, "response.done");
  g_assert_nonnull (done);
  if (g_strcmp0 (json_object_get_string_member (item, "type"), "function_call") != 0)
    {
      g_assert_cmpstr (json_object_get_string_member (item, "type"), ==, "message");
      return NULL;
    }
  args = next_frame (f, "response.function_call_arguments.done");
  g_assert_nonnull (args);
  *arguments = g_strdup (json_object_get_string_member (args, "arguments"));
  return g_strdup (json_object_get_string_member (args, "name"));
}

static void
expect_call (Fixture *f, const char *name, const char *arguments)
{
  g_autofree char *args = NULL;
  g_autofree char *called = next_response_call (f, &args);

  g_assert_cmpstr (called, ==, name);
  g_assert_cmpstr (args, ==, arguments);
}

/* A script: bad ones are refused whole; a step fires by the connection's
 * response number or by what the user typed, once per typed message. */
static void
test_script (Fixture *f, gconstpointer data)
{
  static const char *const bad[] = {
    "{}",
    "[1]",
    "[{\"call\":\"x\"}]",
    "[{\"response\":0,\"user_says\":\"a\",\"call\":\"x\"}]",
    "[{\"response\":-1,\"call\":\"x\"}]",
    "[{\"response\":0.5,\"call\":\"x\"}]",
    "[{\"user_says\":\"\",\"call\":\"x\"}]",
    "[{\"response\":0,\"call\":\"bad name\"}]",
    "[{\"response\":0}]",
    "[{\"response\":0,\"call\":\"x\",\"arguments\":3}]",
    "[{\"response\":0,\"call\":\"x\",\"then\":1}]",
    "not json",
  };
  const char *say_check = "{\"type\":\"conversation.item.create\",\"item\":{\"type\":\"message\","
                          "\"role\":\"user\",\"content\":[{\"type\":\"input_text\","
                          "\"text\":\"Please CHECK me now\"}]}}";
  const char *create = "{\"type\":\"response.create\"}";
  g_autofree char *args = NULL, *spoke = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (vg_rt_server_set_script (f->server, bad[i], &error));
      g_assert_nonnull (error);
    }
  g_assert_true (vg_rt_server_set_script (
      f->server,
      "[{\"response\":0,\"call\":\"open_lesson\",\"arguments\":{\"a\":1}},"
      " {\"user_says\":\"check me\",\"call\":\"check_understanding\",\"arguments\":\"not json\"}]",
      NULL));

  g_assert_true (connect_with (f, "sk-test"));
  soup_websocket_connection_send_text (f->ws, create);
  expect_call (f, "open_lesson", "{\"a\":1}");
  soup_websocket_connection_send_text (f->ws, create);
  spoke = next_response_call (f, &args);
  g_assert_null (spoke);
  soup_websocket_connection_send_text (f->ws, say_check);
  soup_websocket_connection_send_text (f->ws, create);
  expect_call (f, "check_understanding", "not json");
  /* The typed message was answered: the next response speaks. */
  soup_websocket_connection_send_text (f->ws, create);
  spoke = next_response_call (f, &args);
  g_assert_null (spoke);

  /* Response numbers count per connection. */
  soup_websocket_connection_close (f->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_clear_object (&f->ws);
  g_queue_clear_full (&f->frames, (GDestroyNotify)json_object_unref);
  g_assert_true (connect_with (f, "sk-test"));
  soup_websocket_connection_send_text (f->ws, create);
  expect_call (f, "open_lesson", "{\"a\":1}");
  g_assert_cmpuint (vg_rt_server_get_errors (f->server), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_debug_enabled (FALSE); /* keep TAP logs readable */
  g_test_add ("/realtime-server/unauthorized", Fixture, NULL, setup, test_unauthorized, teardown);
  g_test_add ("/realtime-server/session-update-validation", Fixture, NULL, setup,
              test_session_update_validation, teardown);
  g_test_add ("/realtime-server/response-rules", Fixture, NULL, setup, test_response_rules,
              teardown);
  g_test_add ("/realtime-server/response-instructions", Fixture, NULL, setup,
              test_response_instructions, teardown);
  g_test_add ("/realtime-server/script", Fixture, NULL, setup, test_script, teardown);
  return g_test_run ();
}
