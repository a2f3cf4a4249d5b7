/* libFuzzer target: a trickle-ICE PATCH body (application/trickle-ice-sdpfrag,
 * RFC 8840; gateway/rooms/sdp-offer.c) and the m-line its ufrag selects in
 * a BUNDLE offer whose sections came with their own credentials. */
#include "fuzz-common.h"
#include "gateway/rooms/sdp-offer.h"

static const char offer_text[] = "v=0\r\n"
                                 "o=- 3913 3913 IN IP4 0.0.0.0\r\n"
                                 "s=-\r\n"
                                 "t=0 0\r\n"
                                 "a=group:BUNDLE 0 1\r\n"
                                 "m=audio 40001 UDP/TLS/RTP/SAVPF 96\r\n"
                                 "c=IN IP4 127.0.0.1\r\n"
                                 "a=sendrecv\r\n"
                                 "a=mid:0\r\n"
                                 "a=rtcp-mux\r\n"
                                 "a=rtpmap:96 opus/48000/2\r\n"
                                 "a=ice-ufrag:HTon\r\n"
                                 "a=ice-pwd:aaaaaaaaaaaaaaaaaaaaaa\r\n"
                                 "a=fingerprint:sha-256 "
                                 "AD:89:97:64:75:3F:62:AF:EC:E0:0B:BB:7C:53:CF:51:EB:25:E0:BD:E2:"
                                 "01:FE:E9:BD:AE:57:61:65:8A:34:89\r\n"
                                 "a=setup:actpass\r\n"
                                 "m=application 40002 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                                 "c=IN IP4 127.0.0.1\r\n"
                                 "a=mid:1\r\n"
                                 "a=sctp-port:5000\r\n"
                                 "a=ice-ufrag:UclZ\r\n"
                                 "a=ice-pwd:bbbbbbbbbbbbbbbbbbbbbb\r\n"
                                 "a=fingerprint:sha-256 "
                                 "AD:89:97:64:75:3F:62:AF:EC:E0:0B:BB:7C:53:CF:51:EB:25:E0:BD:E2:"
                                 "01:FE:E9:BD:AE:57:61:65:8A:34:89\r\n"
                                 "a=setup:actpass\r\n";

static VgOffer *
the_offer (void)
{
  static VgOffer offer;
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      g_autoptr (GError) error = NULL;
      if (!vg_offer_parse (offer_text, &offer, &error))
        g_error ("the fixed offer does not parse: %s", error->message);
      g_once_init_leave (&once, 1);
    }
  return &offer;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  fuzz_fatal_criticals ();
  VgOffer *offer = the_offer ();
  g_autofree char *text = fuzz_text_body (data, size);
  if (!text)
    return 0;

  VgSdpFrag frag;
  g_autoptr (GError) error = NULL;
  if (!vg_sdp_parse_frag (text, &frag, &error))
    {
      g_assert (error != NULL);
      return 0;
    }
  vg_offer_frag_mline (offer, frag.ufrag);
  for (guint i = 0; i < frag.candidates->len; i++)
    g_assert (g_ptr_array_index (frag.candidates, i) != NULL);
  vg_sdp_frag_clear (&frag);
  return 0;
}
