/* The offer checks and the BUNDLE normalisation (gateway/rooms/sdp-offer.c)
 * on offers written out by hand in the shapes real clients send. */
#include "gateway/rooms/sdp-offer.h"
#include "gateway/rooms/rooms.h"
#include <string.h>

#define FP_A                                                                                       \
  "sha-256 "                                                                                       \
  "AD:89:97:64:75:3F:62:AF:EC:E0:0B:BB:7C:53:CF:51:EB:25:E0:BD:E2:01:FE:E9:BD:AE:57:61:65:8A:34:"  \
  "89"

/* aiortc 1.4: BUNDLE, but each section has its own credentials, port and
 * candidates. */
static const char aiortc_offer[] = "v=0\r\n"
                                   "o=- 3913 3913 IN IP4 0.0.0.0\r\n"
                                   "s=-\r\n"
                                   "t=0 0\r\n"
                                   "a=group:BUNDLE 0 1\r\n"
                                   "a=msid-semantic:WMS *\r\n"
                                   "m=audio 40001 UDP/TLS/RTP/SAVPF 96 0\r\n"
                                   "c=IN IP4 127.0.0.1\r\n"
                                   "a=sendrecv\r\n"
                                   "a=mid:0\r\n"
                                   "a=rtcp-mux\r\n"
                                   "a=rtpmap:96 opus/48000/2\r\n"
                                   "a=rtpmap:0 PCMU/8000\r\n"
                                   "a=candidate:1 1 udp 2130706431 127.0.0.1 40001 typ host\r\n"
                                   "a=end-of-candidates\r\n"
                                   "a=ice-ufrag:HTon\r\n"
                                   "a=ice-pwd:aaaaaaaaaaaaaaaaaaaaaa\r\n"
                                   "a=fingerprint:" FP_A "\r\n"
                                   "a=setup:actpass\r\n"
                                   "m=application 40002 DTLS/SCTP 5000\r\n"
                                   "c=IN IP4 127.0.0.1\r\n"
                                   "a=mid:1\r\n"
                                   "a=sctpmap:5000 webrtc-datachannel 65535\r\n"
                                   "a=candidate:1 1 udp 2130706431 127.0.0.1 40002 typ host\r\n"
                                   "a=end-of-candidates\r\n"
                                   "a=ice-ufrag:UclZ\r\n"
                                   "a=ice-pwd:bbbbbbbbbbbbbbbbbbbbbb\r\n"
                                   "a=fingerprint:" FP_A "\r\n"
                                   "a=setup:actpass\r\n";

static char *
replace (const char *text, const char *from, const char *to)
{
  g_auto (GStrv) parts = g_strsplit (text, from, -1);
  return g_strjoinv (to, parts);
}

static guint
count_attr (const GstSDPMedia *media, const char *key)
{
  guint n = 0;
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++)
    n += g_strcmp0 (gst_sdp_media_get_attribute (media, i)->key, key) == 0;
  return n;
}

static void
test_bundle_normalised (void)
{
  VgOffer offer;
  g_autoptr (GError) error = NULL;
  g_assert_true (vg_offer_parse (aiortc_offer, &offer, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (offer.opus_pt, ==, 96);
  const GstSDPMedia *data = gst_sdp_message_get_media (offer.sdp, 1);
  g_assert_cmpstr (gst_sdp_media_get_attribute_val (data, "ice-ufrag"), ==, "HTon");
  g_assert_cmpstr (gst_sdp_media_get_attribute_val (data, "ice-pwd"), ==, "aaaaaaaaaaaaaaaaaaaaaa");
  g_assert_cmpuint (count_attr (data, "candidate"), ==, 0);
  g_assert_cmpuint (count_attr (data, "end-of-candidates"), ==, 0);
  g_assert_cmpuint (count_attr (gst_sdp_message_get_media (offer.sdp, 0), "candidate"), ==, 1);
  g_assert_cmpuint (g_strv_length (offer.dropped_ufrags), ==, 1);
  g_assert_cmpstr (offer.dropped_ufrags[0], ==, "UclZ");
  /* Trickled fragments: the transport in use, one bundled away, a restart. */
  g_assert_cmpint (vg_offer_frag_mline (&offer, NULL), ==, 0);
  g_assert_cmpint (vg_offer_frag_mline (&offer, "HTon"), ==, 0);
  g_assert_cmpint (vg_offer_frag_mline (&offer, "UclZ"), ==, VG_OFFER_FRAG_DROPPED);
  g_assert_cmpint (vg_offer_frag_mline (&offer, "Xxxx"), ==, VG_OFFER_FRAG_RESTART);
  vg_offer_clear (&offer);
}

static void
test_browser_offer_untouched (void)
{
  g_autofree char *same = replace (aiortc_offer, "UclZ", "HTon");
  g_autofree char *browser = replace (same, "bbbbbbbbbbbbbbbbbbbbbb", "aaaaaaaaaaaaaaaaaaaaaa");
  VgOffer offer;
  g_assert_true (vg_offer_parse (browser, &offer, NULL));
  g_assert_cmpuint (count_attr (gst_sdp_message_get_media (offer.sdp, 1), "candidate"), ==, 1);
  g_assert_cmpuint (g_strv_length (offer.dropped_ufrags), ==, 0);
  vg_offer_clear (&offer);

  /* Without BUNDLE each section keeps its own transport. */
  g_autofree char *unbundled = replace (aiortc_offer, "a=group:BUNDLE 0 1\r\n", "");
  g_assert_true (vg_offer_parse (unbundled, &offer, NULL));
  g_assert_cmpint (vg_offer_frag_mline (&offer, "UclZ"), ==, 1);
  vg_offer_clear (&offer);
}

static void
assert_refused (const char *text, gint code, const char *what)
{
  VgOffer offer;
  g_autoptr (GError) error = NULL;
  if (vg_offer_parse (text, &offer, &error))
    g_error ("%s: accepted", what);
  g_assert_error (error, VG_ROOMS_ERROR, code);
  g_test_message ("%s: %s", what, error->message);
}

static void
test_refusals (void)
{
  g_autofree char *md5 = replace (aiortc_offer, "a=fingerprint:sha-256 ", "a=fingerprint:md5 ");
  assert_refused (md5, VG_ROOMS_ERROR_BAD_SDP, "md5 fingerprint");
  g_autofree char *sha224
      = replace (aiortc_offer, "a=fingerprint:sha-256 ", "a=fingerprint:sha-224 ");
  assert_refused (sha224, VG_ROOMS_ERROR_BAD_SDP, "sha-224 (GLib cannot check it)");
  g_autofree char *nothex = replace (aiortc_offer, "AD:89:97", "ZZ:89:97");
  assert_refused (nothex, VG_ROOMS_ERROR_BAD_SDP, "not hex");
  g_autofree char *no_ice = replace (aiortc_offer, "a=ice-pwd:aaaaaaaaaaaaaaaaaaaaaa\r\n", "");
  assert_refused (no_ice, VG_ROOMS_ERROR_BAD_SDP, "no ICE password");
  g_autofree char *short_pwd = replace (aiortc_offer, "aaaaaaaaaaaaaaaaaaaaaa", "short");
  assert_refused (short_pwd, VG_ROOMS_ERROR_BAD_SDP, "ICE password under 22 characters");
  g_autofree char *unlisted = replace (aiortc_offer, "SAVPF 96 0", "SAVPF 0");
  assert_refused (unlisted, VG_ROOMS_ERROR_NO_OPUS, "opus rtpmap not in the m= line");
  g_autofree char *video = replace (aiortc_offer, "m=audio", "m=video");
  assert_refused (video, VG_ROOMS_ERROR_NO_AUDIO, "no audio");
  g_autofree char *missing_mid = replace (aiortc_offer, "BUNDLE 0 1", "BUNDLE 7 1");
  assert_refused (missing_mid, VG_ROOMS_ERROR_BAD_SDP, "BUNDLE names no section");
  assert_refused ("", VG_ROOMS_ERROR_BAD_SDP, "empty");
  assert_refused (NULL, VG_ROOMS_ERROR_BAD_SDP, "NULL");
}

/* The fingerprints were computed by `openssl x509 -fingerprint`, not by the
 * code under test. */
static const char certificate[]
    = "-----BEGIN CERTIFICATE-----\n"
      "MIIBgjCCASmgAwIBAgIUPwe9mvttAos7oCeq0Pb87V+ek5owCgYIKoZIzj0EAwIw\n"
      "FzEVMBMGA1UEAwwMdm94Z2F0ZS10ZXN0MB4XDTI2MTIwMjAwNDY1MloXDTM2MTEy\n"
      "OTAwNDY1MlowFzEVMBMGA1UEAwwMdm94Z2F0ZS10ZXN0MFkwEwYHKoZIzj0CAQYI\n"
      "KoZIzj0DAQcDQgAE8n6mySZQrSUkx8FRJDI2suYFeE2AV1bVZZnVZFrNgli2+rOv\n"
      "YuTXF3K2S51EXN/ajPTwG3I9WMpy9rWgxGRzhqNTMFEwHQYDVR0OBBYEFHc6X6HA\n"
      "0ylApvdQRoqojZfW5iZkMB8GA1UdIwQYMBaAFHc6X6HA0ylApvdQRoqojZfW5iZk\n"
      "MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIgH5Bc83L4T1fUa1jp\n"
      "dQvsfpWd+5jZ6oxOjKdCdRiluFsCIFCWVZ/CMA/9N5dAMe32+VnL2EmGOX8wHwqY\n"
      "DR0rs3Zs\n"
      "-----END CERTIFICATE-----\n";

static void
test_certificate (void)
{
  VgOffer offer;
  g_assert_true (vg_offer_parse (aiortc_offer, &offer, NULL));
  g_assert_true (vg_offer_certificate_matches (&offer, certificate));
  g_assert_false (vg_offer_certificate_matches (&offer, NULL));
  g_assert_false (vg_offer_certificate_matches (&offer, "-----BEGIN CERTIFICATE-----\n!!\n"));
  vg_offer_clear (&offer);

  /* Lower-case hex and sha-1 are fingerprints too. */
  g_autofree char *sha1 = replace (
      aiortc_offer, FP_A, "sha-1 3a:2e:19:58:17:4d:c2:6a:2b:f2:b1:9e:cd:31:66:12:37:53:bf:de");
  g_assert_true (vg_offer_parse (sha1, &offer, NULL));
  g_assert_true (vg_offer_certificate_matches (&offer, certificate));
  vg_offer_clear (&offer);

  /* One digit off: another certificate. */
  g_autofree char *other = replace (aiortc_offer, "AD:89:97", "AD:89:98");
  g_assert_true (vg_offer_parse (other, &offer, NULL));
  g_assert_false (vg_offer_certificate_matches (&offer, certificate));
  vg_offer_clear (&offer);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sdp-offer/bundle-normalised", test_bundle_normalised);
  g_test_add_func ("/sdp-offer/browser-offer-untouched", test_browser_offer_untouched);
  g_test_add_func ("/sdp-offer/refusals", test_refusals);
  g_test_add_func ("/sdp-offer/certificate", test_certificate);
  return g_test_run ();
}
