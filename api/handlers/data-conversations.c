/* The data API: conversations and their transcripts.
 *   GET /api/conversations?room=&identity=&from=&to=&limit=&cursor=
 *       {"conversations":[...], "next_cursor": "..." | null}, newest first
 *   GET /api/conversations/{id}   the conversation with "messages" in order; an admin's,
 *                                 or the participant's whose identity it records */
#include "api/handlers/data-common.h"

#include <string.h>

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

static gboolean
cursor_decode (const char *cursor, char **time, char **id)
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

static void
reply_list (VgRequest *req, JsonArray *rows, gint64 changes, gpointer data)
{
  guint limit = GPOINTER_TO_UINT (data);
  g_autoptr (JsonArray) page = json_array_new ();
  g_autoptr (JsonObject) o = json_object_new ();
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);
  guint n = json_array_get_length (rows);

  for (guint i = 0; i < MIN (n, limit); i++)
    json_array_add_element (page, json_node_copy (json_array_get_element (rows, i)));
  json_object_set_array_member (o, "conversations", json_array_ref (page));
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

static void
handle_list (VgRequest *req, gpointer user_data)
{
  g_autofree char *room = NULL, *identity = NULL, *from = NULL, *to = NULL;
  g_autofree char *cursor_time = NULL, *cursor_id = NULL, *fetch = NULL;
  const char *cursor = vg_request_query (req, "cursor");
  guint limit;
  VgStore *store;

  if (!(store = vg_data_begin (req)) || !vg_data_query_room (req, &room)
      || !vg_data_query_identity (req, &identity) || !vg_data_query_time (req, "from", &from)
      || !vg_data_query_time (req, "to", &to) || !vg_data_query_limit (req, &limit))
    return;
  if (cursor && !cursor_decode (cursor, &cursor_time, &cursor_id))
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                      "cursor is not one this API returned");
      return;
    }
  fetch = g_strdup_printf ("%u", limit + 1);
  vg_data_query_full (
      req, store, VG_STORE_Q_CONVERSATIONS_LIST,
      (const char *const[]){ room, identity, from, to, cursor_time, cursor_id, fetch }, 7,
      reply_list, GUINT_TO_POINTER (limit), NULL);
}

static void
reply_messages (VgRequest *req, JsonArray *rows, gint64 changes, gpointer data)
{
  JsonObject *conversation = data;
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);

  json_object_set_array_member (conversation, "messages", json_array_ref (rows));
  json_node_set_object (root, conversation);
  vg_reply_json (req, SOUP_STATUS_OK, root);
}

static void
reply_conversation (VgRequest *req, JsonArray *rows, gint64 changes, gpointer data)
{
  const char *learner = data;
  VgStore *store = vg_request_app (req)->store;
  JsonObject *conversation;
  const char *id;

  if (!store)
    {
      vg_reply_error (req, SOUP_STATUS_SERVICE_UNAVAILABLE, "unavailable", "the store is closing");
      return;
    }
  if (json_array_get_length (rows) == 0)
    {
      vg_reply_error (req, SOUP_STATUS_NOT_FOUND, "not_found", "no such conversation");
      return;
    }
  conversation = json_array_get_object_element (rows, 0);
  if (learner
      && g_strcmp0 (json_object_get_string_member_with_default (conversation, "identity", NULL),
                    learner)
             != 0)
    {
      vg_reply_error (req, SOUP_STATUS_FORBIDDEN, "permission_denied",
                      "a participant token reads only its own conversations");
      return;
    }
  conversation = json_object_ref (conversation);
  id = json_object_get_string_member (conversation, "id");
  vg_data_query_full (req, store, VG_STORE_Q_MESSAGES_LIST, (const char *const[]){ id }, 1,
                      reply_messages, conversation, (GDestroyNotify)json_object_unref);
}

static void
handle_get (VgRequest *req, gpointer user_data)
{
  const char *id = vg_request_param (req, "id");
  g_autofree char *learner = NULL;
  VgStore *store;

  if (!(store = vg_data_begin_learner (req, NULL, &learner)))
    return;
  if (!vg_store_is_uuid (id))
    {
      vg_reply_error (req, SOUP_STATUS_NOT_FOUND, "not_found",
                      "no such conversation (ids are lower-case UUIDs)");
      return;
    }
  vg_data_query_full (req, store, VG_STORE_Q_CONVERSATION_GET, (const char *const[]){ id }, 1,
                      reply_conversation, g_steal_pointer (&learner), g_free);
}

void
vg_data_conversations_register (VgRouter *router)
{
  vg_router_add (router, "GET", "/api/conversations", handle_list, NULL);
  vg_router_add (router, "GET", "/api/conversations/{id}", handle_get, NULL);
}
