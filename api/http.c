/* The request object and replies. See http.h. */
#include "api/http-private.h"
#include "api/http-query.h"
#include "common/json-strict.h"

#include <string.h>

VgRequest *
vg_request_new (VgServer *server, SoupServerMessage *msg)
{
  VgRequest *req = g_new0 (VgRequest, 1);

  req->ref_count = 1;
  req->server = server;
  req->app = vg_server_app (server);
  req->msg = g_object_ref (msg);
  req->route = "unmatched";
  req->body = g_byte_array_new ();
  req->start_us = g_get_monotonic_time ();
  return req;
}

VgRequest *
vg_request_ref (VgRequest *req)
{
  g_atomic_int_inc (&req->ref_count);
  return req;
}

void
vg_request_unref (VgRequest *req)
{
  if (!req || !g_atomic_int_dec_and_test (&req->ref_count))
    return;
  g_object_unref (req->msg);
  g_free (req->method);
  g_free (req->path);
  g_free (req->client_addr);
  g_free (req->origin);
  g_free (req->content_type);
  g_clear_pointer (&req->params, g_hash_table_unref);
  g_clear_pointer (&req->query, g_hash_table_unref);
  g_byte_array_unref (req->body);
  g_free (req);
}

VgApp *
vg_request_app (VgRequest *req)
{
  return req->app;
}

SoupServerMessage *
vg_request_message (VgRequest *req)
{
  return req->msg;
}

const char *
vg_request_method (VgRequest *req)
{
  return req->method;
}

const char *
vg_request_path (VgRequest *req)
{
  return req->path;
}

const char *
vg_request_route (VgRequest *req)
{
  return req->route;
}

const char *
vg_request_id (VgRequest *req)
{
  return req->request_id;
}

const char *
vg_request_client_addr (VgRequest *req)
{
  return req->client_addr;
}

const char *
vg_request_param (VgRequest *req, const char *name)
{
  return req->params ? g_hash_table_lookup (req->params, name) : NULL;
}

gboolean
vg_request_parse_query (VgRequest *req)
{
  if (req->query)
    return TRUE;
  req->query = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return vg_http_query_parse (g_uri_get_query (soup_server_message_get_uri (req->msg)), req->query);
}

const char *
vg_request_query (VgRequest *req, const char *name)
{
  vg_request_parse_query (req);
  return g_hash_table_lookup (req->query, name);
}

const char *
vg_request_header (VgRequest *req, const char *name)
{
  return soup_message_headers_get_one (soup_server_message_get_request_headers (req->msg), name);
}

/* Media types are case-insensitive (RFC 9110 8.3.1): handlers compare the
 * lower-case form, so "Application/SDP; charset=utf-8" is application/sdp. */
const char *
vg_request_content_type (VgRequest *req)
{
  if (!req->content_type)
    {
      const char *ct = soup_message_headers_get_content_type (
          soup_server_message_get_request_headers (req->msg), NULL);
      if (!ct)
        return NULL;
      req->content_type = g_ascii_strdown (ct, -1);
    }
  return req->content_type;
}

GBytes *
vg_request_body (VgRequest *req)
{
  return g_bytes_new (req->body->data, req->body->len);
}

gboolean
vg_request_is_tls (VgRequest *req)
{
  return vg_server_is_tls (req->server);
}

gboolean
vg_request_replied (VgRequest *req)
{
  return req->replied;
}

JsonObject *
vg_request_json_object (VgRequest *req)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;

  if (g_strcmp0 (vg_request_content_type (req), "application/json") != 0)
    {
      vg_reply_error (req, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                      "the body must be application/json");
      return NULL;
    }
  if (req->body->len == 0)
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_json", "the body is empty");
      return NULL;
    }
  root = vg_json_strict_parse ((const char *)req->body->data, req->body->len, &error);
  if (!root)
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_json", "the body is not valid JSON: %s",
                      error->message);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_json", "the body must be a JSON object");
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

void
vg_request_pause (VgRequest *req)
{
  if (req->replied || req->paused || req->finished)
    return;
  req->paused = TRUE;
  soup_server_message_pause (req->msg);
}

void
vg_reply_header (VgRequest *req, const char *name, const char *value)
{
  if (req->finished)
    return;
  soup_message_headers_replace (soup_server_message_get_response_headers (req->msg), name, value);
}

void
vg_reply_header_append (VgRequest *req, const char *name, const char *value)
{
  if (req->finished)
    return;
  soup_message_headers_append (soup_server_message_get_response_headers (req->msg), name, value);
}

static void
add_common_headers (VgRequest *req, const char *content_type)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (req->msg);

  soup_message_headers_replace (h, "X-Request-Id", req->request_id);
  soup_message_headers_replace (h, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (h, "X-Frame-Options", "SAMEORIGIN");
  soup_message_headers_replace (h, "Referrer-Policy", "strict-origin-when-cross-origin");
  if (content_type && g_str_has_prefix (content_type, "text/html"))
    soup_message_headers_replace (h, "Content-Security-Policy",
                                  "default-src 'self'; script-src 'self'; style-src 'self'; "
                                  "img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; "
                                  "frame-ancestors 'self'; base-uri 'none'; form-action 'self'");
  if (vg_server_is_tls (req->server))
    soup_message_headers_replace (h, "Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  if (req->origin)
    {
      soup_message_headers_replace (h, "Access-Control-Allow-Origin", req->origin);
      soup_message_headers_replace (h, "Access-Control-Expose-Headers",
                                    "Location, ETag, Link, Retry-After, X-Request-Id");
      soup_message_headers_append (h, "Vary", "Origin");
    }
  if (!soup_message_headers_get_one (h, "Cache-Control"))
    soup_message_headers_replace (h, "Cache-Control", "no-store");
}

static gboolean
begin_reply (VgRequest *req)
{
  if (req->finished || req->replied)
    {
      if (req->replied && !req->finished)
        g_warning ("request %s answered twice; the second reply is ignored", req->request_id);
      return FALSE;
    }
  req->replied = TRUE;
  return TRUE;
}

static void
end_reply (VgRequest *req)
{
  if (req->paused)
    {
      req->paused = FALSE;
      soup_server_message_unpause (req->msg);
    }
}

void
vg_reply_bytes (VgRequest *req, guint status, const char *content_type, GBytes *body)
{
  gsize len = body ? g_bytes_get_size (body) : 0;

  if (!begin_reply (req))
    return;
  add_common_headers (req, content_type);
  soup_server_message_set_status (req->msg, status, NULL);
  if (content_type)
    {
      /* body is appended, not copied: a mapped file is sent from the page cache. */
      soup_message_headers_replace (soup_server_message_get_response_headers (req->msg),
                                    "Content-Type", content_type);
      if (body && len > 0)
        soup_message_body_append_bytes (soup_server_message_get_response_body (req->msg), body);
    }
  end_reply (req);
}

void
vg_reply_json_text (VgRequest *req, guint status, const char *json, gssize len)
{
  if (!begin_reply (req))
    return;
  add_common_headers (req, "application/json");
  soup_server_message_set_status (req->msg, status, NULL);
  soup_server_message_set_response (req->msg, "application/json", SOUP_MEMORY_COPY, json,
                                    len < 0 ? strlen (json) : (gsize) len);
  end_reply (req);
}

void
vg_reply_json (VgRequest *req, guint status, JsonNode *node)
{
  gsize len;
  g_autofree char *text = json_to_string (node, FALSE);

  len = strlen (text);
  json_node_unref (node);
  vg_reply_json_text (req, status, text, len);
}

void
vg_reply_empty (VgRequest *req, guint status)
{
  if (!begin_reply (req))
    return;
  add_common_headers (req, NULL);
  soup_server_message_set_status (req->msg, status, NULL);
  end_reply (req);
}

void
vg_reply_error (VgRequest *req, guint status, const char *code, const char *format, ...)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  json_builder_end_object (b);
  vg_reply_json (req, status, json_builder_get_root (b));
}
