/* The data API: conversations and their transcripts.
 *   GET /api/conversations?room=&identity=&from=&to=&limit=&cursor=
 *       {"conversations":[...], "next_cursor": "..." | null}, newest first
 *   GET /api/conversations/{id}   the conversation with "messages" in order; an admin's,
 *                                 or the participant's whose identity it records */
#include "api/handlers/data-common.h"

static void
reply_list (VgRequest *req, JsonArray *rows, gint64 changes, gpointer data)
{
  vg_data_reply_page (req, "conversations", rows, GPOINTER_TO_UINT (data));
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
  if (cursor && !vg_data_cursor_decode (cursor, &cursor_time, &cursor_id))
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
