/* One libnice agent (and its main-loop thread) shared by the webrtcbins of
 * the process, instead of one per webrtcbin.
 *
 * webrtcbin 1.22 takes its ICE implementation through the construct-only
 * "ice-agent" property, but GstWebRTCNice cannot simply be shared: streams
 * are keyed by the webrtcbin's session id (0 for every bundled peer), there
 * is a single candidate callback per agent, and streams are never removed.
 * A VgSharedIce is a per-webrtcbin GstWebRTCICE that hands each of its
 * streams a process-unique session id on a shared GstWebRTCNice, routes the
 * candidates back to its own webrtcbin, and removes its libnice streams when
 * the webrtcbin lets it go. The shared GstWebRTCNice keeps every stream
 * object it made until it is finalized, so it serves at most
 * VG_SHARED_ICE_PEERS webrtcbins; the next one starts a new agent, and the
 * old one is freed with the last of its peers.
 *
 * Every peer of one agent is in the same ICE role (the gateway only answers:
 * controlled). Threads: any; internally locked. */
#pragma once

#include "gateway/rooms/rooms.h"
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

G_BEGIN_DECLS

#define VG_SHARED_ICE_PEERS 64

/* A new ICE implementation for one webrtcbin, on the process's current
 * shared agent (configured from settings when it is made). Returns a
 * reference that webrtcbin 1.22's "ice-agent" property takes over (it does
 * not add its own and drops one in dispose): pass it and do not unref. */
GstWebRTCICE *vg_shared_ice_new (const VgRoomsSettings *settings);

/* Configures an ICE implementation (shared or a webrtcbin's own) before it
 * gathers: GstWebRTCICE's port range; on libnice, UPnP IGD discovery off (it
 * opens SSDP sockets and threads per agent and only helps a gateway behind a
 * home router), consent freshness on (RFC 7675: ICE notices a peer that
 * vanished) and the [webrtc] addresses to gather on. */
void vg_ice_configure (GstWebRTCICE *ice, const VgRoomsSettings *settings);

/* Lets go of the current shared agent (it lives on until its last peer is
 * gone). Called when the rooms registry stops. */
void vg_shared_ice_release (void);

G_END_DECLS
