/* JWT HS256 for LiveKit access tokens. See jwt.h. */
#include "gateway/core/jwt.h"
#include "common/json-strict.h"
#include "gateway/core/hmac-sha256.h"
#include "gateway/core/json-text.h"
#include "gateway/core/validate.h"

#include <math.h>

#include <string.h>

const char *
vg_jwt_status_code (VgJwtStatus status)
{
  switch (status)
    {
      case VG_JWT_OK:
        return "ok";
      case VG_JWT_MALFORMED:
        return "token_malformed";
      case VG_JWT_TOO_LARGE:
        return "token_too_large";
      case VG_JWT_BAD_ALGORITHM:
        return "token_algorithm";
      case VG_JWT_UNKNOWN_ISSUER:
        return "token_issuer";
      case VG_JWT_BAD_SIGNATURE:
        return "token_signature";
      case VG_JWT_MISSING_EXPIRY:
        return "token_no_expiry";
      case VG_JWT_EXPIRED:
        return "token_expired";
      case VG_JWT_NOT_YET_VALID:
        return "token_not_yet_valid";
      case VG_JWT_BAD_CLAIMS:
        return "token_claims";
    }
  return "token_invalid";
}

const char *
vg_jwt_status_message (VgJwtStatus status)
{
  switch (status)
    {
      case VG_JWT_OK:
        return "valid";
      case VG_JWT_MALFORMED:
        return "the token is not a well-formed JWT";
      case VG_JWT_TOO_LARGE:
        return "the token is larger than 8 KiB";
      case VG_JWT_BAD_ALGORITHM:
        return "only HS256 tokens are accepted";
      case VG_JWT_UNKNOWN_ISSUER:
        return "the token's issuer is not a known API key";
      case VG_JWT_BAD_SIGNATURE:
        return "the token's signature does not match";
      case VG_JWT_MISSING_EXPIRY:
        return "the token has no expiry (exp)";
      case VG_JWT_EXPIRED:
        return "the token has expired";
      case VG_JWT_NOT_YET_VALID:
        return "the token is not valid yet (nbf)";
      case VG_JWT_BAD_CLAIMS:
        return "a claim of the token is out of range or mistyped (exp, nbf: seconds from 0 to "
               "253402300799), or a name breaks its rule (sub, name, video.room, attributes)";
    }
  return "invalid token";
}

void
vg_claims_clear (VgClaims *claims)
{
  g_clear_pointer (&claims->issuer, g_free);
  g_clear_pointer (&claims->identity, g_free);
  g_clear_pointer (&claims->name, g_free);
  g_clear_pointer (&claims->metadata, g_free);
  g_clear_pointer (&claims->sha256, g_free);
  g_clear_pointer (&claims->attributes, g_hash_table_unref);
  g_clear_pointer (&claims->video.room, g_free);
  memset (claims, 0, sizeof *claims);
}

static const char b64url_alphabet[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Appends the base64url text of data to out, written in place. */
static void
base64url_append (GString *out, const guint8 *data, gsize len)
{
  gsize start = out->len, i = 0;
  char *p;

  g_string_set_size (out, start + (len / 3) * 4 + (len % 3 ? len % 3 + 1 : 0));
  p = out->str + start;
  for (; i + 2 < len; i += 3)
    {
      guint32 v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
      *p++ = b64url_alphabet[(v >> 18) & 63];
      *p++ = b64url_alphabet[(v >> 12) & 63];
      *p++ = b64url_alphabet[(v >> 6) & 63];
      *p++ = b64url_alphabet[v & 63];
    }
  if (len - i == 1)
    {
      guint32 v = data[i] << 16;
      *p++ = b64url_alphabet[(v >> 18) & 63];
      *p++ = b64url_alphabet[(v >> 12) & 63];
    }
  else if (len - i == 2)
    {
      guint32 v = (data[i] << 16) | (data[i + 1] << 8);
      *p++ = b64url_alphabet[(v >> 18) & 63];
      *p++ = b64url_alphabet[(v >> 12) & 63];
      *p++ = b64url_alphabet[(v >> 6) & 63];
    }
  g_assert (p == out->str + out->len);
}

char *
vg_base64url_encode (const guint8 *data, gsize len)
{
  GString *out = g_string_sized_new (len * 4 / 3 + 4);

  base64url_append (out, data, len);
  return g_string_free (out, FALSE);
}

static int
b64url_value (char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

guint8 *
vg_base64url_decode (const char *text, gsize text_len, gsize *out_len)
{
  guint8 *out;
  gsize n = 0;
  guint32 acc = 0;
  int bits = 0;

  /* Padding is not part of JWT; a length of 1 mod 4 cannot be valid. */
  if (text_len % 4 == 1)
    return NULL;
  out = g_malloc (text_len * 3 / 4 + 1);
  for (gsize i = 0; i < text_len; i++)
    {
      int v = b64url_value (text[i]);
      if (v < 0)
        {
          g_free (out);
          return NULL;
        }
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8)
        {
          bits -= 8;
          out[n++] = (acc >> bits) & 0xff;
        }
    }
  /* Leftover bits must be zero, so one token has exactly one encoding. */
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
    {
      g_free (out);
      return NULL;
    }
  out[n] = '\0';
  *out_len = n;
  return out;
}

static void
hmac_sha256 (const char *secret, const char *data, gsize len, guint8 digest[32])
{
  vg_hmac_key_sign (vg_hmac_key_for_secret (secret), data, len, digest);
}

static gboolean
constant_time_equal (const guint8 *a, const guint8 *b, gsize len)
{
  volatile guint8 diff = 0;
  for (gsize i = 0; i < len; i++)
    diff |= a[i] ^ b[i];
  return diff == 0;
}

static JsonObject *
parse_object (const guint8 *data, gsize len, JsonParser *parser)
{
  JsonNode *root;

  /* Strict first: json-glib alone would accept, and leak, a second JSON
   * value after the object, before the signature is even checked. */
  if (!vg_json_strict_check ((const char *)data, len, VG_JSON_MAX_DEPTH, NULL)
      || !json_parser_load_from_data (parser, (const char *)data, len, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  return root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
}

/* A NumericDate is a number of seconds, possibly fractional (RFC 7519 §2).
 * It is range-checked before any conversion: a double outside gint64 does not
 * convert, and exp near 2^63 would wrap when the skew is added. */
static gboolean
get_numeric_date (JsonObject *obj, const char *member, gint64 *out, gboolean *present)
{
  JsonNode *n = json_object_get_member (obj, member);
  *present = n != NULL && !JSON_NODE_HOLDS_NULL (n);
  if (!*present)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  if (json_node_get_value_type (n) == G_TYPE_INT64)
    {
      gint64 v = json_node_get_int (n);
      if (v < 0 || v > VG_JWT_MAX_TIME)
        return FALSE;
      *out = v;
    }
  else if (json_node_get_value_type (n) == G_TYPE_DOUBLE)
    {
      double v = json_node_get_double (n);
      if (!isfinite (v) || v < 0 || v > (double)VG_JWT_MAX_TIME)
        return FALSE;
      *out = (gint64)v;
    }
  else
    return FALSE;
  return TRUE;
}

/* A string claim: absent (or null) is fine, another type is not. */
static gboolean
get_string_claim (JsonObject *obj, const char *member, const char **out)
{
  JsonNode *n = json_object_get_member (obj, member);
  *out = NULL;
  if (!n || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return FALSE;
  *out = json_node_get_string (n);
  return TRUE;
}

/* The names a token carries follow the rules every endpoint applies. An empty
 * sub or room is LiveKit's "none" (SDKs omit or empty them alike). */
static gboolean
names_are_valid (JsonObject *payload, JsonObject *video)
{
  const char *sub, *name, *room;
  JsonNode *attrs = json_object_get_member (payload, "attributes");

  if (!get_string_claim (payload, "sub", &sub) || (sub && *sub && !vg_validate_identity (sub))
      || !get_string_claim (payload, "name", &name) || (name && !vg_validate_display_name (name)))
    return FALSE;
  if (video
      && (!get_string_claim (video, "room", &room)
          || (room && *room && !vg_validate_room_name (room))))
    return FALSE;
  if (attrs && JSON_NODE_HOLDS_OBJECT (attrs))
    {
      JsonObjectIter it;
      const char *k;
      JsonNode *v;
      json_object_iter_init (&it, json_node_get_object (attrs));
      while (json_object_iter_next (&it, &k, &v))
        if (!vg_validate_attribute_key (k))
          return FALSE;
    }
  return TRUE;
}

static char *
dup_string_member (JsonObject *obj, const char *member)
{
  JsonNode *n = json_object_get_member (obj, member);
  if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (n));
  return NULL;
}

static gboolean
get_bool_member (JsonObject *obj, const char *member, gboolean *present)
{
  JsonNode *n = json_object_get_member (obj, member);
  gboolean ok = n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_BOOLEAN;
  if (present)
    *present = ok;
  return ok ? json_node_get_boolean (n) : FALSE;
}

static void
read_video_grant (JsonObject *video, VgVideoGrant *g)
{
  g->room = dup_string_member (video, "room");
  if (g->room && !*g->room)
    g_clear_pointer (&g->room, g_free);
  g->room_join = get_bool_member (video, "roomJoin", NULL);
  g->room_create = get_bool_member (video, "roomCreate", NULL);
  g->room_list = get_bool_member (video, "roomList", NULL);
  g->room_admin = get_bool_member (video, "roomAdmin", NULL);
  g->room_record = get_bool_member (video, "roomRecord", NULL);
  g->hidden = get_bool_member (video, "hidden", NULL);
  g->recorder = get_bool_member (video, "recorder", NULL);
  g->can_publish = get_bool_member (video, "canPublish", &g->can_publish_set);
  g->can_subscribe = get_bool_member (video, "canSubscribe", &g->can_subscribe_set);
  g->can_publish_data = get_bool_member (video, "canPublishData", &g->can_publish_data_set);
  /* LiveKit: publish/subscribe default to allowed when absent. */
  if (!g->can_publish_set)
    g->can_publish = TRUE;
  if (!g->can_subscribe_set)
    g->can_subscribe = TRUE;
  if (!g->can_publish_data_set)
    g->can_publish_data = TRUE;
}

VgJwtStatus
vg_jwt_verify (const char *token, gsize len, VgJwtSecretLookup lookup, gpointer user_data,
               gint64 now_s, VgClaims *claims_out)
{
  const char *dot1, *dot2;
  g_autofree guint8 *header_raw = NULL, *payload_raw = NULL, *sig = NULL;
  gsize header_len, payload_len, sig_len;
  g_autoptr (JsonParser) header_parser = json_parser_new_immutable ();
  g_autoptr (JsonParser) payload_parser = json_parser_new_immutable ();
  JsonObject *header, *payload, *video;
  g_autofree char *issuer = NULL;
  const char *secret;
  guint8 expected[32];
  gint64 exp = 0, nbf = 0;
  gboolean has_exp, has_nbf;
  JsonNode *alg;

  if (len > VG_JWT_MAX_BYTES)
    return VG_JWT_TOO_LARGE;
  dot1 = memchr (token, '.', len);
  dot2 = dot1 ? memchr (dot1 + 1, '.', token + len - dot1 - 1) : NULL;
  if (!dot1 || !dot2 || memchr (dot2 + 1, '.', token + len - dot2 - 1))
    return VG_JWT_MALFORMED;

  header_raw = vg_base64url_decode (token, dot1 - token, &header_len);
  payload_raw = vg_base64url_decode (dot1 + 1, dot2 - dot1 - 1, &payload_len);
  sig = vg_base64url_decode (dot2 + 1, token + len - dot2 - 1, &sig_len);
  if (!header_raw || !payload_raw || !sig)
    return VG_JWT_MALFORMED;
  header = parse_object (header_raw, header_len, header_parser);
  payload = parse_object (payload_raw, payload_len, payload_parser);
  if (!header || !payload)
    return VG_JWT_MALFORMED;

  /* The algorithm is pinned: the header cannot choose "none" or an asymmetric one. */
  alg = json_object_get_member (header, "alg");
  if (!alg || !JSON_NODE_HOLDS_VALUE (alg) || json_node_get_value_type (alg) != G_TYPE_STRING
      || !g_str_equal (json_node_get_string (alg), "HS256"))
    return VG_JWT_BAD_ALGORITHM;

  issuer = dup_string_member (payload, "iss");
  secret = issuer ? lookup (issuer, user_data) : NULL;
  if (!secret)
    return VG_JWT_UNKNOWN_ISSUER;

  hmac_sha256 (secret, token, dot2 - token, expected);
  if (sig_len != sizeof expected || !constant_time_equal (sig, expected, sizeof expected))
    return VG_JWT_BAD_SIGNATURE;

  /* Claims are only trusted after the signature checks out. */
  JsonNode *video_node = json_object_get_member (payload, "video");
  video = video_node && JSON_NODE_HOLDS_OBJECT (video_node) ? json_node_get_object (video_node)
                                                            : NULL;
  if (!get_numeric_date (payload, "exp", &exp, &has_exp)
      || !get_numeric_date (payload, "nbf", &nbf, &has_nbf) || !names_are_valid (payload, video))
    return VG_JWT_BAD_CLAIMS;
  if (!has_exp)
    return VG_JWT_MISSING_EXPIRY;
  if (now_s > exp + VG_JWT_CLOCK_SKEW_S)
    return VG_JWT_EXPIRED;
  if (has_nbf && now_s + VG_JWT_CLOCK_SKEW_S < nbf)
    return VG_JWT_NOT_YET_VALID;

  if (claims_out)
    {
      JsonNode *attrs = json_object_get_member (payload, "attributes");

      memset (claims_out, 0, sizeof *claims_out);
      claims_out->issuer = g_steal_pointer (&issuer);
      claims_out->identity = dup_string_member (payload, "sub");
      claims_out->name = dup_string_member (payload, "name");
      claims_out->metadata = dup_string_member (payload, "metadata");
      claims_out->sha256 = dup_string_member (payload, "sha256");
      claims_out->expires_at = exp;
      claims_out->not_before = has_nbf ? nbf : 0;
      if (attrs && JSON_NODE_HOLDS_OBJECT (attrs))
        {
          JsonObjectIter it;
          const char *k;
          JsonNode *v;
          claims_out->attributes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
          json_object_iter_init (&it, json_node_get_object (attrs));
          while (json_object_iter_next (&it, &k, &v))
            if (JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING)
              g_hash_table_insert (claims_out->attributes, g_strdup (k),
                                   g_strdup (json_node_get_string (v)));
        }
      g_autoptr (JsonObject) empty = json_object_new ();
      read_video_grant (video ? video : empty, &claims_out->video);
    }
  return VG_JWT_OK;
}

static void
append_bool (GString *out, gboolean *first, const char *name, gboolean value)
{
  if (!*first)
    g_string_append_c (out, ',');
  g_string_append_c (out, '"');
  g_string_append (out, name);
  g_string_append (out, value ? "\":true" : "\":false");
  *first = FALSE;
}

/* The payload is written by hand: it is on the token endpoint's hot path and
 * its shape is fixed, so a JSON tree would only cost allocations. */
char *
vg_jwt_mint (const VgClaims *c, const char *api_key, const char *api_secret)
{
  /* base64url of {"alg":"HS256","typ":"JWT"}, the one header minted */
  static const char header64[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
  g_autoptr (GString) payload = g_string_sized_new (512);
  GString *token;
  guint8 sig[32];
  gboolean first = TRUE;
  const VgVideoGrant *g = &c->video;

  g_string_append (payload, "{\"iss\":");
  vg_json_append_string (payload, api_key);
  if (c->identity)
    {
      g_string_append (payload, ",\"sub\":");
      vg_json_append_string (payload, c->identity);
    }
  if (c->name)
    {
      g_string_append (payload, ",\"name\":");
      vg_json_append_string (payload, c->name);
    }
  if (c->metadata)
    {
      g_string_append (payload, ",\"metadata\":");
      vg_json_append_string (payload, c->metadata);
    }
  if (c->attributes && g_hash_table_size (c->attributes) > 0)
    {
      GHashTableIter it;
      gpointer k, v;
      gboolean first_attr = TRUE;
      g_string_append (payload, ",\"attributes\":{");
      g_hash_table_iter_init (&it, c->attributes);
      while (g_hash_table_iter_next (&it, &k, &v))
        {
          if (!first_attr)
            g_string_append_c (payload, ',');
          vg_json_append_string (payload, k);
          g_string_append_c (payload, ':');
          vg_json_append_string (payload, v);
          first_attr = FALSE;
        }
      g_string_append_c (payload, '}');
    }
  if (c->sha256)
    {
      g_string_append (payload, ",\"sha256\":");
      vg_json_append_string (payload, c->sha256);
    }
  if (c->not_before)
    {
      g_string_append (payload, ",\"nbf\":");
      vg_json_append_int (payload, c->not_before);
    }
  g_string_append (payload, ",\"exp\":");
  vg_json_append_int (payload, c->expires_at);
  g_string_append (payload, ",\"video\":{");
  if (g->room)
    {
      g_string_append (payload, "\"room\":");
      vg_json_append_string (payload, g->room);
      first = FALSE;
    }
  if (g->room_join)
    append_bool (payload, &first, "roomJoin", TRUE);
  if (g->room_create)
    append_bool (payload, &first, "roomCreate", TRUE);
  if (g->room_list)
    append_bool (payload, &first, "roomList", TRUE);
  if (g->room_admin)
    append_bool (payload, &first, "roomAdmin", TRUE);
  if (g->room_record)
    append_bool (payload, &first, "roomRecord", TRUE);
  if (g->hidden)
    append_bool (payload, &first, "hidden", TRUE);
  if (g->recorder)
    append_bool (payload, &first, "recorder", TRUE);
  if (g->room_join || g->can_publish_set)
    append_bool (payload, &first, "canPublish", g->can_publish);
  if (g->room_join || g->can_subscribe_set)
    append_bool (payload, &first, "canSubscribe", g->can_subscribe);
  if (g->room_join || g->can_publish_data_set)
    append_bool (payload, &first, "canPublishData", g->can_publish_data);
  g_string_append (payload, "}}");

  token = g_string_sized_new (sizeof header64 + payload->len * 4 / 3 + 48);
  g_string_append_len (token, header64, sizeof header64 - 1);
  g_string_append_c (token, '.');
  base64url_append (token, (const guint8 *)payload->str, payload->len);
  hmac_sha256 (api_secret, token->str, token->len, sig);
  g_string_append_c (token, '.');
  base64url_append (token, sig, sizeof sig);
  return g_string_free (token, FALSE);
}

char *
vg_jwt_mint_body_token (VgClaims *claims, const char *body, gint64 ttl_s, const char *api_key,
                        const char *api_secret)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  guint8 digest[32];
  gsize len = sizeof digest;
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  g_checksum_update (sum, (const guchar *)body, -1);
  g_checksum_get_digest (sum, digest, &len);
  g_free (claims->sha256);
  claims->sha256 = g_base64_encode (digest, len);
  claims->not_before = now;
  claims->expires_at = now + ttl_s;
  return vg_jwt_mint (claims, api_key, api_secret);
}
