/* A pollable input stream that first replays bytes already read from a
 * connection (the request head the acceptor checked), then reads the
 * connection itself, up to the end of the request when its length is known;
 * it notes how long its reader has been kept waiting, so that the acceptor
 * can end a request whose body stalls.
 *
 * Main thread only. Closing it closes nothing underneath (see lent-stream.h). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define VG_TYPE_REPLAY_STREAM (vg_replay_stream_get_type ())
G_DECLARE_FINAL_TYPE (VgReplayStream, vg_replay_stream, VG, REPLAY_STREAM, GInputStream)

/* base: the connection (TCP or TLS), reffed; prefix: replayed first;
 * limit: how many bytes to read from base after the prefix before reading as
 * ended (-1: no limit). */
VgReplayStream *vg_replay_stream_new (GIOStream *base, GBytes *prefix, gint64 limit);

/* The monotonic time (µs) since which a read has found nothing to read and
 * no byte has come since, or 0 when the reader is not kept waiting. */
gint64 vg_replay_stream_waiting_since (VgReplayStream *self);

/* Every later read fails with G_IO_ERROR_TIMED_OUT; a waiting reader wakes. */
void vg_replay_stream_expire (VgReplayStream *self);

/* Whether the reader took the whole request (the prefix and the limit), so
 * that what follows in the connection is the client's next request. */
gboolean vg_replay_stream_is_drained (VgReplayStream *self);

G_END_DECLS
