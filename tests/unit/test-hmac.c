/* HMAC-SHA256 with a precomputed key (gateway/core/hmac-sha256.h), the
 * hand-written integers of gateway/core/json-text.h, and a minted token
 * byte for byte (issue 21: the token path's allocations were cut, its output
 * must not change). */
#include "gateway/core/hmac-sha256.h"
#include "gateway/core/json-text.h"
#include "gateway/core/jwt.h"

#include <string.h>

static char *
hex (const guint8 *d, gsize n)
{
  GString *s = g_string_new (NULL);
  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%02x", d[i]);
  return g_string_free (s, FALSE);
}

static char *
sign_hex (VgHmacKey *key, const void *data, gsize len)
{
  guint8 digest[32];
  vg_hmac_key_sign (key, data, len, digest);
  return hex (digest, sizeof digest);
}

/* RFC 4231 test cases 1, 2 and 6 (a key longer than a block), each signed
 * twice with the same key (the precomputed state must not be consumed). */
static void
test_rfc4231 (void)
{
  guint8 key1[20], key6[131];
  const char data6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
  struct
  {
    const void *key;
    gsize key_len;
    const char *data;
    const char *mac;
  } cases[] = {
    { key1, sizeof key1, "Hi There",
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
    { "Jefe", 4, "what do ya want for nothing?",
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
    { key6, sizeof key6, data6,
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
  };

  memset (key1, 0x0b, sizeof key1);
  memset (key6, 0xaa, sizeof key6);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (VgHmacKey) key = vg_hmac_key_new (cases[i].key, cases[i].key_len);
      for (guint round = 0; round < 2; round++)
        {
          g_autofree char *got = sign_hex (key, cases[i].data, strlen (cases[i].data));
          g_assert_cmpstr (got, ==, cases[i].mac);
        }
    }
}

/* The per-thread cache gives each secret its own key, also past its size
 * (keys evicted and made again), and the same MAC as GLib's HMAC. */
static void
test_cache (void)
{
  const char *secrets[] = { "one", "two", "three", "four", "five", "six", "one", "six", "two" };
  const char data[] = "header.payload";

  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
    {
      g_autofree char *got = sign_hex (vg_hmac_key_for_secret (secrets[i]), data, strlen (data));
      g_autofree char *want = g_compute_hmac_for_string (
          G_CHECKSUM_SHA256, (const guchar *)secrets[i], strlen (secrets[i]), data, -1);
      g_assert_cmpstr (got, ==, want);
    }
}

static void
test_append_int (void)
{
  struct
  {
    gint64 v;
    const char *text;
  } cases[] = {
    { 0, "0" },
    { 7, "7" },
    { -7, "-7" },
    { 1700007200, "1700007200" },
    { G_MAXINT64, "9223372036854775807" },
    { G_MININT64, "-9223372036854775808" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GString) s = g_string_new ("x");
      vg_json_append_int (s, cases[i].v);
      g_assert_cmpstr (s->str + 1, ==, cases[i].text);
    }
}

/* The expected token was computed outside voxgate (Python's hmac and
 * base64 over the same payload text). */
static void
test_mint_known_answer (void)
{
  g_auto (VgClaims) c = { 0 };
  g_autofree char *token = NULL;

  c.identity = g_strdup ("alice");
  c.name = g_strdup ("Al \"A\"");
  c.not_before = 1700000000;
  c.expires_at = 1700007200;
  c.video.room = g_strdup ("r1");
  c.video.room_join = TRUE;
  c.video.can_publish = c.video.can_publish_data = TRUE;
  token = vg_jwt_mint (&c, "APIkey", "s3cret-s3cret");
  g_assert_cmpstr (
      token, ==,
      "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
      "eyJpc3MiOiJBUElrZXkiLCJzdWIiOiJhbGljZSIsIm5hbWUiOiJBbCBcIkFcIiIsIm5iZiI6MTcwMDAwMDAwMCwiZXhw"
      "IjoxNzAwMDA3MjAwLCJ2aWRlbyI6eyJyb29tIjoicjEiLCJyb29tSm9pbiI6dHJ1ZSwiY2FuUHVibGlzaCI6dHJ1ZSwi"
      "Y2FuU3Vic2NyaWJlIjpmYWxzZSwiY2FuUHVibGlzaERhdGEiOnRydWV9fQ."
      "m8-rT3L5qWg8iH8BtRq5T4zsnO_Ot7rSzvV9nbWEPKg");
}

/* Keys made on other threads are each thread's own and freed at its exit. */
static gpointer
sign_on_thread (gpointer data)
{
  return sign_hex (vg_hmac_key_for_secret ("Jefe"), "what do ya want for nothing?", 28);
}

static void
test_threads (void)
{
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("hmac", sign_on_thread, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      g_autofree char *got = g_thread_join (threads[i]);
      g_assert_cmpstr (got, ==, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hmac/rfc4231", test_rfc4231);
  g_test_add_func ("/hmac/cache", test_cache);
  g_test_add_func ("/hmac/threads", test_threads);
  g_test_add_func ("/json-text/append-int", test_append_int);
  g_test_add_func ("/jwt/mint-known-answer", test_mint_known_answer);
  return g_test_run ();
}
