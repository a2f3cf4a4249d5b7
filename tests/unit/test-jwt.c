/* JWT: round trip and every kind of refusal. */
#include "gateway/core/jwt.h"

#include <string.h>

#define KEY "devkey"
#define SECRET "secret-of-test"

static const char *
lookup (const char *api_key, gpointer user_data)
{
  return g_str_equal (api_key, KEY) ? SECRET : NULL;
}

static gint64
now_s (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static char *
mint_basic (gint64 nbf, gint64 exp)
{
  VgClaims c = { 0 };
  char *token;

  c.identity = g_strdup ("alice");
  c.name = g_strdup ("Alice \"A\" O'Neil");
  c.not_before = nbf;
  c.expires_at = exp;
  c.video.room = g_strdup ("room-1");
  c.video.room_join = TRUE;
  c.video.can_publish = TRUE;
  token = vg_jwt_mint (&c, KEY, SECRET);
  vg_claims_clear (&c);
  return token;
}

/* Signs an arbitrary header and payload with the test secret. */
static char *
sign_raw (const char *header, const char *payload, const char *secret)
{
  g_autofree char *h = vg_base64url_encode ((const guint8 *) header, strlen (header));
  g_autofree char *p = vg_base64url_encode ((const guint8 *) payload, strlen (payload));
  g_autofree char *signing_input = g_strconcat (h, ".", p, NULL);
  g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, (const guchar *) secret, strlen (secret));
  guint8 digest[32];
  gsize len = sizeof digest;
  g_autofree char *s = NULL;

  g_hmac_update (hmac, (const guchar *) signing_input, -1);
  g_hmac_get_digest (hmac, digest, &len);
  s = vg_base64url_encode (digest, len);
  return g_strconcat (signing_input, ".", s, NULL);
}

static VgJwtStatus
verify (const char *token)
{
  VgClaims c = { 0 };
  VgJwtStatus st = vg_jwt_verify (token, strlen (token), lookup, NULL, now_s (), &c);
  vg_claims_clear (&c);
  return st;
}

static void
test_round_trip (void)
{
  gint64 now = now_s ();
  g_autofree char *token = mint_basic (now, now + 600);
  VgClaims c = { 0 };

  g_assert_cmpint (vg_jwt_verify (token, strlen (token), lookup, NULL, now, &c), ==, VG_JWT_OK);
  g_assert_cmpstr (c.issuer, ==, KEY);
  g_assert_cmpstr (c.identity, ==, "alice");
  g_assert_cmpstr (c.name, ==, "Alice \"A\" O'Neil");
  g_assert_cmpstr (c.video.room, ==, "room-1");
  g_assert_true (c.video.room_join);
  g_assert_true (c.video.can_publish);
  g_assert_false (c.video.room_admin);
  g_assert_cmpint (c.expires_at, ==, now + 600);
  vg_claims_clear (&c);
}

static void
test_time_checks (void)
{
  gint64 now = now_s ();
  g_autofree char *expired = mint_basic (0, now - 11);
  g_autofree char *within_skew = mint_basic (0, now - 5);
  g_autofree char *future = mint_basic (now + 60, now + 600);
  g_autofree char *future_skew = mint_basic (now + 5, now + 600);

  g_assert_cmpint (verify (expired), ==, VG_JWT_EXPIRED);
  g_assert_cmpint (verify (within_skew), ==, VG_JWT_OK);
  g_assert_cmpint (verify (future), ==, VG_JWT_NOT_YET_VALID);
  g_assert_cmpint (verify (future_skew), ==, VG_JWT_OK);
}

static void
test_refusals (void)
{
  gint64 now = now_s ();
  g_autofree char *good = mint_basic (0, now + 600);
  g_autofree char *payload = g_strdup_printf ("{\"iss\":\"" KEY "\",\"sub\":\"a\",\"exp\":%" G_GINT64_FORMAT "}",
                                              now + 600);
  g_autofree char *wrong_secret = sign_raw ("{\"alg\":\"HS256\"}", payload, "another-secret");
  g_autofree char *alg_none_signed = sign_raw ("{\"alg\":\"none\"}", payload, SECRET);
  g_autofree char *alg_rs256 = sign_raw ("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", payload, SECRET);
  g_autofree char *alg_missing = sign_raw ("{\"typ\":\"JWT\"}", payload, SECRET);
  g_autofree char *no_exp = sign_raw ("{\"alg\":\"HS256\"}", "{\"iss\":\"" KEY "\",\"sub\":\"a\"}", SECRET);
  g_autofree char *exp_string = sign_raw ("{\"alg\":\"HS256\"}", "{\"iss\":\"" KEY "\",\"exp\":\"soon\"}", SECRET);
  g_autofree char *unknown_iss = sign_raw ("{\"alg\":\"HS256\"}", "{\"iss\":\"other\",\"exp\":99999999999}", SECRET);
  g_autofree char *no_iss = sign_raw ("{\"alg\":\"HS256\"}", "{\"exp\":99999999999}", SECRET);
  g_autofree char *not_json = sign_raw ("{\"alg\":\"HS256\"}", "not json", SECRET);
  g_autofree char *array_payload = sign_raw ("{\"alg\":\"HS256\"}", "[1,2]", SECRET);
  g_autofree char *header_b64 = vg_base64url_encode ((const guint8 *) "{\"alg\":\"none\"}", 14);
  g_autofree char *payload_b64 = vg_base64url_encode ((const guint8 *) payload, strlen (payload));
  g_autofree char *alg_none_unsigned = g_strconcat (header_b64, ".", payload_b64, ".", NULL);
  g_autofree char *tampered = g_strdup (good);
  g_autofree char *truncated = g_strndup (good, strlen (good) - 5);
  g_autofree char *bad_base64 = g_strdup (good);
  g_autofree char *two_parts = g_strndup (good, strrchr (good, '.') - good);
  g_autofree char *four_parts = g_strconcat (good, ".x", NULL);
  GString *oversized = g_string_new (good);

  /* Another, well-formed payload under the original signature. */
  {
    g_autofree char *evil = g_strdup_printf ("{\"iss\":\"" KEY "\",\"sub\":\"mallory\",\"exp\":%" G_GINT64_FORMAT
                                             ",\"video\":{\"roomAdmin\":true}}", now + 600);
    g_autofree char *evil64 = vg_base64url_encode ((const guint8 *) evil, strlen (evil));
    g_autofree char *head = g_strndup (good, strchr (good, '.') - good);
    g_free (tampered);
    tampered = g_strconcat (head, ".", evil64, strrchr (good, '.'), NULL);
  }
  bad_base64[5] = '*';
  while (oversized->len <= VG_JWT_MAX_BYTES)
    g_string_append_c (oversized, 'A');

  g_assert_cmpint (verify (good), ==, VG_JWT_OK);
  g_assert_cmpint (verify (wrong_secret), ==, VG_JWT_BAD_SIGNATURE);
  g_assert_cmpint (verify (alg_none_signed), ==, VG_JWT_BAD_ALGORITHM);
  g_assert_cmpint (verify (alg_none_unsigned), ==, VG_JWT_BAD_ALGORITHM);
  g_assert_cmpint (verify (alg_rs256), ==, VG_JWT_BAD_ALGORITHM);
  g_assert_cmpint (verify (alg_missing), ==, VG_JWT_BAD_ALGORITHM);
  g_assert_cmpint (verify (no_exp), ==, VG_JWT_MISSING_EXPIRY);
  g_assert_cmpint (verify (exp_string), ==, VG_JWT_BAD_CLAIMS);
  g_assert_cmpint (verify (unknown_iss), ==, VG_JWT_UNKNOWN_ISSUER);
  g_assert_cmpint (verify (no_iss), ==, VG_JWT_UNKNOWN_ISSUER);
  g_assert_cmpint (verify (not_json), ==, VG_JWT_MALFORMED);
  g_assert_cmpint (verify (array_payload), ==, VG_JWT_MALFORMED);
  g_assert_cmpint (verify (tampered), ==, VG_JWT_BAD_SIGNATURE);
  /* A cut signature is either not base64url any more or too short. */
  g_assert_true (verify (truncated) == VG_JWT_BAD_SIGNATURE || verify (truncated) == VG_JWT_MALFORMED);
  g_assert_cmpint (verify (bad_base64), ==, VG_JWT_MALFORMED);
  g_assert_cmpint (verify (two_parts), ==, VG_JWT_MALFORMED);
  g_assert_cmpint (verify (four_parts), ==, VG_JWT_MALFORMED);
  g_assert_cmpint (verify (oversized->str), ==, VG_JWT_TOO_LARGE);
  g_assert_cmpint (verify (""), ==, VG_JWT_MALFORMED);
  g_assert_cmpint (verify (".."), ==, VG_JWT_MALFORMED);
  g_string_free (oversized, TRUE);
}

static VgJwtStatus
verify_payload (const char *payload)
{
  g_autofree char *token = sign_raw ("{\"alg\":\"HS256\"}", payload, SECRET);
  return verify (token);
}

/* exp and nbf are range-checked before they are converted: 2^63-10 used to
 * wrap to "expired" when the skew was added, 1e300 to "valid already". */
static void
test_time_ranges (void)
{
  g_autofree char *exp_valid
      = g_strdup_printf ("{\"iss\":\"" KEY "\",\"exp\":%" G_GINT64_FORMAT "}", now_s () + 600);
  g_autofree char *exp_fraction
      = g_strdup_printf ("{\"iss\":\"" KEY "\",\"exp\":%" G_GINT64_FORMAT ".5}", now_s () + 600);
  g_autofree char *nbf_huge = g_strdup_printf (
      "{\"iss\":\"" KEY "\",\"exp\":%" G_GINT64_FORMAT ",\"nbf\":1e300}", now_s () + 600);
  g_autofree char *nbf_negative = g_strdup_printf ("{\"iss\":\"" KEY "\",\"exp\":%" G_GINT64_FORMAT
                                                   ",\"nbf\":-9223372036854775807}",
                                                   now_s () + 600);
  const char *refused[] = {
    "{\"iss\":\"" KEY "\",\"exp\":9223372036854775797}", /* 2^63-10 */
    "{\"iss\":\"" KEY "\",\"exp\":9223372036854775807}",
    "{\"iss\":\"" KEY "\",\"exp\":1e300}",
    "{\"iss\":\"" KEY "\",\"exp\":-1}",
    "{\"iss\":\"" KEY "\",\"exp\":-1e300}",
    "{\"iss\":\"" KEY "\",\"exp\":253402300800}", /* after 9999-12-31 */
    "{\"iss\":\"" KEY "\",\"exp\":9007199254740993}",
    "{\"iss\":\"" KEY "\",\"exp\":[1]}",
    nbf_huge,
    nbf_negative,
  };

  g_assert_cmpint (verify_payload (exp_valid), ==, VG_JWT_OK);
  g_assert_cmpint (verify_payload (exp_fraction), ==, VG_JWT_OK);
  g_assert_cmpint (verify_payload ("{\"iss\":\"" KEY "\",\"exp\":253402300799}"), ==, VG_JWT_OK);
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_test_message ("payload %s", refused[i]);
      g_assert_cmpint (verify_payload (refused[i]), ==, VG_JWT_BAD_CLAIMS);
    }
  g_assert_cmpstr (vg_jwt_status_code (VG_JWT_BAD_CLAIMS), ==, "token_claims");
}

/* Names in a token follow the rules every endpoint applies, so a token signed
 * elsewhere cannot carry a newline, a bidi override or 5 000 characters into
 * the gateway's logs and rooms. */
static void
test_claim_names (void)
{
  gint64 exp = now_s () + 600;
  g_autofree char *long_sub = g_strnfill (5000, 'a');
  const char *bad_subs[] = { "a\\nb",     "a\\tb",     "a\\u202eb", "a\\u0085b",
                             "a\\u007fb", "a\\u2028b", " admin",    long_sub };
  const char *bad_rooms[] = { "a:b", "../x", "a b", ".x", "caf\\u00e9" };

  for (guint i = 0; i < G_N_ELEMENTS (bad_subs); i++)
    {
      g_autofree char *p = g_strdup_printf (
          "{\"iss\":\"" KEY "\",\"sub\":\"%s\",\"exp\":%" G_GINT64_FORMAT "}", bad_subs[i], exp);
      g_test_message ("sub %.40s", bad_subs[i]);
      g_assert_cmpint (verify_payload (p), ==, VG_JWT_BAD_CLAIMS);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_rooms); i++)
    {
      g_autofree char *p
          = g_strdup_printf ("{\"iss\":\"" KEY "\",\"sub\":\"a\",\"exp\":%" G_GINT64_FORMAT
                             ",\"video\":{\"room\":\"%s\"}}",
                             exp, bad_rooms[i]);
      g_test_message ("room %s", bad_rooms[i]);
      g_assert_cmpint (verify_payload (p), ==, VG_JWT_BAD_CLAIMS);
    }
  g_autofree char *bad_name = g_strdup_printf (
      "{\"iss\":\"" KEY "\",\"name\":\"x\\ny\",\"exp\":%" G_GINT64_FORMAT "}", exp);
  g_autofree char *mistyped_sub
      = g_strdup_printf ("{\"iss\":\"" KEY "\",\"sub\":7,\"exp\":%" G_GINT64_FORMAT "}", exp);
  g_autofree char *bad_attr = g_strdup_printf ("{\"iss\":\"" KEY "\",\"exp\":%" G_GINT64_FORMAT
                                               ",\"attributes\":{\"k\\u0001\":\"v\"}}",
                                               exp);
  g_assert_cmpint (verify_payload (bad_name), ==, VG_JWT_BAD_CLAIMS);
  g_assert_cmpint (verify_payload (mistyped_sub), ==, VG_JWT_BAD_CLAIMS);
  g_assert_cmpint (verify_payload (bad_attr), ==, VG_JWT_BAD_CLAIMS);

  /* Accepted: a dotted room, a Unicode identity, and an empty room = no room. */
  g_autofree char *good = g_strdup_printf (
      "{\"iss\":\"" KEY "\",\"sub\":\"Zo\\u00eb \\u00dcnal\",\"exp\":%" G_GINT64_FORMAT
      ",\"video\":{\"room\":\"lesson.2024-05\"}}",
      exp);
  g_autofree char *no_room = g_strdup_printf (
      "{\"iss\":\"" KEY "\",\"sub\":\"a\",\"exp\":%" G_GINT64_FORMAT ",\"video\":{\"room\":\"\"}}",
      exp);
  g_autofree char *good_tok = sign_raw ("{\"alg\":\"HS256\"}", good, SECRET);
  g_autofree char *no_room_tok = sign_raw ("{\"alg\":\"HS256\"}", no_room, SECRET);
  VgClaims c = { 0 };
  g_assert_cmpint (vg_jwt_verify (good_tok, strlen (good_tok), lookup, NULL, now_s (), &c), ==,
                   VG_JWT_OK);
  g_assert_cmpstr (c.video.room, ==, "lesson.2024-05");
  vg_claims_clear (&c);
  g_assert_cmpint (vg_jwt_verify (no_room_tok, strlen (no_room_tok), lookup, NULL, now_s (), &c),
                   ==, VG_JWT_OK);
  g_assert_null (c.video.room);
  vg_claims_clear (&c);
}

/* A second JSON value after the claims: json-glib alone ignored it and leaked
 * its tree, before the signature was checked (tests/fuzz/corpus/jwt). */
static void
test_trailing_value (void)
{
  g_autofree char *payload = g_strdup_printf (
      "{\"iss\":\"" KEY "\",\"exp\":%" G_GINT64_FORMAT "}{\"sub\":\"x\"}", now_s () + 600);
  g_autofree char *header = sign_raw ("{\"alg\":\"HS256\"}[]", "{\"iss\":\"" KEY "\"}", SECRET);
  g_assert_cmpint (verify_payload (payload), ==, VG_JWT_MALFORMED);
  g_assert_cmpint (verify (header), ==, VG_JWT_MALFORMED);
}

static void
test_status_codes_distinct (void)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (int s = VG_JWT_OK; s <= VG_JWT_BAD_CLAIMS; s++)
    {
      const char *code = vg_jwt_status_code (s);
      g_assert_false (g_hash_table_contains (seen, code));
      g_hash_table_add (seen, (gpointer) code);
    }
}

static void
test_base64url (void)
{
  const char *inputs[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\xfd" };

  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      gsize len = strlen (inputs[i]), out_len = 0;
      g_autofree char *enc = vg_base64url_encode ((const guint8 *) inputs[i], len);
      g_autofree guint8 *dec = vg_base64url_decode (enc, strlen (enc), &out_len);
      g_assert_nonnull (dec);
      g_assert_cmpmem (dec, out_len, inputs[i], len);
      g_assert_null (strchr (enc, '='));
      g_assert_null (strchr (enc, '+'));
      g_assert_null (strchr (enc, '/'));
    }
  /* Non-canonical trailing bits and impossible lengths are refused. */
  gsize n;
  g_assert_null (vg_base64url_decode ("Zh", 2, &n));
  g_assert_null (vg_base64url_decode ("Zm9vY", 5, &n));
  g_assert_null (vg_base64url_decode ("Zm9v=", 5, &n));
}

static void
test_grant_defaults (void)
{
  g_autofree char *token = sign_raw ("{\"alg\":\"HS256\"}",
                                     "{\"iss\":\"" KEY "\",\"exp\":99999999999,\"video\":{\"room\":\"r\","
                                     "\"roomJoin\":true,\"canPublish\":false}}",
                                     SECRET);
  VgClaims c = { 0 };

  g_assert_cmpint (vg_jwt_verify (token, strlen (token), lookup, NULL, now_s (), &c), ==, VG_JWT_OK);
  g_assert_false (c.video.can_publish);
  g_assert_true (c.video.can_subscribe);    /* LiveKit default when absent */
  g_assert_true (c.video.can_publish_data); /* likewise */
  vg_claims_clear (&c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/jwt/round-trip", test_round_trip);
  g_test_add_func ("/jwt/time-checks", test_time_checks);
  g_test_add_func ("/jwt/refusals", test_refusals);
  g_test_add_func ("/jwt/status-codes-distinct", test_status_codes_distinct);
  g_test_add_func ("/jwt/time-ranges", test_time_ranges);
  g_test_add_func ("/jwt/claim-names", test_claim_names);
  g_test_add_func ("/jwt/base64url", test_base64url);
  g_test_add_func ("/jwt/trailing-value", test_trailing_value);
  g_test_add_func ("/jwt/grant-defaults", test_grant_defaults);
  return g_test_run ();
}
