/* vg-rt-server-response.c: the fake server's responses: a spoken reply as
 * output_audio deltas sent faster than real time (a 330 Hz tone), with a
 * transcript and the user's transcription at a random point; or a scripted
 * function call. A response.create with response.instructions "says" the
 * instructions: they are its transcript, word by word, so that tests can
 * tell which instructions a reply followed. Runs on the server thread
 * only. */
#include "vg-rt-server-private.h"

#include <math.h>
#include <string.h>

static const char *const words[]
    = { "Sure", "let", "us", "look", "at", "that", "together", "step", "by", "step", NULL };

/* ---- responses ---- */

static JsonObject *
usage_json (guint audio_ms)
{
  JsonObject *u = json_object_new (), *in = json_object_new (), *out = json_object_new ();
  gint64 audio_tokens = audio_ms / 50;

  json_object_set_int_member (in, "text_tokens", 12);
  json_object_set_int_member (in, "audio_tokens", 40);
  json_object_set_int_member (in, "cached_tokens", 0);
  json_object_set_int_member (out, "text_tokens", 8);
  json_object_set_int_member (out, "audio_tokens", audio_tokens);
  json_object_set_int_member (u, "input_tokens", 52);
  json_object_set_int_member (u, "output_tokens", 8 + audio_tokens);
  json_object_set_int_member (u, "total_tokens", 60 + audio_tokens);
  json_object_set_object_member (u, "input_token_details", in);
  json_object_set_object_member (u, "output_token_details", out);
  return u;
}

static JsonObject *
part_event (VgRtConn *conn, const char *type)
{
  JsonObject *e = vg_rt_event_new (type);

  json_object_set_string_member (e, "response_id", conn->response_id);
  json_object_set_string_member (e, "item_id", conn->response_item->id);
  json_object_set_int_member (e, "output_index", 0);
  json_object_set_int_member (e, "content_index", 0);
  return e;
}

void
vg_rt_conn_finish_response (VgRtConn *conn, const char *status)
{
  JsonObject *e, *resp;
  gboolean completed = strcmp (status, "completed") == 0;
  guint audio_ms = 0;

  if (conn->burst)
    {
      g_source_destroy (conn->burst);
      g_clear_pointer (&conn->burst, g_source_unref);
    }
  if (conn->response_item != NULL)
    {
      audio_ms = conn->response_item->audio_ms;
      vg_rt_conn_send_event (conn, part_event (conn, "response.output_audio.done"));
      e = part_event (conn, "response.output_audio_transcript.done");
      json_object_set_string_member (e, "transcript", conn->transcript->str);
      vg_rt_conn_send_event (conn, e);
      vg_rt_conn_send_event (conn, part_event (conn, "response.content_part.done"));
      e = vg_rt_event_new ("response.output_item.done");
      json_object_set_string_member (e, "response_id", conn->response_id);
      json_object_set_int_member (e, "output_index", 0);
      json_object_set_object_member (
          e, "item", vg_rt_item_json (conn->response_item, completed ? "completed" : "incomplete"));
      vg_rt_conn_send_event (conn, e);
    }
  e = vg_rt_event_new ("response.done");
  resp = json_object_new ();
  json_object_set_string_member (resp, "id", conn->response_id);
  json_object_set_string_member (resp, "object", "realtime.response");
  json_object_set_string_member (resp, "status", status);
  json_object_set_null_member (resp, "status_details");
  json_object_set_array_member (resp, "output", json_array_new ());
  json_object_set_object_member (resp, "usage", usage_json (audio_ms));
  json_object_set_object_member (e, "response", resp);
  conn->active = FALSE;
  conn->response_item = NULL;
  g_clear_pointer (&conn->say, g_strfreev);
  vg_rt_conn_send_event (conn, e);
  /* A transcription that did not fit into the response comes after it. */
  vg_rt_conn_send_user_transcript (conn);
}

static void
send_audio_delta (VgRtConn *conn, guint ms)
{
  guint n = VG_RT_SERVER_RATE * ms / 1000, i;
  g_autofree gint16 *pcm = g_new (gint16, n);
  g_autofree char *b64 = NULL;
  JsonObject *e;

  for (i = 0; i < n; i++)
    {
      pcm[i] = (gint16)(8000 * sin (conn->phase));
      conn->phase += 2 * G_PI * 330.0 / VG_RT_SERVER_RATE;
    }
  conn->phase = fmod (conn->phase, 2 * G_PI);
  b64 = g_base64_encode ((const guchar *)pcm, n * 2);
  e = part_event (conn, "response.output_audio.delta");
  json_object_set_string_member (e, "delta", b64);
  vg_rt_conn_send_event (conn, e);
  conn->response_item->audio_ms += ms;
}

static gboolean
burst_tick (gpointer data)
{
  VgRtConn *conn = data;
  GRand *rand = conn->server->rand;
  JsonObject *e;

  if (conn->chunks_sent == conn->transcript_at)
    vg_rt_conn_send_user_transcript (conn);
  if (conn->close_mid && conn->chunks_sent >= conn->chunks_total / 2)
    {
      g_clear_pointer (&conn->burst, g_source_unref);
      conn->close_mid = FALSE;
      vg_rt_conn_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
      return G_SOURCE_REMOVE;
    }
  if (conn->stall_mid && conn->chunks_sent >= conn->chunks_total / 2)
    {
      /* A hung backend: the socket stays open (libsoup still answers
       * pings) but no event comes any more. */
      g_clear_pointer (&conn->burst, g_source_unref);
      conn->stall_mid = FALSE;
      conn->stalled = TRUE;
      return G_SOURCE_REMOVE;
    }
  if (conn->chunks_sent < conn->chunks_total)
    {
      send_audio_delta (conn, conn->server->opt.delta_ms);
      conn->chunks_sent++;
      if (conn->say != NULL)
        {
          /* A word per delta; what is left goes with the last one. */
          GString *delta = g_string_new (NULL);

          while (conn->say[conn->say_pos] != NULL
                 && (delta->len == 0 || conn->chunks_sent == conn->chunks_total))
            {
              if (conn->transcript->len > 0 || delta->len > 0)
                g_string_append_c (delta, ' ');
              g_string_append (delta, conn->say[conn->say_pos++]);
            }
          if (delta->len > 0)
            {
              g_string_append (conn->transcript, delta->str);
              e = part_event (conn, "response.output_audio_transcript.delta");
              json_object_set_string_member (e, "delta", delta->str);
              vg_rt_conn_send_event (conn, e);
            }
          g_string_free (delta, TRUE);
        }
      else if (g_rand_boolean (rand))
        {
          const char *w = words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words) - 1)];
          g_autofree char *delta = g_strdup_printf ("%s%s", conn->transcript->len ? " " : "", w);

          g_string_append (conn->transcript, delta);
          e = part_event (conn, "response.output_audio_transcript.delta");
          json_object_set_string_member (e, "delta", delta);
          vg_rt_conn_send_event (conn, e);
        }
      return G_SOURCE_CONTINUE;
    }
  g_clear_pointer (&conn->burst, g_source_unref);
  vg_rt_conn_finish_response (conn, "completed");
  return G_SOURCE_REMOVE;
}

static void
start_function_call (VgRtConn *conn, char *name, char *arguments)
{
  g_autofree char *item_id = vg_rt_conn_next_id (conn, "item");
  g_autofree char *call_id = vg_rt_conn_next_id (conn, "call");
  JsonObject *e, *item;
  Item *it = vg_rt_conn_add_item (conn, item_id, "function_call", NULL);

  g_hash_table_add (conn->calls, g_strdup (call_id));
  item = vg_rt_item_json (it, "in_progress");
  json_object_set_string_member (item, "call_id", call_id);
  json_object_set_string_member (item, "name", name);
  json_object_set_string_member (item, "arguments", "");
  e = vg_rt_event_new ("response.output_item.added");
  json_object_set_string_member (e, "response_id", conn->response_id);
  json_object_set_int_member (e, "output_index", 0);
  json_object_set_object_member (e, "item", item);
  vg_rt_conn_send_event (conn, e);
  e = vg_rt_event_new ("response.function_call_arguments.delta");
  json_object_set_string_member (e, "response_id", conn->response_id);
  json_object_set_string_member (e, "item_id", item_id);
  json_object_set_string_member (e, "call_id", call_id);
  json_object_set_string_member (e, "delta", arguments);
  vg_rt_conn_send_event (conn, e);
  e = vg_rt_event_new ("response.function_call_arguments.done");
  json_object_set_string_member (e, "response_id", conn->response_id);
  json_object_set_string_member (e, "item_id", item_id);
  json_object_set_string_member (e, "call_id", call_id);
  json_object_set_string_member (e, "name", name);
  json_object_set_string_member (e, "arguments", arguments);
  vg_rt_conn_send_event (conn, e);
  item = vg_rt_item_json (it, "completed");
  json_object_set_string_member (item, "call_id", call_id);
  json_object_set_string_member (item, "name", name);
  json_object_set_string_member (item, "arguments", arguments);
  e = vg_rt_event_new ("response.output_item.done");
  json_object_set_string_member (e, "response_id", conn->response_id);
  json_object_set_int_member (e, "output_index", 0);
  json_object_set_object_member (e, "item", item);
  vg_rt_conn_send_event (conn, e);
  g_free (name);
  g_free (arguments);
  vg_rt_conn_finish_response (conn, "completed");
}

static char **
split_words (const char *text)
{
  g_auto (GStrv) parts = g_strsplit_set (text, " \t\r\n", -1);
  GPtrArray *words = g_ptr_array_new ();
  guint i;

  for (i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      g_ptr_array_add (words, g_strdup (parts[i]));
  g_ptr_array_add (words, NULL);
  return (char **)g_ptr_array_free (words, FALSE);
}

void
vg_rt_conn_start_response (VgRtConn *conn, const char *instructions)
{
  VgRtServer *server = conn->server;
  JsonObject *e, *resp;
  char *call_name = NULL, *call_args = NULL;
  guint audio_ms;
  gboolean close_mid, stall_mid;
  guint rate_limit_retry_ms = 0;
  g_autofree char *item_id = NULL;

  g_mutex_lock (&server->lock);
  if (server->rate_limit_count > 0)
    {
      server->rate_limit_count--;
      rate_limit_retry_ms = MAX (server->rate_limit_retry_ms, 1);
    }
  g_mutex_unlock (&server->lock);
  if (rate_limit_retry_ms > 0)
    {
      g_autofree char *msg = g_strdup_printf (
          "Rate limit reached for requests. Please try again in %ums.", rate_limit_retry_ms);

      vg_rt_conn_send_error (conn, "rate_limit_exceeded", msg, NULL, NULL);
      return;
    }

  g_mutex_lock (&server->lock);
  if (!g_queue_is_empty (&server->scripted_calls))
    {
      call_name = g_queue_pop_head (&server->scripted_calls);
      call_args = g_queue_pop_head (&server->scripted_calls);
    }
  else
    {
      const VgRtScriptStep *step
          = vg_rt_script_match (server->script, conn->responses, conn->user_text);

      if (step != NULL)
        {
          call_name = g_strdup (step->name);
          call_args = g_strdup (step->arguments);
        }
    }
  /* This response answers what the user typed: it triggers nothing more. */
  g_clear_pointer (&conn->user_text, g_free);
  conn->responses++;
  audio_ms = server->response_audio_ms;
  g_ptr_array_add (server->response_instructions, g_strdup (instructions ? instructions : ""));
  close_mid = server->close_mid_response && call_name == NULL;
  if (close_mid)
    server->close_mid_response = FALSE;
  stall_mid = server->stall_mid_response && call_name == NULL && !close_mid;
  if (stall_mid)
    server->stall_mid_response = FALSE;
  g_mutex_unlock (&server->lock);

  conn->active = TRUE;
  g_free (conn->response_id);
  conn->response_id = vg_rt_conn_next_id (conn, "resp");
  e = vg_rt_event_new ("response.created");
  resp = json_object_new ();
  json_object_set_string_member (resp, "id", conn->response_id);
  json_object_set_string_member (resp, "object", "realtime.response");
  json_object_set_string_member (resp, "status", "in_progress");
  json_object_set_array_member (resp, "output", json_array_new ());
  json_object_set_object_member (e, "response", resp);
  vg_rt_conn_send_event (conn, e);

  if (call_name != NULL)
    {
      start_function_call (conn, call_name, call_args);
      return;
    }

  item_id = vg_rt_conn_next_id (conn, "item");
  conn->response_item = vg_rt_conn_add_item (conn, item_id, "message", "assistant");
  g_string_truncate (conn->transcript, 0);
  g_clear_pointer (&conn->say, g_strfreev);
  if (instructions != NULL && instructions[0] != '\0')
    {
      conn->say = split_words (instructions);
      conn->say_pos = 0;
    }
  e = vg_rt_event_new ("response.output_item.added");
  json_object_set_string_member (e, "response_id", conn->response_id);
  json_object_set_int_member (e, "output_index", 0);
  json_object_set_object_member (e, "item", vg_rt_item_json (conn->response_item, "in_progress"));
  vg_rt_conn_send_event (conn, e);
  e = vg_rt_event_new ("conversation.item.added");
  json_object_set_object_member (e, "item", vg_rt_item_json (conn->response_item, "in_progress"));
  vg_rt_conn_send_event (conn, e);
  e = part_event (conn, "response.content_part.added");
  vg_rt_conn_send_event (conn, e);

  conn->chunks_total = MAX (1, audio_ms / server->opt.delta_ms);
  conn->chunks_sent = 0;
  conn->close_mid = close_mid;
  conn->stall_mid = stall_mid;
  /* The user's transcription lands at a random point: before, inside or
   * (== chunks_total + 1, via vg_rt_conn_finish_response) after the response. */
  conn->transcript_at = g_rand_int_range (server->rand, 0, conn->chunks_total + 2);
  conn->burst = g_timeout_source_new (server->opt.burst_interval_ms);
  g_source_set_callback (conn->burst, burst_tick, conn, NULL);
  g_source_attach (conn->burst, server->context);
}
