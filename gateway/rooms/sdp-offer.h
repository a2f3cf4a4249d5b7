/* A client's SDP offer (WHIP/WHEP), checked and normalised before webrtcbin
 * sees it, and the trickle-ICE fragments (RFC 8840) that follow it. Pure
 * functions: no GStreamer elements, any thread. */
#pragma once

#include <glib.h>
#include <gst/sdp/sdp.h>

G_BEGIN_DECLS

/* A participant uses one audio and one data section; a few more (a video
 * section a client adds out of habit) are answered inactive. Each section
 * left unbundled costs webrtcbin an ICE stream, sockets and threads. */
#define VG_OFFER_MAX_MEDIA 4

typedef struct
{
  GstSDPMessage *sdp;   /* owned: what webrtcbin is given */
  guint opus_pt;        /* Opus's payload type in the first audio section offering it */
  GStrv section_ufrags; /* owned: each m-section's ICE ufrag after
                         * normalisation ("" where it has none) */
  GStrv dropped_ufrags; /* owned: the bundled sections' own credentials,
                         * whose transports the offerer drops once the
                         * answer accepts BUNDLE */
  GStrv fingerprints;   /* owned: the audio section's a=fingerprint values */
} VgOffer;

/* Parses an offer and checks what every real WebRTC offer has: version 0,
 * at most VG_OFFER_MAX_MEDIA m-sections, ICE credentials and a valid DTLS
 * fingerprint (sha-1/256/384/512) on every section in use, and an
 * active UDP/TLS/RTP/SAVPF audio section whose format list holds an
 * opus/48000 payload type. A BUNDLE group whose sections carry their own ICE
 * credentials and candidates (RFC 8843 allows it in an initial offer:
 * aiortc, some SIP gateways) is rewritten to the offerer-tagged (first)
 * section's transport, which is what the answer selects; webrtcbin 1.22
 * refuses such offers as they come. Errors are VG_ROOMS_ERROR_BAD_SDP,
 * _NO_AUDIO or _NO_OPUS with a message naming the problem. */
gboolean vg_offer_parse (const char *text, VgOffer *offer, GError **error);
void vg_offer_clear (VgOffer *offer);

/* Whether a DTLS certificate (PEM, as webrtcbin's transport reports it) is
 * the one the offer's audio section announced (RFC 8122 §5). webrtcbin 1.22
 * does not compare them itself: without this check, anyone who completes
 * ICE could present any certificate. */
gboolean vg_offer_certificate_matches (const VgOffer *offer, const char *pem);

typedef struct
{
  char *ufrag, *pwd;     /* NULL when absent */
  GPtrArray *candidates; /* "candidate:..." strings, owned */
  gboolean end_of_candidates;
} VgSdpFrag;

/* Parses an application/trickle-ice-sdpfrag body (RFC 8840). */
gboolean vg_sdp_parse_frag (const char *text, VgSdpFrag *frag, GError **error);
void vg_sdp_frag_clear (VgSdpFrag *frag);

#define VG_OFFER_FRAG_DROPPED (-1) /* for a transport bundled away: nothing to add */
#define VG_OFFER_FRAG_RESTART (-2) /* unknown credentials: an ICE restart */

/* The m-line whose transport a fragment with this ufrag (NULL: none given,
 * the first section's) is for, or one of the two codes above. */
gint vg_offer_frag_mline (const VgOffer *offer, const char *ufrag);

G_END_DECLS
