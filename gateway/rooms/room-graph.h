/* The audio routing graph of one room: sources (a tee each) and mixers
 * (an audiomixer each), linked so that every mixer hears every source except
 * its own (mix-minus). The agent is one node: its mixer hears all publishers,
 * its tee feeds everyone. A publisher is both a source and a mixer; a WHEP
 * listener is only a mixer. Each link is a tee pad linked straight to a
 * mixer pad: no queue and no thread per link. That is safe because no mixer
 * ever blocks: the agent's output ends in participants' mixers, and each
 * participant's mixer output is dropped until its webrtcbin is connected
 * (participant-media.c), so it never waits on a webrtcbin that holds data.
 *
 * A participant's mixer is started only when needed. While the only source
 * it hears is paced (the agent's output: continuous and clock-driven), the
 * source feeds the participant's send chain directly (tee ! funnel), which
 * saves the mixer's thread, its wake-ups and a copy: the one-learner tutor
 * room. When a second source appears, the mixer is linked into the funnel,
 * started, and takes over; it then stays for the participant's lifetime.
 *
 * Linking happens on the main context. Detaching a node is asynchronous:
 * each tee pad is unlinked from an IDLE pad probe, so no streaming thread is
 * blocked or raced, and the rest of the teardown runs on the main context. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* All audio inside a room is raw S16LE 48 kHz mono. */
#define VG_ROOM_AUDIO_CAPS "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1"

typedef struct _VgRoomGraph VgRoomGraph;
typedef struct _VgGraphNode VgGraphNode;

typedef void (*VgGraphDetachedFunc) (gpointer user_data);

VgRoomGraph *vg_room_graph_new (GstBin *bin, GMainContext *context);
/* Frees the bookkeeping; the elements belong to the bin. Call after the bin
 * is stopped or when no node is attached. */
void vg_room_graph_free (VgRoomGraph *graph);

/* tee and mixer may be NULL (not a source / not a mixer). The elements must
 * already be in the graph's bin. Links the node with every other node.
 * mix_into NULL: the mixer is already linked and running (the agent's).
 * Otherwise mix_into is a funnel and the mixer is in locked state, not
 * linked: the graph starts it when the node needs mixing (see above).
 * paced: the tee carries a continuous clock-paced stream. */
VgGraphNode *vg_room_graph_attach (VgRoomGraph *graph, const char *label, GstElement *tee,
                                   GstElement *mixer, GstElement *mix_into, gboolean paced);
/* Whether node's mixer is in its path (FALSE: fed straight by a paced source). */
gboolean vg_room_graph_node_is_mixing (VgGraphNode *node);
/* Unlinks every link of node; done runs on the main context afterwards and
 * the node is freed. The node's own tee and mixer are left to the caller. */
void vg_room_graph_detach (VgRoomGraph *graph, VgGraphNode *node, VgGraphDetachedFunc done,
                           gpointer user_data);
guint vg_room_graph_count_links (VgRoomGraph *graph);

/* Creates an element or sets error naming the missing factory. */
GstElement *vg_element_make (const char *factory, const char *name, GError **error);
/* An audiomixer that keeps a steady clock-driven output (silence when no
 * input has data), or NULL and error. */
GstElement *vg_mixer_new (const char *name, GError **error);
/* Before starting mixer in a pipeline that is running already: its output
 * starts at the present (its first input's running time), not at zero. */
void vg_mixer_start_late (GstElement *mixer);

/* Any thread: tells the room that a path's latency changed, so the pipeline
 * recomputes it (the room's bus handler does) and every mixer learns it. */
void vg_room_graph_latency_changed (GstBin *bin);

G_END_DECLS
