/* The GStreamer elements of one participant and their lifecycle:
 *   receive (publishers): webrtcbin ! rtpopusdepay ! opusdec
 *                          ! room caps ! tee                        (a graph source)
 *                          (a backlog's stale audio dropped at the tee: rx-timeline.h)
 *   send: links ─ funnel ! room caps ! opusenc ! rtpopuspay ! webrtcbin   (a graph mixer)
 *         the funnel takes either the agent's output directly (the room's only
 *         source) or audiomixer (force-live), which the graph starts when the
 *         participant has more to hear (room-graph.h). */
#pragma once

#include <gst/gst.h>
#define GST_USE_UNSTABLE_API /* webrtcbin's library: stable in practice since 1.16 */
#include <gst/webrtc/webrtc.h>
#include "gateway/rooms/rooms.h"
#include "gateway/rooms/rooms-metrics.h"
#include "gateway/rooms/media-stats.h"
#include "gateway/rooms/rx-timeline.h"

G_BEGIN_DECLS

typedef struct
{
  GstBin *bin; /* the room pipeline once added */
  GstElement *webrtc;
  GstElement *depay;    /* head of the receive chain, NULL for listeners */
  GstElement *tee;      /* tail of the receive chain, NULL for listeners */
  GstElement *mixer;    /* not linked nor started here: the graph does */
  GstElement *mix_into; /* the funnel at the head of the send chain */
  GstElement *payloader;
  GstWebRTCRTPTransceiver *transceiver; /* owned: the audio section's */
  GstElement *recv_chain[5];            /* depay .. tee, NULL-terminated (borrowed) */
  GstElement *send_chain[5];            /* funnel .. payloader, NULL-terminated (borrowed) */
  guint opus_pt;
  GMutex lock;         /* guards bin, elements, incoming_linked, stopping (pad-added thread) */
  GPtrArray *elements; /* every element, owned refs, webrtcbin first; empty once stopping */
  gboolean incoming_linked;
  gboolean stopping; /* the stop took the elements: the pointers above are NULL */
  gint64 last_rx_us; /* atomic: monotonic time of the last RTP packet in */
  gint muted;        /* atomic: the room hears silence from this publisher */
  gint connected;    /* atomic: webrtcbin is connected; RTP is dropped before */
  VgMediaStats stats;       /* main context: webrtcbin's statistics at the last sample */
  VgRxTimeline rx_timeline; /* the receive streaming thread's (publishers) */
  char *prefix;
  gboolean uses_turn; /* a TURN server is set: its allocations are released at stop */
} VgParticipantMedia;

/* Opus for speech: see the comment at encoder creation in participant-media.c. */
#define VG_OPUS_BITRATE 40000
#define VG_OPUS_COMPLEXITY 5

gboolean vg_participant_media_build (VgParticipantMedia *m, const char *prefix, gboolean publisher,
                                     guint opus_pt, const VgRoomsSettings *settings,
                                     GError **error);
/* Adds to bin (a running pipeline), links, starts the elements. */
gboolean vg_participant_media_add_to (VgParticipantMedia *m, GstBin *bin, GError **error);
/* pad-added of webrtcbin (streaming thread): links the remote audio. */
void vg_participant_media_link_incoming (VgParticipantMedia *m, GstPad *pad);
gint64 vg_participant_media_last_rx_us (VgParticipantMedia *m);
/* Main context, with the reply of webrtcbin's "get-stats": folds it into
 * m->stats and the metrics (media-stats.h). */
void vg_participant_media_record_stats (VgParticipantMedia *m, const GstStructure *reply,
                                        const VgRoomsMetrics *metrics);
/* Any thread: whether webrtcbin's peer connection is connected. Until it is,
 * the participant's outgoing RTP is dropped rather than handed to webrtcbin,
 * which would hold it until DTLS is up and block the mixer behind it. */
void vg_participant_media_set_connected (VgParticipantMedia *m, gboolean connected);
/* Any thread, once DTLS is up: the peer's certificate (PEM) on the audio
 * section's transport, or NULL. */
char *vg_participant_media_peer_certificate (VgParticipantMedia *m);
/* Main context. Takes the elements over (m's pointers to them are cleared),
 * stops them on a GStreamer worker thread (webrtcbin as webrtc-stop.h
 * explains), removes them from the bin and drops them there, then runs done
 * on context. */
void vg_participant_media_stop_async (VgParticipantMedia *m, GMainContext *context,
                                      GSourceFunc done, gpointer user_data);
/* The same on the calling thread: a worker, neither a streaming thread nor
 * the main context (with a TURN server it waits up to 300 ms for the
 * allocations to be released). */
void vg_participant_media_stop (VgParticipantMedia *m);
void vg_participant_media_clear (VgParticipantMedia *m);

G_END_DECLS
