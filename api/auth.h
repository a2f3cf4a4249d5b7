/* Authentication of HTTP requests with LiveKit access tokens. */
#pragma once

#include "api/http.h"
#include "gateway/core/jwt.h"

G_BEGIN_DECLS

typedef enum
{
  VG_GRANT_NONE = 0,
  VG_GRANT_ROOM_JOIN = 1 << 0,
  VG_GRANT_ROOM_CREATE = 1 << 1,
  VG_GRANT_ROOM_LIST = 1 << 2,
  VG_GRANT_ROOM_ADMIN = 1 << 3,
  VG_GRANT_ROOM_RECORD = 1 << 4,
  VG_GRANT_CAN_PUBLISH = 1 << 5,
} VgGrant;

/* Verifies the bearer token of req (Authorization: Bearer, or ?access_token=)
 * and checks that it carries every grant in required. room is non-NULL for
 * room-scoped operations (join, listen, roomAdmin): then the token's room
 * claim must name that room; a token without one is refused. On failure it replies 401
 * (no or bad token, with the reason code) or 403 (missing grant) and returns
 * FALSE. On success fills claims (caller clears). */
gboolean vg_auth_require (VgRequest *req, VgGrant required, const char *room, VgClaims *claims);

/* The same check without replying: returns the HTTP status it would have
 * used (200 on success) with a reason code and message (static strings), for
 * non-REST surfaces (Twirp). */
guint vg_auth_check (VgApp *app, const char *authorization_header, VgGrant required,
                     const char *room, VgClaims *claims, const char **reason_code,
                     const char **reason_message);

/* Mints a participant or admin token from the configured credentials. */
char *vg_auth_mint (VgApp *app, const VgClaims *claims);

G_END_DECLS
