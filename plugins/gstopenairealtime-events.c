/* gstopenairealtime-events.c: what openairealtime does with each server
 * event, barge-in (docs/REALTIME-PROTOCOL.md section 7) and the played-audio
 * bookkeeping. Everything here runs on the shared I/O thread, which owns
 * the conversation state: no lock, and bus messages and signals leave with
 * none held. */
#include "gstopenairealtime.h"
#include "vg-agent-messages.h"
#include "vg-rt-events.h"

#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (gst_openai_realtime_debug);
#define GST_CAT_DEFAULT gst_openai_realtime_debug

/* Errors that end the session for good: retrying cannot help. */
static const char *const fatal_codes[] = {
  "invalid_api_key",
  "insufficient_quota",
  "account_deactivated",
  "billing_hard_limit_reached",
  NULL,
};

/* Errors docs/REALTIME-PROTOCOL.md (section 7) lists as harmless in our usage. */
static const char *const benign_codes[] = {
  "conversation_already_has_active_response",
  "response_cancel_not_active",
  "input_audio_buffer_commit_empty",
  NULL,
};

#define AGENT(self) GST_VG_AGENT (self)

static void plan_renewal (GstOpenAiRealtime *self, JsonObject *event);

void
gst_openai_realtime_send (GstOpenAiRealtime *self, char *json)
{
  if (self->client != NULL)
    vg_rt_client_send (self->client, json, FALSE);
  else
    g_free (json);
}

static void
set_state (GstOpenAiRealtime *self, const char *state)
{
  gst_vg_agent_set_state (AGENT (self), state);
}

static void
count_bad_frame (GstOpenAiRealtime *self)
{
  GST_OBJECT_LOCK (self);
  self->bad_frames++;
  GST_OBJECT_UNLOCK (self);
}

static void
history_entry_free (gpointer data)
{
  VgRtHistoryEntry *e = data;

  g_free (e->item_id);
  g_free (e->role);
  g_free (e->call_id);
  g_free (e->name);
  g_free (e->text);
  g_free (e);
}

static void
history_push (GstOpenAiRealtime *self, VgRtHistoryEntry *e)
{
  g_queue_push_tail (&self->history, e);
  while (g_queue_get_length (&self->history) > VG_RT_MAX_HISTORY)
    history_entry_free (g_queue_pop_head (&self->history));
}

void
gst_openai_realtime_history_add_message (GstOpenAiRealtime *self, const char *role,
                                         const char *text)
{
  VgRtHistoryEntry *e;

  if (text == NULL || text[0] == '\0')
    return;
  e = g_new0 (VgRtHistoryEntry, 1);
  e->kind = VG_RT_HISTORY_MESSAGE;
  e->role = g_strdup (role);
  e->text = g_strdup (text);
  history_push (self, e);
}

/* The user's audio item took its place in the conversation (committed):
 * its transcript, which may come after the answer or a tool call, fills
 * this slot, so the replay keeps the conversation's order. */
static void
history_reserve_user (GstOpenAiRealtime *self, const char *item_id)
{
  VgRtHistoryEntry *e = g_new0 (VgRtHistoryEntry, 1);

  e->kind = VG_RT_HISTORY_MESSAGE;
  e->item_id = g_strdup (item_id);
  e->role = g_strdup ("user");
  history_push (self, e);
}

static void
history_add_user (GstOpenAiRealtime *self, const char *item_id, const char *text)
{
  GList *l;

  for (l = self->history.tail; l != NULL && item_id != NULL; l = l->prev)
    {
      VgRtHistoryEntry *e = l->data;

      if (g_strcmp0 (e->item_id, item_id) == 0)
        {
          g_clear_pointer (&e->item_id, g_free);
          g_free (e->text);
          e->text = g_strdup (text);
          return;
        }
    }
  gst_openai_realtime_history_add_message (self, "user", text);
}

void
gst_openai_realtime_history_add_call (GstOpenAiRealtime *self, VgRtHistoryKind kind,
                                      const char *call_id, const char *name, const char *text)
{
  VgRtHistoryEntry *e = g_new0 (VgRtHistoryEntry, 1);

  e->kind = kind;
  e->call_id = g_strdup (call_id);
  e->name = g_strdup (name);
  e->text = g_strdup (text ? text : "{}");
  history_push (self, e);
}

/* Sends the history to a new session as items. An output whose call fell
 * out of the window is left out: the server refuses an unknown call_id. */
static void
replay_history (GstOpenAiRealtime *self)
{
  g_autoptr (GHashTable) calls = g_hash_table_new (g_str_hash, g_str_equal);
  GList *l;

  GST_INFO_OBJECT (self, "replaying %u conversation items", self->history.length);
  for (l = self->history.head; l != NULL; l = l->next)
    {
      VgRtHistoryEntry *e = l->data;

      switch (e->kind)
        {
          case VG_RT_HISTORY_MESSAGE:
            if (e->text == NULL || e->text[0] == '\0')
              break; /* a transcript that never came */
            vg_rt_client_send_now (self->client, vg_rt_build_text_item (e->role, e->text));
            break;
          case VG_RT_HISTORY_FUNCTION_CALL:
            g_hash_table_add (calls, e->call_id);
            vg_rt_client_send_now (self->client,
                                   vg_rt_build_function_call_item (e->call_id, e->name, e->text));
            break;
          case VG_RT_HISTORY_FUNCTION_OUTPUT:
            if (g_hash_table_contains (calls, e->call_id))
              vg_rt_client_send_now (self->client,
                                     vg_rt_build_function_output (e->call_id, e->text));
            break;
        }
    }
}

void
gst_openai_realtime_reset_conversation (GstOpenAiRealtime *self)
{
  g_queue_clear_full (&self->history, history_entry_free);
  g_hash_table_remove_all (self->known_items);
  g_hash_table_remove_all (self->user_text);
  g_string_truncate (self->assistant_text, 0);
  g_clear_pointer (&self->response_id, g_free);
  g_clear_pointer (&self->audio_item_id, g_free);
  g_clear_pointer (&self->assistant_item_id, g_free);
  g_clear_pointer (&self->pending_usage, gst_structure_free);
  /* Cancelled on the I/O thread by stop() before this runs. */
  g_warn_if_fail (self->rate_limit_retry == NULL && self->renew == NULL);
  self->rate_limit_retries = 0;
  self->response_awaited = FALSE;
  self->response_active = FALSE;
  self->response_create_pending = FALSE;
  self->response_requested = FALSE;
  g_queue_clear_full (&self->pending_responds, g_free);
  self->sessions = 0;
  self->fatal = FALSE;
  self->speech_end_us = 0;
}

/* Items are only looked up to validate audio deltas of the current
 * response: an old id forgotten after a long session does no harm. */
static void
remember_item (GstOpenAiRealtime *self, const char *id)
{
  if (g_hash_table_size (self->known_items) >= 1024)
    g_hash_table_remove_all (self->known_items);
  g_hash_table_add (self->known_items, g_strdup (id));
}

static gint
latency_ms (gint64 from_us, gint64 to_us)
{
  return from_us > 0 && to_us >= from_us ? (gint)((to_us - from_us) / 1000) : -1;
}

static void
post_usage_if_complete (GstOpenAiRealtime *self)
{
  GstStructure *s = self->pending_usage;

  if (s == NULL || (self->response_has_audio && self->first_audio_played_us == 0))
    return;
  self->pending_usage = NULL;
  gst_structure_set (s, "latency-first-audio-played-ms", G_TYPE_INT,
                     latency_ms (self->usage_origin_us, self->first_audio_played_us), NULL);
  vg_agent_post_structure (GST_ELEMENT (self), s);
}

/* ---- barge-in ---- */

static void
barge_in (GstOpenAiRealtime *self)
{
  gsize queued = gst_vg_agent_get_queued_bytes (AGENT (self));
  guint64 played, received;
  gint64 end_ms;

  if (queued == 0 && !self->response_active)
    return; /* nothing is playing: the user simply speaks */

  gst_vg_agent_cut_playback (AGENT (self));
  self->response_interrupted = self->response_active;
  if (self->response_active && !self->interrupt_response)
    gst_openai_realtime_send (self, vg_rt_build_simple ("response.cancel"));
  if (self->audio_item_id == NULL)
    return;

  gst_vg_agent_get_item_samples (AGENT (self), self->audio_item_id, &played, &received);
  end_ms = (gint64)(MIN (played, received) * 1000 / VG_RT_RATE);
  GST_INFO_OBJECT (self,
                   "barge-in on %s: played %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " samples",
                   self->audio_item_id, played, received);
  if (end_ms == 0)
    gst_openai_realtime_send (self, vg_rt_build_item_delete (self->audio_item_id));
  else
    gst_openai_realtime_send (self, vg_rt_build_truncate (self->audio_item_id, end_ms));
  g_clear_pointer (&self->audio_item_id, g_free);
  /* The rest of the item's transcript will not be heard. */
  g_string_truncate (self->assistant_text, 0);
}

/* ---- server events ---- */

static void
on_session_created (GstOpenAiRealtime *self, JsonObject *event)
{
  g_autoptr (GError) error = NULL;
  char *update;

  self->sessions++;
  GST_OBJECT_LOCK (self);
  update = vg_rt_session_update_build (&self->settings, &error);
  GST_OBJECT_UNLOCK (self);
  if (update == NULL)
    {
      GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS, ("Invalid tools property, sending none"),
                           ("%s", error->message));
      GST_OBJECT_LOCK (self);
      g_clear_pointer (&self->settings.tools_json, g_free);
      update = vg_rt_session_update_build (&self->settings, NULL);
      GST_OBJECT_UNLOCK (self);
    }
  /* Configuration and replay go ahead of audio queued while connecting. */
  vg_rt_client_send_now (self->client, update);
  /* No resumption in the protocol: the new session learns what was said
   * (and which tools ran) as items. */
  if (self->sessions > 1)
    replay_history (self);
  plan_renewal (self, event);
  vg_rt_client_set_ready (self->client);
}

static void
on_session_updated (GstOpenAiRealtime *self, JsonObject *event)
{
  JsonObject *session = vg_rt_json_get_object (event, "session");
  JsonObject *audio = vg_rt_json_get_object (session, "audio");
  JsonObject *input = vg_rt_json_get_object (audio, "input");
  JsonObject *td = vg_rt_json_get_object (input, "turn_detection");
  g_autofree char *state = gst_vg_agent_dup_state (AGENT (self));

  if (td != NULL && json_object_has_member (td, "interrupt_response"))
    self->interrupt_response
        = json_object_get_boolean_member_with_default (td, "interrupt_response", TRUE);
  else
    self->interrupt_response = td != NULL;
  if (state == NULL || strcmp (state, "connecting") == 0 || strcmp (state, "reconnecting") == 0)
    set_state (self, "listening");
}

#define MAX_RATE_LIMIT_RETRIES 5

/* "... Please try again in 1.5s." or "... in 250ms.": 0 when absent. */
static guint
parse_try_again_ms (const char *message)
{
  const char *p = message ? strstr (message, "try again in ") : NULL;
  char *end = NULL;
  double value;

  if (p == NULL)
    return 0;
  value = g_ascii_strtod (p + strlen ("try again in "), &end);
  if (end == NULL || value <= 0 || value > 600000)
    return 0;
  if (g_str_has_prefix (end, "ms"))
    return (guint)value;
  if (end[0] == 's')
    return (guint)(value * 1000);
  return 0;
}

static gboolean
rate_limit_retry_fire (gpointer data)
{
  GstOpenAiRealtime *self = data;

  g_clear_pointer (&self->rate_limit_retry, g_source_unref);
  if (self->fatal || self->client == NULL)
    return G_SOURCE_REMOVE;
  /* The user may have spoken meanwhile and the server VAD started one. */
  if (!self->response_active && !self->response_requested)
    {
      GST_INFO_OBJECT (self, "retrying the response refused by the rate limit");
      gst_openai_realtime_create_response (self, NULL);
    }
  return G_SOURCE_REMOVE;
}

/* The response was refused, not the session: ask again after a backoff
 * (the server's hint if it is longer) instead of going mute. */
static void
schedule_rate_limit_retry (GstOpenAiRealtime *self, const char *message)
{
  guint delay, max_ms;

  if (self->rate_limit_retries >= MAX_RATE_LIMIT_RETRIES)
    {
      GST_WARNING_OBJECT (self, "rate limited %u times in a row: waiting for the user",
                          self->rate_limit_retries);
      return;
    }
  GST_OBJECT_LOCK (self);
  max_ms = self->reconnect_max_ms;
  GST_OBJECT_UNLOCK (self);
  delay = MIN (MAX (250u << self->rate_limit_retries, parse_try_again_ms (message)), max_ms);
  self->rate_limit_retries++;
  gst_openai_realtime_cancel_retry (self);
  GST_INFO_OBJECT (self, "rate limited: asking for the response again in %u ms", delay);
  self->rate_limit_retry = g_timeout_source_new (delay);
  g_source_set_callback (self->rate_limit_retry, rate_limit_retry_fire, self, NULL);
  g_source_attach (self->rate_limit_retry, vg_io_context_get_main_context (self->io));
}

static void
destroy_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

void
gst_openai_realtime_cancel_retry (GstOpenAiRealtime *self)
{
  destroy_source (&self->rate_limit_retry);
}

void
gst_openai_realtime_cancel_timers (GstOpenAiRealtime *self)
{
  destroy_source (&self->rate_limit_retry);
  destroy_source (&self->renew);
}

/* How long before expires_at the session is renewed: a quarter of its
 * lifetime, at most 5 minutes (60-minute sessions renew after 55). */
#define RENEW_MARGIN_MAX_MS (5 * 60 * 1000)
/* While the learner and the model talk, the renewal waits for a pause. */
#define RENEW_RECHECK_MS 500

static void schedule_renew (GstOpenAiRealtime *self, guint delay_ms);

static gboolean
renew_fire (gpointer data)
{
  GstOpenAiRealtime *self = data;

  g_clear_pointer (&self->renew, g_source_unref);
  if (self->fatal || self->client == NULL)
    return G_SOURCE_REMOVE;
  if (gst_openai_realtime_expecting (self) || gst_vg_agent_get_queued_bytes (AGENT (self)) > 0)
    {
      schedule_renew (self, RENEW_RECHECK_MS);
      return G_SOURCE_REMOVE;
    }
  /* A quiet moment before the server's session_expired: a new session
   * with the replay now costs the learner nothing audible. */
  GST_INFO_OBJECT (self, "renewing the session ahead of its expires_at");
  vg_rt_client_reconnect (self->client, 0);
  return G_SOURCE_REMOVE;
}

static void
schedule_renew (GstOpenAiRealtime *self, guint delay_ms)
{
  destroy_source (&self->renew);
  self->renew = g_timeout_source_new (delay_ms);
  g_source_set_callback (self->renew, renew_fire, self, NULL);
  g_source_attach (self->renew, vg_io_context_get_main_context (self->io));
}

/* session.created: plan the renewal from session.expires_at (Unix
 * seconds); absent or already past, session_expired alone applies. */
static void
plan_renewal (GstOpenAiRealtime *self, JsonObject *event)
{
  gint64 expires_at
      = vg_rt_json_get_int (vg_rt_json_get_object (event, "session"), "expires_at", 0);
  gint64 lifetime_ms = expires_at * 1000 - g_get_real_time () / 1000;
  gint64 margin_ms;

  destroy_source (&self->renew);
  if (expires_at <= 0 || lifetime_ms <= 0 || lifetime_ms > G_MAXINT32)
    return;
  margin_ms = MIN (lifetime_ms / 4, RENEW_MARGIN_MAX_MS);
  GST_INFO_OBJECT (
      self, "session expires in %" G_GINT64_FORMAT " ms: renewing %" G_GINT64_FORMAT " ms before",
      lifetime_ms, margin_ms);
  schedule_renew (self, (guint)(lifetime_ms - margin_ms));
}

/* The connection is gone (closed, stalled or expired). An answer it was
 * still sending is dropped from the playout, so the learner hears a short
 * silence rather than an answer that stops mid-word when the queue runs
 * dry, and the next session is asked to answer again; a complete answer
 * (response.done seen) keeps playing. The partial transcripts are closed
 * so the record keeps them, and the next session gets the replay. */
void
gst_openai_realtime_connection_lost (GstOpenAiRealtime *self)
{
  GHashTableIter iter;
  gpointer key, value;
  gboolean owed;

  if (self->response_active && gst_vg_agent_get_queued_bytes (AGENT (self)) > 0)
    gst_vg_agent_cut_playback (AGENT (self));
  if (self->assistant_text->len > 0)
    {
      /* truncated: the conversation record marks it as an answer that
       * did not end (and whose end may not have been heard). */
      vg_agent_post_structure (
          GST_ELEMENT (self),
          gst_structure_new (VG_MSG_TRANSCRIPT, "role", G_TYPE_STRING, "assistant", "item-id",
                             G_TYPE_STRING, self->assistant_item_id ? self->assistant_item_id : "",
                             "text", G_TYPE_STRING, self->assistant_text->str, "final",
                             G_TYPE_BOOLEAN, TRUE, "truncated", G_TYPE_BOOLEAN, TRUE, NULL));
      gst_openai_realtime_history_add_message (self, "assistant", self->assistant_text->str);
      g_string_truncate (self->assistant_text, 0);
    }
  g_hash_table_iter_init (&iter, self->user_text);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GString *text = value;

      if (text->len == 0)
        continue;
      vg_agent_post_transcript (GST_ELEMENT (self), "user", key, text->str, TRUE);
      history_add_user (self, key, text->str);
    }
  g_hash_table_remove_all (self->user_text);
  g_clear_pointer (&self->audio_item_id, g_free);
  g_clear_pointer (&self->assistant_item_id, g_free);
  gst_openai_realtime_cancel_timers (self);
  /* The learner was owed an answer the dead session will not finish. */
  owed = (self->response_active && !self->response_interrupted) || self->response_requested
         || self->response_awaited || self->rate_limit_retries > 0;
  self->rate_limit_retries = 0;
  self->response_active = FALSE;
  self->response_create_pending = FALSE;
  self->response_requested = FALSE;
  self->response_awaited = FALSE;
  set_state (self, self->sessions > 0 ? "reconnecting" : "connecting");
  /* The response a respond waited for never ends now: the request goes
   * to the next session, after its configuration and replay. */
  gst_openai_realtime_next_response (self);
  /* Ask the next session (after its replay, which ends with what was
   * heard) to answer again, so the learner is not left waiting. */
  if (owed && !self->response_requested)
    gst_openai_realtime_create_response (self, NULL);
}

static void
on_error (GstOpenAiRealtime *self, JsonObject *event)
{
  JsonObject *err = vg_rt_json_get_object (event, "error");
  const char *code = vg_rt_json_get_string (err, "code");
  const char *message = vg_rt_json_get_string (err, "message");

  if (code == NULL)
    code = vg_rt_json_get_string (err, "type");
  if (code != NULL && g_strv_contains (benign_codes, code))
    {
      GST_DEBUG_OBJECT (self, "benign error %s: %s", code, message);
      return;
    }
  if (code != NULL && g_strcmp0 (code, "invalid_value") == 0 && message != NULL
      && strstr (message, "shorter") != NULL)
    {
      GST_DEBUG_OBJECT (self, "benign truncate error: %s", message);
      return;
    }
  if (code != NULL && g_strv_contains (fatal_codes, code))
    {
      self->fatal = TRUE;
      vg_agent_post_error (GST_ELEMENT (self), code, message, TRUE);
      set_state (self, "error");
      vg_rt_client_halt (self->client);
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE,
                         ("The Realtime API refused the session: %s", message ? message : code),
                         ("error code %s", code));
      return;
    }
  GST_WARNING_OBJECT (self, "server error %s: %s", code, message);
  vg_agent_post_error (GST_ELEMENT (self), code, message, FALSE);
  if (g_strcmp0 (code, "session_expired") == 0)
    {
      /* The server closes too; whichever comes first reports the end of
       * the connection (gst_openai_realtime_connection_lost). */
      vg_rt_client_reconnect (self->client, 0);
      return;
    }
  if (!self->response_active)
    {
      /* Whatever we (or the server VAD) were about to start was refused:
       * no response is owed any more (the stall watchdog stops waiting). */
      self->response_requested = FALSE;
      self->response_awaited = FALSE;
    }
  if (g_strcmp0 (code, "rate_limit_exceeded") == 0)
    schedule_rate_limit_retry (self, message);
}

static void
on_user_transcript (GstOpenAiRealtime *self, JsonObject *event, gboolean final)
{
  const char *item_id = vg_rt_json_get_string (event, "item_id");
  GString *text;

  if (item_id == NULL)
    {
      GST_WARNING_OBJECT (self, "input transcription event without item_id");
      return;
    }
  text = g_hash_table_lookup (self->user_text, item_id);
  if (text == NULL)
    {
      text = g_string_new (NULL);
      g_hash_table_insert (self->user_text, g_strdup (item_id), text);
    }
  if (final)
    {
      const char *transcript = vg_rt_json_get_string (event, "transcript");

      g_string_assign (text, transcript ? transcript : "");
    }
  else
    {
      const char *delta = vg_rt_json_get_string (event, "delta");

      g_string_append (text, delta ? delta : "");
    }
  vg_agent_post_transcript (GST_ELEMENT (self), "user", item_id, text->str, final);
  if (final)
    {
      history_add_user (self, item_id, text->str);
      g_hash_table_remove (self->user_text, item_id);
    }
}

static void
on_assistant_text (GstOpenAiRealtime *self, JsonObject *event, const char *final_member)
{
  const char *item_id = vg_rt_json_get_string (event, "item_id");

  if (g_strcmp0 (self->assistant_item_id, item_id) != 0)
    {
      g_free (self->assistant_item_id);
      self->assistant_item_id = g_strdup (item_id);
    }
  if (final_member != NULL)
    {
      const char *text = vg_rt_json_get_string (event, final_member);

      g_string_assign (self->assistant_text, text ? text : "");
      vg_agent_post_transcript (GST_ELEMENT (self), "assistant", item_id, self->assistant_text->str,
                                TRUE);
      gst_openai_realtime_history_add_message (self, "assistant", self->assistant_text->str);
      g_string_truncate (self->assistant_text, 0);
      return;
    }
  g_string_append (self->assistant_text, vg_rt_json_get_string (event, "delta") ?: "");
  vg_agent_post_transcript (GST_ELEMENT (self), "assistant", item_id, self->assistant_text->str,
                            FALSE);
}

static void
on_output_item_added (GstOpenAiRealtime *self, JsonObject *event)
{
  JsonObject *item = vg_rt_json_get_object (event, "item");
  const char *id = vg_rt_json_get_string (item, "id");

  if (id == NULL)
    {
      GST_WARNING_OBJECT (self, "output item without id");
      return;
    }
  remember_item (self, id);
  if (g_strcmp0 (vg_rt_json_get_string (item, "type"), "message") == 0)
    g_string_truncate (self->assistant_text, 0);
}

static void
on_audio_delta (GstOpenAiRealtime *self, JsonObject *event)
{
  const char *item_id = vg_rt_json_get_string (event, "item_id");
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *pcm = NULL;
  gsize len = 0;

  if (item_id == NULL || !g_hash_table_contains (self->known_items, item_id))
    {
      count_bad_frame (self);
      GST_WARNING_OBJECT (self, "audio delta for unknown item %s, dropped",
                          item_id ? item_id : "(none)");
      return;
    }
  if (!self->response_active || self->response_interrupted)
    {
      /* Late audio after a cancel or barge-in must not be heard: deltas keep
       * coming until the server has handled our response.cancel. */
      GST_DEBUG_OBJECT (self, "audio delta outside an active response, dropped");
      return;
    }
  pcm = vg_rt_decode_audio (vg_rt_json_get_string (event, "delta"), &len, &error);
  if (pcm == NULL)
    {
      count_bad_frame (self);
      GST_WARNING_OBJECT (self, "bad audio delta: %s", error->message);
      return;
    }
  if (g_strcmp0 (self->audio_item_id, item_id) != 0)
    {
      g_free (self->audio_item_id);
      self->audio_item_id = g_strdup (item_id);
    }
  if (!self->response_has_audio)
    {
      self->response_has_audio = TRUE;
      self->first_audio_received_us = g_get_monotonic_time ();
    }
  if (!gst_vg_agent_queue_audio (AGENT (self), item_id, pcm, len))
    GST_WARNING_OBJECT (self, "playout queue full, dropped %" G_GSIZE_FORMAT " bytes", len);
}

static void
on_function_call (GstOpenAiRealtime *self, JsonObject *event)
{
  const char *call_id = vg_rt_json_get_string (event, "call_id");
  const char *name = vg_rt_json_get_string (event, "name");
  const char *arguments = vg_rt_json_get_string (event, "arguments");

  if (call_id == NULL || name == NULL)
    {
      GST_WARNING_OBJECT (self, "function call without call_id or name");
      return;
    }
  /* Before the call goes out: its output (from the handler) follows it in
   * the history. */
  gst_openai_realtime_history_add_call (self, VG_RT_HISTORY_FUNCTION_CALL, call_id, name,
                                        arguments ? arguments : "{}");
  /* The handler may call back into the element (send-function-result): it
   * is queued behind this event. */
  gst_vg_agent_call_function (AGENT (self), call_id, name, arguments);
}

static void
on_response_created (GstOpenAiRealtime *self, JsonObject *event)
{
  JsonObject *response = vg_rt_json_get_object (event, "response");

  self->response_active = TRUE;
  self->response_requested = FALSE;
  self->response_awaited = FALSE;
  self->rate_limit_retries = 0;
  gst_openai_realtime_cancel_retry (self);
  self->response_interrupted = FALSE;
  g_free (self->response_id);
  self->response_id = g_strdup (vg_rt_json_get_string (response, "id"));
  self->response_has_audio = FALSE;
  self->first_audio_received_us = 0;
  self->first_audio_played_us = 0;
  g_clear_pointer (&self->pending_usage, gst_structure_free);
  if (self->speech_end_us == 0)
    self->speech_end_us = g_get_monotonic_time (); /* typed text or manual turn */
  set_state (self, "thinking");
}

static void
on_response_done (GstOpenAiRealtime *self, JsonObject *event)
{
  JsonObject *response = vg_rt_json_get_object (event, "response");
  JsonObject *usage = vg_rt_json_get_object (response, "usage");
  JsonObject *in_details = vg_rt_json_get_object (usage, "input_token_details");
  JsonObject *out_details = vg_rt_json_get_object (usage, "output_token_details");
  const char *status = vg_rt_json_get_string (response, "status");

  self->response_active = FALSE;
  g_clear_pointer (&self->pending_usage, gst_structure_free);
  self->pending_usage = gst_structure_new (
      VG_MSG_USAGE, "response-id", G_TYPE_STRING, vg_rt_json_get_string (response, "id") ?: "",
      "status", G_TYPE_STRING, status ? status : "unknown", "total-tokens", G_TYPE_INT,
      (gint)vg_rt_json_get_int (usage, "total_tokens", 0), "input-tokens", G_TYPE_INT,
      (gint)vg_rt_json_get_int (usage, "input_tokens", 0), "output-tokens", G_TYPE_INT,
      (gint)vg_rt_json_get_int (usage, "output_tokens", 0), "input-text-tokens", G_TYPE_INT,
      (gint)vg_rt_json_get_int (in_details, "text_tokens", 0), "input-audio-tokens", G_TYPE_INT,
      (gint)vg_rt_json_get_int (in_details, "audio_tokens", 0), "input-cached-tokens", G_TYPE_INT,
      (gint)vg_rt_json_get_int (in_details, "cached_tokens", 0), "output-text-tokens", G_TYPE_INT,
      (gint)vg_rt_json_get_int (out_details, "text_tokens", 0), "output-audio-tokens", G_TYPE_INT,
      (gint)vg_rt_json_get_int (out_details, "audio_tokens", 0), "latency-first-audio-received-ms",
      G_TYPE_INT, latency_ms (self->speech_end_us, self->first_audio_received_us), NULL);
  /* The first audio may be played after response.done (a short answer
   * delivered in a burst): its latency is still measured from this turn. */
  self->usage_origin_us = self->speech_end_us;
  if (self->audio_item_id == NULL)
    self->response_has_audio = FALSE; /* interrupted before any was played */
  post_usage_if_complete (self);
  self->speech_end_us = 0;

  if (self->response_create_pending || !g_queue_is_empty (&self->pending_responds))
    {
      /* Function results or respond requests came while this response ran:
       * only now may the model go on (else
       * conversation_already_has_active_response). */
      gst_openai_realtime_next_response (self);
    }
  else if (gst_vg_agent_get_queued_bytes (AGENT (self)) == 0)
    set_state (self, "listening");
}

typedef void (*EventHandler) (GstOpenAiRealtime *self, JsonObject *event);

static void
on_speech_started (GstOpenAiRealtime *self, JsonObject *event)
{
  /* respond means "speak without user input": once the user speaks, the
   * turn is theirs, and a deferred one would collide with the response
   * their turn creates. */
  if (!g_queue_is_empty (&self->pending_responds))
    {
      GST_INFO_OBJECT (self, "the user speaks: %u deferred respond dropped",
                       self->pending_responds.length);
      g_queue_clear_full (&self->pending_responds, g_free);
    }
  barge_in (self);
  self->response_awaited = FALSE;
  self->speech_end_us = 0;
  set_state (self, "listening");
}

static void
on_speech_stopped (GstOpenAiRealtime *self, JsonObject *event)
{
  self->speech_end_us = g_get_monotonic_time ();
  self->response_awaited = TRUE;
  set_state (self, "thinking");
}

static void
on_item_added (GstOpenAiRealtime *self, JsonObject *event)
{
  const char *id = vg_rt_json_get_string (vg_rt_json_get_object (event, "item"), "id");

  if (id != NULL)
    remember_item (self, id);
}

static void
on_committed (GstOpenAiRealtime *self, JsonObject *event)
{
  const char *id = vg_rt_json_get_string (event, "item_id");

  if (id != NULL)
    history_reserve_user (self, id);
}

static void
on_user_transcript_delta (GstOpenAiRealtime *self, JsonObject *event)
{
  on_user_transcript (self, event, FALSE);
}

static void
on_user_transcript_done (GstOpenAiRealtime *self, JsonObject *event)
{
  on_user_transcript (self, event, TRUE);
}

static void
on_user_transcript_failed (GstOpenAiRealtime *self, JsonObject *event)
{
  JsonObject *err = vg_rt_json_get_object (event, "error");
  const char *item_id = vg_rt_json_get_string (event, "item_id");

  if (item_id != NULL)
    g_hash_table_remove (self->user_text, item_id);
  vg_agent_post_error (GST_ELEMENT (self), "transcription_failed",
                       vg_rt_json_get_string (err, "message"), FALSE);
}

static void
on_assistant_delta (GstOpenAiRealtime *self, JsonObject *event)
{
  on_assistant_text (self, event, NULL);
}

static void
on_assistant_transcript_done (GstOpenAiRealtime *self, JsonObject *event)
{
  on_assistant_text (self, event, "transcript");
}

static void
on_assistant_text_done (GstOpenAiRealtime *self, JsonObject *event)
{
  on_assistant_text (self, event, "text");
}

static void
ignore_event (GstOpenAiRealtime *self, JsonObject *event)
{
}

static const struct
{
  const char *type;
  EventHandler handler;
} handlers[] = {
  { "session.created", on_session_created },
  { "session.updated", on_session_updated },
  { "error", on_error },
  { "input_audio_buffer.speech_started", on_speech_started },
  { "input_audio_buffer.speech_stopped", on_speech_stopped },
  { "input_audio_buffer.committed", on_committed },
  { "input_audio_buffer.cleared", ignore_event },
  { "input_audio_buffer.timeout_triggered", ignore_event },
  { "conversation.created", ignore_event },
  { "conversation.item.created", on_item_added },
  { "conversation.item.added", on_item_added },
  { "conversation.item.done", on_item_added },
  { "conversation.item.truncated", ignore_event },
  { "conversation.item.deleted", ignore_event },
  { "conversation.item.input_audio_transcription.delta", on_user_transcript_delta },
  { "conversation.item.input_audio_transcription.completed", on_user_transcript_done },
  { "conversation.item.input_audio_transcription.failed", on_user_transcript_failed },
  { "response.created", on_response_created },
  { "response.output_item.added", on_output_item_added },
  { "response.output_item.done", ignore_event },
  { "response.content_part.added", ignore_event },
  { "response.content_part.done", ignore_event },
  { "response.output_audio.delta", on_audio_delta },
  { "response.output_audio.done", ignore_event },
  { "response.output_audio_transcript.delta", on_assistant_delta },
  { "response.output_audio_transcript.done", on_assistant_transcript_done },
  { "response.output_text.delta", on_assistant_delta },
  { "response.output_text.done", on_assistant_text_done },
  { "response.function_call_arguments.delta", ignore_event },
  { "response.function_call_arguments.done", on_function_call },
  { "response.done", on_response_done },
  { "rate_limits.updated", ignore_event },
};

void
gst_openai_realtime_handle_event (GstOpenAiRealtime *self, const char *type, JsonObject *event)
{
  guint i;

  if (self->fatal)
    return;
  GST_LOG_OBJECT (self, "event %s", type);
  for (i = 0; i < G_N_ELEMENTS (handlers); i++)
    if (strcmp (handlers[i].type, type) == 0)
      {
        handlers[i].handler (self, event);
        break;
      }
  if (i == G_N_ELEMENTS (handlers))
    GST_WARNING_OBJECT (self, "ignoring unknown server event type '%.64s'", type);
}

void
gst_openai_realtime_handle_bad_frame (GstOpenAiRealtime *self, const char *reason)
{
  count_bad_frame (self);
  GST_WARNING_OBJECT (self, "ignoring bad frame from the server: %s", reason);
}

/* The stall watchdog's question: does the server owe us events now? */
gboolean
gst_openai_realtime_expecting (GstOpenAiRealtime *self)
{
  return !self->fatal
         && (self->response_active || self->response_requested || self->response_awaited);
}

/* The played report of GstVgAgent, handed to the I/O thread. */
void
gst_openai_realtime_played (GstVgAgent *agent, const GstVgAgentPlayed *played)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (agent);

  if (played->audio)
    {
      if (self->first_audio_played_us == 0)
        self->first_audio_played_us = played->audio_time;
      /* After a cut, this audio is older than the state posted since. */
      if (!played->cut)
        set_state (self, "speaking");
      post_usage_if_complete (self);
    }
  if (played->drained && !self->response_active)
    set_state (self, "listening");
}
