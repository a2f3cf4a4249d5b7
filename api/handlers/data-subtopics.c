/* The data API: subtopics.
 *   GET /api/subtopics[?topic=]       {"subtopics":[...]}; without a token (the web
 *                                     page's picker) each without its instructions
 *   POST /api/subtopics               {topic, name, description?, instructions?} -> 201
 *   GET/PUT/DELETE /api/subtopics/{id} (PUT: any of the same fields) */
#include "api/handlers/data-common.h"

static const char *const fields[] = { "topic", "name", "description", "instructions", NULL };

static void
reply_list (VgRequest *req, JsonArray *rows, gint64 changes, gpointer data)
{
  vg_data_reply_rows (req, SOUP_STATUS_OK, "subtopics", rows);
}

/* The tutor's instructions are the operator's, not the learner's to read. */
static void
reply_public_list (VgRequest *req, JsonArray *rows, gint64 changes, gpointer data)
{
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);
      if (json_object_has_member (row, "instructions"))
        json_object_remove_member (row, "instructions");
    }
  vg_data_reply_rows (req, SOUP_STATUS_OK, "subtopics", rows);
}

static void
handle_list (VgRequest *req, gpointer user_data)
{
  g_autofree char *topic = NULL;
  gboolean admin = FALSE;
  VgStore *store;

  if (!(store = vg_data_begin_public (req, &admin))
      || !vg_data_query_text (req, "topic", 100, &topic))
    return;
  vg_data_query (req, store, VG_STORE_Q_SUBTOPICS_LIST, (const char *const[]){ topic }, 1,
                 admin ? reply_list : reply_public_list);
}

static void
reply_one (VgRequest *req, JsonArray *rows, guint status)
{
  if (json_array_get_length (rows) == 0)
    {
      vg_reply_error (req, SOUP_STATUS_NOT_FOUND, "not_found", "no such subtopic");
      return;
    }
  vg_reply_json (req, status, json_node_copy (json_array_get_element (rows, 0)));
}

static void
reply_found (VgRequest *req, JsonArray *rows, gint64 changes, gpointer data)
{
  reply_one (req, rows, SOUP_STATUS_OK);
}

static void
reply_created (VgRequest *req, JsonArray *rows, gint64 changes, gpointer data)
{
  reply_one (req, rows, SOUP_STATUS_CREATED);
}

/* Reads and checks the fields; required ones must be present on create. */
static gboolean
parse_fields (VgRequest *req, JsonObject *body, gboolean create, const char *v[4])
{
  if (!vg_data_body_only (req, body, fields)
      || !vg_data_body_string (req, body, "topic", 1, 100, &v[0])
      || !vg_data_body_string (req, body, "name", 1, 200, &v[1])
      || !vg_data_body_string (req, body, "description", 0, 4000, &v[2])
      || !vg_data_body_string (req, body, "instructions", 0, 16000, &v[3]))
    return FALSE;
  if (create && (!v[0] || !v[1]))
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                      "topic and name are required");
      return FALSE;
    }
  if (!create && !v[0] && !v[1] && !v[2] && !v[3])
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_argument", "nothing to change");
      return FALSE;
    }
  return TRUE;
}

static void
handle_create (VgRequest *req, gpointer user_data)
{
  g_autoptr (JsonObject) body = NULL;
  const char *v[4];
  VgStore *store;

  if (!(store = vg_data_begin (req)) || !(body = vg_request_json_object (req))
      || !parse_fields (req, body, TRUE, v))
    return;
  vg_data_query (req, store, VG_STORE_Q_SUBTOPIC_CREATE,
                 (const char *const[]){ v[0], v[1], v[2] ? v[2] : "", v[3] ? v[3] : "" }, 4,
                 reply_created);
}

static void
handle_get (VgRequest *req, gpointer user_data)
{
  g_autofree char *id = NULL;
  VgStore *store;

  if (!(store = vg_data_begin (req)) || !vg_data_param_id (req, "id", &id))
    return;
  vg_data_query (req, store, VG_STORE_Q_SUBTOPIC_GET, (const char *const[]){ id }, 1, reply_found);
}

static void
handle_update (VgRequest *req, gpointer user_data)
{
  g_autoptr (JsonObject) body = NULL;
  g_autofree char *id = NULL;
  g_autofree char *now = vg_store_time_text (g_get_real_time ());
  const char *v[4];
  VgStore *store;

  if (!(store = vg_data_begin (req)) || !vg_data_param_id (req, "id", &id)
      || !(body = vg_request_json_object (req)) || !parse_fields (req, body, FALSE, v))
    return;
  vg_data_query (req, store, VG_STORE_Q_SUBTOPIC_UPDATE,
                 (const char *const[]){ id, v[0], v[1], v[2], v[3], now }, 6, reply_found);
}

static void
reply_deleted (VgRequest *req, JsonArray *rows, gint64 changes, gpointer data)
{
  if (changes == 0)
    vg_reply_error (req, SOUP_STATUS_NOT_FOUND, "not_found", "no such subtopic");
  else
    vg_reply_empty (req, SOUP_STATUS_NO_CONTENT);
}

static void
handle_delete (VgRequest *req, gpointer user_data)
{
  g_autofree char *id = NULL;
  VgStore *store;

  if (!(store = vg_data_begin (req)) || !vg_data_param_id (req, "id", &id))
    return;
  vg_data_query (req, store, VG_STORE_Q_SUBTOPIC_DELETE, (const char *const[]){ id }, 1,
                 reply_deleted);
}

void
vg_data_subtopics_register (VgRouter *router)
{
  vg_router_add (router, "GET", "/api/subtopics", handle_list, NULL);
  vg_router_add (router, "POST", "/api/subtopics", handle_create, NULL);
  vg_router_add (router, "GET", "/api/subtopics/{id}", handle_get, NULL);
  vg_router_add (router, "PUT", "/api/subtopics/{id}", handle_update, NULL);
  vg_router_add (router, "PATCH", "/api/subtopics/{id}", handle_update, NULL);
  vg_router_add (router, "DELETE", "/api/subtopics/{id}", handle_delete, NULL);
}
