/* Stopping a webrtcbin without racing its own threads (GStreamer 1.22).
 *
 * webrtcbin runs its peer-connection work (data channels opening and
 * closing, starting the SCTP elements once DTLS is up) as tasks on its own
 * "pc" thread, and sctpdec creates a source pad with a streaming task for
 * every SCTP stream that delivers data, from whichever thread feeds it. A
 * plain gst_element_set_state (webrtcbin, NULL) lets both run while the SCTP
 * elements stop: a data channel's close task then releases an sctpenc pad
 * and resets its stream on an SCTP socket that the state change is closing
 * (a use after free inside usrsctp), and a stream that delivers data during
 * sctpdec's stop gets a pad whose task never ends (disposing the element
 * then waits for it forever). docs/RELIABILITY.md, "The teardown hang", has
 * the backtraces.
 *
 * vg_webrtc_stop() orders it: no more SCTP input, webrtcbin's pc thread held
 * in one of its own tasks while every element inside goes to READY (so none
 * of its tasks runs during that), then the thread let go and webrtcbin taken
 * to NULL as a whole (which ends the thread), then every element inside,
 * including any created meanwhile, set to NULL. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* A worker thread only (it waits for webrtcbin's threads), never a
 * streaming thread of webrtcbin nor the thread its signals are handled on.
 * webrtcbin must be locked (gst_element_set_locked_state) so that its parent
 * does not change its state meanwhile. Returns the number of pad tasks still
 * running inside it afterwards (vg_element_count_live_tasks): 0 unless
 * GStreamer misbehaves (the caller reports it). */
guint vg_webrtc_stop (GstElement *webrtc);

/* A worker thread, after element and everything inside it are at NULL:
 * the pad tasks still started there, which a stopped element has none of.
 * Any it finds is reported (a warning), flushed and stopped if its element
 * lets it; returns the number still running after that. */
guint vg_element_count_live_tasks (GstElement *element);

G_END_DECLS
