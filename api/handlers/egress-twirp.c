/* LiveKit's Egress service over Twirp: POST /twirp/livekit.Egress/{method}
 * on voxgate's recording engine (gateway/egress). Every method needs the
 * roomRecord grant, as in LiveKit.
 *   StartRoomCompositeEgress  audio only, one file output (OGG): the room as
 *                             a stereo Ogg/Opus file (learners | agent)
 *   StartTrackEgress          a participant's track to an Ogg file, no re-encoding
 *   ListEgress                by room, by id, running only
 *   StopEgress
 * Files are written to [recording] dir under the gateway's names, or the
 * request's filepath when it is a plain file name ({room_name} and {time}
 * are expanded); uploads (S3, GCS, Azure…), streams, segments, images and
 * video are refused with invalid_argument; the other methods are
 * unimplemented. */
#include "api/handlers/handlers.h"
#include "api/handlers/room-api.h"
#include "api/handlers/twirp-common.h"
#include "gateway/core/validate.h"
#include "gateway/egress/egress.h"

#include <string.h>

typedef struct
{
  VgRequest *req;
  VgEgress *egress;
  JsonObject *body;
} VgEgressCall;

/* A member that is absent or null. */
static JsonNode *
member (JsonObject *o, const char *name, const char *alt)
{
  JsonNode *n = json_object_get_member (o, name);

  if ((!n || JSON_NODE_HOLDS_NULL (n)) && alt)
    n = json_object_get_member (o, alt);
  return n && !JSON_NODE_HOLDS_NULL (n) ? n : NULL;
}

/* An enum member given by name or number; FALSE if mistyped or unknown.
 * names[i] is the name of value i. Absent: *out = 0. */
static gboolean
member_enum (JsonObject *o, const char *name, const char *alt, const char *const *names,
             guint n_names, guint *out)
{
  JsonNode *n = member (o, name, alt);

  *out = 0;
  if (!n)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  if (json_node_get_value_type (n) == G_TYPE_STRING)
    {
      for (guint i = 0; i < n_names; i++)
        if (g_str_equal (json_node_get_string (n), names[i]))
          {
            *out = i;
            return TRUE;
          }
      return FALSE;
    }
  if (json_node_get_value_type (n) == G_TYPE_INT64 && json_node_get_int (n) >= 0
      && json_node_get_int (n) < n_names)
    {
      *out = json_node_get_int (n);
      return TRUE;
    }
  return FALSE;
}

static gboolean
member_bool (JsonObject *o, const char *name, const char *alt, gboolean *out, gboolean *ok)
{
  JsonNode *n = member (o, name, alt);

  *out = FALSE;
  if (!n)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return *ok = FALSE;
  *out = json_node_get_boolean (n);
  return TRUE;
}

/* A non-empty array member (a repeated output the engine does not make). */
static gboolean
has_items (JsonObject *o, const char *name, const char *alt)
{
  JsonNode *n = member (o, name, alt);
  return n && (!JSON_NODE_HOLDS_ARRAY (n) || json_array_get_length (json_node_get_array (n)) > 0);
}

static void
reply_info (VgEgressCall *call, const char *egress_id)
{
  JsonNode *info = vg_egress_info_json (call->egress, egress_id);

  if (!info)
    return vg_twirp_error (call->req, "internal", "the recording ended before it was reported");
  vg_reply_json (call->req, SOUP_STATUS_OK, info);
}

static void
reply_rooms_error (VgEgressCall *call, const GError *error)
{
  if (g_error_matches (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_NOT_FOUND))
    vg_twirp_error (call->req, "not_found", "%s", error->message);
  else if (g_error_matches (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_INVALID))
    vg_twirp_error (call->req, "invalid_argument", "%s", error->message);
  /* The engine's message names the server's path: the client gets its own words. */
  else if (g_error_matches (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_EXISTS))
    vg_twirp_error (call->req, "already_exists", "a recording file of that name exists");
  else
    {
      g_warning ("egress: %s", error->message);
      vg_twirp_error (call->req, "internal", "the recording could not be started");
    }
}

/* The room named by roomName, checked; NULL after replying. */
static const char *
required_room (VgEgressCall *call)
{
  const char *room = NULL;

  if (!vg_json_member_string (call->body, "roomName", "room_name", &room) || !room || !*room)
    {
      vg_twirp_error (call->req, "invalid_argument", "roomName is required and must be a string");
      return NULL;
    }
  if (!vg_validate_room_name (room))
    {
      vg_twirp_error (call->req, "invalid_argument", "%s", VG_ROOM_NAME_RULE);
      return NULL;
    }
  return room;
}

/* LiveKit's filepath as a file name in [recording] dir: NULL or "" for the
 * gateway's name; {room_name} and {time} expanded; no directories. FALSE
 * after replying. */
static gboolean
file_name_of (VgEgressCall *call, JsonObject *output, const char *room, char **out)
{
  const char *filepath = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *time = g_date_time_format (now, "%Y-%m-%dT%H%M%S");
  GString *name;

  *out = NULL;
  if (!vg_json_member_string (output, "filepath", NULL, &filepath))
    {
      vg_twirp_error (call->req, "invalid_argument", "filepath must be a string");
      return FALSE;
    }
  if (!filepath || !*filepath)
    return TRUE;
  if (strchr (filepath, '/') || strlen (filepath) > 200)
    {
      vg_twirp_error (call->req, "invalid_argument",
                      "filepath must be a file name of at most 200 bytes (recordings are written "
                      "to [recording] dir)");
      return FALSE;
    }
  name = g_string_new (filepath);
  g_string_replace (name, "{room_name}", room, 0);
  g_string_replace (name, "{time}", time, 0);
  /* The name lands in a path, a Content-Disposition header and log lines:
   * the characters of a room name only. */
  for (gsize i = 0; i < name->len; i++)
    if (!(g_ascii_isalnum (name->str[i]) || (name->str[i] && strchr ("_.-", name->str[i])))
        || (i == 0 && !g_ascii_isalnum (name->str[0])))
      {
        g_string_free (name, TRUE);
        vg_twirp_error (
            call->req, "invalid_argument",
            "filepath must be a file name of letters, digits, '_', '.' and '-' "
            "(starting with a letter or digit), optionally with {room_name} and {time}");
        return FALSE;
      }
  *out = g_string_free (name, FALSE);
  return TRUE;
}

/* Refuses what the file output cannot do: another container, uploads. */
static gboolean
check_file_output (VgEgressCall *call, JsonObject *file, gboolean encoded)
{
  static const char *const file_types[] = { "DEFAULT_FILETYPE", "MP4", "OGG", "MP3" };
  static const char *const uploads[] = { "s3", "gcp", "azure", "aliOSS", "alioss" };
  guint type;

  if (encoded
      && (!member_enum (file, "fileType", "file_type", file_types, G_N_ELEMENTS (file_types), &type)
          || (type != 0 && type != 2)))
    {
      vg_twirp_error (call->req, "invalid_argument", "fileType must be OGG (audio in Ogg/Opus)");
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (uploads); i++)
    if (member (file, uploads[i], NULL))
      {
        vg_twirp_error (call->req, "invalid_argument",
                        "uploads are not supported: files stay in [recording] dir and are served "
                        "by /api/recordings");
        return FALSE;
      }
  return TRUE;
}

/* The one file output: "file" or a single "fileOutputs" entry. */
static JsonObject *
encoded_file_output (VgEgressCall *call)
{
  JsonNode *file = member (call->body, "file", NULL);
  JsonNode *outputs = member (call->body, "fileOutputs", "file_outputs");
  JsonArray *a = outputs && JSON_NODE_HOLDS_ARRAY (outputs) ? json_node_get_array (outputs) : NULL;

  if (has_items (call->body, "streamOutputs", "stream_outputs")
      || has_items (call->body, "segmentOutputs", "segment_outputs")
      || has_items (call->body, "imageOutputs", "image_outputs")
      || member (call->body, "stream", NULL) || member (call->body, "segments", NULL))
    {
      vg_twirp_error (call->req, "invalid_argument",
                      "only a file output is supported (no streams, segments or images)");
      return NULL;
    }
  if (outputs && (!a || json_array_get_length (a) > 1))
    {
      vg_twirp_error (call->req, "invalid_argument", "fileOutputs must hold one file output");
      return NULL;
    }
  if (!file && a && json_array_get_length (a) == 1)
    file = json_array_get_element (a, 0);
  if (!file || !JSON_NODE_HOLDS_OBJECT (file))
    {
      vg_twirp_error (call->req, "invalid_argument", "a file output is required");
      return NULL;
    }
  return json_node_get_object (file);
}

static void
start_room_composite (VgEgressCall *call)
{
  static const char *const mixings[]
      = { "DEFAULT_MIXING", "DUAL_CHANNEL_AGENT", "DUAL_CHANNEL_ALTERNATE" };
  g_autoptr (GError) error = NULL;
  g_autofree char *file_name = NULL, *id = NULL;
  const char *room = required_room (call);
  gboolean video_only = FALSE, audio_only = FALSE, ok = TRUE;
  const char *layout = NULL;
  JsonObject *file;
  guint mixing;

  if (!room)
    return;
  member_bool (call->body, "videoOnly", "video_only", &video_only, &ok);
  member_bool (call->body, "audioOnly", "audio_only", &audio_only, &ok);
  if (!ok || video_only)
    return vg_twirp_error (call->req, "invalid_argument",
                           "recordings are audio only: videoOnly must be false");
  if (!member_enum (call->body, "audioMixing", "audio_mixing", mixings, G_N_ELEMENTS (mixings),
                    &mixing)
      || mixing == 2)
    return vg_twirp_error (call->req, "invalid_argument",
                           "audioMixing must be DEFAULT_MIXING or DUAL_CHANNEL_AGENT (the file is "
                           "stereo: learners left, agent right)");
  if (!vg_json_member_string (call->body, "layout", NULL, &layout)
      || !vg_json_member_string (call->body, "customBaseUrl", "custom_base_url", &layout))
    return vg_twirp_error (call->req, "invalid_argument", "layout must be a string");
  if (!(file = encoded_file_output (call)) || !check_file_output (call, file, TRUE)
      || !file_name_of (call, file, room, &file_name))
    return;

  VgRecordingSpec spec = { .kind = VG_RECORDING_ROOM_COMPOSITE, .file_name = file_name };
  if (!(id = vg_egress_start (call->egress, room, &spec, &error)))
    return reply_rooms_error (call, error);
  reply_info (call, id);
}

static void
start_track (VgEgressCall *call)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *file_name = NULL, *id = NULL;
  const char *room = required_room (call), *track = NULL;
  JsonNode *file;

  if (!room)
    return;
  if (!vg_json_member_string (call->body, "trackId", "track_id", &track) || !track || !*track
      || strlen (track) > 128)
    return vg_twirp_error (call->req, "invalid_argument",
                           "trackId is required and must be a string");
  if (member (call->body, "websocketUrl", "websocket_url"))
    return vg_twirp_error (call->req, "invalid_argument", "only a file output is supported");
  file = member (call->body, "file", NULL);
  if (!file || !JSON_NODE_HOLDS_OBJECT (file))
    return vg_twirp_error (call->req, "invalid_argument", "a file output is required");
  if (!check_file_output (call, json_node_get_object (file), FALSE)
      || !file_name_of (call, json_node_get_object (file), room, &file_name))
    return;

  VgRecordingSpec spec = { .kind = VG_RECORDING_TRACK, .track = track, .file_name = file_name };
  if (!(id = vg_egress_start (call->egress, room, &spec, &error)))
    return reply_rooms_error (call, error);
  reply_info (call, id);
}

static void
list_egress (VgEgressCall *call)
{
  const char *room = NULL, *id = NULL;
  gboolean active = FALSE, ok = TRUE;

  if (!vg_json_member_string (call->body, "roomName", "room_name", &room)
      || !vg_json_member_string (call->body, "egressId", "egress_id", &id)
      || !member_bool (call->body, "active", NULL, &active, &ok))
    return vg_twirp_error (call->req, "invalid_argument",
                           "roomName and egressId must be strings, active a boolean");
  if (room && *room && !vg_validate_room_name (room))
    return vg_twirp_error (call->req, "invalid_argument", "%s", VG_ROOM_NAME_RULE);
  vg_reply_json (call->req, SOUP_STATUS_OK,
                 vg_egress_list_json (call->egress, room && *room ? room : NULL,
                                      id && *id ? id : NULL, active));
}

static void
stop_egress (VgEgressCall *call)
{
  g_autoptr (GError) error = NULL;
  const char *id = NULL;

  if (!vg_json_member_string (call->body, "egressId", "egress_id", &id) || !id || !*id)
    return vg_twirp_error (call->req, "invalid_argument",
                           "egressId is required and must be a string");
  if (!vg_egress_is_running (call->egress, id))
    {
      g_autoptr (JsonNode) info = vg_egress_info_json (call->egress, id);
      if (!info)
        return vg_twirp_error (call->req, "not_found", "egress %s does not exist", id);
      return vg_twirp_error (call->req, "failed_precondition", "egress %s has already ended", id);
    }
  if (!vg_egress_stop (call->egress, id, &error))
    return reply_rooms_error (call, error);
  reply_info (call, id);
}

typedef struct
{
  const char *name;
  void (*run) (VgEgressCall *call);
} VgEgressMethod;

static const VgEgressMethod methods[] = {
  { "StartRoomCompositeEgress", start_room_composite },
  { "StartTrackEgress", start_track },
  { "ListEgress", list_egress },
  { "StopEgress", stop_egress },
  /* LiveKit's, not made here: a page, a participant's camera, video layouts, streams. */
  { "StartWebEgress", NULL },
  { "StartParticipantEgress", NULL },
  { "StartTrackCompositeEgress", NULL },
  { "StartEgress", NULL },
  { "UpdateLayout", NULL },
  { "UpdateStream", NULL },
};

static void
handle_egress (VgRequest *req, gpointer user_data)
{
  const char *name = vg_request_param (req, "method");
  const VgEgressMethod *method = NULL;
  g_auto (VgClaims) claims = { 0 };
  g_autoptr (JsonNode) root = NULL;
  VgEgressCall call = { .req = req, .egress = vg_request_app (req)->egress };

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    if (g_str_equal (methods[i].name, name))
      method = &methods[i];
  if (!method)
    return vg_twirp_error (req, "bad_route", "no method Egress/%s", name);
  if (!(root = vg_twirp_begin (req, VG_GRANT_ROOM_RECORD, &claims)))
    return;
  if (!method->run)
    return vg_twirp_error (req, "unimplemented",
                           "Egress/%s is not available: voxgate records audio (room composite, "
                           "track) to files",
                           name);
  if (!call.egress)
    return vg_twirp_error (req, "unavailable", "recording is not available on this node");
  call.body = json_node_get_object (root);
  method->run (&call);
}

void
vg_egress_routes_register (VgRouter *router, VgApp *app)
{
  vg_router_add (router, "POST", "/twirp/livekit.Egress/{method}", handle_egress, NULL);
}
