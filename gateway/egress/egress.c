/* The egress registry on the recording engine. See egress.h. */
#include "gateway/egress/egress.h"
#include "gateway/egress/egress-info.h"
#include "gateway/store/store.h"

#include <glib/gstdio.h>

typedef struct
{
  VgRecordingInfo *info; /* the latest snapshot */
  char *recording_id;    /* the store's row (a UUID), NULL without a store */
  gint64 updated_at_us;
  gint64 transcript_size; /* < 0: none */
} VgEgressEntry;

struct _VgEgress
{
  VgApp *app;
  VgRooms *rooms;
  GHashTable *by_id; /* egress id (owned key) -> VgEgressEntry */
  GQueue order;      /* the same keys, borrowed, oldest first */
  guint n_ended;
  VgRecordingCallbacks observer;
};

static void
entry_free (gpointer data)
{
  VgEgressEntry *e = data;

  vg_recording_info_free (e->info);
  g_free (e->recording_id);
  g_free (e);
}

static gboolean
is_ended (VgRecordingState state)
{
  return state == VG_RECORDING_COMPLETE || state == VG_RECORDING_FAILED;
}

/* The snapshot's download links point at /api/recordings (a store row). */
static void
entry_snapshot (VgEgress *self, const VgEgressEntry *e, VgEgressSnapshot *s, char **download,
                char **transcript)
{
  const char *base = self->app->public_url ? self->app->public_url : "";

  *download = *transcript = NULL;
  if (e->recording_id)
    {
      *download = g_strdup_printf ("%s/api/recordings/%s/file", base, e->recording_id);
      *transcript = g_strdup_printf ("%s/api/recordings/%s/transcript", base, e->recording_id);
    }
  *s = (VgEgressSnapshot){ .info = e->info,
                           .updated_at_us = e->updated_at_us,
                           .transcript_size = e->transcript_size,
                           .download_url = *download,
                           .transcript_url = *transcript };
}

static void
publish (VgEgress *self, const VgEgressEntry *e)
{
  g_autofree char *download = NULL, *transcript = NULL, *json = NULL;
  VgEgressSnapshot s;
  VgEvent event = { 0 };

  entry_snapshot (self, e, &s, &download, &transcript);
  json = vg_egress_info_to_string (&s);
  switch (e->info->state)
    {
      case VG_RECORDING_STARTING:
        event.type = VG_EVENT_EGRESS_STARTED;
        break;
      case VG_RECORDING_ACTIVE:
      case VG_RECORDING_ENDING:
        event.type = VG_EVENT_EGRESS_UPDATED;
        break;
      case VG_RECORDING_COMPLETE:
      case VG_RECORDING_FAILED:
        event.type = VG_EVENT_EGRESS_ENDED;
        break;
    }
  event.room = e->info->room_name;
  event.room_sid = e->info->room_sid;
  event.egress_info_json = json;
  vg_events_emit (self->app->events, &event);
}

static void
store_start (VgEgress *self, VgEgressEntry *e)
{
  g_autoptr (GError) error = NULL;
  const VgRecordingInfo *info = e->info;

  if (!self->app->store)
    return;
  e->recording_id = vg_store_recording_start (
      self->app->store, info->id, info->room_name, info->participant_identity,
      vg_recording_kind_to_string (info->kind),
      info->started_at_us > 0 ? info->started_at_us : g_get_real_time (), &error);
  if (!e->recording_id)
    g_warning ("egress %s: not recorded in the store: %s", info->id, error->message);
}

static void
store_end (VgEgress *self, VgEgressEntry *e)
{
  g_autoptr (GError) error = NULL;
  const VgRecordingInfo *info = e->info;
  gboolean complete = info->state == VG_RECORDING_COMPLETE;
  g_autofree char *name = complete && info->path ? g_path_get_basename (info->path) : NULL;
  g_autofree char *vtt_name = NULL;
  VgStoreRecordingEnd end = {
    .status = complete ? "complete" : "failed",
    .error = info->error,
    .filename = name,
    .path = name ? info->path : NULL,
    .mime_type = name ? "audio/ogg" : NULL,
    .size_bytes = name ? (gint64)info->size_bytes : -1,
    .duration_ms = name ? info->duration_ns / 1000000 : -1,
    .transcript_size_bytes = -1,
    .ended_at_us = info->ended_at_us > 0 ? info->ended_at_us : g_get_real_time (),
  };

  if (complete && e->transcript_size >= 0)
    {
      vtt_name = g_path_get_basename (info->transcript_path);
      end.transcript_filename = vtt_name;
      end.transcript_path = info->transcript_path;
      end.transcript_size_bytes = e->transcript_size;
    }
  if (e->recording_id && !vg_store_recording_end (self->app->store, e->recording_id, &end, &error))
    g_warning ("egress %s: its end not recorded in the store: %s", info->id, error->message);
}

/* Ended entries beyond the bound go, oldest first. */
static void
trim_ended (VgEgress *self)
{
  for (GList *l = self->order.head; l && self->n_ended > VG_EGRESS_ENDED_KEPT;)
    {
      GList *next = l->next;
      VgEgressEntry *e = g_hash_table_lookup (self->by_id, l->data);

      if (is_ended (e->info->state))
        {
          char *key = l->data;
          g_queue_delete_link (&self->order, l);
          g_hash_table_remove (self->by_id, key);
          self->n_ended--;
        }
      l = next;
    }
}

/* The registry's observer: every state change of every recording. */
static void
on_state_changed (gpointer data, const VgRecordingInfo *info)
{
  VgEgress *self = data;
  VgEgressEntry *e = g_hash_table_lookup (self->by_id, info->id);
  GStatBuf st;

  if (!e)
    {
      char *key = g_strdup (info->id);
      e = g_new0 (VgEgressEntry, 1);
      e->transcript_size = -1;
      e->info = vg_recording_info_copy (info);
      g_hash_table_insert (self->by_id, key, e);
      g_queue_push_tail (&self->order, key);
      store_start (self, e);
    }
  else
    {
      vg_recording_info_free (e->info);
      e->info = vg_recording_info_copy (info);
    }
  e->updated_at_us = g_get_real_time ();
  if (info->state == VG_RECORDING_COMPLETE && info->transcript_path
      && g_stat (info->transcript_path, &st) == 0)
    e->transcript_size = st.st_size;
  publish (self, e);
  if (is_ended (info->state))
    {
      store_end (self, e);
      self->n_ended++;
      trim_ended (self);
    }
}

VgEgress *
vg_egress_new (VgApp *app, VgRooms *rooms)
{
  VgEgress *self = g_new0 (VgEgress, 1);

  self->app = app;
  self->rooms = rooms;
  self->by_id = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, entry_free);
  g_queue_init (&self->order);
  self->observer.state_changed = on_state_changed;
  vg_rooms_set_recording_observer (rooms, &self->observer, self);
  return self;
}

void
vg_egress_free (VgEgress *self)
{
  if (!self)
    return;
  g_queue_clear (&self->order);
  g_hash_table_unref (self->by_id);
  g_free (self);
}

char *
vg_egress_start (VgEgress *self, const char *room_name, const VgRecordingSpec *spec, GError **error)
{
  return vg_rooms_start_recording (self->rooms, room_name, spec, NULL, NULL, error);
}

gboolean
vg_egress_stop (VgEgress *self, const char *egress_id, GError **error)
{
  return vg_rooms_stop_recording (self->rooms, egress_id, error);
}

gboolean
vg_egress_is_running (VgEgress *self, const char *egress_id)
{
  VgEgressEntry *e = egress_id ? g_hash_table_lookup (self->by_id, egress_id) : NULL;
  return e && !is_ended (e->info->state);
}

static void
build_entry (VgEgress *self, JsonBuilder *b, const VgEgressEntry *e)
{
  g_autofree char *download = NULL, *transcript = NULL;
  VgEgressSnapshot s;

  entry_snapshot (self, e, &s, &download, &transcript);
  vg_egress_info_build (b, &s);
}

JsonNode *
vg_egress_info_json (VgEgress *self, const char *egress_id)
{
  g_autoptr (JsonBuilder) b = NULL;
  VgEgressEntry *e = g_hash_table_lookup (self->by_id, egress_id);

  if (!e)
    return NULL;
  b = json_builder_new ();
  build_entry (self, b, e);
  return json_builder_get_root (b);
}

JsonNode *
vg_egress_list_json (VgEgress *self, const char *room_name, const char *egress_id,
                     gboolean active_only)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "items");
  json_builder_begin_array (b);
  for (GList *l = self->order.head; l; l = l->next)
    {
      VgEgressEntry *e = g_hash_table_lookup (self->by_id, l->data);

      if ((room_name && g_strcmp0 (room_name, e->info->room_name) != 0)
          || (egress_id && g_strcmp0 (egress_id, e->info->id) != 0)
          || (active_only && is_ended (e->info->state)))
        continue;
      build_entry (self, b, e);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
