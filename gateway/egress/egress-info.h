/* LiveKit's EgressInfo in proto3 JSON (camelCase, int64 as strings, enums by
 * name) from a recording's snapshot; pure functions, any thread. */
#pragma once

#include <json-glib/json-glib.h>
#include "gateway/rooms/room-recorder.h"

G_BEGIN_DECLS

/* What voxgate knows of one egress besides the engine's snapshot. */
typedef struct
{
  const VgRecordingInfo *info;
  gint64 updated_at_us;
  /* The transcript sidecar's size once COMPLETE, < 0 when there is none. */
  gint64 transcript_size;
  /* Where a client downloads the files (NULL: no store, so no download). */
  const char *download_url, *transcript_url;
} VgEgressSnapshot;

/* "EGRESS_STARTING" … "EGRESS_FAILED". */
const char *vg_egress_status_name (VgRecordingState state);
/* Adds the EgressInfo object to b. */
void vg_egress_info_build (JsonBuilder *b, const VgEgressSnapshot *snapshot);
/* The same as a JSON text (free it). */
char *vg_egress_info_to_string (const VgEgressSnapshot *snapshot);

G_END_DECLS
