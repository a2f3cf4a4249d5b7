/* The store's recording rows (store.h, "recordings"): queued writes with the
 * same validation as the schema, so a bad value is refused at the call and
 * never reaches the writer. Any thread. */
#include "gateway/store/store-private.h"

#include <string.h>

/* A count the schema keeps as NULL when unknown (< 0). */
static char *
count_text (gint64 value)
{
  return value >= 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, value) : NULL;
}

static gboolean
check_name (const char *what, const char *value, gsize max, GError **error)
{
  return !value || vg_store_check_text (what, value, 1, max, error);
}

char *
vg_store_recording_start (VgStore *store, const char *egress_id, const char *room,
                          const char *identity, const char *kind, gint64 started_at_us,
                          GError **error)
{
  g_autofree char *started = NULL;
  char *id;

  if (!store)
    return NULL;
  if (!vg_store_check_text ("egress_id", egress_id, 1, 64, error)
      || !vg_store_check_text ("room", room, 1, 64, error)
      || !check_name ("identity", identity, 128, error))
    return NULL;
  if (g_strcmp0 (kind, "room_composite") != 0 && g_strcmp0 (kind, "track") != 0)
    {
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID,
                   "kind must be room_composite or track");
      return NULL;
    }
  if (!(started = vg_store_time_text (started_at_us)))
    {
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID, "started_at is out of range");
      return NULL;
    }
  id = g_uuid_string_random ();
  {
    const char *params[] = { id, egress_id, room, identity, kind, started };
    vg_store_push_write (store, VG_STORE_OP_RECORDING_START, params);
  }
  return id;
}

gboolean
vg_store_recording_end (VgStore *store, const char *recording_id, const VgStoreRecordingEnd *end,
                        GError **error)
{
  g_autofree char *size = NULL, *duration = NULL, *transcript_size = NULL, *ended = NULL;

  if (!store)
    return FALSE;
  if (!vg_store_is_uuid (recording_id))
    {
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID, "not a recording id");
      return FALSE;
    }
  if (g_strcmp0 (end->status, "complete") != 0 && g_strcmp0 (end->status, "failed") != 0)
    {
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID,
                   "status must be complete or failed");
      return FALSE;
    }
  if (!vg_store_check_text ("error", end->error, 0, 1024, error)
      || !check_name ("filename", end->filename, 255, error)
      || !check_name ("path", end->path, 4096, error)
      || !vg_store_check_text ("mime_type", end->mime_type, 0, 64, error)
      || !check_name ("transcript_filename", end->transcript_filename, 255, error)
      || !check_name ("transcript_path", end->transcript_path, 4096, error))
    return FALSE;
  if (!(ended = vg_store_time_text (end->ended_at_us)))
    {
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID, "ended_at is out of range");
      return FALSE;
    }
  size = count_text (end->size_bytes);
  duration = count_text (end->duration_ms);
  transcript_size = count_text (end->transcript_size_bytes);
  {
    const char *params[] = { recording_id,
                             end->status,
                             end->error,
                             end->filename,
                             end->path,
                             end->mime_type,
                             size,
                             duration,
                             end->transcript_filename,
                             end->transcript_path,
                             transcript_size,
                             ended };
    vg_store_push_write (store, VG_STORE_OP_RECORDING_END, params);
  }
  return TRUE;
}
