#include "api/handlers/room-json.h"
#include "gateway/rooms/room-events.h"
#include "gateway/core/json-members.h"

static void
member_int64 (JsonBuilder *b, const char *name, gint64 value, VgJsonShape shape)
{
  json_builder_set_member_name (b, name);
  if (shape == VG_JSON_PROTO)
    {
      g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, value);
      json_builder_add_string_value (b, text);
    }
  else
    json_builder_add_int_value (b, value);
}

static void
member_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static void
member_bool (JsonBuilder *b, const char *name, gboolean value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_boolean_value (b, value);
}

/* A measurement: a number, or null (REST) / no member (proto3 JSON omits
 * what is unset) when unknown (< 0). */
static void
member_measure (JsonBuilder *b, const char *name, double value, double scale, VgJsonShape shape)
{
  if (value < 0 && shape == VG_JSON_PROTO)
    return;
  json_builder_set_member_name (b, name);
  if (value < 0)
    json_builder_add_null_value (b);
  else
    json_builder_add_double_value (b, value * scale);
}

static void room_members (JsonBuilder *b, VgRoom *room, VgJsonShape shape);

void
vg_room_json (JsonBuilder *b, VgRoom *room, VgJsonShape shape)
{
  json_builder_begin_object (b);
  room_members (b, room, shape);
  json_builder_end_object (b);
}

void
vg_room_detail_json (JsonBuilder *b, VgRoom *room)
{
  VgLatencySummary latency;
  g_autoptr (GPtrArray) participants = vg_room_list_participants (room);

  vg_room_get_agent_latency (room, &latency);
  json_builder_begin_object (b);
  room_members (b, room, VG_JSON_REST);
  json_builder_set_member_name (b, "agent_response");
  json_builder_begin_object (b);
  member_int (b, "count", (gint64)latency.count);
  member_measure (b, "last_ms", latency.last, 1000, VG_JSON_REST);
  member_measure (b, "p50_ms", latency.p50, 1000, VG_JSON_REST);
  member_measure (b, "p95_ms", latency.p95, 1000, VG_JSON_REST);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "participants");
  json_builder_begin_array (b);
  for (guint i = 0; i < participants->len; i++)
    vg_participant_json (b, g_ptr_array_index (participants, i), VG_JSON_REST);
  json_builder_end_array (b);
  json_builder_end_object (b);
}

static void
room_members (JsonBuilder *b, VgRoom *room, VgJsonShape shape)
{
  g_autofree char *sid = vg_room_dup_sid (room);
  gboolean proto = shape == VG_JSON_PROTO;
  g_autoptr (GPtrArray) participants = vg_room_list_participants (room);
  guint publishers = 0;

  for (guint i = 0; i < participants->len; i++)
    if (vg_participant_get_kind (g_ptr_array_index (participants, i)) == VG_PARTICIPANT_PUBLISHER)
      publishers++;
  vg_json_add_member_string (b, "sid", sid);
  vg_json_add_member_string (b, "name", vg_room_get_name (room));
  member_int (b, proto ? "emptyTimeout" : "empty_timeout", vg_room_get_empty_timeout (room));
  member_int (b, proto ? "maxParticipants" : "max_participants", vg_room_get_max_participants (room));
  member_int64 (b, proto ? "creationTime" : "created_at", vg_room_get_created_at (room), shape);
  vg_json_add_member_string (b, "metadata", vg_room_get_metadata (room));
  member_int (b, proto ? "numParticipants" : "num_participants", participants->len);
  member_int (b, proto ? "numPublishers" : "num_publishers", publishers);
  if (proto)
    member_bool (b, "activeRecording", FALSE);
  else
    vg_json_add_member_string (b, "pipeline", vg_room_get_template (room));
}

static const char *
proto_state (VgParticipantState state)
{
  switch (state)
    {
    case VG_PARTICIPANT_JOINING: return "JOINING";
    case VG_PARTICIPANT_ACTIVE: return "ACTIVE";
    case VG_PARTICIPANT_DISCONNECTED: return "DISCONNECTED";
    }
  return "JOINING";
}

/* webrtcbin's statistics at the last sample: "media" (REST) or our
 * extension "mediaStats" (proto3 JSON; LiveKit's ParticipantInfo has no such
 * field and its SDKs ignore unknown ones). Packets and jitter describe the
 * audio the participant sends; round trip and bitrate_out what it is sent. */
static void
media_json (JsonBuilder *b, const VgMediaStats *m, VgJsonShape shape)
{
  gboolean proto = shape == VG_JSON_PROTO;
  json_builder_set_member_name (b, proto ? "mediaStats" : "media");
  json_builder_begin_object (b);
  if (m->sampled_at_us)
    member_int64 (b, proto ? "sampledAt" : "sampled_at", m->sampled_at_real, shape);
  else if (!proto)
    {
      json_builder_set_member_name (b, "sampled_at");
      json_builder_add_null_value (b);
    }
  member_int64 (b, proto ? "packetsReceived" : "packets_received", (gint64)m->last.packets_received,
                shape);
  member_int64 (b, proto ? "packetsLost" : "packets_lost", (gint64)m->last.packets_lost, shape);
  member_measure (b, proto ? "lossRatio" : "loss_ratio", vg_media_stats_loss_ratio (m), 1, shape);
  member_measure (b, proto ? "jitterMs" : "jitter_ms", m->last.jitter_seconds, 1000, shape);
  member_measure (b, proto ? "roundTripMs" : "round_trip_ms", m->last.round_trip_seconds, 1000,
                  shape);
  member_measure (b, proto ? "bitrateIn" : "bitrate_in", m->bitrate_in_bps, 1, shape);
  member_measure (b, proto ? "bitrateOut" : "bitrate_out", m->bitrate_out_bps, 1, shape);
  json_builder_end_object (b);
}

void
vg_participant_json (JsonBuilder *b, VgParticipant *p, VgJsonShape shape)
{
  g_autofree char *sid = vg_participant_dup_sid (p);
  g_autofree char *track = vg_participant_dup_track_sid (p);
  gboolean proto = shape == VG_JSON_PROTO;
  gboolean publisher = vg_participant_get_kind (p) == VG_PARTICIPANT_PUBLISHER;

  json_builder_begin_object (b);
  vg_json_add_member_string (b, "sid", sid);
  vg_json_add_member_string (b, "identity", vg_participant_get_identity (p));
  vg_json_add_member_string (b, "name", vg_participant_get_name (p));
  vg_json_add_member_string (b, "state",
                             proto ? proto_state (vg_participant_get_state (p))
                                   : vg_participant_state_to_string (vg_participant_get_state (p)));
  member_int64 (b, proto ? "joinedAt" : "joined_at", vg_participant_get_joined_at (p), shape);
  member_bool (b, proto ? "isPublisher" : "is_publisher", publisher);
  if (!proto)
    vg_json_add_member_string (b, "session_id", vg_participant_get_session_id (p));
  json_builder_set_member_name (b, "tracks");
  json_builder_begin_array (b);
  if (publisher)
    {
      json_builder_begin_object (b);
      vg_json_add_member_string (b, "sid", track);
      vg_json_add_member_string (b, "type", proto ? "AUDIO" : "audio");
      vg_json_add_member_string (b, "source", proto ? "MICROPHONE" : "microphone");
      vg_json_add_member_string (b, proto ? "mimeType" : "mime_type", "audio/opus");
      member_bool (b, "muted", vg_participant_get_muted (p));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  media_json (b, vg_participant_get_media_stats (p), shape);
  if (proto)
    {
      json_builder_set_member_name (b, "permission");
      json_builder_begin_object (b);
      member_bool (b, "canSubscribe", TRUE);
      member_bool (b, "canPublish", publisher);
      member_bool (b, "canPublishData", TRUE);
      json_builder_end_object (b);
      vg_json_add_member_string (b, "kind", "STANDARD");
    }
  json_builder_end_object (b);
}

typedef void (*VgItemJsonFunc) (JsonBuilder *b, gpointer item, VgJsonShape shape);

static JsonNode *
list_json (const char *member, GPtrArray *items, VgItemJsonFunc item_json, VgJsonShape shape)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; i < items->len; i++)
    item_json (b, g_ptr_array_index (items, i), shape);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
vg_rooms_list_json (GPtrArray *rooms, VgJsonShape shape)
{
  return list_json ("rooms", rooms, (VgItemJsonFunc)vg_room_json, shape);
}

JsonNode *
vg_participants_list_json (GPtrArray *participants, VgJsonShape shape)
{
  return list_json ("participants", participants, (VgItemJsonFunc)vg_participant_json, shape);
}
