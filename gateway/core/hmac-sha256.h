/* HMAC-SHA256 with the key's work done once.
 *
 * HMAC hashes the key, padded, before and after the message; those two
 * prefixes are the same for every message under one key, so a VgHmacKey
 * keeps the SHA-256 states after them and each signature hashes only the
 * message and the inner digest. SHA-256 is OpenSSL's (SHA-NI or AVX2 where
 * the CPU has them; GLib's portable C SHA-256 was the token endpoint's
 * largest single cost). A key may be used by one thread at a time. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VgHmacKey VgHmacKey;

VgHmacKey *vg_hmac_key_new (const void *key, gsize key_len);
void vg_hmac_key_free (VgHmacKey *key);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VgHmacKey, vg_hmac_key_free)

void vg_hmac_key_sign (VgHmacKey *key, const void *data, gsize len, guint8 digest[32]);

/* The calling thread's key for secret (a NUL-terminated string), kept
 * between calls: a process signs with one secret (or a few), so the key's
 * work is done once per thread rather than once per signature. */
VgHmacKey *vg_hmac_key_for_secret (const char *secret);

G_END_DECLS
