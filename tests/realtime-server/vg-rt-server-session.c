/* vg-rt-server-session.c: one fake-server connection: event dispatch,
 * input audio with an energy VAD, items, truncation, expiry. Session
 * configuration is in vg-rt-server-config.c, responses in
 * vg-rt-server-response.c. Runs on the server thread only. */
#include "vg-rt-server-private.h"
#include "vg-rt-events.h"

#include <string.h>

/* ---- helpers ---- */

char *
vg_rt_conn_next_id (VgRtConn *conn, const char *prefix)
{
  return g_strdup_printf ("%s_%u_%u", prefix, conn->number, ++conn->seq);
}

static void
item_free (gpointer data)
{
  Item *it = data;

  g_free (it->id);
  g_free (it->role);
  g_free (it->type);
  g_free (it);
}

Item *
vg_rt_conn_add_item (VgRtConn *conn, const char *id, const char *type, const char *role)
{
  Item *it = g_new0 (Item, 1);

  it->id = g_strdup (id);
  it->type = g_strdup (type);
  it->role = g_strdup (role);
  g_hash_table_replace (conn->items, it->id, it);
  g_free (conn->last_item_id);
  conn->last_item_id = g_strdup (id);
  return it;
}

/* Sends a server event built as a JsonObject (consumed). */
void
vg_rt_conn_send_event (VgRtConn *conn, JsonObject *event)
{
  g_autoptr (JsonNode) node = json_node_alloc ();
  g_autofree char *text = NULL;
  g_autofree char *event_id = vg_rt_conn_next_id (conn, "event");
  const char *type;

  json_object_set_string_member (event, "event_id", event_id);
  json_node_init_object (node, event);
  text = json_to_string (node, FALSE);
  type = json_object_get_string_member (event, "type");
  if (conn->stalled)
    {
      json_object_unref (event);
      return;
    }
  if (conn->ws != NULL
      && soup_websocket_connection_get_state (conn->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (conn->ws, text);
  if (strcmp (type, "response.output_audio.delta") == 0)
    {
      JsonObject *brief = json_object_new ();

      json_object_set_string_member (brief, "type", type);
      json_object_set_string_member (brief, "item_id",
                                     json_object_get_string_member (event, "item_id"));
      if (!conn->server->opt.quiet)
        vg_rt_server_log_event (conn->server, conn->number, FALSE, type, brief);
      json_object_unref (brief);
    }
  else
    vg_rt_server_log_event (conn->server, conn->number, FALSE, type, event);
  json_object_unref (event);
}

JsonObject *
vg_rt_event_new (const char *type)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "type", type);
  return o;
}

void
vg_rt_conn_send_error (VgRtConn *conn, const char *code, const char *message, const char *param,
                       const char *client_event_id)
{
  JsonObject *e = vg_rt_event_new ("error");
  JsonObject *err = json_object_new ();

  json_object_set_string_member (err, "type", "invalid_request_error");
  json_object_set_string_member (err, "code", code);
  json_object_set_string_member (err, "message", message);
  if (param)
    json_object_set_string_member (err, "param", param);
  else
    json_object_set_null_member (err, "param");
  if (client_event_id)
    json_object_set_string_member (err, "event_id", client_event_id);
  else
    json_object_set_null_member (err, "event_id");
  json_object_set_object_member (e, "error", err);
  g_mutex_lock (&conn->server->lock);
  conn->server->errors++;
  g_mutex_unlock (&conn->server->lock);
  vg_rt_conn_send_event (conn, e);
}

JsonObject *
vg_rt_item_json (Item *it, const char *status)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "id", it->id);
  json_object_set_string_member (o, "object", "realtime.item");
  json_object_set_string_member (o, "type", it->type);
  json_object_set_string_member (o, "status", status);
  if (it->role)
    json_object_set_string_member (o, "role", it->role);
  json_object_set_array_member (o, "content", json_array_new ());
  return o;
}

void
vg_rt_conn_send_item_added (VgRtConn *conn, Item *it, const char *previous)
{
  JsonObject *e = vg_rt_event_new ("conversation.item.added");

  if (previous)
    json_object_set_string_member (e, "previous_item_id", previous);
  else
    json_object_set_null_member (e, "previous_item_id");
  json_object_set_object_member (e, "item", vg_rt_item_json (it, "completed"));
  vg_rt_conn_send_event (conn, e);
  e = vg_rt_event_new ("conversation.item.done");
  json_object_set_object_member (e, "item", vg_rt_item_json (it, "completed"));
  vg_rt_conn_send_event (conn, e);
}

/* ---- session configuration ---- */

/* ---- input audio ---- */

void
vg_rt_conn_send_user_transcript (VgRtConn *conn)
{
  JsonObject *e;

  if (conn->pending_transcript_item == NULL)
    return;
  e = vg_rt_event_new ("conversation.item.input_audio_transcription.delta");
  json_object_set_string_member (e, "item_id", conn->pending_transcript_item);
  json_object_set_int_member (e, "content_index", 0);
  json_object_set_string_member (e, "delta", conn->pending_transcript);
  vg_rt_conn_send_event (conn, e);
  e = vg_rt_event_new ("conversation.item.input_audio_transcription.completed");
  json_object_set_string_member (e, "item_id", conn->pending_transcript_item);
  json_object_set_int_member (e, "content_index", 0);
  json_object_set_string_member (e, "transcript", conn->pending_transcript);
  vg_rt_conn_send_event (conn, e);
  g_clear_pointer (&conn->pending_transcript_item, g_free);
  g_clear_pointer (&conn->pending_transcript, g_free);
}

static gboolean
transcript_timeout (gpointer data)
{
  VgRtConn *conn = data;

  g_clear_pointer (&conn->transcript_timer, g_source_unref);
  vg_rt_conn_send_user_transcript (conn);
  return G_SOURCE_REMOVE;
}

static void
commit_user_item (VgRtConn *conn, const char *item_id)
{
  JsonObject *e = vg_rt_event_new ("input_audio_buffer.committed");
  g_autofree char *previous = g_strdup (conn->last_item_id);
  Item *it;

  json_object_set_string_member (e, "item_id", item_id);
  if (previous)
    json_object_set_string_member (e, "previous_item_id", previous);
  else
    json_object_set_null_member (e, "previous_item_id");
  vg_rt_conn_send_event (conn, e);
  it = vg_rt_conn_add_item (conn, item_id, "message", "user");
  vg_rt_conn_send_item_added (conn, it, previous);

  vg_rt_conn_send_user_transcript (conn); /* an older one still pending goes first */
  conn->pending_transcript_item = g_strdup (item_id);
  conn->pending_transcript = g_strdup_printf (
      "user turn of %.1f s", conn->uncommitted_samples / (double)VG_RT_SERVER_RATE);
  conn->uncommitted_samples = 0;
  if (conn->vad_enabled && conn->create_response && !conn->active)
    vg_rt_conn_start_response (conn, NULL);
  else if (conn->transcript_timer == NULL)
    {
      conn->transcript_timer = g_timeout_source_new (g_rand_int_range (conn->server->rand, 0, 30));
      g_source_set_callback (conn->transcript_timer, transcript_timeout, conn, NULL);
      g_source_attach (conn->transcript_timer, conn->server->context);
    }
}

static void
run_vad (VgRtConn *conn, const gint16 *samples, gsize n)
{
  gsize done = 0;

  while (done < n)
    {
      gsize consumed = 0;
      guint64 pos;
      VgVadEvent ev = vg_energy_vad_process (&conn->vad, samples + done, n - done, &consumed, &pos);
      JsonObject *e;

      done += consumed;
      if (ev == VG_VAD_SPEECH_STARTED)
        {
          g_free (conn->speech_item);
          conn->speech_item = vg_rt_conn_next_id (conn, "item");
          e = vg_rt_event_new ("input_audio_buffer.speech_started");
          json_object_set_int_member (e, "audio_start_ms", pos * 1000 / VG_RT_SERVER_RATE);
          json_object_set_string_member (e, "item_id", conn->speech_item);
          vg_rt_conn_send_event (conn, e);
          if (conn->active && conn->interrupt_response)
            vg_rt_conn_finish_response (conn, "cancelled");
        }
      else if (ev == VG_VAD_SPEECH_STOPPED && conn->speech_item != NULL)
        {
          g_autofree char *item_id = g_steal_pointer (&conn->speech_item);

          e = vg_rt_event_new ("input_audio_buffer.speech_stopped");
          json_object_set_int_member (e, "audio_end_ms", pos * 1000 / VG_RT_SERVER_RATE);
          json_object_set_string_member (e, "item_id", item_id);
          vg_rt_conn_send_event (conn, e);
          commit_user_item (conn, item_id);
        }
    }
}

static void
on_append (VgRtConn *conn, JsonObject *ev, const char *event_id)
{
  g_autoptr (GError) error = NULL;
  gsize len = 0;
  g_autofree guint8 *pcm = vg_rt_decode_audio (vg_rt_json_get_string (ev, "audio"), &len, &error);

  if (pcm == NULL)
    {
      vg_rt_conn_send_error (conn, "invalid_value", "Invalid 'audio': not base64 PCM16.", "audio",
                             event_id);
      return;
    }
  g_mutex_lock (&conn->server->lock);
  conn->server->appended_bytes += len;
  g_mutex_unlock (&conn->server->lock);
  conn->uncommitted_samples += len / 2;
  conn->total_samples += len / 2;
  if (conn->vad_enabled)
    run_vad (conn, (const gint16 *)pcm, len / 2);
}

static void
on_commit (VgRtConn *conn, JsonObject *ev, const char *event_id)
{
  g_autofree char *item_id = NULL;

  if (conn->uncommitted_samples < VG_RT_SERVER_RATE / 10)
    {
      vg_rt_conn_send_error (
          conn, "input_audio_buffer_commit_empty",
          "Error committing input audio buffer: buffer too small. Expected at least "
          "100ms of audio.",
          NULL, event_id);
      return;
    }
  item_id = vg_rt_conn_next_id (conn, "item");
  commit_user_item (conn, item_id);
}

/* A typed user message: its input_text parts, for the script's user_says. */
static void
remember_user_text (VgRtConn *conn, JsonArray *content)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (content); i++)
    {
      JsonNode *part = json_array_get_element (content, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (part) ? json_node_get_object (part) : NULL;

      if (o && g_strcmp0 (vg_rt_json_get_string (o, "type"), "input_text") == 0
          && vg_rt_json_get_string (o, "text"))
        g_string_append_printf (text, "%s%s", text->len ? " " : "",
                                vg_rt_json_get_string (o, "text"));
    }
  g_free (conn->user_text);
  conn->user_text = g_string_free (text, FALSE);
}

static void
on_item_create (VgRtConn *conn, JsonObject *ev, const char *event_id)
{
  JsonObject *item = vg_rt_json_get_object (ev, "item");
  const char *type = vg_rt_json_get_string (item, "type");
  g_autofree char *id = NULL;
  g_autofree char *previous = g_strdup (conn->last_item_id);
  Item *it;

  if (g_strcmp0 (type, "function_call_output") == 0)
    {
      const char *call_id = vg_rt_json_get_string (item, "call_id");

      if (call_id == NULL || !g_hash_table_contains (conn->calls, call_id))
        {
          vg_rt_conn_send_error (conn, "invalid_value", "Unknown 'item.call_id'.", "item.call_id",
                                 event_id);
          return;
        }
      if (vg_rt_json_get_string (item, "output") == NULL)
        {
          vg_rt_conn_send_error (conn, "invalid_type", "'item.output' must be a string.",
                                 "item.output", event_id);
          return;
        }
    }
  else if (g_strcmp0 (type, "function_call") == 0)
    {
      /* A call of an earlier session, replayed: its output may follow. */
      const char *call_id = vg_rt_json_get_string (item, "call_id");

      if (call_id == NULL || vg_rt_json_get_string (item, "name") == NULL
          || vg_rt_json_get_string (item, "arguments") == NULL)
        {
          vg_rt_conn_send_error (conn, "missing_required_parameter",
                                 "A function_call item needs 'call_id', 'name' and 'arguments'"
                                 " strings.",
                                 "item", event_id);
          return;
        }
      g_hash_table_add (conn->calls, g_strdup (call_id));
    }
  else if (g_strcmp0 (type, "message") == 0)
    {
      const char *role = vg_rt_json_get_string (item, "role");
      JsonNode *content = item ? json_object_get_member (item, "content") : NULL;

      if (role == NULL
          || (strcmp (role, "user") && strcmp (role, "assistant") && strcmp (role, "system")))
        {
          vg_rt_conn_send_error (conn, "invalid_value", "Invalid 'item.role'.", "item.role",
                                 event_id);
          return;
        }
      if (content == NULL || !JSON_NODE_HOLDS_ARRAY (content))
        {
          vg_rt_conn_send_error (conn, "invalid_type", "'item.content' must be an array.",
                                 "item.content", event_id);
          return;
        }
    }
  else
    {
      vg_rt_conn_send_error (conn, "invalid_value", "Invalid 'item.type'.", "item.type", event_id);
      return;
    }
  if (g_strcmp0 (vg_rt_json_get_string (item, "role"), "user") == 0)
    remember_user_text (conn, json_object_get_array_member (item, "content"));
  id = g_strdup (vg_rt_json_get_string (item, "id"));
  if (id == NULL)
    id = vg_rt_conn_next_id (conn, "item");
  it = vg_rt_conn_add_item (conn, id, type, vg_rt_json_get_string (item, "role"));
  vg_rt_conn_send_item_added (conn, it, previous);
}

static void
on_truncate (VgRtConn *conn, JsonObject *ev, const char *event_id)
{
  const char *item_id = vg_rt_json_get_string (ev, "item_id");
  JsonNode *end = json_object_get_member (ev, "audio_end_ms");
  Item *it = item_id ? g_hash_table_lookup (conn->items, item_id) : NULL;
  gint64 ms;
  JsonObject *e;

  if (it == NULL)
    {
      vg_rt_conn_send_error (conn, "invalid_value", "Unknown 'item_id'.", "item_id", event_id);
      return;
    }
  if (g_strcmp0 (it->role, "assistant") != 0)
    {
      vg_rt_conn_send_error (conn, "invalid_value", "Only assistant messages can be truncated.",
                             "item_id", event_id);
      return;
    }
  if (vg_rt_json_get_int (ev, "content_index", -1) != 0)
    {
      vg_rt_conn_send_error (conn, "invalid_value", "Invalid 'content_index'.", "content_index",
                             event_id);
      return;
    }
  if (end == NULL || !JSON_NODE_HOLDS_VALUE (end) || json_node_get_value_type (end) != G_TYPE_INT64)
    {
      vg_rt_conn_send_error (conn, "invalid_type", "'audio_end_ms' must be an integer.",
                             "audio_end_ms", event_id);
      return;
    }
  ms = json_node_get_int (end);
  if (ms < 0 || ms > it->audio_ms)
    {
      g_autofree char *msg = g_strdup_printf ("audio_end_ms %" G_GINT64_FORMAT " is longer than "
                                              "the item's audio (%u ms).",
                                              ms, it->audio_ms);

      vg_rt_conn_send_error (conn, "invalid_value", msg, "audio_end_ms", event_id);
      return;
    }
  it->audio_ms = ms;
  e = vg_rt_event_new ("conversation.item.truncated");
  json_object_set_string_member (e, "item_id", item_id);
  json_object_set_int_member (e, "content_index", 0);
  json_object_set_int_member (e, "audio_end_ms", ms);
  vg_rt_conn_send_event (conn, e);
}

static void
on_item_delete (VgRtConn *conn, JsonObject *ev, const char *event_id)
{
  const char *item_id = vg_rt_json_get_string (ev, "item_id");
  JsonObject *e;
  g_autofree char *id = g_strdup (item_id);

  if (item_id == NULL || !g_hash_table_remove (conn->items, item_id))
    {
      vg_rt_conn_send_error (conn, "invalid_value", "Unknown 'item_id'.", "item_id", event_id);
      return;
    }
  e = vg_rt_event_new ("conversation.item.deleted");
  json_object_set_string_member (e, "item_id", id);
  vg_rt_conn_send_event (conn, e);
}

/* The GA response object of response.create. */
static const char *const response_keys[] = { "conversation",
                                             "instructions",
                                             "input",
                                             "metadata",
                                             "output_modalities",
                                             "tools",
                                             "tool_choice",
                                             "max_output_tokens",
                                             "audio",
                                             "prompt",
                                             NULL };

static void
on_response_create (VgRtConn *conn, JsonObject *ev, const char *event_id)
{
  JsonNode *node = json_object_get_member (ev, "response");
  JsonObject *response = NULL;
  JsonNode *instructions = NULL;

  if (node != NULL)
    {
      g_autoptr (GList) members = NULL;
      GList *l;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          vg_rt_conn_send_error (conn, "invalid_type", "'response' must be an object.", "response",
                                 event_id);
          return;
        }
      response = json_node_get_object (node);
      members = json_object_get_members (response);
      for (l = members; l != NULL; l = l->next)
        if (!g_strv_contains (response_keys, l->data))
          {
            g_autofree char *param = g_strdup_printf ("response.%s", (const char *)l->data);
            g_autofree char *msg = g_strdup_printf ("Unknown parameter: '%s'.", param);

            vg_rt_conn_send_error (conn, "unknown_parameter", msg, param, event_id);
            return;
          }
      instructions = json_object_get_member (response, "instructions");
      if (instructions != NULL
          && (!JSON_NODE_HOLDS_VALUE (instructions)
              || json_node_get_value_type (instructions) != G_TYPE_STRING))
        {
          vg_rt_conn_send_error (conn, "invalid_type", "'response.instructions' must be a string.",
                                 "response.instructions", event_id);
          return;
        }
    }
  if (conn->active)
    {
      vg_rt_conn_send_error (conn, "conversation_already_has_active_response",
                             "Conversation already has an active response in progress.", NULL,
                             event_id);
      return;
    }
  vg_rt_conn_start_response (conn, instructions ? json_node_get_string (instructions) : NULL);
}

static gboolean
cancel_timeout (gpointer data)
{
  VgRtConn *conn = data;

  g_clear_pointer (&conn->cancel_timer, g_source_unref);
  if (conn->active && g_strcmp0 (conn->response_id, conn->cancel_response_id) == 0)
    vg_rt_conn_finish_response (conn, "cancelled");
  g_clear_pointer (&conn->cancel_response_id, g_free);
  return G_SOURCE_REMOVE;
}

static void
on_response_cancel (VgRtConn *conn, JsonObject *ev, const char *event_id)
{
  if (!conn->active)
    {
      vg_rt_conn_send_error (conn, "response_cancel_not_active",
                             "Cancellation failed: no active response found.", NULL, event_id);
      return;
    }
  if (conn->server->opt.cancel_delay_ms == 0)
    {
      vg_rt_conn_finish_response (conn, "cancelled");
      return;
    }
  if (conn->cancel_timer != NULL)
    return;
  /* Deltas already sent when the client cancelled still reach it. */
  g_free (conn->cancel_response_id);
  conn->cancel_response_id = g_strdup (conn->response_id);
  conn->cancel_timer = g_timeout_source_new (conn->server->opt.cancel_delay_ms);
  g_source_set_callback (conn->cancel_timer, cancel_timeout, conn, NULL);
  g_source_attach (conn->cancel_timer, conn->server->context);
}

static void
on_clear (VgRtConn *conn, JsonObject *ev, const char *event_id)
{
  conn->uncommitted_samples = 0;
  vg_rt_conn_send_event (conn, vg_rt_event_new ("input_audio_buffer.cleared"));
}

typedef void (*Handler) (VgRtConn *conn, JsonObject *ev, const char *event_id);

static const struct
{
  const char *type;
  Handler handler;
} handlers[] = {
  { "session.update", vg_rt_conn_on_session_update }, { "input_audio_buffer.append", on_append },
  { "input_audio_buffer.commit", on_commit },         { "input_audio_buffer.clear", on_clear },
  { "conversation.item.create", on_item_create },     { "conversation.item.truncate", on_truncate },
  { "conversation.item.delete", on_item_delete },     { "response.create", on_response_create },
  { "response.cancel", on_response_cancel },
};

static void
on_message (SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer data)
{
  VgRtConn *conn = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = NULL;
  const char *event_type = NULL, *event_id;
  gsize size;
  const char *text = g_bytes_get_data (message, &size);
  JsonObject *ev;
  guint i;

  root = type == SOUP_WEBSOCKET_DATA_TEXT ? vg_rt_event_parse (text, size, &event_type, &error)
                                          : NULL;
  if (root == NULL)
    {
      vg_rt_server_log_event (conn->server, conn->number, TRUE, "(invalid)", NULL);
      vg_rt_conn_send_error (conn, "invalid_event", "The frame is not a JSON object with a 'type'.",
                             NULL, NULL);
      return;
    }
  ev = json_node_get_object (root);
  event_id = vg_rt_json_get_string (ev, "event_id");
  if (strcmp (event_type, "input_audio_buffer.append") == 0)
    {
      if (!conn->server->opt.quiet)
        {
          JsonObject *brief = json_object_new ();
          const char *audio = vg_rt_json_get_string (ev, "audio");

          json_object_set_string_member (brief, "type", event_type);
          json_object_set_int_member (brief, "audio_bytes",
                                      audio ? (gint64)strlen (audio) / 4 * 3 : 0);
          vg_rt_server_log_event (conn->server, conn->number, TRUE, event_type, brief);
          json_object_unref (brief);
        }
    }
  else
    vg_rt_server_log_event (conn->server, conn->number, TRUE, event_type, ev);
  if (conn->stalled)
    return;

  for (i = 0; i < G_N_ELEMENTS (handlers); i++)
    if (strcmp (handlers[i].type, event_type) == 0)
      {
        handlers[i].handler (conn, ev, event_id);
        return;
      }
  vg_rt_conn_send_error (conn, "invalid_event", "Unknown event type.", "type", event_id);
}

/* ---- lifetime ---- */

static gboolean
expiry_timeout (gpointer data)
{
  VgRtConn *conn = data;

  g_clear_pointer (&conn->expiry, g_source_unref);
  vg_rt_conn_send_error (conn, "session_expired",
                         "Your session hit the maximum duration of 60 minutes.", NULL, NULL);
  vg_rt_conn_close (conn, SOUP_WEBSOCKET_CLOSE_NORMAL);
  return G_SOURCE_REMOVE;
}

VgRtConn *
vg_rt_conn_new (VgRtServer *server, SoupWebsocketConnection *ws, guint number)
{
  VgRtConn *conn = g_new0 (VgRtConn, 1);
  JsonObject *e;

  conn->server = server;
  conn->ws = g_object_ref (ws);
  conn->number = number;
  conn->items = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, item_free);
  conn->calls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  conn->transcript = g_string_new (NULL);
  conn->session = vg_rt_session_default (conn);
  vg_rt_conn_apply_turn_detection (conn);
  g_signal_connect (ws, "message", G_CALLBACK (on_message), conn);

  conn->expiry = g_timeout_source_new (server->opt.session_expiry_ms);
  g_source_set_callback (conn->expiry, expiry_timeout, conn, NULL);
  g_source_attach (conn->expiry, server->context);

  /* Always the first event of a session. */
  e = vg_rt_event_new ("session.created");
  json_object_set_object_member (e, "session", json_object_ref (conn->session));
  vg_rt_conn_send_event (conn, e);
  return conn;
}

void
vg_rt_conn_send_raw (VgRtConn *conn, const char *frame)
{
  if (soup_websocket_connection_get_state (conn->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (conn->ws, frame);
}

void
vg_rt_conn_close (VgRtConn *conn, gushort code)
{
  if (soup_websocket_connection_get_state (conn->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn->ws, code, NULL);
}

static void
destroy_source (GSource **source)
{
  if (*source)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

void
vg_rt_conn_free (VgRtConn *conn)
{
  g_signal_handlers_disconnect_by_data (conn->ws, conn);
  if (soup_websocket_connection_get_state (conn->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn->ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
  g_object_unref (conn->ws);
  destroy_source (&conn->burst);
  destroy_source (&conn->expiry);
  destroy_source (&conn->transcript_timer);
  destroy_source (&conn->cancel_timer);
  g_free (conn->cancel_response_id);
  json_object_unref (conn->session);
  g_hash_table_unref (conn->items);
  g_hash_table_unref (conn->calls);
  g_string_free (conn->transcript, TRUE);
  g_strfreev (conn->say);
  g_free (conn->last_item_id);
  g_free (conn->speech_item);
  g_free (conn->pending_transcript_item);
  g_free (conn->pending_transcript);
  g_free (conn->user_text);
  g_free (conn->response_id);
  g_free (conn);
}
