/* One HTTP request as handlers see it, and the ways to answer it.
 *
 * The server reads the body itself (bounded by [server] max_body_bytes), picks
 * the route, fills in path parameters and a request id, then calls the handler
 * on the main context. A handler answers with one vg_reply_* call, either at
 * once or later: call vg_request_pause() and keep a reference, then reply from
 * any callback on the main context. Every reply carries the security headers,
 * CORS headers and X-Request-Id. */
#pragma once

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>
#include "gateway/core/app.h"

G_BEGIN_DECLS

typedef struct _VgRequest VgRequest;

VgRequest *vg_request_ref (VgRequest *req);
void vg_request_unref (VgRequest *req);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VgRequest, vg_request_unref)

VgApp *vg_request_app (VgRequest *req);
SoupServerMessage *vg_request_message (VgRequest *req);
const char *vg_request_method (VgRequest *req);
const char *vg_request_path (VgRequest *req);
/* The route template that matched, e.g. "/api/rooms/{room}" (for metrics). */
const char *vg_request_route (VgRequest *req);
const char *vg_request_id (VgRequest *req);
/* The client's address, honouring X-Forwarded-For only from trusted proxies. */
const char *vg_request_client_addr (VgRequest *req);
/* A path parameter by name ({room} -> "room"), already percent-decoded. */
const char *vg_request_param (VgRequest *req, const char *name);
/* A query parameter, or NULL. */
const char *vg_request_query (VgRequest *req, const char *name);
const char *vg_request_header (VgRequest *req, const char *name);
/* The media type of Content-Type without parameters, lower case, or NULL. */
const char *vg_request_content_type (VgRequest *req);
GBytes *vg_request_body (VgRequest *req);
gboolean vg_request_is_tls (VgRequest *req);

/* Parses the body as a JSON object (caller unrefs). On failure it has
 * already replied (415 for another content type, 400 for bad JSON or a
 * non-object) and returns NULL. */
JsonObject *vg_request_json_object (VgRequest *req);

/* Keeps the connection open after the handler returns; reply later. */
void vg_request_pause (VgRequest *req);

void vg_reply_json (VgRequest *req, guint status, JsonNode *node /* transfer full */);
/* A JSON text already serialised (e.g. built with GString). */
void vg_reply_json_text (VgRequest *req, guint status, const char *json, gssize len);
void vg_reply_bytes (VgRequest *req, guint status, const char *content_type, GBytes *body);
void vg_reply_empty (VgRequest *req, guint status);
/* {"error":{"code":code,"message":message}} */
void vg_reply_error (VgRequest *req, guint status, const char *code, const char *format, ...)
  G_GNUC_PRINTF (4, 5);
/* Adds a response header before the reply. */
void vg_reply_header (VgRequest *req, const char *name, const char *value);
/* Adds a further field of that name (Link: one per ICE server). */
void vg_reply_header_append (VgRequest *req, const char *name, const char *value);

gboolean vg_request_replied (VgRequest *req);

G_END_DECLS
