#include "gateway/subscribers/conversation-recorder.h"
#include "gateway/store/store.h"

#include <math.h>
#include <stdlib.h>

typedef struct
{
  char *id; /* store conversation id */
  char *room;
  char *identity;
  gint64 connected_at_us;
  double connect_seconds;
  guint user_turns, agent_turns, interruptions, tool_calls;
  GArray *latencies_ms;
  guint64 tokens_in, tokens_out;
  double audio_in_s, audio_out_s;
} VgConversation;

struct _VgRecorder
{
  VgApp *app;
  GHashTable *conversations; /* "room\x1fidentity" -> VgConversation */
};

static char *
conversation_key (const char *room, const char *identity)
{
  return g_strconcat (room, "\x1f", identity, NULL);
}

static void
conversation_free (gpointer data)
{
  VgConversation *c = data;
  g_free (c->id);
  g_free (c->room);
  g_free (c->identity);
  g_array_unref (c->latencies_ms);
  g_free (c);
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void
finish (VgRecorder *self, VgConversation *c, const char *status, guint64 packets_lost,
        double jitter_ms)
{
  VgStoreAnalytics a = {
    .conversation_id = c->id,
    .room = c->room,
    .identity = c->identity,
    .connected_at_us = c->connected_at_us,
    .duration_seconds = (g_get_real_time () - c->connected_at_us) / 1e6,
    .user_turns = c->user_turns,
    .agent_turns = c->agent_turns,
    .interruptions = c->interruptions,
    .response_latency_mean_ms = -1,
    .response_latency_p95_ms = -1,
    .tokens_in = c->tokens_in,
    .tokens_out = c->tokens_out,
    .audio_seconds_in = c->audio_in_s,
    .audio_seconds_out = c->audio_out_s,
    .packets_lost = packets_lost,
    .jitter_ms = jitter_ms,
    .tool_calls = c->tool_calls,
    .response_latency_p50_ms = -1,
  };
  if (c->latencies_ms->len > 0)
    {
      double sum = 0;
      qsort (c->latencies_ms->data, c->latencies_ms->len, sizeof (double), compare_doubles);
      for (guint i = 0; i < c->latencies_ms->len; i++)
        sum += g_array_index (c->latencies_ms, double, i);
      a.response_latency_mean_ms = sum / c->latencies_ms->len;
      /* Nearest rank, as for p95. */
      a.response_latency_p50_ms
          = g_array_index (c->latencies_ms, double, (guint)ceil (0.5 * c->latencies_ms->len) - 1);
      a.response_latency_p95_ms
          = g_array_index (c->latencies_ms, double, (guint)ceil (0.95 * c->latencies_ms->len) - 1);
    }
  vg_store_analytics_write (self->app->store, &a, NULL);
  vg_store_conversation_end (self->app->store, c->id, status, NULL);
  vg_store_profile_touch (self->app->store, c->identity, NULL, NULL);
}

static void
on_joined (VgRecorder *self, const VgEvent *e)
{
  const char *pipeline = e->room_pipeline;
  const char *model = pipeline && g_str_has_prefix (pipeline, "tutor")
                          ? vg_config_get_string (self->app->config, "agent", "model")
                          : pipeline;
  VgConversation *c;

  if (!e->participant_is_publisher || !e->identity)
    return; /* listeners (WHEP) have no conversation */
  c = g_new0 (VgConversation, 1);
  /* The room's subtopic (set by whoever created it) wins over the learner's token. */
  c->id = vg_store_conversation_start (self->app->store, e->room, e->identity,
                                       e->room_subtopic_id > 0 ? e->room_subtopic_id
                                                               : e->participant_subtopic_id,
                                       pipeline, model, NULL);
  if (!c->id)
    {
      g_free (c);
      return;
    }
  c->room = g_strdup (e->room);
  c->identity = g_strdup (e->identity);
  c->connected_at_us = e->time_us;
  c->connect_seconds = e->connect_seconds;
  c->latencies_ms = g_array_new (FALSE, FALSE, sizeof (double));
  vg_store_profile_touch (self->app->store, e->identity, e->participant_name, NULL);
  g_hash_table_replace (self->conversations, conversation_key (e->room, e->identity), c);
}

static void
on_left (VgRecorder *self, const VgEvent *e)
{
  g_autofree char *key = conversation_key (e->room, e->identity ? e->identity : "");
  VgConversation *c = g_hash_table_lookup (self->conversations, key);

  if (!c)
    return;
  finish (self, c, "completed", e->packets_lost, e->jitter_ms);
  g_hash_table_remove (self->conversations, key);
}

/* Agent events are room-wide: every open conversation in the room gets them. */
static void
on_agent (VgRecorder *self, const VgEvent *e)
{
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, self->conversations);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      VgConversation *c = value;
      if (!g_str_equal (c->room, e->room))
        continue;
      switch (e->type)
        {
          case VG_EVENT_AGENT_TRANSCRIPT:
            {
              gboolean user = g_strcmp0 (e->role, "user") == 0;
              VgStoreMessage m
                  = { user ? "user" : "assistant", e->text, e->item_id, -1, -1, e->truncated };
              if (!e->final || !e->text || !*e->text)
                break;
              vg_store_message_add (self->app->store, c->id, &m, NULL);
              if (user)
                c->user_turns++, c->audio_in_s += MAX (e->audio_seconds, 0);
              else
                c->agent_turns++, c->audio_out_s += MAX (e->audio_seconds, 0);
              break;
            }
          case VG_EVENT_AGENT_TOOL_CALL:
            vg_store_tool_call_add (self->app->store, c->id, e->tool_name, e->tool_arguments,
                                    e->tool_result, NULL);
            c->tool_calls++;
            break;
          case VG_EVENT_AGENT_USAGE:
            c->tokens_in += e->tokens_in;
            c->tokens_out += e->tokens_out;
            if (e->response_latency_ms >= 0)
              g_array_append_val (c->latencies_ms, e->response_latency_ms);
            break;
          case VG_EVENT_AGENT_INTERRUPTED:
            c->interruptions++;
            break;
          default:
            break;
        }
    }
}

static void
on_room_finished (VgRecorder *self, const VgEvent *e)
{
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, self->conversations);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (g_str_equal (((VgConversation *)value)->room, e->room))
      {
        finish (self, value, "abandoned", 0, 0);
        g_hash_table_iter_remove (&it);
      }
}

static void
on_event (const VgEvent *e, gpointer user_data)
{
  VgRecorder *self = user_data;

  if (!self->app->store || !e->room)
    return;
  switch (e->type)
    {
      case VG_EVENT_PARTICIPANT_JOINED:
        on_joined (self, e);
        break;
      case VG_EVENT_PARTICIPANT_LEFT:
        on_left (self, e);
        break;
      case VG_EVENT_ROOM_FINISHED:
        on_room_finished (self, e);
        break;
      case VG_EVENT_AGENT_TRANSCRIPT:
      case VG_EVENT_AGENT_TOOL_CALL:
      case VG_EVENT_AGENT_USAGE:
      case VG_EVENT_AGENT_INTERRUPTED:
        on_agent (self, e);
        break;
      default:
        break;
    }
}

VgRecorder *
vg_recorder_new (VgApp *app)
{
  VgRecorder *self = g_new0 (VgRecorder, 1);

  self->app = app;
  self->conversations = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, conversation_free);
  vg_events_subscribe (app->events, on_event, self);
  return self;
}

void
vg_recorder_free (VgRecorder *self)
{
  GHashTableIter it;
  gpointer value;

  if (!self)
    return;
  if (self->app->store)
    {
      g_hash_table_iter_init (&it, self->conversations);
      while (g_hash_table_iter_next (&it, NULL, &value))
        finish (self, value, "abandoned", 0, 0);
    }
  vg_events_unsubscribe (self->app->events, on_event, self);
  g_hash_table_unref (self->conversations);
  g_free (self);
}
