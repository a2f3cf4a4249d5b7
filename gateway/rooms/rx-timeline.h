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
 * So the stale part is dropped here, where it enters: counting the audio
 * passed end to end as a mixer counts, a buffer that starts before the end
 * of what was passed (by more than VG_RX_TIMELINE_TOLERANCE) while the
 * timestamps still go forward carries time the room has already heard,
 * squeezed there by the jitterbuffer, and is dropped. What passes stays
 * within the mixers' alignment threshold (40 ms) of their count, so they
 * never resync backwards over fresh audio. A stream whose timestamps advance
 * with its samples loses nothing; holes and jumps back (a jitterbuffer
 * restarting its timeline under load) pass as before, for the mixers to
 * place. Timestamps are not compared with the clock: under load the
 * jitterbuffer's run ahead of it and back. (The head of a backlog, spread
 * ahead of the clock by a few hundred ms, still passes: mixers run that far
 * ahead for a moment, then wait for the clock; nothing fresh is lost.)
 *
 * Thread: the receive chain's streaming thread alone (the probe); no lock. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* Within this, a buffer continues the audio before it (the jitterbuffer's
 * skew corrections are a few ms; an Opus frame is 20 ms). */
#define VG_RX_TIMELINE_TOLERANCE (20 * GST_MSECOND)

typedef struct
{
  GstSegment segment;      /* the stream's, from its last segment event */
  GstClockTime next;       /* running time where the next buffer belongs, or NONE */
  GstClockTime last_start; /* running time of the last buffer seen, or NONE */
  guint64 dropped;         /* buffers dropped so far */
} VgRxTimeline;

void vg_rx_timeline_init (VgRxTimeline *t);
/* Adds the probe to pad (the tee's sink pad); t must outlive the pad's
 * data flow (the participant's media). */
void vg_rx_timeline_attach (VgRxTimeline *t, GstPad *pad);

G_END_DECLS
