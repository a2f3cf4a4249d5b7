/* The candidates of the gateway's SDP answer as clients should see them:
 * host candidates mapped to the public address of a 1:1 NAT (as Janus's
 * nat_1_1_mapping, LiveKit's node_ip). Pure functions: no GStreamer
 * elements, any thread. */
#pragma once

#include <glib.h>
#include <gst/sdp/sdp.h>

G_BEGIN_DECLS

/* For every host candidate of the same address family as public_address
 * (an IPv4 or IPv6 literal), advertises public_address with the same port
 * and transport: in place of the private address, or, with keep_private,
 * as a further host candidate right after it (a foundation of its own and
 * a priority one below, so the private address is tried first on a LAN).
 * Candidates of another family or type, and any that do not parse, are
 * left alone. Returns how many candidates now carry public_address. */
guint vg_sdp_map_host_candidates (GstSDPMessage *sdp, const char *public_address,
                                  gboolean keep_private);

/* The a=candidate lines of every m-section. */
guint vg_sdp_count_candidates (const GstSDPMessage *sdp);

G_END_DECLS
