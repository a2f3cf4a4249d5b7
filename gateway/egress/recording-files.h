/* Removing a recording: its files, unlinked on a worker thread (the main
 * context never waits for the disk), then its store row. Used by
 * DELETE /api/recordings/{id} and by the retention sweep. */
#pragma once

#include "gateway/store/store.h"

G_BEGIN_DECLS

/* deleted: the row was removed (FALSE when it was already gone); error set
 * when a file could not be removed (the row is then kept, so the file stays
 * listed) or the store failed. */
typedef void (*VgRecordingDeleted) (gboolean deleted, const GError *error, gpointer data);

/* Call on the main context; callback runs there. path and transcript_path
 * are the row's (either may be NULL); a missing file is not an error. */
void vg_recording_delete (VgStore *store, const char *id, const char *path,
                          const char *transcript_path, VgRecordingDeleted callback, gpointer data);

G_END_DECLS
