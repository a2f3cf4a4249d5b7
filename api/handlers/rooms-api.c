/* The room API in its REST shape:
 *   GET/POST /api/rooms, GET/DELETE /api/rooms/{room},
 *   GET /api/rooms/{room}/participants, DELETE /api/rooms/{room}/participants/{identity}.
 * Names in the path are checked against their rule before the token, as on
 * WHIP/WHEP, so a bad name is 400 invalid_room whatever the token.
 * In a cluster (cluster-route.h) any node answers: reads of a room open
 * elsewhere come from its owner's view in Redis, changes are forwarded to
 * the owner, and a new room is placed before it is created. */
#include "api/handlers/handlers.h"
#include "api/handlers/room-api.h"
#include "api/handlers/room-json.h"
#include "api/handlers/cluster-route.h"
#include "api/auth.h"

static VgRooms *
rooms_of (VgRequest *req)
{
  VgRooms *rooms = vg_request_app (req)->rooms;
  if (!rooms)
    vg_reply_error (req, SOUP_STATUS_SERVICE_UNAVAILABLE, "unavailable", "rooms are not available on this node");
  return rooms;
}

static void
reply_room (VgRequest *req, guint status, VgRoom *room)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  vg_room_json (b, room, VG_JSON_REST);
  vg_reply_json (req, status, json_builder_get_root (b));
}

/* This node's rooms, then those open on other nodes (their stored views). */
static void
reply_list (VgRequest *req, JsonArray *remote, gpointer data)
{
  g_autoptr (GPtrArray) list = vg_rooms_list (vg_request_app (req)->rooms);
  JsonNode *root = vg_rooms_list_json (list, VG_JSON_REST);
  JsonArray *rooms = json_object_get_array_member (json_node_get_object (root), "rooms");
  for (guint i = 0; remote && i < json_array_get_length (remote); i++)
    json_array_add_element (rooms, json_array_dup_element (remote, i));
  vg_reply_json (req, SOUP_STATUS_OK, root);
}

static void
handle_list (VgRequest *req, gpointer user_data)
{
  g_auto (VgClaims) claims = { 0 };
  VgRooms *rooms;

  if (!vg_auth_require (req, VG_GRANT_ROOM_LIST, NULL, &claims) || !(rooms = rooms_of (req)))
    return;
  if (vg_cluster_gate_list (req, VG_CLUSTER_VIEW_ROOM_REST, reply_list, NULL, NULL))
    return;
  reply_list (req, NULL, NULL);
}

/* The room is to be served here: the request's parsed arguments (owned by
 * the caller, or by the gate when placement answered later). */
static void
create_here (VgRequest *req, gpointer data)
{
  const VgRoomCreateArgs *args = data;
  g_autoptr (GError) error = NULL;
  gboolean existed = FALSE;
  VgRoom *room = vg_room_api_create (vg_request_app (req)->rooms, args, &existed, &error);

  if (!room)
    {
      vg_room_api_reply_error (req, error);
      return;
    }
  /* As LiveKit does, creating an existing room returns it. */
  reply_room (req, existed ? SOUP_STATUS_OK : SOUP_STATUS_CREATED, room);
}

static void
create_args_free (gpointer data)
{
  vg_room_create_args_clear (data);
  g_free (data);
}

static void
handle_create (VgRequest *req, gpointer user_data)
{
  g_auto (VgClaims) claims = { 0 };
  g_autoptr (JsonObject) body = NULL;
  g_autoptr (GError) error = NULL;
  VgRoomCreateArgs *args;

  if (!vg_auth_require (req, VG_GRANT_ROOM_CREATE, NULL, &claims) || !rooms_of (req)
      || !(body = vg_request_json_object (req)))
    return;
  args = g_new0 (VgRoomCreateArgs, 1);
  if (!vg_room_create_args_parse (body, VG_JSON_REST, args, &error))
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_argument", "%s", error->message);
      create_args_free (args);
      return;
    }
  if (!vg_room_api_check_name (req, args->name))
    {
      create_args_free (args);
      return;
    }
  VgGate gate
      = { .mode = VG_GATE_PLACE, .local = create_here, .data = args, .free = create_args_free };
  if (!vg_cluster_gate (req, args->name, &gate))
    {
      create_here (req, args);
      create_args_free (args);
    }
}

static VgRoom *
find_room (VgRequest *req, VgRooms *rooms)
{
  VgRoom *room = vg_rooms_lookup (rooms, vg_request_param (req, "room"));
  if (!room)
    vg_reply_error (req, SOUP_STATUS_NOT_FOUND, "not_found", "no room named '%s'", vg_request_param (req, "room"));
  return room;
}

static void
get_here (VgRequest *req, gpointer data)
{
  VgRoom *room = find_room (req, vg_request_app (req)->rooms);
  if (!room)
    return;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  vg_room_detail_json (b, room);
  vg_reply_json (req, SOUP_STATUS_OK, json_builder_get_root (b));
}

static void
handle_get (VgRequest *req, gpointer user_data)
{
  g_auto (VgClaims) claims = { 0 };
  VgGate gate = { .mode = VG_GATE_VIEW, .view = VG_CLUSTER_VIEW_ROOM_REST, .local = get_here };

  if (!vg_room_api_check_name (req, vg_request_param (req, "room"))
      || !vg_auth_require (req, VG_GRANT_ROOM_LIST, NULL, &claims) || !rooms_of (req))
    return;
  if (!vg_cluster_gate (req, vg_request_param (req, "room"), &gate))
    get_here (req, NULL);
}

static void
delete_here (VgRequest *req, gpointer data)
{
  g_autoptr (GError) error = NULL;
  if (!vg_rooms_delete (vg_request_app (req)->rooms, vg_request_param (req, "room"), &error))
    {
      vg_room_api_reply_error (req, error);
      return;
    }
  vg_reply_json_text (req, SOUP_STATUS_OK, "{\"deleted\":true}", -1);
}

static void
handle_delete (VgRequest *req, gpointer user_data)
{
  g_auto (VgClaims) claims = { 0 };
  VgGate gate = { .mode = VG_GATE_FORWARD, .local = delete_here };

  if (!vg_room_api_check_name (req, vg_request_param (req, "room"))
      || !vg_auth_require (req, VG_GRANT_ROOM_CREATE, NULL, &claims) || !rooms_of (req))
    return;
  if (!vg_cluster_gate (req, vg_request_param (req, "room"), &gate))
    delete_here (req, NULL);
}

static void
participants_here (VgRequest *req, gpointer data)
{
  VgRoom *room = find_room (req, vg_request_app (req)->rooms);
  if (!room)
    return;
  g_autoptr (GPtrArray) list = vg_room_list_participants (room);
  vg_reply_json (req, SOUP_STATUS_OK, vg_participants_list_json (list, VG_JSON_REST));
}

static void
handle_participants (VgRequest *req, gpointer user_data)
{
  g_auto (VgClaims) claims = { 0 };
  VgGate gate = { .mode = VG_GATE_VIEW,
                  .view = VG_CLUSTER_VIEW_PARTICIPANTS_REST,
                  .local = participants_here };

  if (!vg_room_api_check_name (req, vg_request_param (req, "room"))
      || !vg_auth_require (req, VG_GRANT_ROOM_ADMIN, vg_request_param (req, "room"), &claims)
      || !rooms_of (req))
    return;
  if (!vg_cluster_gate (req, vg_request_param (req, "room"), &gate))
    participants_here (req, NULL);
}

static void
remove_participant_here (VgRequest *req, gpointer data)
{
  g_autoptr (GError) error = NULL;
  VgRoom *room = find_room (req, vg_request_app (req)->rooms);
  if (!room)
    return;
  if (!vg_room_remove_participant (room, vg_request_param (req, "identity"), &error))
    {
      vg_room_api_reply_error (req, error);
      return;
    }
  vg_reply_json_text (req, SOUP_STATUS_OK, "{\"removed\":true}", -1);
}

static void
handle_remove_participant (VgRequest *req, gpointer user_data)
{
  g_auto (VgClaims) claims = { 0 };
  VgGate gate = { .mode = VG_GATE_FORWARD, .local = remove_participant_here };

  if (!vg_room_api_check_name (req, vg_request_param (req, "room"))
      || !vg_room_api_check_identity (req, vg_request_param (req, "identity"))
      || !vg_auth_require (req, VG_GRANT_ROOM_ADMIN, vg_request_param (req, "room"), &claims)
      || !rooms_of (req))
    return;
  if (!vg_cluster_gate (req, vg_request_param (req, "room"), &gate))
    remove_participant_here (req, NULL);
}

void
vg_room_api_routes_register (VgRouter *router, VgApp *app)
{
  vg_router_add (router, "GET", "/api/rooms", handle_list, NULL);
  vg_router_add (router, "POST", "/api/rooms", handle_create, NULL);
  vg_router_add (router, "GET", "/api/rooms/{room}", handle_get, NULL);
  vg_router_add (router, "DELETE", "/api/rooms/{room}", handle_delete, NULL);
  vg_router_add (router, "GET", "/api/rooms/{room}/participants", handle_participants, NULL);
  vg_router_add (router, "DELETE", "/api/rooms/{room}/participants/{identity}", handle_remove_participant, NULL);
}
