/* The value types of room-recorder.h. The recordings themselves are
 * recorders.c's, reached through the registry (registry.c). */
#include "gateway/rooms/room-recorder.h"

const char *
vg_recording_state_to_string (VgRecordingState state)
{
  static const char *const names[] = { "starting", "active", "ending", "complete", "failed" };
  return state <= VG_RECORDING_FAILED ? names[state] : "unknown";
}

const char *
vg_recording_kind_to_string (VgRecordingKind kind)
{
  return kind == VG_RECORDING_TRACK ? "track" : "room_composite";
}

VgRecordingInfo *
vg_recording_info_copy (const VgRecordingInfo *in)
{
  VgRecordingInfo *out = g_new (VgRecordingInfo, 1);
  *out = *in;
  out->id = g_strdup (in->id);
  out->room_name = g_strdup (in->room_name);
  out->room_sid = g_strdup (in->room_sid);
  out->track_sid = g_strdup (in->track_sid);
  out->participant_identity = g_strdup (in->participant_identity);
  out->participant_session_id = g_strdup (in->participant_session_id);
  out->path = g_strdup (in->path);
  out->transcript_path = g_strdup (in->transcript_path);
  out->error = g_strdup (in->error);
  return out;
}

static void
info_clear (VgRecordingInfo *i)
{
  g_free (i->id);
  g_free (i->room_name);
  g_free (i->room_sid);
  g_free (i->track_sid);
  g_free (i->participant_identity);
  g_free (i->participant_session_id);
  g_free (i->path);
  g_free (i->transcript_path);
  g_free (i->error);
}

void
vg_recording_info_free (VgRecordingInfo *info)
{
  if (!info)
    return;
  info_clear (info);
  g_free (info);
}
