/* A connection lent to libsoup for one request.
 *
 * Its input is a replay stream (the request head the acceptor already read,
 * then the body, and nothing past the request), its output the connection's
 * own. libsoup 3.2 closes every connection it did not accept itself after a
 * response (see acceptor.h); closing this stream instead hands the
 * connection back to the acceptor, which decides whether it stays open for
 * the client's next request. Nothing underneath is closed here: if the
 * stream is closed or finalized with no one to hand it back to, it closes
 * the connection itself.
 *
 * Main thread only. */
#pragma once

#include "api/replay-stream.h"

G_BEGIN_DECLS

#define VG_TYPE_LENT_STREAM (vg_lent_stream_get_type ())
G_DECLARE_FINAL_TYPE (VgLentStream, vg_lent_stream, VG, LENT_STREAM, GIOStream)

typedef void (*VgLentStreamReturnFunc) (VgLentStream *stream, gpointer user_data);

/* base: the connection (reffed); input: read by libsoup (reffed). */
VgLentStream *vg_lent_stream_new (GIOStream *base, VgReplayStream *input);

VgReplayStream *vg_lent_stream_get_replay (VgLentStream *self);

/* Called once, when the stream is closed or finalized, whichever is first.
 * With func NULL, that closes the connection instead. */
void vg_lent_stream_set_return_func (VgLentStream *self, VgLentStreamReturnFunc func,
                                     gpointer user_data);

G_END_DECLS
