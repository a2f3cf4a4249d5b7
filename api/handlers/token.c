/* Token endpoints: GET /api/getToken and LiveKit's token-source POST /api/token. */
#include "api/handlers/handlers.h"
#include "api/auth.h"
#include "gateway/core/json-text.h"
#include "gateway/core/validate.h"

#include <string.h>

/* Configuration is fixed once serving starts: read it once, not per request. */
typedef struct
{
  VgMetric *issued;
  VgMetric *limited;
  guint per_minute;
  gint64 ttl;
} VgTokenRoutes;

typedef void (*VgTokenIssue) (VgRequest *req, VgTokenRoutes *routes);

/* A request waiting for the rate limiter's answer (from Redis, possibly). */
typedef struct
{
  VgRequest *req; /* a reference */
  VgTokenRoutes *routes;
  VgTokenIssue issue;
} VgLimitedRequest;

/* Main context: issues the token, or replies 429. */
static void
rate_limit_answered (gboolean allowed, guint retry_after, gpointer data)
{
  VgLimitedRequest *lr = data;
  char value[16];

  if (allowed)
    lr->issue (lr->req, lr->routes);
  else
    {
      const char *labels[] = { vg_request_route (lr->req), NULL };
      vg_metric_add (lr->routes->limited, labels, 1);
      g_snprintf (value, sizeof value, "%u", retry_after);
      vg_reply_header (lr->req, "Retry-After", value);
      vg_reply_error (lr->req, 429, "rate_limited", "too many token requests; retry in %u s",
                      retry_after);
    }
  vg_request_unref (lr->req);
  g_free (lr);
}

/* Applies the per-address limit, then issues (or replies 429). The limiter
 * may answer at once (in process) or later (Redis): then the request is
 * paused until it does. */
static void
limit_then_issue (VgRequest *req, VgTokenRoutes *routes, VgTokenIssue issue)
{
  VgApp *app = vg_request_app (req);
  g_autofree char *key = NULL;
  VgLimitedRequest *lr;

  if (routes->per_minute == 0 || !app->rate_limiter)
    {
      issue (req, routes);
      return;
    }
  key = g_strconcat ("token:", vg_request_client_addr (req), NULL);
  lr = g_new0 (VgLimitedRequest, 1);
  lr->req = vg_request_ref (req);
  lr->routes = routes;
  lr->issue = issue;
  /* lr is freed by the callback, possibly before hit returns: the request
   * (kept alive by our caller) tells whether it was answered already. */
  vg_rate_limiter_hit (app->rate_limiter, key, routes->per_minute, 60, rate_limit_answered, lr);
  if (!vg_request_replied (req))
    vg_request_pause (req);
}

static void
participant_claims (VgTokenRoutes *routes, VgClaims *c, const char *room, const char *identity, const char *name)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  c->identity = g_strdup (identity);
  c->name = name && *name ? g_strdup (name) : NULL;
  c->not_before = now;
  c->expires_at = now + routes->ttl;
  c->video.room = g_strdup (room);
  c->video.room_join = TRUE;
  c->video.can_publish = c->video.can_subscribe = c->video.can_publish_data = TRUE;
}

/* Validates room, identity and name; fills in generated values. On failure it has replied 400. */
static gboolean
resolve_names (VgRequest *req, const char *room_in, const char *identity_in, const char *name,
               char **room, char **identity)
{
  if (room_in && *room_in && !vg_validate_room_name (room_in))
    {
      vg_reply_error (req, 400, "invalid_room", "%s", VG_ROOM_NAME_RULE);
      return FALSE;
    }
  if (identity_in && *identity_in && !vg_validate_identity (identity_in))
    {
      vg_reply_error (req, 400, "invalid_identity", "%s", VG_IDENTITY_RULE);
      return FALSE;
    }
  if (name && !vg_validate_display_name (name))
    {
      vg_reply_error (req, 400, "invalid_name", "name must be at most 128 printable characters");
      return FALSE;
    }
  *room = room_in && *room_in ? g_strdup (room_in) : vg_random_id ("room");
  *identity = identity_in && *identity_in ? g_strdup (identity_in) : vg_random_id ("user");
  return TRUE;
}

static void
issue_get_token (VgRequest *req, VgTokenRoutes *routes)
{
  VgApp *app = vg_request_app (req);
  g_autofree char *room = NULL, *identity = NULL, *token = NULL;
  const char *name = vg_request_query (req, "name");
  g_auto (VgClaims) claims = { 0 };
  g_autoptr (GString) json = g_string_sized_new (512);
  const char *labels[] = { "getToken", NULL };

  if (!resolve_names (req, vg_request_query (req, "room"), vg_request_query (req, "identity"), name,
                      &room, &identity))
    return;
  participant_claims (routes, &claims, room, identity, name);
  token = vg_auth_mint (app, &claims);

  g_string_append (json, "{\"token\":\"");
  g_string_append (json, token);
  g_string_append (json, "\",\"identity\":");
  vg_json_append_string (json, identity);
  g_string_append (json, ",\"room\":\"");
  g_string_append (json, room); /* validated: no characters to escape */
  g_string_append (json, "\",\"url\":");
  vg_json_append_string (json, app->public_url ? app->public_url : "");
  g_string_append (json, ",\"expires_at\":");
  vg_json_append_int (json, claims.expires_at);
  g_string_append_c (json, '}');
  vg_metric_add (routes->issued, labels, 1);
  vg_reply_json_text (req, SOUP_STATUS_OK, json->str, json->len);
}

/* Reads an optional string member; a member of another type is an error. */
static gboolean
optional_string (JsonObject *body, const char *member, const char **out)
{
  JsonNode *n = json_object_get_member (body, member);

  *out = NULL;
  if (!n || JSON_NODE_HOLDS_NULL (n))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return FALSE;
  *out = json_node_get_string (n);
  return TRUE;
}

static void
issue_post_token (VgRequest *req, VgTokenRoutes *routes)
{
  VgApp *app = vg_request_app (req);
  g_autoptr (JsonObject) body = NULL;
  const char *room_in, *identity_in, *name, *metadata;
  g_autofree char *room = NULL, *identity = NULL, *token = NULL;
  g_auto (VgClaims) claims = { 0 };
  g_autoptr (GString) json = g_string_sized_new (512);
  JsonNode *attrs;
  const char *labels[] = { "token", NULL };

  if (!(body = vg_request_json_object (req)))
    return;
  if (!optional_string (body, "room_name", &room_in) || !optional_string (body, "participant_identity", &identity_in)
      || !optional_string (body, "participant_name", &name)
      || !optional_string (body, "participant_metadata", &metadata))
    {
      vg_reply_error (req, 400, "invalid_argument",
                      "room_name, participant_identity, participant_name and participant_metadata must be strings");
      return;
    }
  if (metadata && strlen (metadata) > VG_METADATA_MAX)
    {
      vg_reply_error (req, 400, "invalid_metadata", "participant_metadata is larger than %d bytes", VG_METADATA_MAX);
      return;
    }
  if (!resolve_names (req, room_in, identity_in, name, &room, &identity))
    return;

  participant_claims (routes, &claims, room, identity, name);
  claims.metadata = g_strdup (metadata);
  attrs = json_object_get_member (body, "participant_attributes");
  if (attrs && !JSON_NODE_HOLDS_NULL (attrs))
    {
      JsonObjectIter it;
      const char *k;
      JsonNode *v;

      if (!JSON_NODE_HOLDS_OBJECT (attrs))
        {
          vg_reply_error (req, 400, "invalid_argument", "participant_attributes must be an object of strings");
          return;
        }
      claims.attributes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      json_object_iter_init (&it, json_node_get_object (attrs));
      while (json_object_iter_next (&it, &k, &v))
        {
          if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) != G_TYPE_STRING
              || g_hash_table_size (claims.attributes) >= 64)
            {
              vg_reply_error (req, 400, "invalid_argument",
                              "participant_attributes must be an object of at most 64 strings");
              return;
            }
          if (!vg_validate_attribute_key (k))
            {
              vg_reply_error (req, 400, "invalid_argument",
                              "participant_attributes keys are 1 to 128 printable characters");
              return;
            }
          g_hash_table_insert (claims.attributes, g_strdup (k), g_strdup (json_node_get_string (v)));
        }
    }
  token = vg_auth_mint (app, &claims);
  if (strlen (token) > VG_JWT_MAX_BYTES)
    {
      vg_reply_error (req, 400, "token_too_large", "the requested claims make a token over 8 KiB");
      return;
    }
  g_string_append (json, "{\"server_url\":");
  vg_json_append_string (json, app->public_url ? app->public_url : "");
  g_string_append (json, ",\"participant_token\":\"");
  g_string_append (json, token);
  g_string_append (json, "\"}");
  vg_metric_add (routes->issued, labels, 1);
  vg_reply_json_text (req, SOUP_STATUS_OK, json->str, json->len);
}

static void
handle_get_token (VgRequest *req, gpointer user_data)
{
  limit_then_issue (req, user_data, issue_get_token);
}

static void
handle_post_token (VgRequest *req, gpointer user_data)
{
  limit_then_issue (req, user_data, issue_post_token);
}

void
vg_token_routes_register (VgRouter *router, VgApp *app)
{
  VgTokenRoutes *routes = g_new0 (VgTokenRoutes, 1);
  static const char *const endpoint[] = { "endpoint", NULL };
  static const char *const route[] = { "route", NULL };

  vg_router_keep (router, routes, g_free);
  routes->per_minute = vg_config_get_int (app->config, "rate_limit", "token_per_minute");
  routes->ttl = vg_config_get_int (app->config, "auth", "token_ttl");
  routes->issued = vg_metrics_register (app->metrics, VG_METRIC_COUNTER, "voxgate_tokens_issued_total",
                                       "Access tokens minted, by endpoint", endpoint, NULL);
  routes->limited = vg_metrics_register (app->metrics, VG_METRIC_COUNTER, "voxgate_rate_limited_total",
                                        "Requests refused by rate limiting, by route", route, NULL);
  vg_router_add (router, "GET", "/api/getToken", handle_get_token, routes);
  vg_router_add (router, "POST", "/api/token", handle_post_token, routes);
}
