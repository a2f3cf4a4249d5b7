/* The HTTP server. See server.h. */
#include "api/server.h"
#include "api/acceptor.h"
#include "api/http-private.h"
#include "api/routes.h"
#include "gateway/core/log.h"
#include "vg-build-config.h"

#include <gio/gio.h>
#include <string.h>

struct _VgServer
{
  VgApp *app;
  SoupServer *soup;
  VgAcceptor *acceptor;
  VgRouter *router;
  gboolean tls;
  guint port;
  char *public_url;
  gsize max_body_bytes;
  char **cors_origins;
  GPtrArray *trusted_proxies; /* GInetAddressMask */
  guint in_flight;
  VgMetric *requests_total;
  VgMetric *request_seconds;
  VgMetric *in_flight_gauge;
};

static const char request_key[] = "vg-request";

VgApp *
vg_server_app (VgServer *server)
{
  return server->app;
}

gboolean
vg_server_is_tls (VgServer *server)
{
  return server->tls;
}



VgRouter *
vg_server_get_router (VgServer *server)
{
  return server->router;
}

guint
vg_server_in_flight (VgServer *server)
{
  /* A request still arriving counts: shutdown lets it finish too. */
  return server->in_flight + vg_acceptor_pending (server->acceptor);
}

guint
vg_server_get_port (VgServer *server)
{
  return server->port;
}

const char *
vg_server_get_public_url (VgServer *server)
{
  return server->public_url;
}

static gboolean
address_is_trusted_proxy (VgServer *server, const char *addr_text)
{
  g_autoptr (GInetAddress) addr = NULL;

  if (server->trusted_proxies->len == 0 || !addr_text)
    return FALSE;
  addr = g_inet_address_new_from_string (addr_text);
  if (!addr)
    return FALSE;
  for (guint i = 0; i < server->trusted_proxies->len; i++)
    if (g_inet_address_mask_matches (g_ptr_array_index (server->trusted_proxies, i), addr))
      return TRUE;
  return FALSE;
}

/* The peer address, or, when the peer is a trusted proxy, the right-most
 * address of X-Forwarded-For that is not itself a trusted proxy: everything
 * to its left was written by the client and can be forged. */
static char *
resolve_client_addr (VgServer *server, SoupServerMessage *msg)
{
  const char *peer = soup_server_message_get_remote_host (msg);
  const char *xff;
  g_auto (GStrv) hops = NULL;

  if (!address_is_trusted_proxy (server, peer))
    return g_strdup (peer ? peer : "unknown");
  xff = soup_message_headers_get_list (soup_server_message_get_request_headers (msg), "X-Forwarded-For");
  if (!xff)
    return g_strdup (peer);
  hops = g_strsplit (xff, ",", -1);
  for (int i = (int) g_strv_length (hops) - 1; i >= 0; i--)
    {
      char *hop = g_strstrip (hops[i]);
      g_autoptr (GInetAddress) a = g_inet_address_new_from_string (hop);
      if (!a)
        break; /* garbage: stop trusting the chain here */
      if (!address_is_trusted_proxy (server, hop))
        return g_strdup (hop);
    }
  return g_strdup (peer);
}

static gboolean
origin_allowed (VgServer *server, const char *origin)
{
  if (!origin)
    return FALSE;
  for (guint i = 0; server->cors_origins[i]; i++)
    if (g_str_equal (server->cors_origins[i], "*") || g_ascii_strcasecmp (server->cors_origins[i], origin) == 0)
      return TRUE;
  return FALSE;
}

/* A caller-supplied id is kept when it is short and plain, so that a request
 * can be followed through a proxy; anything else is replaced. */
static void
assign_request_id (VgRequest *req)
{
  const char *given = vg_request_header (req, "X-Request-Id");
  gboolean usable = given && *given && strlen (given) < sizeof req->request_id;

  for (const char *p = given; usable && *p; p++)
    usable = g_ascii_isalnum (*p) || *p == '-' || *p == '_' || *p == '.';
  if (usable)
    g_strlcpy (req->request_id, given, sizeof req->request_id);
  else
    g_snprintf (req->request_id, sizeof req->request_id, "%08x%08x%08x%08x", g_random_int (),
                g_random_int (), g_random_int (), g_random_int ());
}

static const char *
method_label (const char *method)
{
  static const char *const known[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", NULL };
  for (guint i = 0; known[i]; i++)
    if (g_str_equal (method, known[i]))
      return known[i];
  return "OTHER";
}

static void
on_message_finished (SoupServerMessage *msg, gpointer user_data)
{
  VgServer *server = user_data;
  VgRequest *req = g_object_get_data (G_OBJECT (msg), request_key);
  char code[8];
  double seconds;

  if (!req || req->finished)
    return;
  req->finished = TRUE;
  server->in_flight--;
  vg_metric_set (server->in_flight_gauge, NULL, server->in_flight);
  if (!req->replied)
    {
      /* The request never completed (its body stalled past body_timeout or
       * the client left): libsoup reports a 500 nobody answered. */
      g_debug ("%s %s ended before its request was complete", req->method, req->path);
      g_object_set_data (G_OBJECT (msg), request_key, NULL);
      return;
    }
  seconds = (g_get_monotonic_time () - req->start_us) / 1e6;
  g_snprintf (code, sizeof code, "%u", soup_server_message_get_status (msg));
  {
    const char *method = method_label (req->method ? req->method : soup_server_message_get_method (msg));
    const char *labels[] = { req->route, method, code, NULL };
    const char *hist_labels[] = { req->route, method, NULL };
    vg_metric_add (server->requests_total, labels, 1);
    vg_metric_observe (server->request_seconds, hist_labels, seconds);
  }
  {
    guint status = soup_server_message_get_status (msg);
    /* A 500 is our fault; 503 (not ready), 501 and 502 are answers. */
    GLogLevelFlags level = status == SOUP_STATUS_INTERNAL_SERVER_ERROR ? G_LOG_LEVEL_WARNING : G_LOG_LEVEL_DEBUG;
    /* The path, not the query: a query may carry an access token. */
    if (vg_log_enabled (level))
      g_log_structured (G_LOG_DOMAIN, level, "REQUEST_ID", req->request_id, "MESSAGE", "%s %s -> %s in %.3f ms",
                        req->method, req->path, code, seconds * 1e3);
  }
  g_object_set_data (G_OBJECT (msg), request_key, NULL);
}

static void
on_got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  VgRequest *req = user_data;
  gsize len;
  const guint8 *data = g_bytes_get_data (chunk, &len);

  req->body_received += len;
  if (req->body_too_large || req->body_received > req->server->max_body_bytes)
    {
      /* Keep reading so the connection stays in sync, but keep nothing. */
      req->body_too_large = TRUE;
      g_byte_array_set_size (req->body, 0);
      return;
    }
  g_byte_array_append (req->body, data, len);
}

/* Runs once the headers are in, before the body: the place to refuse a body
 * that is announced too large and to take over its accumulation. */
static void
early_handler (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer user_data)
{
  VgServer *server = user_data;
  VgRequest *req = vg_request_new (server, msg);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  goffset announced = soup_message_headers_get_content_length (headers);

  req->method = g_strdup (soup_server_message_get_method (msg));
  req->path = g_strdup (path);
  assign_request_id (req);
  req->client_addr = resolve_client_addr (server, msg);
  if (origin_allowed (server, vg_request_header (req, "Origin")))
    req->origin = g_strdup (vg_request_header (req, "Origin"));

  g_object_set_data_full (G_OBJECT (msg), request_key, req, (GDestroyNotify) vg_request_unref);
  server->in_flight++;
  vg_metric_set (server->in_flight_gauge, NULL, server->in_flight);
  g_signal_connect (msg, "finished", G_CALLBACK (on_message_finished), server);
  /* A connection that goes away under a paused request (the client gave up
   * on a slow answer, the acceptor's timeouts, shutdown) can leave libsoup
   * without the message's I/O and without a "finished": the request ends
   * here, so a reply that comes later is dropped instead of unpausing a
   * message that has nothing to write to. After "finished" this is a no-op. */
  g_signal_connect (msg, "disconnected", G_CALLBACK (on_message_finished), server);

  /* The body is collected by on_got_chunk, never by libsoup, so that no
   * request can make the server hold more than max_body_bytes. */
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (on_got_chunk), req);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH
      && announced > (goffset) server->max_body_bytes)
    {
      /* With "Expect: 100-continue" the client gets this at once and sends
       * no body; otherwise libsoup reads and discards the body first. */
      req->body_too_large = TRUE;
      vg_reply_error (req, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                      "the request body is larger than %" G_GSIZE_FORMAT " bytes", server->max_body_bytes);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
    }
}

static void
handle_preflight (VgServer *server, VgRequest *req)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (req->msg);

  if (!req->origin)
    {
      vg_reply_error (req, SOUP_STATUS_FORBIDDEN, "cors_origin_denied", "this origin is not allowed");
      return;
    }
  soup_message_headers_replace (h, "Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
  soup_message_headers_replace (h, "Access-Control-Allow-Headers",
                                "Authorization, Content-Type, If-Match, X-Request-Id");
  soup_message_headers_replace (h, "Access-Control-Max-Age", "600");
  vg_reply_empty (req, SOUP_STATUS_NO_CONTENT);
}

static void
dispatch (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer user_data)
{
  VgServer *server = user_data;
  VgRequest *req = g_object_get_data (G_OBJECT (msg), request_key);
  VgRouteMatch match;
  VgRouteResult result;

  if (!req || req->replied)
    return; /* answered in the early handler (413) */
  vg_request_ref (req);

  if (req->body_too_large)
    {
      vg_reply_error (req, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                      "the request body is larger than %" G_GSIZE_FORMAT " bytes", server->max_body_bytes);
      goto out;
    }
  if (g_str_equal (req->method, "OPTIONS") && vg_request_header (req, "Origin")
      && vg_request_header (req, "Access-Control-Request-Method"))
    {
      req->route = "preflight";
      handle_preflight (server, req);
      goto out;
    }

  /* Refused here for every route: a handler that cannot see its
   * parameters would otherwise act as if none were given. */
  if (!vg_request_parse_query (req))
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_query",
                      "the query string has a bad %%-escape, %%00 or bytes that are not UTF-8");
      goto out;
    }
  result = vg_router_match (server->router, req->method, path, &match);
  if (result == VG_ROUTE_NOT_FOUND)
    vg_reply_error (req, SOUP_STATUS_NOT_FOUND, "not_found", "no such resource");
  else if (result == VG_ROUTE_METHOD_NOT_ALLOWED)
    {
      vg_reply_header (req, "Allow", match.allowed_methods);
      vg_reply_error (req, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed",
                      "%s is not allowed here; allowed: %s", req->method, match.allowed_methods);
      g_free (match.allowed_methods);
    }
  else
    {
      req->route = match.route;
      req->params = match.params;
      match.handler (req, match.user_data);
      if (!req->replied && !req->paused)
        {
          g_critical ("handler of %s %s neither replied nor paused", req->method, req->route);
          vg_reply_error (req, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", "internal error");
        }
    }
out:
  vg_request_unref (req);
}

static char *
derive_public_url (VgServer *server)
{
  VgConfig *cfg = server->app->config;
  const char *configured = vg_config_get_string (cfg, "server", "public_url");
  const char *listen = vg_config_get_string (cfg, "server", "listen");
  gboolean v6 = strchr (listen, ':') != NULL;

  if (*configured)
    {
      gsize len = strlen (configured);
      return g_strndup (configured, configured[len - 1] == '/' ? len - 1 : len);
    }
  return g_strdup_printf ("%s://%s%s%s:%u", server->tls ? "https" : "http", v6 ? "[" : "", listen,
                          v6 ? "]" : "", server->port);
}

VgServer *
vg_server_new (VgApp *app, GError **error)
{
  VgServer *server = g_new0 (VgServer, 1);
  VgConfig *cfg = app->config;
  g_auto (GStrv) proxies = vg_config_get_list (cfg, "server", "trusted_proxies");
  const char *cert = vg_config_get_string (cfg, "server", "tls_cert");
  const char *key = vg_config_get_string (cfg, "server", "tls_key");
  g_autoptr (GTlsCertificate) tls_cert = NULL;
  static const char *const req_labels[] = { "route", "method", "code", NULL };
  static const char *const dur_labels[] = { "route", "method", NULL };

  server->app = app;
  server->max_body_bytes = vg_config_get_int (cfg, "server", "max_body_bytes");
  server->cors_origins = vg_config_get_list (cfg, "server", "cors_origins");
  server->trusted_proxies = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; proxies[i]; i++)
    {
      g_autoptr (GError) local = NULL;
      GInetAddressMask *mask = g_inet_address_mask_new_from_string (proxies[i], &local);
      if (!mask)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "[server] trusted_proxies: '%s' is not an address or CIDR range", proxies[i]);
          vg_server_free (server);
          return NULL;
        }
      g_ptr_array_add (server->trusted_proxies, mask);
    }
  if (*cert)
    {
      tls_cert = g_tls_certificate_new_from_files (cert, key, error);
      if (!tls_cert)
        {
          g_prefix_error (error, "[server] tls_cert/tls_key: ");
          vg_server_free (server);
          return NULL;
        }
      server->tls = TRUE;
    }

  server->requests_total = vg_metrics_register (app->metrics, VG_METRIC_COUNTER, "voxgate_http_requests_total",
                                                "HTTP requests by route template, method and status",
                                                req_labels, NULL);
  server->request_seconds = vg_metrics_register (app->metrics, VG_METRIC_HISTOGRAM,
                                                 "voxgate_http_request_duration_seconds",
                                                 "HTTP request latency by route template", dur_labels, NULL);
  server->in_flight_gauge = vg_metrics_register (app->metrics, VG_METRIC_GAUGE, "voxgate_http_requests_in_flight",
                                                 "HTTP requests being served", NULL, NULL);

  server->soup = soup_server_new ("server-header", "voxgate/" VOXGATE_VERSION, NULL);
  {
    VgAcceptorLimits limits = {
      .header_timeout_s = vg_config_get_int (cfg, "server", "header_timeout"),
      .body_timeout_s = vg_config_get_int (cfg, "server", "body_timeout"),
      .keepalive_timeout_s = vg_config_get_int (cfg, "server", "keepalive_timeout"),
      .max_per_address = vg_config_get_int (cfg, "server", "max_connections_per_address"),
      .uncapped = server->trusted_proxies,
    };
    VgAcceptorMetrics metrics = {
      .accepted = vg_metrics_register (app->metrics, VG_METRIC_COUNTER,
                                       "voxgate_http_connections_accepted_total",
                                       "TCP connections accepted", NULL, NULL),
      .reused = vg_metrics_register (app->metrics, VG_METRIC_COUNTER,
                                     "voxgate_http_connection_reuses_total",
                                     "requests served on a kept-alive connection", NULL, NULL),
      .open = vg_metrics_register (app->metrics, VG_METRIC_GAUGE, "voxgate_http_connections_open",
                                   "HTTP connections open (serving or idle)", NULL, NULL),
    };
    server->acceptor = vg_acceptor_new (server->soup, tls_cert, &limits, &metrics);
  }
  server->router = vg_router_new ();
  soup_server_add_early_handler (server->soup, NULL, early_handler, server, NULL);
  soup_server_add_handler (server->soup, NULL, dispatch, server, NULL);
  vg_api_register_routes (server->router, app);
  return server;
}

gboolean
vg_server_listen (VgServer *server, GError **error)
{
  VgConfig *cfg = server->app->config;
  const char *listen = vg_config_get_string (cfg, "server", "listen");
  guint port = vg_config_get_int (cfg, "server", "port");
  g_autoptr (GSocketAddress) addr = NULL;

  if (g_str_equal (listen, "localhost"))
    listen = "127.0.0.1";
  addr = g_inet_socket_address_new_from_string (listen, port);
  if (!addr)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "cannot listen on %s", listen);
      return FALSE;
    }
  server->port = vg_acceptor_listen (server->acceptor, addr, error);
  if (!server->port)
    {
      g_prefix_error (error, "cannot listen on %s:%u: ", listen, port);
      return FALSE;
    }
  g_free (server->public_url);
  server->public_url = derive_public_url (server);
  g_free (server->app->public_url);
  server->app->public_url = g_strdup (server->public_url);
  return TRUE;
}

void
vg_server_stop_accepting (VgServer *server)
{
  vg_acceptor_stop (server->acceptor);
}

void
vg_server_free (VgServer *server)
{
  if (!server)
    return;
  vg_acceptor_free (server->acceptor);
  if (server->soup)
    {
      soup_server_disconnect (server->soup);
      g_object_unref (server->soup);
    }
  vg_router_free (server->router);
  g_strfreev (server->cors_origins);
  g_ptr_array_unref (server->trusted_proxies);
  g_free (server->public_url);
  g_free (server);
}
