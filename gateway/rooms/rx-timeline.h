/* A publisher's decoded audio kept on the room's clock before any mixer
 * hears it (the probe on the receive chain's tee, participant-media.c).
 *
 * A peer that starts its microphone with the offer (a GStreamer webrtcbin,
 * aiortc) holds its audio until DTLS is up and then sends the backlog at
 * once; a network can also deliver a stall's packets together. The
 * jitterbuffer stamps such a burst from its RTP timestamps: ahead of the
 * clock at first, then squeezed onto the same instants. An audiomixer lays
 * buffers end to end while their timestamps stay within its alignment
 * threshold and, for up to its discont-wait (1 s) beyond it, so it ran
 * ahead of the clock by the whole backlog, and a second later resynced to
 * the timestamps: it dropped as much fresh audio (~0.5 s of what the
 * learner said while the tutor greeted, never caught up), and, in a mixer
 * with other inputs, their audio while it was ahead.
 *
 * So the stale part is dropped here, where it enters: a buffer timestamped
 * ahead of the clock by more than VG_RX_TIMELINE_AHEAD (audio cannot have
 * been captured in the future: the backlog spread ahead), and one that
 * starts before the end of the audio already passed, counted end to end as
 * a mixer counts, by more than VG_RX_TIMELINE_TOLERANCE (time the room has
 * already heard: the backlog squeezed onto past instants). A buffer that
 * starts later than that end (a hole, e.g. after those drops) is marked
 * DISCONT, so that mixers place it at its time at once rather than laying
 * it end to end for their discont-wait. A stream whose timestamps stay
 * ahead of the clock for VG_RX_TIMELINE_AHEAD_MAX (of clock time) is not a backlog: its
 * audio is kept.
 *
 * Thread: the receive chain's streaming thread alone (the probe); no lock. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* Within this, a buffer continues the audio before it (the jitterbuffer's
 * skew corrections are a few ms; an Opus frame is 20 ms). */
#define VG_RX_TIMELINE_TOLERANCE (20 * GST_MSECOND)
/* The jitterbuffer stamps from arrival: its timestamps trail the clock
 * (measured: by 0-5 ms at the tee). */
#define VG_RX_TIMELINE_AHEAD (20 * GST_MSECOND)
/* A backlog is overtaken by the clock within its own length. */
#define VG_RX_TIMELINE_AHEAD_MAX (1000 * GST_MSECOND)

typedef struct
{
  GstSegment segment; /* the stream's, from its last segment event */
  GstClockTime next;  /* running time where the next buffer belongs, or NONE */
  guint64 dropped;    /* buffers dropped so far */
  GstClockTime ahead_since; /* running time of the first of the buffers dropped in a row
                               for being ahead of the clock, or NONE */
  gboolean clock_trusted;   /* FALSE: timestamps stayed ahead; no longer compared */
} VgRxTimeline;

void vg_rx_timeline_init (VgRxTimeline *t);
/* Adds the probe to pad (the tee's sink pad); t must outlive the pad's
 * data flow (the participant's media). */
void vg_rx_timeline_attach (VgRxTimeline *t, GstPad *pad);

G_END_DECLS
