/* The recordings API (admin only, as the data API's admin):
 *   GET    /api/recordings?room=&conversation_id=&limit=&cursor=
 *              {"recordings":[...], "next_cursor"}, newest first
 *   GET    /api/recordings/{id}             one recording's metadata
 *   GET    /api/recordings/{id}/file        the Ogg/Opus file   } HTTP Range: one range,
 *   GET    /api/recordings/{id}/transcript  the WebVTT sidecar  } 206 or 416
 *   DELETE /api/recordings/{id}             its files, then its row: 204
 * Recordings are named by id (a UUID); the paths they live at stay in the
 * store and never come from a request. */
#include "api/handlers/data-common.h"
#include "gateway/egress/egress.h"
#include "gateway/egress/recording-files.h"

#include <string.h>

/* The columns a client sees: the row without the paths. */
static void
drop_paths (JsonObject *row)
{
  json_object_remove_member (row, "path");
  json_object_remove_member (row, "transcript_path");
}

static void
reply_list (VgRequest *req, JsonArray *rows, gint64 changes, gpointer data)
{
  vg_data_reply_page (req, "recordings", rows, GPOINTER_TO_UINT (data));
}

static void
handle_list (VgRequest *req, gpointer user_data)
{
  g_autofree char *room = NULL, *conversation = NULL, *cursor_time = NULL, *cursor_id = NULL;
  g_autofree char *fetch = NULL;
  const char *cursor = vg_request_query (req, "cursor");
  guint limit;
  VgStore *store;

  if (!(store = vg_data_begin (req)) || !vg_data_query_room (req, &room)
      || !vg_data_query_limit (req, &limit))
    return;
  conversation = g_strdup (vg_request_query (req, "conversation_id"));
  if (conversation && !vg_store_is_uuid (conversation))
    return vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                           "conversation_id must be a conversation's id (a lower-case UUID)");
  if (cursor && !vg_data_cursor_decode (cursor, &cursor_time, &cursor_id))
    return vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_argument",
                           "cursor is not one this API returned");
  fetch = g_strdup_printf ("%u", limit + 1);
  vg_data_query_full (req, store, VG_STORE_Q_RECORDINGS_LIST,
                      (const char *const[]){ room, conversation, cursor_time, cursor_id, fetch }, 5,
                      reply_list, GUINT_TO_POINTER (limit), NULL);
}

typedef void (*VgRecordingFunc) (VgRequest *req, JsonObject *row);

static void
on_row (VgRequest *req, JsonArray *rows, gint64 changes, gpointer data)
{
  VgRecordingFunc then = data;

  if (json_array_get_length (rows) == 0)
    return vg_reply_error (req, SOUP_STATUS_NOT_FOUND, "not_found", "no such recording");
  then (req, json_array_get_object_element (rows, 0));
}

/* Admin, a well-formed id; then the row, to then(). */
static void
with_recording (VgRequest *req, VgRecordingFunc then)
{
  const char *id = vg_request_param (req, "id");
  VgStore *store;

  if (!(store = vg_data_begin (req)))
    return;
  if (!vg_store_is_uuid (id))
    return vg_reply_error (req, SOUP_STATUS_NOT_FOUND, "not_found",
                           "no such recording (ids are lower-case UUIDs)");
  vg_data_query_full (req, store, VG_STORE_Q_RECORDING_GET, (const char *const[]){ id }, 1, on_row,
                      (gpointer)then, NULL);
}

static void
reply_metadata (VgRequest *req, JsonObject *row)
{
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);

  drop_paths (row);
  json_node_set_object (root, row);
  vg_reply_json (req, SOUP_STATUS_OK, root);
}

static void
handle_get (VgRequest *req, gpointer user_data)
{
  with_recording (req, reply_metadata);
}

/* A single "bytes=" range of a size-byte file: TRUE with [*first, *last]
 * when there is one to honour. A header that is not one valid range is
 * ignored (RFC 9110 14.2: the whole file is sent); *unsatisfiable is set
 * when it is valid but lies beyond the file. */
static gboolean
parse_range (const char *header, guint64 size, guint64 *first, guint64 *last,
             gboolean *unsatisfiable)
{
  const char *spec, *dash;
  char *end = NULL;

  *unsatisfiable = FALSE;
  if (!header || !g_str_has_prefix (header, "bytes=") || strchr (header, ','))
    return FALSE;
  spec = header + 6;
  if (!(dash = strchr (spec, '-')) || strlen (spec) > 41)
    return FALSE;
  if (dash == spec)
    {
      /* bytes=-N: the last N bytes. */
      guint64 n;
      if (!g_ascii_isdigit (dash[1]) || (n = g_ascii_strtoull (dash + 1, &end, 10), *end))
        return FALSE;
      if (n == 0 || size == 0)
        return (*unsatisfiable = TRUE, FALSE);
      *first = n >= size ? 0 : size - n;
      *last = size - 1;
      return TRUE;
    }
  if (!g_ascii_isdigit (spec[0]) || (*first = g_ascii_strtoull (spec, &end, 10), end != dash))
    return FALSE;
  if (dash[1] == '\0')
    *last = size ? size - 1 : 0;
  else if (!g_ascii_isdigit (dash[1]) || (*last = g_ascii_strtoull (dash + 1, &end, 10), *end)
           || *last < *first)
    return FALSE;
  if (*first >= size)
    return (*unsatisfiable = TRUE, FALSE);
  *last = MIN (*last, size - 1);
  return TRUE;
}

static void
send_file (VgRequest *req, JsonObject *row, const char *path_member, const char *name_member,
           const char *content_type)
{
  const char *path = json_object_get_string_member_with_default (row, path_member, NULL);
  const char *name = json_object_get_string_member_with_default (row, name_member, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GMappedFile) mapped = NULL;
  g_autoptr (GBytes) whole = NULL, part = NULL;
  g_autofree char *disposition = NULL;
  guint64 size, first = 0, last = 0;
  gboolean unsatisfiable, ranged;

  if (g_strcmp0 (json_object_get_string_member_with_default (row, "status", NULL), "complete") != 0)
    return vg_reply_error (req, SOUP_STATUS_CONFLICT, "not_finished",
                           "the recording has not completed (status %s)",
                           json_object_get_string_member_with_default (row, "status", "unknown"));
  if (!path || !name)
    return vg_reply_error (req, SOUP_STATUS_NOT_FOUND, "not_found",
                           "the recording has no such file");
  /* Mapped, not read: the body is sent from the page cache whatever its size. */
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)
      || !(mapped = g_mapped_file_new (path, FALSE, &error)))
    {
      g_warning ("recording %s: %s", json_object_get_string_member (row, "id"),
                 error ? error->message : "not a regular file");
      return vg_reply_error (req, SOUP_STATUS_GONE, "gone", "the recording's file is missing");
    }
  whole = g_mapped_file_get_bytes (mapped);
  size = g_bytes_get_size (whole);
  vg_reply_header (req, "Accept-Ranges", "bytes");
  disposition = g_strdup_printf ("attachment; filename=\"%s\"", name);
  vg_reply_header (req, "Content-Disposition", disposition);
  ranged = parse_range (vg_request_header (req, "Range"), size, &first, &last, &unsatisfiable);
  if (unsatisfiable)
    {
      g_autofree char *range = g_strdup_printf ("bytes */%" G_GUINT64_FORMAT, size);
      vg_reply_header (req, "Content-Range", range);
      return vg_reply_error (req, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE,
                             "range_not_satisfiable", "the file has %" G_GUINT64_FORMAT " bytes",
                             size);
    }
  if (!ranged)
    return vg_reply_bytes (req, SOUP_STATUS_OK, content_type, whole);
  {
    g_autofree char *range = g_strdup_printf (
        "bytes %" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, first, last, size);
    vg_reply_header (req, "Content-Range", range);
  }
  part = g_bytes_new_from_bytes (whole, first, last - first + 1);
  vg_reply_bytes (req, SOUP_STATUS_PARTIAL_CONTENT, content_type, part);
}

static void
send_audio (VgRequest *req, JsonObject *row)
{
  send_file (req, row, "path", "filename", "audio/ogg");
}

static void
send_transcript (VgRequest *req, JsonObject *row)
{
  send_file (req, row, "transcript_path", "transcript_filename", "text/vtt");
}

static void
handle_file (VgRequest *req, gpointer user_data)
{
  with_recording (req, send_audio);
}

static void
handle_transcript (VgRequest *req, gpointer user_data)
{
  with_recording (req, send_transcript);
}

static void
on_deleted (gboolean deleted, const GError *error, gpointer data)
{
  g_autoptr (VgRequest) req = data;

  if (error && error->domain == VG_STORE_ERROR)
    vg_data_reply_store_error (req, error);
  else if (error)
    {
      g_warning ("recordings: %s", error->message);
      vg_reply_error (req, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
                      "the recording's files could not be removed");
    }
  else if (!deleted)
    vg_reply_error (req, SOUP_STATUS_NOT_FOUND, "not_found", "no such recording");
  else
    vg_reply_empty (req, SOUP_STATUS_NO_CONTENT);
}

static void
delete_recording (VgRequest *req, JsonObject *row)
{
  VgApp *app = vg_request_app (req);
  const char *egress_id = json_object_get_string_member_with_default (row, "egress_id", NULL);

  if (app->egress && vg_egress_is_running (app->egress, egress_id))
    return vg_reply_error (req, SOUP_STATUS_CONFLICT, "still_recording",
                           "stop the recording first (StopEgress %s)", egress_id);
  vg_request_pause (req);
  vg_recording_delete (app->store, json_object_get_string_member (row, "id"),
                       json_object_get_string_member_with_default (row, "path", NULL),
                       json_object_get_string_member_with_default (row, "transcript_path", NULL),
                       on_deleted, vg_request_ref (req));
}

static void
handle_delete (VgRequest *req, gpointer user_data)
{
  with_recording (req, delete_recording);
}

void
vg_data_recordings_register (VgRouter *router)
{
  vg_router_add (router, "GET", "/api/recordings", handle_list, NULL);
  vg_router_add (router, "GET", "/api/recordings/{id}", handle_get, NULL);
  vg_router_add (router, "GET", "/api/recordings/{id}/file", handle_file, NULL);
  vg_router_add (router, "GET", "/api/recordings/{id}/transcript", handle_transcript, NULL);
  vg_router_add (router, "DELETE", "/api/recordings/{id}", handle_delete, NULL);
}
