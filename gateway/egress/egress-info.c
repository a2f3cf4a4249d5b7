/* EgressInfo JSON. See egress-info.h. */
#include "gateway/egress/egress-info.h"
#include "gateway/core/json-members.h"

const char *
vg_egress_status_name (VgRecordingState state)
{
  switch (state)
    {
      case VG_RECORDING_STARTING:
        return "EGRESS_STARTING";
      case VG_RECORDING_ACTIVE:
        return "EGRESS_ACTIVE";
      case VG_RECORDING_ENDING:
        return "EGRESS_ENDING";
      case VG_RECORDING_COMPLETE:
        return "EGRESS_COMPLETE";
      case VG_RECORDING_FAILED:
        return "EGRESS_FAILED";
    }
  return "EGRESS_FAILED";
}

/* LiveKit's FileInfo: times and duration in nanoseconds. */
static void
add_file (JsonBuilder *b, const VgRecordingInfo *info, const char *path, gint64 size,
          const char *location)
{
  g_autofree char *name = g_path_get_basename (path);

  json_builder_begin_object (b);
  vg_json_add_member_string (b, "filename", name);
  vg_json_add_member_int64_string (b, "startedAt", info->started_at_us * 1000);
  vg_json_add_member_int64_string (b, "endedAt", info->ended_at_us * 1000);
  vg_json_add_member_int64_string (b, "duration", info->duration_ns);
  vg_json_add_member_int64_string (b, "size", size);
  vg_json_add_member_string (b, "location", location ? location : path);
  json_builder_end_object (b);
}

static void
add_request (JsonBuilder *b, const VgRecordingInfo *info)
{
  if (info->kind == VG_RECORDING_ROOM_COMPOSITE)
    {
      json_builder_set_member_name (b, "roomComposite");
      json_builder_begin_object (b);
      vg_json_add_member_string (b, "roomName", info->room_name);
      json_builder_set_member_name (b, "audioOnly");
      json_builder_add_boolean_value (b, TRUE);
      vg_json_add_member_string (b, "audioMixing", "DUAL_CHANNEL_AGENT");
      json_builder_end_object (b);
    }
  else
    {
      json_builder_set_member_name (b, "track");
      json_builder_begin_object (b);
      vg_json_add_member_string (b, "roomName", info->room_name);
      vg_json_add_member_string (b, "trackId", info->track_sid);
      json_builder_end_object (b);
    }
}

void
vg_egress_info_build (JsonBuilder *b, const VgEgressSnapshot *s)
{
  const VgRecordingInfo *info = s->info;
  gboolean ended = info->state == VG_RECORDING_COMPLETE || info->state == VG_RECORDING_FAILED;

  json_builder_begin_object (b);
  vg_json_add_member_string (b, "egressId", info->id);
  vg_json_add_member_string (b, "roomId", info->room_sid);
  vg_json_add_member_string (b, "roomName", info->room_name);
  /* A composite is made from the room's own mix, as LiveKit's SDK source
   * (not a headless browser) makes one. */
  vg_json_add_member_string (b, "sourceType", "EGRESS_SOURCE_TYPE_SDK");
  vg_json_add_member_string (b, "status", vg_egress_status_name (info->state));
  vg_json_add_member_int64_string (b, "startedAt", info->started_at_us * 1000);
  if (ended)
    vg_json_add_member_int64_string (b, "endedAt", info->ended_at_us * 1000);
  vg_json_add_member_int64_string (b, "updatedAt", s->updated_at_us * 1000);
  if (info->error)
    vg_json_add_member_string (b, "error", info->error);
  add_request (b, info);
  json_builder_set_member_name (b, "fileResults");
  json_builder_begin_array (b);
  /* The files exist under their names once COMPLETE; before, the figures
   * are those written so far. A failed recording leaves no file. */
  if (info->path && info->state != VG_RECORDING_FAILED)
    {
      add_file (b, info, info->path, info->size_bytes, s->download_url);
      if (info->state == VG_RECORDING_COMPLETE && info->transcript_path && s->transcript_size >= 0)
        add_file (b, info, info->transcript_path, s->transcript_size, s->transcript_url);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

char *
vg_egress_info_to_string (const VgEgressSnapshot *snapshot)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  vg_egress_info_build (b, snapshot);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}
