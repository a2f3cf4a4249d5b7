/* Room events; see room-events.h. Owns nothing but the publisher; the bus
 * is the registry's. Main context only. */
#include "gateway/rooms/room-events.h"

struct _VgRoomEvents
{
  VgEvents *bus; /* borrowed, may be NULL */
};

static char *
room_sid (const char *name, gint64 created_at)
{
  return g_strdup_printf ("RM_%08x%08" G_GINT64_MODIFIER "x", g_str_hash (name), created_at);
}

char *
vg_room_dup_sid (VgRoom *room)
{
  return room_sid (vg_room_get_name (room), vg_room_get_created_at (room));
}

char *
vg_participant_dup_sid (VgParticipant *p)
{
  return g_strconcat ("PA_", vg_participant_get_session_id (p), NULL);
}

char *
vg_participant_dup_track_sid (VgParticipant *p)
{
  return g_strconcat ("TR_", vg_participant_get_session_id (p), NULL);
}

VgRoomEvents *
vg_room_events_new (VgEvents *bus)
{
  VgRoomEvents *events = g_new0 (VgRoomEvents, 1);
  events->bus = bus;
  return events;
}

void
vg_room_events_free (VgRoomEvents *events)
{
  g_free (events);
}

gboolean
vg_room_events_enabled (VgRoomEvents *events)
{
  return events->bus != NULL;
}

static void
emit (VgRoomEvents *events, VgEvent *e, const VgRoomInfo *room, const VgParticipantInfo *p)
{
  g_autofree char *sid = room_sid (room->name, room->created_at);
  g_autofree char *participant_sid = p ? g_strconcat ("PA_", p->session_id, NULL) : NULL;
  g_autofree char *track_sid = NULL;

  e->room = room->name;
  e->room_sid = sid;
  e->room_metadata = room->metadata;
  e->room_pipeline = room->template_name;
  e->room_subtopic_id = room->subtopic_id;
  e->room_created_at = room->created_at;
  e->room_empty_timeout = room->empty_timeout_s;
  e->room_max_participants = room->max_participants;
  e->room_num_participants = room->num_participants;
  if (p)
    {
      e->identity = p->identity;
      e->participant_sid = participant_sid;
      e->participant_name = p->name;
      e->participant_state = vg_participant_state_to_string (p->state);
      e->participant_joined_at = p->joined_at;
      e->participant_is_publisher = p->kind == VG_PARTICIPANT_PUBLISHER;
      e->participant_subtopic_id = p->subtopic_id;
      if (e->type == VG_EVENT_TRACK_PUBLISHED || e->type == VG_EVENT_TRACK_UNPUBLISHED)
        e->track_sid = track_sid = g_strconcat ("TR_", p->session_id, NULL);
      e->track_muted = p->muted;
    }
  vg_events_emit (events->bus, e);
}

void
vg_room_events_publish (VgRoomEvents *events, VgEventType type, const VgRoomInfo *room,
                        const VgParticipantInfo *p)
{
  VgEvent e = { .type = type, .connect_seconds = -1 };

  if (!events->bus)
    return;
  if (p && type == VG_EVENT_PARTICIPANT_JOINED)
    e.connect_seconds = p->connect_seconds;
  if (p && p->media && type == VG_EVENT_PARTICIPANT_LEFT)
    {
      /* The session's audio quality, for its analytics row. */
      e.packets_lost = p->media->last.packets_lost;
      e.jitter_ms = MAX (p->media->last.jitter_seconds, 0) * 1000;
    }
  emit (events, &e, room, p);
  if (p && type == VG_EVENT_PARTICIPANT_JOINED && p->kind == VG_PARTICIPANT_PUBLISHER)
    {
      VgEvent t = { .type = VG_EVENT_TRACK_PUBLISHED, .connect_seconds = -1 };
      emit (events, &t, room, p);
    }
}

void
vg_room_events_publish_typed_text (VgRoomEvents *events, const VgRoomInfo *room,
                                   const char *session_id, const char *text)
{
  static guint serial;
  g_autofree char *item = g_strdup_printf ("typed_%s_%u", session_id, ++serial);
  VgEvent e = { .type = VG_EVENT_AGENT_TRANSCRIPT,
                .connect_seconds = -1,
                .response_latency_ms = -1,
                .audio_seconds = -1,
                .role = "user",
                .item_id = item,
                .text = text,
                .final = TRUE };

  if (events->bus)
    emit (events, &e, room, NULL);
}

static gint64
int_field (const GstStructure *s, const char *name, gint64 fallback)
{
  gint v;
  return gst_structure_get_int (s, name, &v) ? v : fallback;
}

void
vg_room_events_publish_agent_message (VgRoomEvents *events, const VgRoomInfo *room,
                                      const GstStructure *s)
{
  VgEvent e = { .connect_seconds = -1, .response_latency_ms = -1, .audio_seconds = -1 };
  const char *name = gst_structure_get_name (s);

  if (!events->bus)
    return;
  if (g_str_equal (name, "realtime-transcript"))
    {
      e.type = VG_EVENT_AGENT_TRANSCRIPT;
      e.role = gst_structure_get_string (s, "role");
      e.item_id = gst_structure_get_string (s, "item-id");
      e.text = gst_structure_get_string (s, "text");
      gst_structure_get_boolean (s, "final", &e.final);
      gst_structure_get_boolean (s, "truncated", &e.truncated);
    }
  else if (g_str_equal (name, "realtime-function-call"))
    {
      e.type = VG_EVENT_AGENT_TOOL_CALL;
      e.tool_name = gst_structure_get_string (s, "name");
      e.tool_arguments = gst_structure_get_string (s, "arguments");
    }
  else if (g_str_equal (name, "realtime-usage"))
    {
      const char *status = gst_structure_get_string (s, "status");
      e.type = VG_EVENT_AGENT_USAGE;
      e.tokens_in = MAX (int_field (s, "input-tokens", 0), 0);
      e.tokens_out = MAX (int_field (s, "output-tokens", 0), 0);
      e.response_latency_ms = int_field (s, "latency-first-audio-played-ms", -1);
      if (g_strcmp0 (status, "cancelled") == 0)
        {
          /* A cancelled response is an interruption (barge-in or cancel). */
          VgEvent i = { .type = VG_EVENT_AGENT_INTERRUPTED, .connect_seconds = -1 };
          emit (events, &i, room, NULL);
        }
    }
  else
    return;
  emit (events, &e, room, NULL);
}

void
vg_room_events_publish_tool_call (VgRoomEvents *events, const VgRoomInfo *room, const char *name,
                                  const char *arguments, const char *result)
{
  VgEvent e = { .type = VG_EVENT_AGENT_TOOL_CALL,
                .connect_seconds = -1,
                .response_latency_ms = -1,
                .audio_seconds = -1,
                .tool_name = name,
                .tool_arguments = arguments,
                .tool_result = result };

  if (events->bus)
    emit (events, &e, room, NULL);
}
