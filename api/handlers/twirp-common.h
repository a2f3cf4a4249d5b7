/* Twirp's wire conventions shared by the Twirp services (egress-twirp.c):
 * errors {"code","msg"} with Twirp's status map, and the start of every
 * call (route, content type, token before body, strict JSON). */
#pragma once

#include "api/auth.h"
#include "api/http.h"

G_BEGIN_DECLS

/* Twirp's HTTP status for an error code ("not_found" -> 404, unknown -> 500). */
guint vg_twirp_status (const char *code);
void vg_twirp_error (VgRequest *req, const char *code, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

/* Checks the content type, then the token for grants (not room-scoped),
 * then parses the body as a strict JSON object. Returns it (caller unrefs)
 * with *claims filled (caller clears), or NULL after replying. */
JsonNode *vg_twirp_begin (VgRequest *req, VgGrant grants, VgClaims *claims);

G_END_DECLS
