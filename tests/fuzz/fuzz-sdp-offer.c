/* libFuzzer target: a WHIP/WHEP client's SDP offer before webrtcbin sees it
 * (gateway/rooms/sdp-offer.c): the checks, the BUNDLE normalisation, and
 * what is read from the result (the m-line a trickled ufrag is for, the
 * certificate check, the text webrtcbin is given). */
#include "fuzz-common.h"
#include "gateway/rooms/sdp-offer.h"

static const char pem[] = "-----BEGIN CERTIFICATE-----\n"
                          "MIIBATCBqaADAgECAgEBMAoGCCqGSM49BAMCMAAwHhcNMjQwMTAxMDAwMDAwWhcN\n"
                          "-----END CERTIFICATE-----\n";

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  fuzz_fatal_criticals ();
  g_autofree char *text = fuzz_text_body (data, size);
  if (!text)
    return 0;

  VgOffer offer;
  g_autoptr (GError) error = NULL;
  if (!vg_offer_parse (text, &offer, &error))
    {
      g_assert (error != NULL);
      return 0;
    }
  for (guint i = 0; offer.section_ufrags && offer.section_ufrags[i]; i++)
    vg_offer_frag_mline (&offer, offer.section_ufrags[i]);
  for (guint i = 0; offer.dropped_ufrags && offer.dropped_ufrags[i]; i++)
    vg_offer_frag_mline (&offer, offer.dropped_ufrags[i]);
  vg_offer_frag_mline (&offer, NULL);
  vg_offer_frag_mline (&offer, "unknown");
  vg_offer_certificate_matches (&offer, pem);
  g_free (gst_sdp_message_as_text (offer.sdp));
  vg_offer_clear (&offer);
  return 0;
}
