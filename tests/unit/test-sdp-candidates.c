/* Host candidates mapped to a 1:1 NAT's public address
 * (gateway/rooms/sdp-candidates.h), on hand-written answers. */
#include "gateway/rooms/sdp-candidates.h"
#include <string.h>

static const char *answer
    = "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
      "a=candidate:1 1 UDP 2015363327 10.0.0.5 50001 typ host\r\n"
      "a=candidate:2 1 TCP 1015021823 10.0.0.5 9 typ host tcptype active\r\n"
      "a=candidate:3 1 UDP 2015363071 fd00::5 50002 typ host\r\n"
      "a=candidate:4 1 UDP 1679819007 198.51.100.9 61000 typ srflx raddr 10.0.0.5 rport 50001\r\n"
      "a=candidate:5 1 UDP 2015363327 not-an-address 50003 typ host\r\n"
      "a=candidate:6 1 UDP\r\n"
      "a=end-of-candidates\r\n";

static GstSDPMessage *
parse (void)
{
  GstSDPMessage *sdp;
  gst_sdp_message_new (&sdp);
  g_assert_cmpint (gst_sdp_message_parse_buffer ((const guint8 *)answer, strlen (answer), sdp), ==,
                   GST_SDP_OK);
  return sdp;
}

static char *
candidates_of (GstSDPMessage *sdp)
{
  GString *out = g_string_new (NULL);
  const GstSDPMedia *media = gst_sdp_message_get_media (sdp, 0);
  for (guint a = 0; a < gst_sdp_media_attributes_len (media); a++)
    {
      const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, a);
      if (g_str_equal (attr->key, "candidate"))
        g_string_append_printf (out, "%s\n", attr->value);
    }
  return g_string_free (out, FALSE);
}

static void
test_replace (void)
{
  GstSDPMessage *sdp = parse ();
  g_assert_cmpuint (vg_sdp_map_host_candidates (sdp, "203.0.113.7", FALSE), ==, 2);
  g_autofree char *text = candidates_of (sdp);
  g_assert_cmpstr (text, ==,
                   "1 1 UDP 2015363327 203.0.113.7 50001 typ host\n"
                   "2 1 TCP 1015021823 203.0.113.7 9 typ host tcptype active\n"
                   "3 1 UDP 2015363071 fd00::5 50002 typ host\n"
                   "4 1 UDP 1679819007 198.51.100.9 61000 typ srflx raddr 10.0.0.5 rport 50001\n"
                   "5 1 UDP 2015363327 not-an-address 50003 typ host\n"
                   "6 1 UDP\n");
  g_assert_cmpuint (vg_sdp_count_candidates (sdp), ==, 6);
  gst_sdp_message_free (sdp);
}

static void
test_beside (void)
{
  GstSDPMessage *sdp = parse ();
  g_assert_cmpuint (vg_sdp_map_host_candidates (sdp, "2001:db8::7", TRUE), ==, 1);
  g_autofree char *text = candidates_of (sdp);
  g_assert_cmpstr (text, ==,
                   "1 1 UDP 2015363327 10.0.0.5 50001 typ host\n"
                   "2 1 TCP 1015021823 10.0.0.5 9 typ host tcptype active\n"
                   "3 1 UDP 2015363071 fd00::5 50002 typ host\n"
                   "n3 1 UDP 2015363070 2001:db8::7 50002 typ host\n"
                   "4 1 UDP 1679819007 198.51.100.9 61000 typ srflx raddr 10.0.0.5 rport 50001\n"
                   "5 1 UDP 2015363327 not-an-address 50003 typ host\n"
                   "6 1 UDP\n");
  g_assert_cmpuint (vg_sdp_count_candidates (sdp), ==, 7);
  /* The rest of the section is untouched, end-of-candidates last. */
  const GstSDPMedia *media = gst_sdp_message_get_media (sdp, 0);
  guint n = gst_sdp_media_attributes_len (media);
  g_assert_cmpstr (gst_sdp_media_get_attribute (media, n - 1)->key, ==, "end-of-candidates");
  gst_sdp_message_free (sdp);
}

/* A host candidate that is its section's last line keeps its mapping beside
 * it: GstSDP appends only at index -1 (tests/fuzz/corpus/sdp-candidates). */
static void
test_beside_last_line (void)
{
  static const char *last = "v=0\r\no=- 1 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                            "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n"
                            "a=candidate:1 1 UDP 2015363327 10.0.0.5 50001 typ host\r\n";
  GstSDPMessage *sdp;
  gst_sdp_message_new (&sdp);
  g_assert_cmpint (gst_sdp_message_parse_buffer ((const guint8 *)last, strlen (last), sdp), ==,
                   GST_SDP_OK);
  g_assert_cmpuint (vg_sdp_map_host_candidates (sdp, "203.0.113.7", TRUE), ==, 1);
  g_assert_cmpuint (vg_sdp_count_candidates (sdp), ==, 2);
  g_autofree char *text = candidates_of (sdp);
  g_assert_true (g_str_has_suffix (text, "203.0.113.7 50001 typ host\n"));
  gst_sdp_message_free (sdp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sdp-candidates/replace", test_replace);
  g_test_add_func ("/sdp-candidates/beside", test_beside);
  g_test_add_func ("/sdp-candidates/beside-last-line", test_beside_last_line);
  return g_test_run ();
}
