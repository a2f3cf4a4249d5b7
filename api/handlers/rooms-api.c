/* The room API in its REST shape:
 *   GET/POST /api/rooms, GET/DELETE /api/rooms/{room},
 *   GET /api/rooms/{room}/participants, DELETE /api/rooms/{room}/participants/{identity}.
 * Names in the path are checked against their rule before the token, as on
 * WHIP/WHEP, so a bad name is 400 invalid_room whatever the token. */
#include "api/handlers/handlers.h"
#include "api/handlers/room-api.h"
#include "api/handlers/room-json.h"
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

static void
handle_list (VgRequest *req, gpointer user_data)
{
  g_auto (VgClaims) claims = { 0 };
  g_autoptr (GPtrArray) list = NULL;
  VgRooms *rooms;

  if (!vg_auth_require (req, VG_GRANT_ROOM_LIST, NULL, &claims) || !(rooms = rooms_of (req)))
    return;
  list = vg_rooms_list (rooms);
  vg_reply_json (req, SOUP_STATUS_OK, vg_rooms_list_json (list, VG_JSON_REST));
}

static void
handle_create (VgRequest *req, gpointer user_data)
{
  g_auto (VgClaims) claims = { 0 };
  g_autoptr (JsonObject) body = NULL;
  g_autoptr (GError) error = NULL;
  VgRoomCreateArgs args = { 0 };
  gboolean existed = FALSE;
  VgRooms *rooms;
  VgRoom *room;

  if (!vg_auth_require (req, VG_GRANT_ROOM_CREATE, NULL, &claims) || !(rooms = rooms_of (req))
      || !(body = vg_request_json_object (req)))
    return;
  if (!vg_room_create_args_parse (body, VG_JSON_REST, &args, &error))
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_argument", "%s", error->message);
      return;
    }
  if (!vg_room_api_check_name (req, args.name))
    {
      vg_room_create_args_clear (&args);
      return;
    }
  room = vg_room_api_create (rooms, &args, &existed, &error);
  vg_room_create_args_clear (&args);
  if (!room)
    {
      vg_room_api_reply_error (req, error);
      return;
    }
  /* As LiveKit does, creating an existing room returns it. */
  reply_room (req, existed ? SOUP_STATUS_OK : SOUP_STATUS_CREATED, room);
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
handle_get (VgRequest *req, gpointer user_data)
{
  g_auto (VgClaims) claims = { 0 };
  VgRooms *rooms;
  VgRoom *room;

  if (!vg_room_api_check_name (req, vg_request_param (req, "room"))
      || !vg_auth_require (req, VG_GRANT_ROOM_LIST, NULL, &claims) || !(rooms = rooms_of (req))
      || !(room = find_room (req, rooms)))
    return;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  vg_room_detail_json (b, room);
  vg_reply_json (req, SOUP_STATUS_OK, json_builder_get_root (b));
}

static void
handle_delete (VgRequest *req, gpointer user_data)
{
  g_auto (VgClaims) claims = { 0 };
  g_autoptr (GError) error = NULL;
  VgRooms *rooms;

  if (!vg_room_api_check_name (req, vg_request_param (req, "room"))
      || !vg_auth_require (req, VG_GRANT_ROOM_CREATE, NULL, &claims) || !(rooms = rooms_of (req)))
    return;
  if (!vg_rooms_delete (rooms, vg_request_param (req, "room"), &error))
    {
      vg_room_api_reply_error (req, error);
      return;
    }
  vg_reply_json_text (req, SOUP_STATUS_OK, "{\"deleted\":true}", -1);
}

static void
handle_participants (VgRequest *req, gpointer user_data)
{
  g_auto (VgClaims) claims = { 0 };
  g_autoptr (GPtrArray) list = NULL;
  VgRooms *rooms;
  VgRoom *room;

  if (!vg_room_api_check_name (req, vg_request_param (req, "room"))
      || !vg_auth_require (req, VG_GRANT_ROOM_ADMIN, vg_request_param (req, "room"), &claims)
      || !(rooms = rooms_of (req)) || !(room = find_room (req, rooms)))
    return;
  list = vg_room_list_participants (room);
  vg_reply_json (req, SOUP_STATUS_OK, vg_participants_list_json (list, VG_JSON_REST));
}

static void
handle_remove_participant (VgRequest *req, gpointer user_data)
{
  g_auto (VgClaims) claims = { 0 };
  g_autoptr (GError) error = NULL;
  VgRooms *rooms;
  VgRoom *room;

  if (!vg_room_api_check_name (req, vg_request_param (req, "room"))
      || !vg_room_api_check_identity (req, vg_request_param (req, "identity"))
      || !vg_auth_require (req, VG_GRANT_ROOM_ADMIN, vg_request_param (req, "room"), &claims)
      || !(rooms = rooms_of (req)) || !(room = find_room (req, rooms)))
    return;
  if (!vg_room_remove_participant (room, vg_request_param (req, "identity"), &error))
    {
      vg_room_api_reply_error (req, error);
      return;
    }
  vg_reply_json_text (req, SOUP_STATUS_OK, "{\"removed\":true}", -1);
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
