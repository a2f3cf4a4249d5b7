/* Host candidates of an answer mapped to a 1:1 NAT's public address; see
 * sdp-candidates.h. */
#include "gateway/rooms/sdp-candidates.h"

#include <gio/gio.h>
#include <string.h>

/* RFC 8839 §5.1: foundation component transport priority address port
 * "typ" type [extensions...] */
enum
{
  CAND_FOUNDATION,
  CAND_COMPONENT,
  CAND_TRANSPORT,
  CAND_PRIORITY,
  CAND_ADDRESS,
  CAND_PORT,
  CAND_TYP,
  CAND_TYPE,
  CAND_MIN_FIELDS,
};

static gboolean
is_host_of_family (GStrv fields, GSocketFamily family)
{
  if (g_strv_length (fields) < CAND_MIN_FIELDS || !g_str_equal (fields[CAND_TYP], "typ")
      || !g_str_equal (fields[CAND_TYPE], "host"))
    return FALSE;
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (fields[CAND_ADDRESS]);
  return addr && g_inet_address_get_family (addr) == family;
}

static char *
mapped_candidate (GStrv fields, const char *public_address, gboolean beside)
{
  g_auto (GStrv) out = g_strdupv (fields);
  g_free (out[CAND_ADDRESS]);
  out[CAND_ADDRESS] = g_strdup (public_address);
  if (beside)
    {
      guint64 priority = g_ascii_strtoull (fields[CAND_PRIORITY], NULL, 10);
      g_free (out[CAND_PRIORITY]);
      out[CAND_PRIORITY]
          = g_strdup_printf ("%" G_GUINT64_FORMAT, priority > 1 ? priority - 1 : priority);
      /* Foundations are 1-32 ice-chars; this one differs from every
       * foundation libnice makes (digits only) and from the others mapped. */
      g_free (out[CAND_FOUNDATION]);
      g_autofree char *prefixed = g_strconcat ("n", fields[CAND_FOUNDATION], NULL);
      out[CAND_FOUNDATION] = g_strndup (prefixed, 32);
    }
  return g_strjoinv (" ", out);
}

guint
vg_sdp_map_host_candidates (GstSDPMessage *sdp, const char *public_address, gboolean keep_private)
{
  g_autoptr (GInetAddress) pub = g_inet_address_new_from_string (public_address);
  g_return_val_if_fail (pub != NULL, 0);
  GSocketFamily family = g_inet_address_get_family (pub);
  guint mapped = 0;

  for (guint m = 0; m < gst_sdp_message_medias_len (sdp); m++)
    {
      GstSDPMedia *media = (GstSDPMedia *)gst_sdp_message_get_media (sdp, m);
      for (guint a = 0; a < gst_sdp_media_attributes_len (media); a++)
        {
          const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, a);
          if (g_strcmp0 (attr->key, "candidate") != 0 || !attr->value)
            continue;
          g_auto (GStrv) fields = g_strsplit (attr->value, " ", -1);
          if (!is_host_of_family (fields, family))
            continue;
          g_autofree char *value = mapped_candidate (fields, public_address, keep_private);
          GstSDPAttribute fresh;
          gst_sdp_attribute_set (&fresh, "candidate", value);
          if (keep_private)
            {
              /* GstSDP inserts before an index below the length and appends
               * only at -1: a candidate that is the section's last line
               * (found by tests/fuzz) would otherwise lose its mapping. */
              gint at = a + 1 < gst_sdp_media_attributes_len (media) ? (gint)a + 1 : -1;
              gst_sdp_media_insert_attribute (media, at, &fresh); /* takes fresh's contents */
              a++;                                                /* past the one added */
            }
          else
            gst_sdp_media_replace_attribute (media, a, &fresh);
          mapped++;
        }
    }
  return mapped;
}

guint
vg_sdp_count_candidates (const GstSDPMessage *sdp)
{
  guint n = 0;
  for (guint m = 0; m < gst_sdp_message_medias_len (sdp); m++)
    {
      const GstSDPMedia *media = gst_sdp_message_get_media (sdp, m);
      for (guint a = 0; a < gst_sdp_media_attributes_len (media); a++)
        if (g_strcmp0 (gst_sdp_media_get_attribute (media, a)->key, "candidate") == 0)
          n++;
    }
  return n;
}
