/* Checks and normalises WHIP/WHEP offers and trickle fragments before
 * webrtcbin sees them (sdp-offer.h). */
#include "gateway/rooms/sdp-offer.h"
#include "gateway/rooms/rooms.h"
#include <string.h>

#define BAD_SDP(error, ...) g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_BAD_SDP, __VA_ARGS__)

/* GstSDP accepts nearly any text; these are the parts every real offer has. */
static gboolean
offer_looks_like_sdp (const char *text)
{
  return g_str_has_prefix (text, "v=0") && strstr (text, "\no=") && strstr (text, "\nm=");
}

/* A media-level attribute, else the session-level one (RFC 8866 §5). */
static const char *
section_attr (const GstSDPMessage *sdp, const GstSDPMedia *media, const char *key)
{
  const char *value = gst_sdp_media_get_attribute_val (media, key);
  return value ? value : gst_sdp_message_get_attribute_val (sdp, key);
}

static gboolean
section_in_use (const GstSDPMedia *media)
{
  return gst_sdp_media_get_port (media) != 0;
}

/* ---- ICE credentials and DTLS fingerprints ---- */

/* ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4). */
static gboolean
ice_chars_valid (const char *value, gsize min, gsize max)
{
  gsize n = 0;
  for (const char *c = value; *c; c++, n++)
    if (!g_ascii_isalnum (*c) && *c != '+' && *c != '/')
      return FALSE;
  return n >= min && n <= max;
}

/* The hashes RFC 8122 still allows (not md2/md5) that GLib computes, so a
 * certificate can be checked against them (sha-224 is neither in GLib nor
 * used by any WebRTC stack). */
static const struct
{
  const char *name;
  GChecksumType type;
  guint bytes;
} fingerprint_hashes[] = {
  { "sha-1", G_CHECKSUM_SHA1, 20 },
  { "sha-256", G_CHECKSUM_SHA256, 32 },
  { "sha-384", G_CHECKSUM_SHA384, 48 },
  { "sha-512", G_CHECKSUM_SHA512, 64 },
};

static gint
fingerprint_hash (const char *value)
{
  const char *space = strchr (value, ' ');
  for (guint i = 0; space && i < G_N_ELEMENTS (fingerprint_hashes); i++)
    if ((gsize)(space - value) == strlen (fingerprint_hashes[i].name)
        && g_ascii_strncasecmp (value, fingerprint_hashes[i].name, space - value) == 0)
      return (gint)i;
  return -1;
}

/* "sha-256 AB:CD:…": an allowed hash and a digest of exactly that hash's
 * length in colon-separated hex pairs. */
static gboolean
fingerprint_valid (const char *value)
{
  gint hash = fingerprint_hash (value);
  if (hash < 0)
    return FALSE;
  guint bytes = fingerprint_hashes[hash].bytes;
  const char *space = strchr (value, ' ');
  const char *hex = space + 1;
  if (strlen (hex) != bytes * 3 - 1)
    return FALSE;
  for (guint i = 0; i < bytes; i++)
    {
      const char *pair = hex + i * 3;
      if (!g_ascii_isxdigit (pair[0]) || !g_ascii_isxdigit (pair[1])
          || (i + 1 < bytes && pair[2] != ':'))
        return FALSE;
    }
  return TRUE;
}

static gboolean
check_fingerprints (const GstSDPMessage *sdp, const GstSDPMedia *media, guint index, GError **error)
{
  guint count = 0;
  const char *value;
  for (guint n = 0; (value = gst_sdp_media_get_attribute_val_n (media, "fingerprint", n)); n++)
    {
      count++;
      if (!fingerprint_valid (value))
        goto bad;
    }
  if (count == 0)
    for (guint n = 0; (value = gst_sdp_message_get_attribute_val_n (sdp, "fingerprint", n)); n++)
      {
        count++;
        if (!fingerprint_valid (value))
          goto bad;
      }
  if (count > 0)
    return TRUE;
  BAD_SDP (error, "m-section %u has no DTLS fingerprint", index);
  return FALSE;
bad:
  BAD_SDP (error,
           "m-section %u has an invalid DTLS fingerprint (a sha-1/224/256/384/512 digest "
           "in colon-separated hex is required)",
           index);
  return FALSE;
}

static gboolean
check_transport (const GstSDPMessage *sdp, const GstSDPMedia *media, guint index, GError **error)
{
  const char *ufrag = section_attr (sdp, media, "ice-ufrag");
  const char *pwd = section_attr (sdp, media, "ice-pwd");
  if (!ufrag || !pwd)
    {
      BAD_SDP (error, "m-section %u has no ICE credentials (a=ice-ufrag, a=ice-pwd)", index);
      return FALSE;
    }
  /* RFC 8839 §5.4: ufrag 4–256, pwd 22–256 ice-chars. */
  if (!ice_chars_valid (ufrag, 4, 256) || !ice_chars_valid (pwd, 22, 256))
    {
      BAD_SDP (error, "m-section %u has malformed ICE credentials", index);
      return FALSE;
    }
  return check_fingerprints (sdp, media, index, error);
}

/* ---- Opus ---- */

static gboolean
format_listed (const GstSDPMedia *media, guint pt)
{
  for (guint i = 0; i < gst_sdp_media_formats_len (media); i++)
    {
      const char *format = gst_sdp_media_get_format (media, i);
      char *end = NULL;
      guint64 listed = g_ascii_strtoull (format, &end, 10);
      if (end != format && *end == '\0' && listed == pt)
        return TRUE;
    }
  return FALSE;
}

/* The first "PT opus/48000…" rtpmap whose PT the m= line lists: an rtpmap
 * for a format the section does not offer describes nothing. */
static gboolean
media_offers_opus (const GstSDPMedia *media, guint *pt_out)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++)
    {
      const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, i);
      if (g_strcmp0 (attr->key, "rtpmap") != 0 || !attr->value)
        continue;
      char *end = NULL;
      guint64 pt = g_ascii_strtoull (attr->value, &end, 10);
      if (end == attr->value || *end != ' ' || pt > 127)
        continue;
      while (*end == ' ')
        end++;
      if (g_ascii_strncasecmp (end, "opus/48000", 10) == 0 && format_listed (media, (guint)pt))
        {
          *pt_out = (guint)pt;
          return TRUE;
        }
    }
  return FALSE;
}

static GStrv
section_fingerprints (const GstSDPMessage *sdp, const GstSDPMedia *media)
{
  g_autoptr (GStrvBuilder) out = g_strv_builder_new ();
  const char *value;
  for (guint n = 0; (value = gst_sdp_media_get_attribute_val_n (media, "fingerprint", n)); n++)
    g_strv_builder_add (out, value);
  if (!gst_sdp_media_get_attribute_val (media, "fingerprint"))
    for (guint n = 0; (value = gst_sdp_message_get_attribute_val_n (sdp, "fingerprint", n)); n++)
      g_strv_builder_add (out, value);
  return g_strv_builder_end (out);
}

/* The first active audio section offering Opus: its payload type and its
 * DTLS fingerprints. */
static gboolean
find_opus (VgOffer *offer, GError **error)
{
  const GstSDPMessage *sdp = offer->sdp;
  gboolean audio = FALSE;
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++)
    {
      const GstSDPMedia *media = gst_sdp_message_get_media (sdp, i);
      const char *proto = gst_sdp_media_get_proto (media);
      if (g_strcmp0 (gst_sdp_media_get_media (media), "audio") != 0 || !section_in_use (media)
          || !g_str_has_suffix (proto ? proto : "", "RTP/SAVPF"))
        continue;
      audio = TRUE;
      if (media_offers_opus (media, &offer->opus_pt))
        {
          offer->fingerprints = section_fingerprints (sdp, media);
          return TRUE;
        }
    }
  if (!audio)
    g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_NO_AUDIO,
                 "the offer has no active audio m-line over UDP/TLS/RTP/SAVPF");
  else
    g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_NO_OPUS, "the offer's audio lacks Opus");
  return FALSE;
}

/* ---- BUNDLE ---- */

static void
set_media_attr (GstSDPMedia *media, const char *key, const char *value)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (media); i++)
    if (g_strcmp0 (gst_sdp_media_get_attribute (media, i)->key, key) == 0)
      {
        GstSDPAttribute attr;
        gst_sdp_attribute_set (&attr, key, value);
        gst_sdp_media_replace_attribute (media, i, &attr);
        return;
      }
  gst_sdp_media_add_attribute (media, key, value);
}

static void
remove_media_attrs (GstSDPMedia *media, const char *key)
{
  for (guint i = gst_sdp_media_attributes_len (media); i-- > 0;)
    if (g_strcmp0 (gst_sdp_media_get_attribute (media, i)->key, key) == 0)
      gst_sdp_media_remove_attribute (media, i);
}

static GStrv
bundle_mids (const GstSDPMessage *sdp)
{
  const char *group;
  for (guint n = 0; (group = gst_sdp_message_get_attribute_val_n (sdp, "group", n)); n++)
    if (g_str_has_prefix (group, "BUNDLE") && (group[6] == ' ' || group[6] == '\0'))
      return g_strsplit (group + 6, " ", -1); /* empty items are skipped by the callers */
  return NULL;
}

static gint
find_mid (const GstSDPMessage *sdp, const char *mid)
{
  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++)
    if (g_strcmp0 (gst_sdp_media_get_attribute_val (gst_sdp_message_get_media (sdp, i), "mid"), mid)
        == 0)
      return (gint)i;
  return -1;
}

/* Gives every section of the BUNDLE group that brought a transport of its
 * own the offerer-tagged section's transport (RFC 8843 §7.3): the same ICE
 * credentials and DTLS identity, none of its own candidates. The answer
 * accepts the group, so the offerer drops those transports; their
 * credentials are kept to recognise fragments trickled for them. */
static gboolean
normalise_bundle (VgOffer *offer, GError **error)
{
  GstSDPMessage *sdp = offer->sdp;
  g_auto (GStrv) mids = bundle_mids (sdp);
  const char *first = NULL;
  for (char **m = mids; m && *m && !first; m++)
    if (**m)
      first = *m;
  if (!first)
    return TRUE;
  gint tagged = find_mid (sdp, first);
  if (tagged < 0 || !section_in_use (gst_sdp_message_get_media (sdp, tagged)))
    {
      BAD_SDP (error, "the BUNDLE group's first mid \"%s\" names no section in use", first);
      return FALSE;
    }
  const GstSDPMedia *tag = gst_sdp_message_get_media (sdp, tagged);
  g_autofree char *ufrag = g_strdup (section_attr (sdp, tag, "ice-ufrag"));
  g_autofree char *pwd = g_strdup (section_attr (sdp, tag, "ice-pwd"));
  g_autofree char *fingerprint = g_strdup (section_attr (sdp, tag, "fingerprint"));
  g_autofree char *setup = g_strdup (section_attr (sdp, tag, "setup"));
  GPtrArray *dropped = g_ptr_array_new ();

  for (guint i = 0; i < gst_sdp_message_medias_len (sdp); i++)
    {
      GstSDPMedia *media = (GstSDPMedia *)gst_sdp_message_get_media (sdp, i);
      const char *mid = gst_sdp_media_get_attribute_val (media, "mid");
      if ((gint)i == tagged || !mid || !g_strv_contains ((const char *const *)mids, mid))
        continue;
      const char *own = section_attr (sdp, media, "ice-ufrag");
      if (!own
          || (g_strcmp0 (own, ufrag) == 0
              && g_strcmp0 (section_attr (sdp, media, "ice-pwd"), pwd) == 0))
        continue; /* browsers: already one transport */
      /* own is about to be replaced: copy it first */
      if (!g_ptr_array_find_with_equal_func (dropped, own, g_str_equal, NULL))
        g_ptr_array_add (dropped, g_strdup (own));
      set_media_attr (media, "ice-ufrag", ufrag);
      set_media_attr (media, "ice-pwd", pwd);
      if (fingerprint)
        {
          remove_media_attrs (media, "fingerprint");
          gst_sdp_media_add_attribute (media, "fingerprint", fingerprint);
        }
      if (setup)
        set_media_attr (media, "setup", setup);
      remove_media_attrs (media, "candidate");
      remove_media_attrs (media, "end-of-candidates");
    }
  g_ptr_array_add (dropped, NULL);
  offer->dropped_ufrags = (GStrv)g_ptr_array_free (dropped, FALSE);
  return TRUE;
}

/* ---- the offer ---- */

gboolean
vg_offer_parse (const char *text, VgOffer *offer, GError **error)
{
  memset (offer, 0, sizeof *offer);
  if (!text || !offer_looks_like_sdp (text)
      || gst_sdp_message_new_from_text (text, &offer->sdp) != GST_SDP_OK || !offer->sdp)
    {
      BAD_SDP (error, "the offer is not an SDP");
      goto fail;
    }
  GstSDPMessage *sdp = offer->sdp;
  guint medias = gst_sdp_message_medias_len (sdp);
  if (medias > VG_OFFER_MAX_MEDIA)
    {
      BAD_SDP (error, "the offer has %u m-sections; at most %u are accepted", medias,
               VG_OFFER_MAX_MEDIA);
      goto fail;
    }
  for (guint i = 0; i < medias; i++)
    {
      const GstSDPMedia *media = gst_sdp_message_get_media (sdp, i);
      if (section_in_use (media) && !check_transport (sdp, media, i, error))
        goto fail;
    }
  if (!find_opus (offer, error) || !normalise_bundle (offer, error))
    goto fail;

  offer->section_ufrags = g_new0 (char *, medias + 1);
  for (guint i = 0; i < medias; i++)
    {
      const char *ufrag = section_attr (sdp, gst_sdp_message_get_media (sdp, i), "ice-ufrag");
      offer->section_ufrags[i] = g_strdup (ufrag ? ufrag : "");
    }
  return TRUE;
fail:
  vg_offer_clear (offer);
  return FALSE;
}

void
vg_offer_clear (VgOffer *offer)
{
  g_clear_pointer (&offer->sdp, gst_sdp_message_free);
  g_clear_pointer (&offer->section_ufrags, g_strfreev);
  g_clear_pointer (&offer->dropped_ufrags, g_strfreev);
  g_clear_pointer (&offer->fingerprints, g_strfreev);
}

/* The DER bytes of the first certificate of a PEM text. */
static GBytes *
pem_to_der (const char *pem)
{
  static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
  const char *from = pem ? strstr (pem, begin) : NULL;
  const char *to = from ? strstr (from, end) : NULL;
  if (!to)
    return NULL;
  GString *b64 = g_string_new (NULL);
  for (const char *c = from + strlen (begin); c < to; c++)
    if (!g_ascii_isspace (*c))
      g_string_append_c (b64, *c);
  gsize len = 0;
  guchar *der = b64->len ? g_base64_decode (b64->str, &len) : NULL;
  g_string_free (b64, TRUE);
  return der && len ? g_bytes_new_take (der, len) : (g_free (der), NULL);
}

static gboolean
digest_equal (const char *hex, const guint8 *digest, gsize bytes)
{
  for (gsize i = 0; i < bytes; i++)
    if (g_ascii_xdigit_value (hex[i * 3]) != digest[i] >> 4
        || g_ascii_xdigit_value (hex[i * 3 + 1]) != (digest[i] & 0xf))
      return FALSE;
  return TRUE;
}

gboolean
vg_offer_certificate_matches (const VgOffer *offer, const char *pem)
{
  g_autoptr (GBytes) der = pem_to_der (pem);
  for (guint i = 0; der && offer->fingerprints && offer->fingerprints[i]; i++)
    {
      const char *value = offer->fingerprints[i];
      gint hash = fingerprint_hash (value);
      if (hash < 0)
        continue;
      guint8 digest[64];
      gsize len = sizeof digest;
      GChecksum *sum = g_checksum_new (fingerprint_hashes[hash].type);
      g_checksum_update (sum, g_bytes_get_data (der, NULL), g_bytes_get_size (der));
      g_checksum_get_digest (sum, digest, &len);
      g_checksum_free (sum);
      if (len == fingerprint_hashes[hash].bytes
          && digest_equal (strchr (value, ' ') + 1, digest, len))
        return TRUE;
    }
  return FALSE;
}

gint
vg_offer_frag_mline (const VgOffer *offer, const char *ufrag)
{
  if (!ufrag)
    return 0;
  for (guint i = 0; offer->section_ufrags && offer->section_ufrags[i]; i++)
    if (g_strcmp0 (offer->section_ufrags[i], ufrag) == 0)
      return (gint)i;
  if (offer->dropped_ufrags && g_strv_contains ((const char *const *)offer->dropped_ufrags, ufrag))
    return VG_OFFER_FRAG_DROPPED;
  return VG_OFFER_FRAG_RESTART;
}

/* ---- trickle fragments ---- */

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
          BAD_SDP (error, "the body is not an SDP fragment");
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
