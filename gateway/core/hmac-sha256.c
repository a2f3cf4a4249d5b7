/* HMAC-SHA256 with a precomputed key. See hmac-sha256.h. */
#include "gateway/core/hmac-sha256.h"

#include <openssl/evp.h>
#include <string.h>

#define BLOCK 64
/* Keys kept per thread: a gateway signs with its own secret and verifies
 * with the few its keys file lists. */
#define CACHE_SIZE 4

struct _VgHmacKey
{
  EVP_MD_CTX *inner;   /* SHA-256 after key ^ ipad */
  EVP_MD_CTX *outer;   /* SHA-256 after key ^ opad */
  EVP_MD_CTX *scratch; /* a copy of either, per signature */
  char *secret;        /* the cache's key; NULL outside the cache */
};

static void
absorb_pad (EVP_MD_CTX *ctx, const guint8 *key, gsize key_len, guint8 pad)
{
  guint8 block[BLOCK];

  for (gsize i = 0; i < BLOCK; i++)
    block[i] = (i < key_len ? key[i] : 0) ^ pad;
  EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL);
  EVP_DigestUpdate (ctx, block, BLOCK);
  OPENSSL_cleanse (block, sizeof block);
}

VgHmacKey *
vg_hmac_key_new (const void *key, gsize key_len)
{
  VgHmacKey *self = g_new0 (VgHmacKey, 1);
  guint8 hashed[32];

  /* A key longer than a block is replaced by its digest (RFC 2104). */
  if (key_len > BLOCK)
    {
      unsigned int n = 0;
      EVP_Digest (key, key_len, hashed, &n, EVP_sha256 (), NULL);
      key = hashed;
      key_len = n;
    }
  self->inner = EVP_MD_CTX_new ();
  self->outer = EVP_MD_CTX_new ();
  self->scratch = EVP_MD_CTX_new ();
  if (!self->inner || !self->outer || !self->scratch)
    g_error ("OpenSSL cannot allocate a digest context");
  absorb_pad (self->inner, key, key_len, 0x36);
  absorb_pad (self->outer, key, key_len, 0x5c);
  OPENSSL_cleanse (hashed, sizeof hashed);
  return self;
}

void
vg_hmac_key_free (VgHmacKey *self)
{
  if (!self)
    return;
  EVP_MD_CTX_free (self->inner);
  EVP_MD_CTX_free (self->outer);
  EVP_MD_CTX_free (self->scratch);
  if (self->secret)
    {
      OPENSSL_cleanse (self->secret, strlen (self->secret));
      g_free (self->secret);
    }
  g_free (self);
}

void
vg_hmac_key_sign (VgHmacKey *self, const void *data, gsize len, guint8 digest[32])
{
  guint8 inner[32];
  unsigned int n = 0;

  if (!EVP_MD_CTX_copy_ex (self->scratch, self->inner)
      || !EVP_DigestUpdate (self->scratch, data, len)
      || !EVP_DigestFinal_ex (self->scratch, inner, &n)
      || !EVP_MD_CTX_copy_ex (self->scratch, self->outer)
      || !EVP_DigestUpdate (self->scratch, inner, sizeof inner)
      || !EVP_DigestFinal_ex (self->scratch, digest, &n))
    g_error ("OpenSSL's SHA-256 failed");
}

typedef struct
{
  VgHmacKey *keys[CACHE_SIZE]; /* most recently used first */
} KeyCache;

static void
key_cache_free (gpointer data)
{
  KeyCache *cache = data;

  for (guint i = 0; i < CACHE_SIZE; i++)
    vg_hmac_key_free (cache->keys[i]);
  g_free (cache);
}

static GPrivate key_cache = G_PRIVATE_INIT (key_cache_free);

VgHmacKey *
vg_hmac_key_for_secret (const char *secret)
{
  KeyCache *cache = g_private_get (&key_cache);
  VgHmacKey *key;
  guint i;

  if (!cache)
    {
      cache = g_new0 (KeyCache, 1);
      g_private_set (&key_cache, cache);
    }
  for (i = 0; i < CACHE_SIZE && cache->keys[i]; i++)
    if (strcmp (cache->keys[i]->secret, secret) == 0)
      break;
  if (i < CACHE_SIZE && cache->keys[i])
    key = cache->keys[i];
  else
    {
      i = CACHE_SIZE - 1;
      vg_hmac_key_free (cache->keys[i]);
      key = vg_hmac_key_new (secret, strlen (secret));
      key->secret = g_strdup (secret);
    }
  memmove (&cache->keys[1], &cache->keys[0], i * sizeof cache->keys[0]);
  cache->keys[0] = key;
  return key;
}
