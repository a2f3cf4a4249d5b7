/* libFuzzer target: JWT verification (gateway/core/jwt.c), the first parser
 * every authenticated request meets.
 *
 * The first byte picks what the rest is. 0: a raw token, as a client sends
 * it (base64url, JSON headers, signature comparison). Otherwise: a header
 * and a payload separated by the first '\n', which this target encodes and
 * signs with the known secret, so that the claims (exp, nbf, names, video
 * grant, attributes) are parsed too, past the signature check that random
 * bytes could never pass. */
#include "gateway/core/jwt.h"
#include <string.h>

#define FUZZ_KEY "devkey"
#define FUZZ_SECRET "fuzz-secret"
#define FUZZ_NOW G_GINT64_CONSTANT (1700000000)

static const char *
lookup (const char *api_key, gpointer user_data)
{
  return g_str_equal (api_key, FUZZ_KEY) ? FUZZ_SECRET : NULL;
}

static void
verify (const char *token, gsize len)
{
  VgClaims claims;
  if (vg_jwt_verify (token, len, lookup, NULL, FUZZ_NOW, &claims) == VG_JWT_OK)
    vg_claims_clear (&claims);
}

static char *
signed_token (const char *data, gsize len)
{
  const char *nl = memchr (data, '\n', len);
  gsize header_len = nl ? (gsize)(nl - data) : len;
  const char *payload = nl ? nl + 1 : data + len;
  gsize payload_len = nl ? len - header_len - 1 : 0;
  g_autofree char *h = vg_base64url_encode ((const guint8 *)data, header_len);
  g_autofree char *p = vg_base64url_encode ((const guint8 *)payload, payload_len);
  g_autofree char *signing_input = g_strconcat (h, ".", p, NULL);
  g_autoptr (GHmac) hmac
      = g_hmac_new (G_CHECKSUM_SHA256, (const guchar *)FUZZ_SECRET, strlen (FUZZ_SECRET));
  guint8 digest[32];
  gsize digest_len = sizeof digest;

  g_hmac_update (hmac, (const guchar *)signing_input, strlen (signing_input));
  g_hmac_get_digest (hmac, digest, &digest_len);
  g_autofree char *sig = vg_base64url_encode (digest, digest_len);
  return g_strconcat (signing_input, ".", sig, NULL);
}

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (size < 1)
    return 0;
  const char *rest = (const char *)data + 1;
  gsize rest_len = size - 1;

  if (data[0] == 0)
    {
      verify (rest, rest_len);
      return 0;
    }
  g_autofree char *token = signed_token (rest, rest_len);
  verify (token, strlen (token));
  return 0;
}
