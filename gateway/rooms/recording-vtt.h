/* The WebVTT transcript sidecar of a recording: cues in the recording's
 * timeline, appended and flushed one by one to "<path>.part" (so a crash
 * leaves every cue written before it), renamed to <path> when finished.
 *
 * Threading: one owner thread (the main context); no locking. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VgVttWriter VgVttWriter;

/* Creates "<path>.part" with the WEBVTT header. NULL and error when it
 * cannot be written. */
VgVttWriter *vg_vtt_writer_new (const char *path, GError **error);
/* Appends one cue; start/end in nanoseconds of the recording's timeline
 * (end is raised to start + 0.5 s when not after start). speaker labels the
 * cue as a voice span (<v speaker>); text is escaped. A write error is
 * remembered and later cues are skipped. */
void vg_vtt_writer_add (VgVttWriter *w, gint64 start_ns, gint64 end_ns, const char *speaker,
                        const char *text);
/* Closes the file and renames it into place (commit) or removes it.
 * Returns FALSE with error when a write, the close or the rename failed. */
gboolean vg_vtt_writer_finish (VgVttWriter *w, gboolean commit, GError **error);
void vg_vtt_writer_free (VgVttWriter *w);

/* "HH:MM:SS.mmm"; exposed for tests. */
char *vg_vtt_format_time (gint64 ns);
/* Text safe in a cue payload: '&' '<' '>' escaped, line breaks made spaces,
 * and "-->" never appears. Exposed for tests. */
char *vg_vtt_escape (const char *text);

G_END_DECLS
