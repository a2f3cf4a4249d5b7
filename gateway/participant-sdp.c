/* Checks of WHIP/WHEP offers and trickle fragments before webrtcbin sees them. */
#include "gateway/room-private.h"
#include <string.h>

/* GstSDP accepts nearly any text; these are the parts every real offer has. */
static gboolean
offer_looks_like_sdp (const char *text)
{
  return g_str_has_prefix (text, "v=0") && strstr (text, "\no=") && strstr (text, "\nm=");
}

static gboolean
media_offers_opus (const GstSDPMedia *media, guint *pt_out)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++)
    {
      const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);
      if (g_strcmp0 (attr->key, "rtpmap") != 0 || !attr->value)
        continue;
      /* "111 opus/48000/2" */
      char *end = NULL;
      guint64 pt = g_ascii_strtoull (attr->value, &end, 10);
      if (end == attr->value || *end != ' ' || pt > 127)
        continue;
      while (*end == ' ')
        end++;
      if (g_ascii_strncasecmp (end, "opus/48000", 10) == 0)
        {
          *pt_out = (guint)pt;
          return TRUE;
        }
    }
  return FALSE;
}

GstSDPMessage *
vg_sdp_check_offer (const char *text, guint *opus_pt, GError **error)
{
  GstSDPMessage *sdp = NULL;
  if (!text || !offer_looks_like_sdp (text)
      || gst_sdp_message_new_from_text (text, &sdp) != GST_SDP_OK || !sdp)
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_BAD_SDP, "the offer is not an SDP");
      if (sdp)
        gst_sdp_message_free (sdp);
      return NULL;
    }
  gboolean audio = FALSE, opus = FALSE;
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp) && !opus; i++)
    {
      const GstSDPMedia *media = gst_sdp_message_get_media (sdp, i);
      if (g_strcmp0 (gst_sdp_media_get_media (media), "audio") != 0
          || gst_sdp_media_get_port (media) == 0
          || !g_str_has_suffix (
              gst_sdp_media_get_proto (media) ? gst_sdp_media_get_proto (media) : "", "RTP/SAVPF"))
        continue;
      audio = TRUE;
      opus = media_offers_opus (media, opus_pt);
    }
  if (!audio)
    g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_NO_AUDIO,
                 "the offer has no active audio m-line over UDP/TLS/RTP/SAVPF");
  else if (!opus)
    g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_NO_OPUS, "the offer's audio lacks Opus");
  if (!opus)
    {
      gst_sdp_message_free (sdp);
      return NULL;
    }
  return sdp;
}

void
vg_sdp_frag_clear (VgSdpFrag *frag)
{
  g_clear_pointer (&frag->ufrag, g_free);
  g_clear_pointer (&frag->pwd, g_free);
  g_clear_pointer (&frag->candidates, g_ptr_array_unref);
}

gboolean
vg_sdp_parse_frag (const char *text, VgSdpFrag *frag, GError **error)
{
  memset (frag, 0, sizeof *frag);
  frag->candidates = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) lines = g_strsplit (text ? text : "", "\n", -1);
  for (char **l = lines; *l; l++)
    {
      g_strchomp (*l); /* drops the \r of CRLF */
      const char *line = *l;
      if (!*line)
        continue;
      if (strlen (line) < 2 || line[1] != '=')
        {
          g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_BAD_SDP,
                       "the body is not an SDP fragment");
          vg_sdp_frag_clear (frag);
          return FALSE;
        }
      if (g_str_has_prefix (line, "a=ice-ufrag:"))
        {
          g_free (frag->ufrag);
          frag->ufrag = g_strdup (line + 12);
        }
      else if (g_str_has_prefix (line, "a=ice-pwd:"))
        {
          g_free (frag->pwd);
          frag->pwd = g_strdup (line + 10);
        }
      else if (g_str_has_prefix (line, "a=candidate:"))
        g_ptr_array_add (frag->candidates, g_strdup (line + 2));
      else if (g_str_has_prefix (line, "a=end-of-candidates"))
        frag->end_of_candidates = TRUE;
    }
  return TRUE;
}
