#include "api/handlers/room-api.h"
#include "api/handlers/handlers.h"
#include "common/json-strict.h"
#include "gateway/core/validate.h"

#include <string.h>

static JsonNode *
member (JsonObject *obj, const char *name, const char *alt_name)
{
  JsonNode *n = json_object_get_member (obj, name);
  if ((!n || JSON_NODE_HOLDS_NULL (n)) && alt_name)
    n = json_object_get_member (obj, alt_name);
  return n && !JSON_NODE_HOLDS_NULL (n) ? n : NULL;
}

gboolean
vg_json_member_string (JsonObject *obj, const char *name, const char *alt_name, const char **out)
{
  JsonNode *n = member (obj, name, alt_name);

  *out = NULL;
  if (!n)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return FALSE;
  *out = json_node_get_string (n);
  return TRUE;
}

gboolean
vg_json_member_int (JsonObject *obj, const char *name, const char *alt_name, gint64 *out, gboolean *present)
{
  JsonNode *n = member (obj, name, alt_name);

  *present = n != NULL;
  if (!n)
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64)
    {
      *out = json_node_get_int (n);
      return TRUE;
    }
  /* proto3 JSON writes 64-bit integers as strings. */
  if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    return g_ascii_string_to_signed (json_node_get_string (n), 10, G_MININT64, G_MAXINT64, out, NULL);
  return FALSE;
}

void
vg_room_create_args_clear (VgRoomCreateArgs *args)
{
  g_clear_pointer (&args->name, g_free);
  g_clear_pointer (&args->metadata, g_free);
  g_clear_pointer (&args->pipeline, g_free);
}

gboolean
vg_room_create_args_parse (JsonObject *body, VgJsonShape shape, VgRoomCreateArgs *args, GError **error)
{
  gboolean proto = shape == VG_JSON_PROTO;
  const char *name, *metadata, *pipeline;
  gint64 empty = -1, max = -1, subtopic = 0;
  gboolean has_empty, has_max, has_subtopic;
  JsonNode *sub;

  memset (args, 0, sizeof *args);
  args->empty_timeout = args->max_participants = -1;
  if (!vg_json_member_string (body, "name", NULL, &name) || !vg_json_member_string (body, "metadata", NULL, &metadata)
      || !vg_json_member_string (body, "pipeline", NULL, &pipeline)
      || !vg_json_member_int (body, proto ? "emptyTimeout" : "empty_timeout", "empty_timeout", &empty, &has_empty)
      || !vg_json_member_int (body, proto ? "maxParticipants" : "max_participants", "max_participants", &max,
                              &has_max))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "name, metadata and pipeline must be strings; empty_timeout and max_participants integers");
      return FALSE;
    }
  /* Our extension (LiveKit has no such field): which subtopic the room
   * teaches. null is none; an id the store does not know is recorded as none. */
  sub = json_object_get_member (body, "subtopic_id");
  if (!sub && proto)
    sub = json_object_get_member (body, "subtopicId");
  if (sub && JSON_NODE_HOLDS_NULL (sub))
    has_subtopic = FALSE;
  else if (!vg_json_member_int (body, proto ? "subtopicId" : "subtopic_id", "subtopic_id",
                                &subtopic, &has_subtopic)
           || (has_subtopic && subtopic < 1))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "subtopic_id must be a positive integer");
      return FALSE;
    }
  if ((has_empty && (empty < 0 || empty > 86400)) || (has_max && (max < 0 || max > 10000)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "empty_timeout must be 0..86400 seconds and max_participants 0..10000");
      return FALSE;
    }
  if (metadata && strlen (metadata) > VG_METADATA_MAX)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "metadata is larger than %d bytes", VG_METADATA_MAX);
      return FALSE;
    }
  args->name = g_strdup (name ? name : "");
  args->metadata = g_strdup (metadata);
  args->pipeline = pipeline && *pipeline ? g_strdup (pipeline) : NULL;
  args->subtopic_id = has_subtopic ? subtopic : 0;
  args->empty_timeout = has_empty ? empty : -1;
  args->max_participants = has_max ? max : -1;
  return TRUE;
}

static gint64
positive_id (const char *text)
{
  gint64 id = 0;
  return text && g_ascii_string_to_signed (text, 10, 1, G_MAXINT64, &id, NULL) ? id : 0;
}

gint64
vg_claims_subtopic_id (const char *metadata, GHashTable *attributes)
{
  g_autoptr (JsonNode) root = metadata && *metadata == '{'
                                  ? vg_json_strict_parse (metadata, strlen (metadata), NULL)
                                  : NULL;

  if (root && JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonNode *n = json_object_get_member (json_node_get_object (root), "subtopic_id");
      GType type = n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_value_type (n) : G_TYPE_INVALID;
      if (type == G_TYPE_INT64 && json_node_get_int (n) > 0)
        return json_node_get_int (n);
      if (type == G_TYPE_STRING)
        return positive_id (json_node_get_string (n));
    }
  return attributes ? positive_id (g_hash_table_lookup (attributes, "subtopic_id")) : 0;
}

VgRoom *
vg_room_api_create (VgRooms *rooms, const VgRoomCreateArgs *args, gboolean *existed, GError **error)
{
  VgRoomOptions options = {
    .template_name = args->pipeline,
    .max_participants = args->max_participants > 0 ? (guint)args->max_participants : 0,
    .empty_timeout_s = args->empty_timeout,
    .metadata = args->metadata,
    .subtopic_id = args->subtopic_id,
  };
  VgRoom *room = vg_rooms_lookup (rooms, args->name);

  *existed = room != NULL;
  if (room)
    return room;
  return vg_rooms_create (rooms, args->name, &options, error);
}

gboolean
vg_room_api_check_name (VgRequest *req, const char *name)
{
  if (vg_validate_room_name (name))
    return TRUE;
  vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_room", "%s", VG_ROOM_NAME_RULE);
  return FALSE;
}

gboolean
vg_room_api_check_identity (VgRequest *req, const char *identity)
{
  if (vg_validate_identity (identity))
    return TRUE;
  vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_identity", "%s", VG_IDENTITY_RULE);
  return FALSE;
}

/* The one mapping of registry errors to HTTP, for every handler (REST, WHIP,
 * WHEP, Twirp): the status, our error code, and the Twirp code. Offers the
 * gateway refuses are the client's (400, with the precise reason); a
 * pipeline that cannot be built is ours (500); a room or participant that
 * went away meanwhile is gone (410). */
typedef struct
{
  guint status;
  const char *code;
  const char *twirp_code;
} RoomsErrorHttp;

static const RoomsErrorHttp rooms_errors[] = {
  [VG_ROOMS_ERROR_NOT_FOUND] = { 404, "not_found", "not_found" },
  [VG_ROOMS_ERROR_EXISTS] = { 409, "already_exists", "already_exists" },
  [VG_ROOMS_ERROR_INVALID] = { 400, "invalid_argument", "invalid_argument" },
  [VG_ROOMS_ERROR_FULL] = { 409, "room_full", "resource_exhausted" },
  [VG_ROOMS_ERROR_BAD_SDP] = { 400, "bad_sdp", "invalid_argument" },
  [VG_ROOMS_ERROR_NO_AUDIO] = { 400, "no_audio", "invalid_argument" },
  [VG_ROOMS_ERROR_NO_OPUS] = { 400, "no_opus", "invalid_argument" },
  [VG_ROOMS_ERROR_PIPELINE] = { 500, "pipeline_failed", "internal" },
  [VG_ROOMS_ERROR_NEGOTIATION] = { 400, "negotiation_failed", "invalid_argument" },
  [VG_ROOMS_ERROR_CLOSED] = { 410, "gone", "not_found" },
  [VG_ROOMS_ERROR_NO_CANDIDATES] = { 503, "ice_unavailable", "unavailable" },
};

static const RoomsErrorHttp *
rooms_error_http (const GError *error)
{
  static const RoomsErrorHttp invalid = { 400, "invalid_argument", "invalid_argument" };
  static const RoomsErrorHttp internal = { 500, "internal", "internal" };
  if (error->domain == VG_ROOMS_ERROR && error->code >= 0
      && (gsize)error->code < G_N_ELEMENTS (rooms_errors) && rooms_errors[error->code].code)
    return &rooms_errors[error->code];
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT))
    return &invalid;
  return &internal;
}

guint
vg_room_api_http_status (const GError *error)
{
  return rooms_error_http (error)->status;
}

const char *
vg_room_api_error_code (const GError *error)
{
  return rooms_error_http (error)->code;
}

const char *
vg_room_api_twirp_code (const GError *error)
{
  return rooms_error_http (error)->twirp_code;
}

void
vg_room_api_reply_error (VgRequest *req, const GError *error)
{
  const RoomsErrorHttp *e = rooms_error_http (error);
  vg_reply_error (req, e->status, e->code, "%s", error->message);
}
