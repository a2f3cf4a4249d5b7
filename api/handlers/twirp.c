/* LiveKit's RoomService over Twirp: POST /twirp/livekit.RoomService/{method},
 * proto3 JSON in and out, the grants LiveKit checks per method, and Twirp
 * errors {"code","msg"} with Twirp's status map. In a cluster any node
 * answers (cluster-route.h): ListRooms merges every node's rooms, reads of
 * a room open elsewhere come from its owner's view in Redis, and the other
 * methods are forwarded to the room's owner. */
#include "api/handlers/handlers.h"
#include "api/handlers/room-api.h"
#include "api/handlers/cluster-route.h"
#include "api/handlers/twirp-common.h"
#include "api/auth.h"
#include "common/json-strict.h"
#include "gateway/core/validate.h"

#include <string.h>

typedef struct
{
  VgRequest *req;
  VgApp *app;
  VgRooms *rooms;
  JsonObject *body;
  VgClaims claims;
  JsonArray *remote_rooms; /* ListRooms in a cluster: other nodes' rooms */
} VgTwirpCall;

static void
twirp_gerror (VgRequest *req, const GError *error)
{
  vg_twirp_error (req, vg_room_api_twirp_code (error), "%s", error->message);
}

/* A required string field, in camelCase or snake_case. */
static const char *
required_string (VgTwirpCall *call, const char *name, const char *alt)
{
  const char *value = NULL;
  if (!vg_json_member_string (call->body, name, alt, &value) || !value || !*value)
    {
      vg_twirp_error (call->req, "invalid_argument", "%s is required and must be a string", name);
      return NULL;
    }
  return value;
}

static VgRoom *
required_room (VgTwirpCall *call)
{
  const char *name = required_string (call, "room", NULL);
  VgRoom *room;

  if (!name)
    return NULL;
  if (!vg_validate_room_name (name))
    {
      vg_twirp_error (call->req, "invalid_argument", "%s", VG_ROOM_NAME_RULE);
      return NULL;
    }
  room = vg_rooms_lookup (call->rooms, name);
  if (!room)
    vg_twirp_error (call->req, "not_found", "room %s does not exist", name);
  return room;
}

static VgParticipant *
required_participant (VgTwirpCall *call, VgRoom *room)
{
  const char *identity = required_string (call, "identity", NULL);
  VgParticipant *p;

  if (!identity)
    return NULL;
  if (!vg_validate_identity (identity))
    {
      vg_twirp_error (call->req, "invalid_argument", "%s", VG_IDENTITY_RULE);
      return NULL;
    }
  p = vg_room_lookup_participant (room, identity);
  if (!p)
    vg_twirp_error (call->req, "not_found", "participant %s is not in room %s", identity,
                    vg_room_get_name (room));
  return p;
}

static void
reply_builder (VgTwirpCall *call, JsonBuilder *b)
{
  vg_reply_json (call->req, SOUP_STATUS_OK, json_builder_get_root (b));
}

static void
create_room (VgTwirpCall *call)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  VgRoomCreateArgs args;
  gboolean existed;
  VgRoom *room;

  if (!vg_room_create_args_parse (call->body, VG_JSON_PROTO, &args, &error))
    return vg_twirp_error (call->req, "invalid_argument", "%s", error->message);
  if (!vg_validate_room_name (args.name))
    {
      vg_room_create_args_clear (&args);
      return vg_twirp_error (call->req, "invalid_argument", "%s", VG_ROOM_NAME_RULE);
    }
  room = vg_room_api_create (call->rooms, &args, &existed, &error);
  vg_room_create_args_clear (&args);
  if (!room)
    return twirp_gerror (call->req, error);
  vg_room_json (b, room, VG_JSON_PROTO);
  reply_builder (call, b);
}

/* Is the room named in the request's "names" (all when it names none)? */
static gboolean
name_wanted (JsonArray *names, const char *name)
{
  gboolean wanted = !names || json_array_get_length (names) == 0;
  for (guint j = 0; names && !wanted && j < json_array_get_length (names); j++)
    {
      JsonNode *n = json_array_get_element (names, j);
      wanted = JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
               && g_strcmp0 (json_node_get_string (n), name) == 0;
    }
  return wanted;
}

static void
list_rooms (VgTwirpCall *call)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GPtrArray) list = vg_rooms_list (call->rooms);
  JsonArray *names = NULL;
  JsonNode *names_node = json_object_get_member (call->body, "names");

  if (names_node && !JSON_NODE_HOLDS_NULL (names_node))
    {
      if (!JSON_NODE_HOLDS_ARRAY (names_node))
        return vg_twirp_error (call->req, "invalid_argument", "names must be an array of strings");
      names = json_node_get_array (names_node);
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "rooms");
  json_builder_begin_array (b);
  for (guint i = 0; i < list->len; i++)
    {
      VgRoom *room = g_ptr_array_index (list, i);
      if (name_wanted (names, vg_room_get_name (room)))
        vg_room_json (b, room, VG_JSON_PROTO);
    }
  for (guint i = 0; call->remote_rooms && i < json_array_get_length (call->remote_rooms); i++)
    {
      JsonObject *r = json_array_get_object_element (call->remote_rooms, i);
      if (name_wanted (names, json_object_get_string_member_with_default (r, "name", NULL)))
        json_builder_add_value (b, json_array_dup_element (call->remote_rooms, i));
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  reply_builder (call, b);
}

static void
delete_room (VgTwirpCall *call)
{
  g_autoptr (GError) error = NULL;
  const char *name = required_string (call, "room", NULL);

  if (!name)
    return;
  if (!vg_validate_room_name (name))
    return vg_twirp_error (call->req, "invalid_argument", "%s", VG_ROOM_NAME_RULE);
  if (!vg_rooms_delete (call->rooms, name, &error))
    return twirp_gerror (call->req, error);
  vg_reply_json_text (call->req, SOUP_STATUS_OK, "{}", -1);
}

static void
list_participants (VgTwirpCall *call)
{
  g_autoptr (GPtrArray) list = NULL;
  VgRoom *room = required_room (call);

  if (!room)
    return;
  list = vg_room_list_participants (room);
  vg_reply_json (call->req, SOUP_STATUS_OK, vg_participants_list_json (list, VG_JSON_PROTO));
}

static void
get_participant (VgTwirpCall *call)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  VgRoom *room = required_room (call);
  VgParticipant *p = room ? required_participant (call, room) : NULL;

  if (!p)
    return;
  vg_participant_json (b, p, VG_JSON_PROTO);
  reply_builder (call, b);
}

static void
remove_participant (VgTwirpCall *call)
{
  g_autoptr (GError) error = NULL;
  VgRoom *room = required_room (call);
  VgParticipant *p = room ? required_participant (call, room) : NULL;

  if (!p)
    return;
  /* Not p's own identity string: removing p may free it. */
  g_autofree char *identity = g_strdup (vg_participant_get_identity (p));
  if (!vg_room_remove_participant (room, identity, &error))
    return twirp_gerror (call->req, error);
  vg_reply_json_text (call->req, SOUP_STATUS_OK, "{}", -1);
}

static void
mute_published_track (VgTwirpCall *call)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  VgRoom *room = required_room (call);
  VgParticipant *p = room ? required_participant (call, room) : NULL;
  g_autofree char *track_sid = NULL;
  const char *wanted_sid;
  JsonNode *muted = json_object_get_member (call->body, "muted");

  if (!p || !(wanted_sid = required_string (call, "trackSid", "track_sid")))
    return;
  track_sid = vg_participant_dup_track_sid (p);
  if (vg_participant_get_kind (p) != VG_PARTICIPANT_PUBLISHER || !g_str_equal (track_sid, wanted_sid))
    return vg_twirp_error (call->req, "not_found", "participant has no track %s", wanted_sid);
  if (muted && (!JSON_NODE_HOLDS_VALUE (muted) || json_node_get_value_type (muted) != G_TYPE_BOOLEAN))
    return vg_twirp_error (call->req, "invalid_argument", "muted must be a boolean");
  vg_participant_set_muted (p, muted && json_node_get_boolean (muted));

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "track");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "sid");
  json_builder_add_string_value (b, track_sid);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "AUDIO");
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, "MICROPHONE");
  json_builder_set_member_name (b, "muted");
  json_builder_add_boolean_value (b, vg_participant_get_muted (p));
  json_builder_end_object (b);
  json_builder_end_object (b);
  reply_builder (call, b);
}

static void
update_room_metadata (VgTwirpCall *call)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  VgRoom *room = required_room (call);
  const char *metadata = NULL;

  if (!room)
    return;
  if (!vg_json_member_string (call->body, "metadata", NULL, &metadata) || (metadata && strlen (metadata) > 65536))
    return vg_twirp_error (call->req, "invalid_argument",
                           "metadata must be a string of at most 64 KiB");
  vg_room_set_metadata (room, metadata ? metadata : "");
  vg_room_json (b, room, VG_JSON_PROTO);
  reply_builder (call, b);
}

/* Is p among the requested destinations (all when none are named)? */
static gboolean
is_destination (VgParticipant *p, JsonArray *sids, JsonArray *identities)
{
  g_autofree char *sid = vg_participant_dup_sid (p);
  guint n_sids = sids ? json_array_get_length (sids) : 0;
  guint n_ids = identities ? json_array_get_length (identities) : 0;

  if (n_sids == 0 && n_ids == 0)
    return TRUE;
  for (guint i = 0; i < n_sids; i++)
    if (g_strcmp0 (json_array_get_string_element (sids, i), sid) == 0)
      return TRUE;
  for (guint i = 0; i < n_ids; i++)
    if (g_strcmp0 (json_array_get_string_element (identities, i), vg_participant_get_identity (p)) == 0)
      return TRUE;
  return FALSE;
}

static JsonArray *
string_array (VgTwirpCall *call, const char *name, const char *alt, gboolean *ok)
{
  JsonNode *n = json_object_get_member (call->body, name);
  JsonArray *a;

  if ((!n || JSON_NODE_HOLDS_NULL (n)) && alt)
    n = json_object_get_member (call->body, alt);
  if (!n || JSON_NODE_HOLDS_NULL (n))
    return NULL;
  a = JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
        a = NULL;
    }
  if (!a)
    *ok = FALSE;
  return a;
}

/* The payload reaches each participant's "events" channel as
 * {"type":"data","topic":…,"data":"<base64>","text":"<the bytes, when UTF-8>"}. */
static void
send_data (VgTwirpCall *call)
{
  VgRoom *room = required_room (call);
  const char *data64 = NULL, *topic = NULL;
  gboolean ok = TRUE;
  JsonArray *sids, *identities;
  g_autofree guchar *data = NULL;
  gsize len = 0;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *json = NULL;
  g_autoptr (GPtrArray) list = NULL;

  if (!room)
    return;
  sids = string_array (call, "destinationSids", "destination_sids", &ok);
  identities = string_array (call, "destinationIdentities", "destination_identities", &ok);
  if (!ok || !vg_json_member_string (call->body, "data", NULL, &data64)
      || !vg_json_member_string (call->body, "topic", NULL, &topic))
    return vg_twirp_error (call->req, "invalid_argument",
                           "data must be base64; destinations arrays of strings");
  data = data64 ? g_base64_decode (data64, &len) : g_malloc0 (1);
  if (len > 15 * 1024)
    return vg_twirp_error (call->req, "invalid_argument", "data is larger than 15 KiB");

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "data");
  if (topic)
    {
      json_builder_set_member_name (b, "topic");
      json_builder_add_string_value (b, topic);
    }
  json_builder_set_member_name (b, "data");
  json_builder_add_string_value (b, data64 ? data64 : "");
  if (g_utf8_validate ((const char *) data, len, NULL))
    {
      g_autofree char *text = g_strndup ((const char *) data, len);
      json_builder_set_member_name (b, "text");
      json_builder_add_string_value (b, text);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json = json_to_string (root, FALSE);

  list = vg_room_list_participants (room);
  for (guint i = 0; i < list->len; i++)
    if (is_destination (g_ptr_array_index (list, i), sids, identities))
      vg_participant_send_event (g_ptr_array_index (list, i), json);
  vg_reply_json_text (call->req, SOUP_STATUS_OK, "{}", -1);
}

typedef enum
{
  VG_TWIRP_LOCAL, /* not about one room */
  VG_TWIRP_LIST,  /* every node's rooms */
  VG_TWIRP_PLACE, /* creates the room: placed, then run by the owner */
  VG_TWIRP_VIEW,  /* a read served from the owner's stored view */
  VG_TWIRP_OWNER, /* run by the room's owner */
} VgTwirpRouting;

typedef struct
{
  const char *name;
  VgGrant grants;
  gboolean room_scoped;
  void (*run) (VgTwirpCall *call);
  VgTwirpRouting routing;
  const char *room_member; /* where the body names the room */
} VgTwirpMethod;

static const VgTwirpMethod methods[] = {
  { "CreateRoom", VG_GRANT_ROOM_CREATE, FALSE, create_room, VG_TWIRP_PLACE, "name" },
  { "ListRooms", VG_GRANT_ROOM_LIST, FALSE, list_rooms, VG_TWIRP_LIST, NULL },
  { "DeleteRoom", VG_GRANT_ROOM_CREATE, FALSE, delete_room, VG_TWIRP_OWNER, "room" },
  { "ListParticipants", VG_GRANT_ROOM_ADMIN, TRUE, list_participants, VG_TWIRP_VIEW, "room" },
  { "GetParticipant", VG_GRANT_ROOM_ADMIN, TRUE, get_participant, VG_TWIRP_OWNER, "room" },
  { "RemoveParticipant", VG_GRANT_ROOM_ADMIN, TRUE, remove_participant, VG_TWIRP_OWNER, "room" },
  { "MutePublishedTrack", VG_GRANT_ROOM_ADMIN, TRUE, mute_published_track, VG_TWIRP_OWNER, "room" },
  { "UpdateRoomMetadata", VG_GRANT_ROOM_ADMIN, TRUE, update_room_metadata, VG_TWIRP_OWNER, "room" },
  { "SendData", VG_GRANT_ROOM_ADMIN, TRUE, send_data, VG_TWIRP_OWNER, "room" },
};

/* A call whose room lives elsewhere, kept until the cluster answers. */
typedef struct
{
  VgTwirpCall call;
  const VgTwirpMethod *method;
  JsonNode *root;
} VgTwirpDeferred;

static void
deferred_free (gpointer data)
{
  VgTwirpDeferred *d = data;
  json_node_unref (d->root);
  g_free (d);
}

/* Runs the method here; a change to a room is written to Redis soon, so
 * reads on other nodes see it. */
static void
run_here (VgTwirpCall *call, const VgTwirpMethod *method)
{
  const char *room = NULL;
  method->run (call);
  if (call->app->cluster && method->room_member && method->routing != VG_TWIRP_VIEW
      && vg_json_member_string (call->body, method->room_member, NULL, &room) && room
      && vg_rooms_lookup (call->rooms, room))
    vg_cluster_room_changed (call->app->cluster, room);
}

static void
deferred_run (VgRequest *req, gpointer data)
{
  VgTwirpDeferred *d = data;
  run_here (&d->call, d->method);
}

static void
deferred_list (VgRequest *req, JsonArray *remote, gpointer data)
{
  VgTwirpDeferred *d = data;
  d->call.remote_rooms = remote;
  list_rooms (&d->call);
  d->call.remote_rooms = NULL;
}

/* TRUE when the cluster took the call (answered later). */
static gboolean
route_in_cluster (VgTwirpCall *call, const VgTwirpMethod *method, JsonNode *root)
{
  const char *room = NULL;
  if (!call->app->cluster || method->routing == VG_TWIRP_LOCAL)
    return FALSE;
  if (method->room_member
      && (!vg_json_member_string (call->body, method->room_member, NULL, &room) || !room
          || !vg_validate_room_name (room)))
    return FALSE; /* the method itself refuses it */
  VgTwirpDeferred *d = g_new0 (VgTwirpDeferred, 1);
  d->call = *call;
  d->call.claims = (VgClaims){ 0 }; /* the methods do not read them; cleared by the caller */
  d->method = method;
  d->root = json_node_ref (root);
  if (method->routing == VG_TWIRP_LIST)
    {
      if (vg_cluster_gate_list (call->req, VG_CLUSTER_VIEW_ROOM_PROTO, deferred_list, d,
                                deferred_free))
        return TRUE;
      deferred_free (d);
      return FALSE;
    }
  VgGate gate = { .mode = method->routing == VG_TWIRP_PLACE  ? VG_GATE_PLACE
                          : method->routing == VG_TWIRP_VIEW ? VG_GATE_VIEW
                                                             : VG_GATE_FORWARD,
                  .view = VG_CLUSTER_VIEW_PARTICIPANTS_PROTO,
                  .twirp = TRUE,
                  .local = deferred_run,
                  .data = d,
                  .free = deferred_free };
  if (vg_cluster_gate (call->req, room, &gate))
    return TRUE;
  deferred_free (d);
  return FALSE;
}

static void
handle_twirp (VgRequest *req, gpointer user_data)
{
  const char *name = vg_request_param (req, "method");
  const char *ct = vg_request_content_type (req);
  const VgTwirpMethod *method = NULL;
  VgTwirpCall call = { .req = req, .app = vg_request_app (req) };
  g_autoptr (JsonNode) root = NULL;
  const char *code, *message, *room = NULL;
  GBytes *body;
  guint status;

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    if (g_str_equal (methods[i].name, name))
      method = &methods[i];
  if (!method)
    return vg_twirp_error (req, "bad_route", "no method RoomService/%s", name);
  if (g_strcmp0 (ct, "application/json") != 0)
    return vg_twirp_error (req, "bad_route",
                           "unexpected Content-Type: only application/json is served");

  /* Authorize before parsing: the body is the caller's, and parsing costs
   * memory and time that an anonymous caller should not be able to spend.
   * A room-scoped method checks the room again once the body names it. */
  status = vg_auth_check (call.app, vg_request_header (req, "Authorization"), method->grants, NULL,
                          &call.claims, &code, &message);
  if (status != 200)
    return vg_twirp_error (req, status == 401 ? "unauthenticated" : "permission_denied", "%s (%s)",
                           message, code);
  body = vg_request_body (req);
  root = vg_json_strict_parse (g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL);
  g_bytes_unref (body);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      vg_claims_clear (&call.claims);
      return vg_twirp_error (req, "malformed", "the body is not a JSON object");
    }
  call.body = json_node_get_object (root);

  if (method->room_scoped)
    {
      vg_claims_clear (&call.claims);
      vg_json_member_string (call.body, "room", NULL, &room);
      /* A room that breaks the rule is the request's fault whatever the
       * token (no token can be for it), as on the REST side. */
      if (room && *room && !vg_validate_room_name (room))
        return vg_twirp_error (req, "invalid_argument", "%s", VG_ROOM_NAME_RULE);
      status = vg_auth_check (call.app, vg_request_header (req, "Authorization"), method->grants,
                              room, &call.claims, &code, &message);
      if (status != 200)
        return vg_twirp_error (req, status == 401 ? "unauthenticated" : "permission_denied",
                               "%s (%s)", message, code);
    }
  call.rooms = call.app->rooms;
  if (!call.rooms)
    vg_twirp_error (req, "unavailable", "rooms are not available on this node");
  else if (!route_in_cluster (&call, method, root))
    run_here (&call, method);
  vg_claims_clear (&call.claims);
}

void
vg_twirp_routes_register (VgRouter *router, VgApp *app)
{
  vg_router_add (router, "POST", "/twirp/livekit.RoomService/{method}", handle_twirp, NULL);
}
