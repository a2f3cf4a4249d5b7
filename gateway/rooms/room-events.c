#include "gateway/rooms/room-events.h"
#include "gateway/rooms/room-private.h"

char *
vg_room_dup_sid (VgRoom *room)
{
  return g_strdup_printf ("RM_%08x%08" G_GINT64_MODIFIER "x", g_str_hash (vg_room_get_name (room)),
                          vg_room_get_created_at (room));
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

static VgEvents *
events_of (VgRoom *room)
{
  return vg_room_get_rooms (room)->events;
}

static void
emit (VgRoom *room, VgEvent *e, VgParticipant *p)
{
  g_autofree char *room_sid = vg_room_dup_sid (room);
  g_autofree char *participant_sid = p ? vg_participant_dup_sid (p) : NULL;
  g_autofree char *track_sid = NULL;

  e->room = vg_room_get_name (room);
  e->room_sid = room_sid;
  e->room_metadata = vg_room_get_metadata (room);
  e->room_pipeline = vg_room_get_template (room);
  e->room_created_at = vg_room_get_created_at (room);
  e->room_empty_timeout = vg_room_get_empty_timeout (room);
  e->room_max_participants = vg_room_get_max_participants (room);
  e->room_num_participants = vg_room_count_participants (room);
  if (p)
    {
      e->identity = vg_participant_get_identity (p);
      e->participant_sid = participant_sid;
      e->participant_name = vg_participant_get_name (p);
      e->participant_state = vg_participant_state_to_string (vg_participant_get_state (p));
      e->participant_joined_at = vg_participant_get_joined_at (p);
      e->participant_is_publisher = vg_participant_get_kind (p) == VG_PARTICIPANT_PUBLISHER;
      if (e->type == VG_EVENT_TRACK_PUBLISHED || e->type == VG_EVENT_TRACK_UNPUBLISHED)
        e->track_sid = track_sid = vg_participant_dup_track_sid (p);
      e->track_muted = vg_participant_get_muted (p);
    }
  vg_events_emit (events_of (room), e);
}

void
vg_room_publish (VgRoom *room, VgEventType type, VgParticipant *p)
{
  VgEvent e = { .type = type, .connect_seconds = -1 };

  if (!events_of (room))
    return;
  if (p && type == VG_EVENT_PARTICIPANT_JOINED)
    e.connect_seconds = vg_participant_get_connect_seconds (p);
  emit (room, &e, p);
  if (p && type == VG_EVENT_PARTICIPANT_JOINED
      && vg_participant_get_kind (p) == VG_PARTICIPANT_PUBLISHER)
    {
      VgEvent t = { .type = VG_EVENT_TRACK_PUBLISHED, .connect_seconds = -1 };
      emit (room, &t, p);
    }
}

void
vg_room_publish_typed_text (VgRoom *room, VgParticipant *participant, const char *text)
{
  static guint serial;
  g_autofree char *item
      = g_strdup_printf ("typed_%s_%u", vg_participant_get_session_id (participant), ++serial);
  VgEvent e = { .type = VG_EVENT_AGENT_TRANSCRIPT,
                .connect_seconds = -1,
                .response_latency_ms = -1,
                .audio_seconds = -1,
                .role = "user",
                .item_id = item,
                .text = text,
                .final = TRUE };

  if (events_of (room))
    emit (room, &e, NULL);
}

static gint64
int_field (const GstStructure *s, const char *name, gint64 fallback)
{
  gint v;
  return gst_structure_get_int (s, name, &v) ? v : fallback;
}

void
vg_room_publish_agent_message (VgRoom *room, const GstStructure *s)
{
  VgEvent e = { .connect_seconds = -1, .response_latency_ms = -1, .audio_seconds = -1 };
  const char *name = gst_structure_get_name (s);

  if (!events_of (room))
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
          emit (room, &i, NULL);
        }
    }
  else
    return;
  emit (room, &e, NULL);
}
