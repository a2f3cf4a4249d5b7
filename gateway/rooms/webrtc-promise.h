/* Promises for webrtcbin's action signals that are answered even when
 * webrtcbin drops their task (GStreamer 1.22).
 *
 * webrtcbin runs set-remote-description, create-answer, get-stats... as
 * tasks on its pc thread and replies to the caller's promise from there.
 * A task queued while that thread is busy and still queued when webrtcbin
 * goes READY -> NULL is dropped with the thread's main context: its promise
 * is freed unanswered (GStreamer warns "gst_promise_free: runtime check
 * failed", fatal under G_DEBUG=fatal-warnings and in the tests) and whoever
 * waits on it waits forever. A clean-clone CI run caught it when a
 * participant replaced during its join was stopped with its
 * create-answer queued.
 *
 * A promise made here is kept (a reference, on webrtcbin) until webrtcbin
 * replies; vg_webrtc_stop() expires the ones left once webrtcbin is at NULL,
 * and webrtcbin's finalization any made after that. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* Any thread. A promise to pass to one of webrtc's action signals. func runs
 * when webrtcbin replies, on the replying thread (webrtcbin's pc thread, or
 * the emitting one when webrtcbin replies at once); a promise it never
 * replies to is expired without func. notify releases data after func, or
 * at the expiry. Returns a new reference. */
GstPromise *vg_webrtc_promise_new (GstElement *webrtc, GstPromiseChangeFunc func, gpointer data,
                                   GDestroyNotify notify);

/* A thread that may block, after webrtc reached NULL (vg_webrtc_stop() calls
 * it): expires the promises webrtc never replied to. */
void vg_webrtc_promises_expire (GstElement *webrtc);

/* Any thread: how many promises of webrtc wait for a reply. */
guint vg_webrtc_promises_pending (GstElement *webrtc);

G_END_DECLS
