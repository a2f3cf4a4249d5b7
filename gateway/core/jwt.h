/* LiveKit-compatible access tokens: JWT, HS256 only.
 *
 * One verification routine serves every authenticated endpoint. It pins
 * HS256, compares signatures in constant time, requires exp, honours nbf,
 * allows VG_JWT_CLOCK_SKEW_S of skew, requires iss to be a known API key and
 * refuses tokens over VG_JWT_MAX_BYTES. Names in the claims (sub, name,
 * video.room, attribute keys) must follow the rules of gateway/validate.h,
 * so every endpoint sees only names it could have minted. Each refusal has a
 * reason code. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define VG_JWT_MAX_BYTES 8192
#define VG_JWT_CLOCK_SKEW_S 10
/* exp and nbf lie in [0, 9999-12-31T23:59:59Z]: far below 2^53 and 2^63, so
 * no conversion or addition of the skew can overflow. */
#define VG_JWT_MAX_TIME G_GINT64_CONSTANT (253402300799)

typedef enum
{
  VG_JWT_OK = 0,
  VG_JWT_MALFORMED, /* not three base64url parts, or bad JSON */
  VG_JWT_TOO_LARGE,
  VG_JWT_BAD_ALGORITHM, /* alg is not HS256 (none, RS256, ...) */
  VG_JWT_UNKNOWN_ISSUER,
  VG_JWT_BAD_SIGNATURE,
  VG_JWT_MISSING_EXPIRY,
  VG_JWT_EXPIRED,
  VG_JWT_NOT_YET_VALID,
  VG_JWT_BAD_CLAIMS, /* a time out of range, or a name that breaks its rule */
} VgJwtStatus;

/* The reason code used in 401 bodies, e.g. "token_expired". */
const char *vg_jwt_status_code (VgJwtStatus status);
const char *vg_jwt_status_message (VgJwtStatus status);

/* The video grant of a LiveKit token. */
typedef struct
{
  char *room;
  gboolean room_join, room_create, room_list, room_admin, room_record;
  gboolean can_publish, can_subscribe, can_publish_data;
  gboolean can_publish_set, can_subscribe_set, can_publish_data_set; /* absent = LiveKit default */
  gboolean hidden, recorder;
} VgVideoGrant;

typedef struct
{
  char *issuer;   /* API key */
  char *identity; /* sub */
  char *name;
  char *metadata;
  GHashTable *attributes; /* string -> string, may be NULL */
  char *sha256;           /* webhook body digest (base64), minted when set */
  gint64 not_before;      /* 0 when absent */
  gint64 expires_at;
  VgVideoGrant video;
} VgClaims;

void vg_claims_clear (VgClaims *claims);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VgClaims, vg_claims_clear)

/* Looks up the secret for an API key; NULL when the key is unknown. */
typedef const char *(*VgJwtSecretLookup) (const char *api_key, gpointer user_data);

VgJwtStatus vg_jwt_verify (const char *token, gsize len, VgJwtSecretLookup lookup,
                           gpointer user_data, gint64 now_s, VgClaims *claims_out);

/* Mints a token. claims->expires_at must be set; not_before 0 = omit. */
char *vg_jwt_mint (const VgClaims *claims, const char *api_key, const char *api_secret);

/* Signs a request body the way LiveKit signs webhooks: sha256 = the body's
 * SHA-256 (standard base64), valid from now for ttl_s. The other claims
 * (identity, room) are the caller's; returns the token, or NULL on failure. */
char *vg_jwt_mint_body_token (VgClaims *claims, const char *body, gint64 ttl_s, const char *api_key,
                              const char *api_secret);

/* base64url without padding, as JWT uses it. */
char *vg_base64url_encode (const guint8 *data, gsize len);
guint8 *vg_base64url_decode (const char *text, gsize text_len, gsize *out_len);

G_END_DECLS
