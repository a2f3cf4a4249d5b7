/* The load client's cheap microphone: Opus frames encoded once per process
 * (one second of each tone the client uses, and silence) and sent to every
 * peer by one pacing thread, 20 ms apart, straight into each peer's RTP
 * payloader. A peer then costs no encoder and no streaming thread of its
 * own on the sending side, so one client core drives many more peers.
 *
 * Threads: the sender's functions are called from any thread; the pacing
 * thread ("vg-load-pacer") pushes the frames. A feed is shared by its peer
 * and the pacer (reference counted); no lock is held across a pad push. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct _VgLoadSender VgLoadSender;
typedef struct _VgLoadFeed VgLoadFeed;

/* Encodes the frames (a few hundred ms of CPU) and starts the pacer. */
VgLoadSender *vg_load_sender_new (GError **error);
void vg_load_sender_free (VgLoadSender *sender);

/* The pacer's health: ticks run, ticks that started more than a frame
 * late (the client's core was busy: its figures are then suspect), the
 * worst lateness, and the frames pushed to all feeds. */
typedef struct
{
  guint64 ticks, late_ticks, frames;
  double max_late_ms;
} VgLoadSenderStats;
void vg_load_sender_get_stats (VgLoadSender *sender, VgLoadSenderStats *stats);

/* A new feed into sink (an audio/x-opus sink pad, e.g. rtpopuspay's) of an
 * element in pipeline, whose running time the frames are stamped with.
 * Nothing is sent until vg_load_feed_set_active (TRUE). */
VgLoadFeed *vg_load_sender_add (VgLoadSender *sender, GstElement *pipeline, GstPad *sink,
                                double tone_hz);
/* Stops sending to the feed and drops the caller's reference. */
void vg_load_sender_remove (VgLoadSender *sender, VgLoadFeed *feed);

/* Send (TRUE) or not (FALSE: before the peer is connected, webrtcbin would
 * hold the frames, and a blocked push would stall every peer). */
void vg_load_feed_set_active (VgLoadFeed *feed, gboolean active);
/* What to send from the next frame on: 0 (silence) or one of the encoded
 * tones (440, 660, 880 Hz; other values send 440). Clears the onset. */
void vg_load_feed_set_tone (VgLoadFeed *feed, double hz);
/* Turns: from now (plus delay_ms) on, the tone for on_ms, then silence for
 * off_ms, again and again; on_ms 0 stops. */
void vg_load_feed_set_turns (VgLoadFeed *feed, guint on_ms, guint off_ms, guint delay_ms);

typedef struct
{
  gint64 onset_us;    /* the current tone's first sample "spoken" (monotonic), 0 until sent */
  gint64 turn_end_us; /* the last turn's last sample spoken, 0 before the first */
  guint turns_ended;
  guint64 frames_sent;
} VgLoadFeedTimes;
void vg_load_feed_get_times (VgLoadFeed *feed, VgLoadFeedTimes *times);

G_END_DECLS
