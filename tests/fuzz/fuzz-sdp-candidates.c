/* libFuzzer target: the answer's candidates mapped to a 1:1 NAT's public
 * address (gateway/rooms/sdp-candidates.c), for IPv4 and IPv6 addresses,
 * replacing or keeping the private one. The first byte picks the mode. */
#include "fuzz-common.h"
#include "gateway/rooms/sdp-candidates.h"

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  fuzz_fatal_criticals ();
  if (size < 1)
    return 0;
  g_autofree char *text = fuzz_text_body (data + 1, size - 1);
  if (!text)
    return 0;

  GstSDPMessage *sdp = NULL;
  gst_sdp_message_new (&sdp);
  if (gst_sdp_message_parse_buffer ((const guint8 *)text, strlen (text), sdp) != GST_SDP_OK)
    {
      gst_sdp_message_free (sdp);
      return 0;
    }
  const char *address = data[0] & 1 ? "2001:db8::7" : "203.0.113.7";
  gboolean keep_private = (data[0] & 2) != 0;
  guint before = vg_sdp_count_candidates (sdp);
  guint mapped = vg_sdp_map_host_candidates (sdp, address, keep_private);
  guint after = vg_sdp_count_candidates (sdp);
  /* Mapping adds one candidate per mapped one when the private address is
   * kept, and none otherwise. */
  g_assert (after == (keep_private ? before + mapped : before));
  g_free (gst_sdp_message_as_text (sdp));
  gst_sdp_message_free (sdp);
  return 0;
}
