/* Helpers of the data API, and its route table. */
#include "api/handlers/data-common.h"
#include "api/auth.h"
#include "api/handlers/handlers.h"
#include "api/handlers/room-api.h"

#include <string.h>

/* LiveKit scopes roomAdmin to the token's room claim, so a roomAdmin token
 * for one room must not read another room's conversations. Reading across
 * rooms takes what no room-scoped token has: roomAdmin with roomList (the
 * grant LiveKit gives for seeing every room) and no room claim, which is
 * what `voxgate token --admin` mints without --room. */
static gboolean
is_data_admin (const VgClaims *claims)
{
  return claims->video.room_admin && claims->video.room_list && !claims->video.room;
}

static VgStore *
store_or_reply (VgRequest *req)
{
  VgStore *store = vg_request_app (req)->store;

  if (!store)
    vg_reply_error (req, SOUP_STATUS_SERVICE_UNAVAILABLE, "unavailable",
                    "the store is not available on this node");
  return store;
}

VgStore *
vg_data_begin (VgRequest *req)
{
  g_auto (VgClaims) claims = { 0 };

  if (!vg_auth_require (req, VG_GRANT_NONE, NULL, &claims))
    return NULL;
  if (!is_data_admin (&claims))
    {
      vg_reply_error (req, SOUP_STATUS_FORBIDDEN, "permission_denied",
                      "the data API needs an admin token: roomAdmin and roomList, no room");
      return NULL;
    }
  return store_or_reply (req);
}

VgStore *
vg_data_begin_public (VgRequest *req, gboolean *admin)
{
  *admin = vg_request_header (req, "Authorization") != NULL;
  return *admin ? vg_data_begin (req) : store_or_reply (req);
}

VgStore *
vg_data_begin_learner (VgRequest *req, const char *identity, char **learner)
{
  g_auto (VgClaims) claims = { 0 };

  *learner = NULL;
  if (!vg_auth_require (req, VG_GRANT_NONE, NULL, &claims))
    return NULL;
  if (!is_data_admin (&claims))
    {
      /* A participant token (roomJoin) speaks for its subject; identity NULL
       * means the resource's owner is not known yet, and the caller compares
       * it with *learner once it is. */
      if (!claims.video.room_join || !claims.identity
          || (identity && !g_str_equal (identity, claims.identity)))
        {
          vg_reply_error (req, SOUP_STATUS_FORBIDDEN, "permission_denied",
                          "a participant token reads only its own identity's data");
          return NULL;
        }
      *learner = g_strdup (claims.identity);
    }
  return store_or_reply (req);
}

void
vg_data_reply_store_error (VgRequest *req, const GError *error)
{
  if (g_error_matches (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID))
    vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                    "the database refused the value");
  else if (g_error_matches (error, VG_STORE_ERROR, VG_STORE_ERROR_CONFLICT))
    vg_reply_error (req, SOUP_STATUS_CONFLICT, "already_exists",
                    "an item with the same key exists");
  else if (g_error_matches (error, VG_STORE_ERROR, VG_STORE_ERROR_UNAVAILABLE))
    vg_reply_error (req, SOUP_STATUS_SERVICE_UNAVAILABLE, "unavailable",
                    "the database is unreachable");
  else
    {
      /* The detail goes to the log, not to the client. */
      g_warning ("data API %s %s: %s", vg_request_method (req), vg_request_path (req),
                 error->message);
      vg_reply_error (req, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", "database error");
    }
}

typedef struct
{
  VgRequest *req;
  VgDataResultFunc callback;
  gpointer data;
  GDestroyNotify destroy;
} VgDataCall;

static void
on_result (JsonArray *rows, gint64 changes, const GError *error, gpointer user_data)
{
  VgDataCall *call = user_data;

  if (error)
    vg_data_reply_store_error (call->req, error);
  else
    call->callback (call->req, rows, changes, call->data);
  if (call->destroy)
    call->destroy (call->data);
  vg_request_unref (call->req);
  g_free (call);
}

void
vg_data_query_full (VgRequest *req, VgStore *store, VgStoreQuery query, const char *const *params,
                    guint n, VgDataResultFunc callback, gpointer data, GDestroyNotify destroy)
{
  VgDataCall *call = g_new0 (VgDataCall, 1);

  call->req = vg_request_ref (req);
  call->callback = callback;
  call->data = data;
  call->destroy = destroy;
  if (!vg_request_replied (req))
    vg_request_pause (req);
  vg_store_query (store, query, params, n, on_result, call);
}

gboolean
vg_data_query_text (VgRequest *req, const char *name, gsize max_len, char **out)
{
  const char *v = vg_request_query (req, name);

  *out = NULL;
  if (!v)
    return TRUE;
  if (!*v || strlen (v) > max_len || !g_utf8_validate (v, -1, NULL))
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                      "%s must be 1-%" G_GSIZE_FORMAT " bytes of UTF-8", name, max_len);
      return FALSE;
    }
  *out = g_strdup (v);
  return TRUE;
}

/* Filters on rooms and identities follow the rules of the names they filter,
 * with the codes every other endpoint gives. */
gboolean
vg_data_query_room (VgRequest *req, char **out)
{
  const char *v = vg_request_query (req, "room");

  *out = NULL;
  if (v && !vg_room_api_check_name (req, v))
    return FALSE;
  *out = g_strdup (v);
  return TRUE;
}

gboolean
vg_data_query_identity (VgRequest *req, char **out)
{
  const char *v = vg_request_query (req, "identity");

  *out = NULL;
  if (v && !vg_room_api_check_identity (req, v))
    return FALSE;
  *out = g_strdup (v);
  return TRUE;
}

gboolean
vg_data_query_time (VgRequest *req, const char *name, char **out)
{
  const char *v = vg_request_query (req, name);

  *out = NULL;
  if (!v)
    return TRUE;
  if (!(*out = vg_store_time_parse (v)))
    {
      vg_reply_error (
          req, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
          "%s must be an ISO 8601 time with a zone (e.g. 2026-01-31T12:00:00Z) or unix seconds",
          name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_uint (const char *text, guint64 max, guint64 *out)
{
  char *end = NULL;
  guint64 v;

  if (!text || !g_ascii_isdigit (text[0]) || strlen (text) > 20)
    return FALSE;
  v = g_ascii_strtoull (text, &end, 10);
  if (*end || v == 0 || v > max)
    return FALSE;
  *out = v;
  return TRUE;
}

gboolean
vg_data_query_limit (VgRequest *req, guint *limit)
{
  const char *v = vg_request_query (req, "limit");
  guint64 n;

  *limit = VG_DATA_LIMIT_DEFAULT;
  if (!v)
    return TRUE;
  if (!parse_uint (v, VG_DATA_LIMIT_MAX, &n))
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                      "limit must be an integer from 1 to %d", VG_DATA_LIMIT_MAX);
      return FALSE;
    }
  *limit = n;
  return TRUE;
}

gboolean
vg_data_query_id (VgRequest *req, const char *name, char **out)
{
  const char *v = vg_request_query (req, name);
  guint64 n;

  *out = NULL;
  if (!v)
    return TRUE;
  if (!parse_uint (v, G_MAXINT64, &n))
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                      "%s must be a positive integer", name);
      return FALSE;
    }
  *out = g_strdup_printf ("%" G_GUINT64_FORMAT, n);
  return TRUE;
}

gboolean
vg_data_param_id (VgRequest *req, const char *name, char **out)
{
  guint64 n;

  if (!parse_uint (vg_request_param (req, name), G_MAXINT64, &n))
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                      "%s must be a positive integer", name);
      return FALSE;
    }
  *out = g_strdup_printf ("%" G_GUINT64_FORMAT, n);
  return TRUE;
}

gboolean
vg_data_body_string (VgRequest *req, JsonObject *body, const char *member, gsize min_chars,
                     gsize max_chars, const char **out)
{
  JsonNode *n = json_object_get_member (body, member);
  glong chars;

  *out = NULL;
  if (!n)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_argument", "%s must be a string",
                      member);
      return FALSE;
    }
  *out = json_node_get_string (n);
  chars = g_utf8_strlen (*out, -1);
  if ((gsize)chars < min_chars || (gsize)chars > max_chars)
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                      "%s must have %" G_GSIZE_FORMAT "-%" G_GSIZE_FORMAT " characters", member,
                      min_chars, max_chars);
      return FALSE;
    }
  return TRUE;
}

gboolean
vg_data_body_only (VgRequest *req, JsonObject *body, const char *const *allowed)
{
  g_autoptr (GList) members = json_object_get_members (body);

  for (GList *l = members; l; l = l->next)
    if (!g_strv_contains (allowed, l->data))
      {
        g_autofree char *name
            = g_utf8_substring (l->data, 0, MIN (64, g_utf8_strlen (l->data, -1)));
        vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_argument", "unknown field \"%s\"",
                        name);
        return FALSE;
      }
  return TRUE;
}

void
vg_data_reply_rows (VgRequest *req, guint status, const char *member, JsonArray *rows)
{
  g_autoptr (JsonObject) o = json_object_new ();
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);

  json_object_set_array_member (o, member, json_array_ref (rows));
  json_node_set_object (root, o);
  vg_reply_json (req, status, root);
}

/* A cursor is the (started_at, id) of the last row of a page, opaque to clients. */
static char *
cursor_encode (JsonObject *row)
{
  g_autofree char *raw
      = g_strdup_printf ("%s|%s", json_object_get_string_member (row, "started_at"),
                         json_object_get_string_member (row, "id"));
  char *b64 = g_base64_encode ((const guchar *)raw, strlen (raw));

  g_strdelimit (b64, "+", '-');
  g_strdelimit (b64, "/", '_');
  return b64;
}

gboolean
vg_data_cursor_decode (const char *cursor, char **time, char **id)
{
  g_autofree char *b64 = g_strdup (cursor);
  g_autofree guchar *raw = NULL;
  g_autofree char *text = NULL;
  g_autofree char *normal = NULL;
  gsize len = 0;
  char *bar;

  if (strlen (b64) > 128)
    return FALSE;
  g_strdelimit (b64, "-", '+');
  g_strdelimit (b64, "_", '/');
  raw = g_base64_decode (b64, &len);
  text = g_strndup ((const char *)raw, len);
  if (!(bar = strchr (text, '|')))
    return FALSE;
  *bar = '\0';
  normal = vg_store_time_parse (text);
  if (!normal || !g_str_equal (normal, text) || !vg_store_is_uuid (bar + 1))
    return FALSE;
  *time = g_strdup (text);
  *id = g_strdup (bar + 1);
  return TRUE;
}

void
vg_data_reply_page (VgRequest *req, const char *member, JsonArray *rows, guint limit)
{
  g_autoptr (JsonArray) page = json_array_new ();
  g_autoptr (JsonObject) o = json_object_new ();
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);
  guint n = json_array_get_length (rows);

  for (guint i = 0; i < MIN (n, limit); i++)
    json_array_add_element (page, json_node_copy (json_array_get_element (rows, i)));
  json_object_set_array_member (o, member, json_array_ref (page));
  /* One row more than asked for says there is a next page. */
  if (n > limit)
    {
      g_autofree char *next = cursor_encode (json_array_get_object_element (rows, limit - 1));
      json_object_set_string_member (o, "next_cursor", next);
    }
  else
    json_object_set_null_member (o, "next_cursor");
  json_node_set_object (root, o);
  vg_reply_json (req, SOUP_STATUS_OK, root);
}

void
vg_data_api_routes_register (VgRouter *router, VgApp *app)
{
  vg_data_subtopics_register (router);
  vg_data_conversations_register (router);
  vg_data_users_register (router);
  vg_data_analytics_register (router);
  vg_data_recordings_register (router);
}
