/* Recording a room inside its own pipeline (issue 19's engine; the Egress
 * API and /api/recordings are built on top of this interface).
 *
 * Two kinds, as LiveKit's Egress has them:
 *  - ROOM_COMPOSITE: one Ogg/Opus stereo file per room, the learners' mix on
 *    the left channel and the agent on the right (LiveKit's
 *    DUAL_CHANNEL_AGENT), plus a WebVTT transcript sidecar aligned to the
 *    recording's timeline (from the agent's transcripts and typed text).
 *  - TRACK: one participant's published Opus track, depayloaded and muxed
 *    into Ogg without re-encoding (no sidecar).
 *
 * Every recording hangs off the room's graph behind a bounded leaky queue:
 * the room never waits for the disk (dropped buffers are counted). The file
 * is written as "<path>.part", its Ogg pages flushed at least every second
 * (a kill -9 loses at most ~1 s) and renamed to <path> atomically when it
 * ends. A write error or full disk ends that recording alone with FAILED.
 * Recordings end (COMPLETE) when stopped, when their track's participant
 * leaves, or when the room closes.
 *
 * Metrics (registered by the registry, this engine's own):
 * voxgate_recordings_active (gauge), voxgate_recordings_total{kind,status}
 * (ended: status "complete"/"failed"), voxgate_recording_dropped_buffers_total,
 * voxgate_recording_bytes_total.
 *
 * With [recording] enabled = true every room gets a ROOM_COMPOSITE
 * recording when it is created, into [recording] dir.
 *
 * Threading: every function here runs on the registry's main context, and
 * every callback is invoked there (never from a streaming thread, never
 * with a lock held). */
#pragma once

#include <glib.h>
#include <gst/gst.h>
#include "gateway/rooms/rooms.h"

G_BEGIN_DECLS

typedef enum
{
  VG_RECORDING_ROOM_COMPOSITE, /* stereo: left = learners' mix, right = agent */
  VG_RECORDING_TRACK,          /* one participant's Opus, not re-encoded */
} VgRecordingKind;

/* The order is the lifecycle: STARTING → ACTIVE → ENDING → COMPLETE or
 * FAILED (FAILED may follow any earlier state). Values match LiveKit's
 * EgressStatus minus one (EGRESS_STARTING = 0 there as well). */
typedef enum
{
  VG_RECORDING_STARTING, /* branch being added to the pipeline */
  VG_RECORDING_ACTIVE,   /* pages reach the file (told within 1 s of the first) */
  VG_RECORDING_ENDING,   /* stopped: EOS is draining through the muxer */
  VG_RECORDING_COMPLETE, /* the file is closed and renamed to its path */
  VG_RECORDING_FAILED,   /* error set; the .part file is removed */
} VgRecordingState;

const char *vg_recording_state_to_string (VgRecordingState state); /* "starting", ... */
const char *vg_recording_kind_to_string (VgRecordingKind kind);    /* "room_composite", "track" */

/* What to record. Strings are borrowed for the call. */
typedef struct
{
  VgRecordingKind kind;
  /* TRACK only: the publisher's track sid ("TR_…", as the room service and
   * webhooks report it) or its identity. */
  const char *track;
  /* NULL or "" = [recording] dir. Created (mode 0750) when missing. */
  const char *directory;
  /* A base name (no '/', no leading '.', at most 200 bytes); ".ogg" is
   * appended when it lacks it. NULL = "<room>-<UTC time>-<id>.ogg". */
  const char *file_name;
} VgRecordingSpec;

/* A snapshot of one recording. In callbacks every pointer is borrowed for
 * the call; from vg_rooms_list_recordings they are owned by the info. */
typedef struct
{
  char *id; /* "EG_…", unique in the process */
  char *room_name;
  char *room_sid; /* "RM_…" of the room instance */
  VgRecordingKind kind;
  char *track_sid;              /* TRACK: "TR_…"; NULL for composites */
  char *participant_identity;   /* TRACK: the publisher; NULL for composites */
  char *participant_session_id; /* TRACK: its session (conversation key); NULL otherwise */
  VgRecordingState state;
  char *path;              /* the final path (the file is "<path>.part" until COMPLETE) */
  char *transcript_path;   /* composites: "<path minus .ogg>.vtt"; else NULL */
  gint64 started_at_us;    /* unix µs of the recording's time zero */
  gint64 ended_at_us;      /* unix µs, 0 until COMPLETE/FAILED */
  gint64 duration_ns;      /* media written so far (final once COMPLETE) */
  guint64 size_bytes;      /* bytes written so far (final once COMPLETE) */
  guint64 dropped_buffers; /* dropped by the leaky queue because the disk lagged */
  char *error;             /* FAILED: why (no secrets, a short sentence); else NULL */
} VgRecordingInfo;

VgRecordingInfo *vg_recording_info_copy (const VgRecordingInfo *info);
void vg_recording_info_free (VgRecordingInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VgRecordingInfo, vg_recording_info_free)

typedef struct
{
  /* Each state change, once per state, in lifecycle order; COMPLETE or
   * FAILED is the last call. May be NULL. */
  void (*state_changed) (gpointer data, const VgRecordingInfo *info);
} VgRecordingCallbacks;

/* Sets (or with NULL clears) the registry's observer: told about every
 * recording, automatic ([recording] enabled) or started by the call below,
 * before that call's own callbacks. callbacks and data must outlive it. */
void vg_rooms_set_recording_observer (VgRooms *rooms, const VgRecordingCallbacks *callbacks,
                                      gpointer data);

/* Starts recording the room. Returns the recording's id (caller frees) or
 * NULL with VG_ROOMS_ERROR_NOT_FOUND (no room, no such track),
 * VG_ROOMS_ERROR_INVALID (bad file name or directory), or
 * VG_ROOMS_ERROR_PIPELINE (an element is missing, the file cannot be
 * opened). callbacks may be NULL; they and data must stay valid until the
 * COMPLETE or FAILED call. The STARTING callback runs before this returns. */
char *vg_rooms_start_recording (VgRooms *rooms, const char *room_name, const VgRecordingSpec *spec,
                                const VgRecordingCallbacks *callbacks, gpointer data,
                                GError **error);
/* Ends the recording (ENDING, then COMPLETE once the file is closed).
 * FALSE with VG_ROOMS_ERROR_NOT_FOUND when no such recording is running
 * (unknown id, or already COMPLETE/FAILED). */
gboolean vg_rooms_stop_recording (VgRooms *rooms, const char *id, GError **error);
/* The recordings running now (not yet COMPLETE/FAILED), room_name NULL =
 * all rooms; owned snapshots, sorted by id. Free with
 * g_ptr_array_unref. */
GPtrArray *vg_rooms_list_recordings (VgRooms *rooms, const char *room_name);
/* A snapshot of one running recording, or NULL. */
VgRecordingInfo *vg_rooms_get_recording (VgRooms *rooms, const char *id);
/* The running recording's own pipeline (for tests and diagnostics), or
 * NULL. Borrowed: valid until the main loop runs. */
GstPipeline *vg_rooms_get_recording_pipeline (VgRooms *rooms, const char *id);

G_END_DECLS
