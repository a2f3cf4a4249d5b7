/* The data API: user profiles and a learner's progress and sessions.
 *   GET /api/users/{identity}   {identity, display_name, preferences{}, created_at, updated_at,
 *                               last_seen_at}
 *   PUT /api/users/{identity}   {preferences: {...} (at most 16 KiB as JSON), display_name?}
 *   GET /api/users/{identity}/progress?subtopic_id=         {"progress": [per concept]}
 *   GET /api/users/{identity}/sessions?subtopic_id=&limit=  {"sessions": [newest first]}
 * The GETs admit the learner's own participant token as well as an admin's. */
#include "api/handlers/data-common.h"
#include "gateway/core/validate.h"

#include <string.h>

static const char *const fields[] = { "preferences", "display_name", NULL };

/* The store keeps preferences as JSON text; clients get the object. */
static void
reply_profile (VgRequest *req, JsonArray *rows, gint64 changes, gpointer data)
{
  JsonObject *profile;
  const char *prefs;
  g_autoptr (JsonNode) parsed = NULL;

  if (json_array_get_length (rows) == 0)
    {
      vg_reply_error (req, SOUP_STATUS_NOT_FOUND, "not_found", "no such user");
      return;
    }
  profile = json_object_ref (json_array_get_object_element (rows, 0));
  prefs = json_object_get_string_member_with_default (profile, "preferences", "{}");
  parsed = json_from_string (prefs, NULL);
  if (parsed && JSON_NODE_HOLDS_OBJECT (parsed))
    json_object_set_member (profile, "preferences", g_steal_pointer (&parsed));
  else
    json_object_set_object_member (profile, "preferences", json_object_new ());
  {
    JsonNode *root = json_node_new (JSON_NODE_OBJECT);
    json_node_take_object (root, profile);
    vg_reply_json (req, SOUP_STATUS_OK, root);
  }
}

static gboolean
check_identity (VgRequest *req, const char *identity)
{
  if (vg_validate_identity (identity))
    return TRUE;
  vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                  "identity must be 1-%d printable characters", VG_IDENTITY_MAX);
  return FALSE;
}

static void
handle_get (VgRequest *req, gpointer user_data)
{
  const char *identity = vg_request_param (req, "identity");
  g_autofree char *learner = NULL;
  VgStore *store;

  if (!(store = vg_data_begin_learner (req, identity, &learner)) || !check_identity (req, identity))
    return;
  vg_data_query (req, store, VG_STORE_Q_PROFILE_GET, (const char *const[]){ identity }, 1,
                 reply_profile);
}

static void
handle_put (VgRequest *req, gpointer user_data)
{
  const char *identity = vg_request_param (req, "identity");
  g_autoptr (JsonObject) body = NULL;
  g_autofree char *prefs_text = NULL;
  g_autofree char *now = vg_store_time_text (g_get_real_time ());
  const char *display_name = NULL;
  JsonNode *prefs;
  VgStore *store;

  if (!(store = vg_data_begin (req)) || !check_identity (req, identity)
      || !(body = vg_request_json_object (req)) || !vg_data_body_only (req, body, fields)
      || !vg_data_body_string (req, body, "display_name", 0, 128, &display_name))
    return;
  prefs = json_object_get_member (body, "preferences");
  if (!prefs || !JSON_NODE_HOLDS_OBJECT (prefs))
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                      "preferences must be a JSON object");
      return;
    }
  prefs_text = json_to_string (prefs, FALSE);
  if (strlen (prefs_text) > VG_STORE_PREFERENCES_MAX)
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                      "preferences must be at most %d bytes as JSON", VG_STORE_PREFERENCES_MAX);
      return;
    }
  vg_data_query (req, store, VG_STORE_Q_PROFILE_PUT,
                 (const char *const[]){ identity, display_name, prefs_text, now }, 4,
                 reply_profile);
}

static void
reply_progress (VgRequest *req, JsonArray *rows, gint64 changes, gpointer data)
{
  vg_data_reply_rows (req, SOUP_STATUS_OK, "progress", rows);
}

static void
handle_progress (VgRequest *req, gpointer user_data)
{
  const char *identity = vg_request_param (req, "identity");
  g_autofree char *learner = NULL, *subtopic = NULL;
  VgStore *store;

  if (!(store = vg_data_begin_learner (req, identity, &learner)) || !check_identity (req, identity)
      || !vg_data_query_id (req, "subtopic_id", &subtopic))
    return;
  vg_data_query (req, store, VG_STORE_Q_LEARNER_PROGRESS,
                 (const char *const[]){ identity, subtopic }, 2, reply_progress);
}

static void
reply_sessions (VgRequest *req, JsonArray *rows, gint64 changes, gpointer data)
{
  vg_data_reply_rows (req, SOUP_STATUS_OK, "sessions", rows);
}

static void
handle_sessions (VgRequest *req, gpointer user_data)
{
  const char *identity = vg_request_param (req, "identity");
  g_autofree char *learner = NULL, *subtopic = NULL, *limit_text = NULL;
  guint limit;
  VgStore *store;

  if (!(store = vg_data_begin_learner (req, identity, &learner)) || !check_identity (req, identity)
      || !vg_data_query_id (req, "subtopic_id", &subtopic) || !vg_data_query_limit (req, &limit))
    return;
  limit_text = g_strdup_printf ("%u", limit);
  vg_data_query (req, store, VG_STORE_Q_LEARNER_SESSIONS,
                 (const char *const[]){ identity, subtopic, limit_text }, 3, reply_sessions);
}

void
vg_data_users_register (VgRouter *router)
{
  vg_router_add (router, "GET", "/api/users/{identity}", handle_get, NULL);
  vg_router_add (router, "PUT", "/api/users/{identity}", handle_put, NULL);
  vg_router_add (router, "GET", "/api/users/{identity}/progress", handle_progress, NULL);
  vg_router_add (router, "GET", "/api/users/{identity}/sessions", handle_sessions, NULL);
}
