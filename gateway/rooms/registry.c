/* The room registry, the VgRooms of rooms.h: where a WHIP/WHEP join or the
 * room API enters the package. Owns the settings, the rooms (by name) and
 * the index of sessions (borrowed participants); registers the metric
 * families. Rooms reach it through room_host only. Main context only,
 * except warm_up (its own thread, touching no registry state). */
#include "gateway/rooms/shared-ice.h"
#include "gateway/rooms/room.h"
#include "gateway/rooms/recorders.h"
#include "gateway/rooms/sdp-offer.h"
#include "gateway/core/validate.h"
#include "vg-build-config.h"
#include <string.h>

G_DEFINE_QUARK (vg - rooms - error - quark, vg_rooms_error)

struct _VgRooms
{
  VgRoomsSettings settings;
  VgMetrics *metrics;
  VgRoomsMetrics m;
  GMainContext *context;
  GHashTable *rooms;    /* name -> VgRoom* (owned ref) */
  GHashTable *sessions; /* session id -> VgParticipant* (borrowed) */
  guint participant_serial;
  guint pending_teardowns; /* rooms and participants still stopping */
  GThread *warm_up;        /* loads plugins and the DTLS certificate at start */
  VgEvents *events;        /* where lifecycle and agent events go; may be NULL */
  const VgAgentHooks *agent_hooks; /* borrowed from the composition root; may be NULL */
  gpointer agent_hooks_data;
  VgRecorders *recorders; /* the rooms' recordings */
};

/* ---- settings ---- */

void
vg_rooms_settings_init_defaults (VgRoomsSettings *s)
{
  memset (s, 0, sizeof *s);
  s->auto_create = TRUE;
  s->empty_timeout_s = 300;
  s->max_participants = 0;
  /* 50 ms: about two voice frames of reordering and jitter on a Wi-Fi link,
   * while keeping the mouth-to-ear budget small. */
  s->jitter_latency_ms = 50;
  s->disconnect_timeout_ms = 15000;
  /* Enough for a slow TURN allocation and a user accepting the microphone. */
  s->join_timeout_ms = 30000;
  s->keep_private_host = TRUE;
  /* Off until the flake seen with it on is understood (RELIABILITY.md). */
  s->shared_ice = FALSE;
  /* Host candidates are ready in milliseconds; srflx/relay may need a STUN/TURN
   * round trip. Beyond this the answer goes out with what was gathered. */
  s->ice_gather_timeout_ms = 2000;
  /* Loss and jitter move slowly; sampling costs a stats walk per participant. */
  s->stats_interval_s = 5;
  s->pipelines_dir = g_build_filename (VOXGATE_SOURCE_DIR, "pipelines", NULL);
  s->default_pipeline
      = g_strdup (g_getenv ("OPENAI_API_KEY") && *g_getenv ("OPENAI_API_KEY") ? "tutor.pipeline"
                                                                              : "echo.pipeline");
}

/* webrtcbin wants "stun://host:port" and "turn(s)://user:pass@host:port";
 * the configuration also accepts the RFC 7064/7065 "stun:host:port" form. */
static char *
normalize_ice_url (char *url)
{
  static const char *const schemes[] = { "stun", "turns", "turn", NULL };
  if (!url)
    return NULL;
  for (guint i = 0; schemes[i]; i++)
    {
      gsize n = strlen (schemes[i]);
      if (g_ascii_strncasecmp (url, schemes[i], n) == 0 && url[n] == ':'
          && strncmp (url + n + 1, "//", 2) != 0)
        {
          char *fixed = g_strdup_printf ("%s://%s", schemes[i], url + n + 1);
          g_free (url);
          return fixed;
        }
    }
  return url;
}

static char *
config_string (VgConfig *config, const char *section, const char *key)
{
  const char *v = vg_config_get_string (config, section, key);
  return v && *v ? g_strdup (v) : NULL;
}

void
vg_rooms_settings_init_from_config (VgRoomsSettings *s, VgConfig *config)
{
  vg_rooms_settings_init_defaults (s);
  s->auto_create = vg_config_get_bool (config, "rooms", "auto_create");
  s->empty_timeout_s
      = (guint)CLAMP (vg_config_get_int (config, "rooms", "empty_timeout"), 1, G_MAXINT);
  s->max_participants
      = (guint)CLAMP (vg_config_get_int (config, "rooms", "max_participants"), 0, G_MAXINT);
  s->stun_server = normalize_ice_url (config_string (config, "webrtc", "stun_server"));
  s->turn_server = normalize_ice_url (config_string (config, "webrtc", "turn_server"));
  s->ice_port_min = (guint)CLAMP (vg_config_get_int (config, "webrtc", "ice_port_min"), 0, 65535);
  s->ice_port_max = (guint)CLAMP (vg_config_get_int (config, "webrtc", "ice_port_max"), 0, 65535);
  s->nat_address = config_string (config, "webrtc", "nat_1_1_address");
  s->keep_private_host = vg_config_get_bool (config, "webrtc", "keep_private_host");
  s->ice_addresses = vg_config_get_list (config, "webrtc", "ice_addresses");
  if (s->ice_addresses && !s->ice_addresses[0])
    g_clear_pointer (&s->ice_addresses, g_strfreev);
  s->shared_ice = vg_config_get_bool (config, "webrtc", "shared_ice");
  s->jitter_latency_ms
      = (guint)CLAMP (vg_config_get_int (config, "webrtc", "jitter_latency_ms"), 0, 5000);
  s->disconnect_timeout_ms
      = (guint)CLAMP (vg_config_get_int (config, "webrtc", "disconnect_timeout"), 1, 3600) * 1000;
  s->join_timeout_ms
      = (guint)CLAMP (vg_config_get_int (config, "webrtc", "join_timeout"), 1, 3600) * 1000;
  char *dir = config_string (config, "agent", "pipelines_dir");
  if (dir)
    {
      g_free (s->pipelines_dir);
      s->pipelines_dir = dir;
    }
  char *pipeline = config_string (config, "agent", "pipeline");
  if (pipeline)
    {
      g_free (s->default_pipeline);
      s->default_pipeline = pipeline;
    }
  s->agent_url = config_string (config, "agent", "realtime_url");
  s->agent_model = config_string (config, "agent", "model");
  s->agent_voice = config_string (config, "agent", "voice");
  s->agent_instructions = config_string (config, "agent", "instructions");
  s->recording_enabled = vg_config_get_bool (config, "recording", "enabled");
  s->recording_dir = config_string (config, "recording", "dir");
  if (!s->recording_dir)
    s->recording_dir = g_build_filename (vg_config_get_string (config, "server", "data_dir"),
                                         "recordings", NULL);
}

void
vg_rooms_settings_clear (VgRoomsSettings *s)
{
  g_clear_pointer (&s->stun_server, g_free);
  g_clear_pointer (&s->turn_server, g_free);
  g_clear_pointer (&s->nat_address, g_free);
  g_clear_pointer (&s->ice_addresses, g_strfreev);
  g_clear_pointer (&s->pipelines_dir, g_free);
  g_clear_pointer (&s->default_pipeline, g_free);
  g_clear_pointer (&s->agent_url, g_free);
  g_clear_pointer (&s->agent_model, g_free);
  g_clear_pointer (&s->agent_voice, g_free);
  g_clear_pointer (&s->agent_instructions, g_free);
  g_clear_pointer (&s->recording_dir, g_free);
}

static void
settings_copy (VgRoomsSettings *dst, const VgRoomsSettings *src)
{
  *dst = *src;
  dst->stun_server = g_strdup (src->stun_server);
  dst->turn_server = g_strdup (src->turn_server);
  dst->nat_address = g_strdup (src->nat_address);
  dst->ice_addresses = g_strdupv (src->ice_addresses);
  dst->pipelines_dir = g_strdup (src->pipelines_dir);
  dst->default_pipeline = g_strdup (src->default_pipeline);
  dst->agent_url = g_strdup (src->agent_url);
  dst->agent_model = g_strdup (src->agent_model);
  dst->agent_voice = g_strdup (src->agent_voice);
  dst->agent_instructions = g_strdup (src->agent_instructions);
  dst->recording_dir = g_strdup (src->recording_dir);
}

/* ---- registry ---- */

VgRooms *
vg_rooms_new_with_settings (const VgRoomsSettings *settings, VgMetrics *metrics)
{
  VgRooms *rooms = g_new0 (VgRooms, 1);
  settings_copy (&rooms->settings, settings);
  rooms->metrics = metrics;
  rooms->context = g_main_context_ref_thread_default ();
  rooms->rooms
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)vg_room_unref);
  rooms->sessions = g_hash_table_new (g_str_hash, g_str_equal);
  vg_rooms_metrics_register (&rooms->m, metrics);
  rooms->recorders = vg_recorders_new (rooms->context, metrics, rooms->settings.recording_dir);
  return rooms;
}

/* Otherwise the first session of a process pays for loading the WebRTC and
 * codec plugins and for generating the process's DTLS certificate (made when
 * the first DTLS element is created): about 190 ms of its time to first
 * audio on the benchmark machine. */
static gpointer
warm_up (gpointer data)
{
  static const char *const factories[]
      = { "webrtcbin", "dtlsdec", "nicesrc",    "sctpenc", "rtpopusdepay",
          "opusdec",   "opusenc", "audiomixer", NULL };
  for (guint i = 0; factories[i]; i++)
    {
      GstElement *e = gst_element_factory_make (factories[i], NULL);
      if (e)
        gst_object_unref (gst_object_ref_sink (e));
    }
  return NULL;
}

VgRooms *
vg_rooms_new (VgApp *app)
{
  VgRoomsSettings settings;
  vg_rooms_settings_init_from_config (&settings, app->config);
  VgRooms *rooms = vg_rooms_new_with_settings (&settings, app->metrics);
  rooms->events = app->events;
  vg_rooms_settings_clear (&settings);
  rooms->warm_up = g_thread_new ("vg-warm-up", warm_up, NULL);
  return rooms;
}

void
vg_rooms_free (VgRooms *rooms)
{
  if (!rooms)
    return;
  if (rooms->warm_up)
    g_thread_join (rooms->warm_up);
  vg_shared_ice_release ();
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, rooms->rooms);
  while (g_hash_table_iter_next (&it, NULL, &value))
    vg_room_close (value, TRUE);
  g_hash_table_unref (rooms->rooms);
  /* The rooms' recordings were told to end as their rooms closed: let
   * their files close and their callbacks run. */
  vg_recorders_free (rooms->recorders);
  /* Rooms and participants still stopping refer to the registry: let them
   * finish (they only wait for GStreamer worker threads). */
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (rooms->pending_teardowns > 0 && g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (rooms->context, FALSE))
      g_usleep (1000);
  if (rooms->pending_teardowns > 0)
    g_warning ("rooms: %u teardowns did not finish", rooms->pending_teardowns);
  g_hash_table_unref (rooms->sessions);
  vg_rooms_settings_clear (&rooms->settings);
  g_main_context_unref (rooms->context);
  g_free (rooms);
}

const VgRoomsSettings *
vg_rooms_get_settings (VgRooms *rooms)
{
  return &rooms->settings;
}

static void
update_room_gauge (VgRooms *rooms)
{
  if (rooms->m.rooms)
    vg_metric_set (rooms->m.rooms, NULL, g_hash_table_size (rooms->rooms));
}

static void
update_participant_gauge (VgRooms *rooms)
{
  if (!rooms->m.participants)
    return;
  guint total = 0;
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, rooms->rooms);
  while (g_hash_table_iter_next (&it, NULL, &value))
    total += vg_room_count_participants (value);
  vg_metric_set (rooms->m.participants, NULL, total);
}

/* ---- what rooms tell the registry (room.h) ---- */

static void
session_added (VgRooms *rooms, VgParticipant *p)
{
  g_hash_table_insert (rooms->sessions, (gpointer)vg_participant_get_session_id (p), p);
}

static void
session_removed (VgRooms *rooms, VgParticipant *p)
{
  g_hash_table_remove (rooms->sessions, vg_participant_get_session_id (p));
}

static void
participants_changed (VgRooms *rooms)
{
  if (!rooms->m.participants)
    return;
  update_participant_gauge (rooms);
  vg_metric_set (rooms->m.rooms, NULL, g_hash_table_size (rooms->rooms));
}

static void
teardown_started (VgRooms *rooms)
{
  rooms->pending_teardowns++;
}

static void
teardown_finished (VgRooms *rooms)
{
  rooms->pending_teardowns--;
}

static void
room_empty (VgRooms *rooms, VgRoom *room)
{
  vg_rooms_delete (rooms, vg_room_get_name (room), NULL);
}

static guint
next_participant_serial (VgRooms *rooms)
{
  return ++rooms->participant_serial;
}

static const VgAgentHooks *
agent_hooks (VgRooms *rooms, gpointer *data)
{
  *data = rooms->agent_hooks_data;
  return rooms->agent_hooks;
}

static void
room_closing (VgRooms *rooms, VgRoom *room)
{
  vg_recorders_room_closing (rooms->recorders, room);
}

static void
participant_leaving (VgRooms *rooms, VgParticipant *p)
{
  vg_recorders_participant_leaving (rooms->recorders, p);
}

static void
agent_message (VgRooms *rooms, VgRoom *room, const GstStructure *s)
{
  vg_recorders_agent_message (rooms->recorders, room, s);
}

static const VgRoomHost room_host = {
  .agent_hooks = agent_hooks,
  .room_closing = room_closing,
  .participant_leaving = participant_leaving,
  .agent_message = agent_message,
  .session_added = session_added,
  .session_removed = session_removed,
  .participants_changed = participants_changed,
  .teardown_started = teardown_started,
  .teardown_finished = teardown_finished,
  .empty = room_empty,
  .next_participant_serial = next_participant_serial,
};

void
vg_rooms_set_agent_hooks (VgRooms *rooms, const VgAgentHooks *hooks, gpointer data)
{
  rooms->agent_hooks = hooks;
  rooms->agent_hooks_data = hooks ? data : NULL;
}

gboolean
vg_rooms_answer_tool_call (VgRooms *rooms, const char *room_name, const char *call_id,
                           const char *output_json)
{
  VgRoom *room = vg_rooms_lookup (rooms, room_name);
  return room && vg_room_answer_tool_call (room, call_id, output_json);
}

gboolean
vg_rooms_set_subtopic (VgRooms *rooms, const char *room_name, gint64 subtopic_id)
{
  VgRoom *room = vg_rooms_lookup (rooms, room_name);
  return room && vg_room_set_subtopic (room, subtopic_id);
}

gboolean
vg_rooms_set_agent_instructions (VgRooms *rooms, const char *room_name, const char *instructions)
{
  VgRoom *room = vg_rooms_lookup (rooms, room_name);
  return room && vg_room_set_agent_instructions (room, instructions);
}

gboolean
vg_rooms_agent_respond (VgRooms *rooms, const char *room_name, const char *instructions)
{
  VgRoom *room = vg_rooms_lookup (rooms, room_name);
  return room && vg_room_agent_respond (room, instructions);
}

gboolean
vg_rooms_leave_after_reply (VgRooms *rooms, const char *room_name, const char *identity,
                            guint timeout_ms)
{
  VgRoom *room = vg_rooms_lookup (rooms, room_name);
  return room && identity && vg_room_leave_after_reply (room, identity, timeout_ms);
}

VgRoom *
vg_rooms_create (VgRooms *rooms, const char *name, const VgRoomOptions *options, GError **error)
{
  if (!vg_validate_room_name (name))
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_INVALID, "%s", VG_ROOM_NAME_RULE);
      return NULL;
    }
  if (g_hash_table_contains (rooms->rooms, name))
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_EXISTS, "room %s exists", name);
      return NULL;
    }
  const char *template_name = options && options->template_name ? options->template_name
                                                                : rooms->settings.default_pipeline;
  guint max = options && options->max_participants ? options->max_participants
                                                   : rooms->settings.max_participants;
  guint empty = options && options->empty_timeout_s >= 0 ? (guint)options->empty_timeout_s
                                                         : rooms->settings.empty_timeout_s;
  VgRoomSetup setup = {
    .name = name,
    .template_name = template_name,
    .metadata = options ? options->metadata : NULL,
    .subtopic_id = options ? options->subtopic_id : 0,
    .max_participants = max,
    .empty_timeout_s = empty,
    .context = rooms->context,
    .settings = &rooms->settings,
    .metrics = &rooms->m,
    .events = rooms->events,
    .host = &room_host,
    .rooms = rooms,
  };
  VgRoom *room = vg_room_new (&setup, error);
  if (!room)
    return NULL;
  g_hash_table_insert (rooms->rooms, g_strdup (name), room);
  update_room_gauge (rooms);
  g_message ("rooms: created %s (agent %s)", name, template_name);
  vg_room_publish_started (room);
  if (rooms->settings.recording_enabled)
    {
      VgRecordingSpec spec = { .kind = VG_RECORDING_ROOM_COMPOSITE };
      g_autoptr (GError) rec_error = NULL;
      g_autofree char *id
          = vg_recorders_start (rooms->recorders, room, &spec, NULL, NULL, &rec_error);
      if (!id)
        g_warning ("rooms: %s is not recorded: %s", name, rec_error->message);
    }
  return room;
}

VgRoom *
vg_rooms_lookup (VgRooms *rooms, const char *name)
{
  return name ? g_hash_table_lookup (rooms->rooms, name) : NULL;
}

VgRoom *
vg_rooms_lookup_or_create (VgRooms *rooms, const char *name, GError **error)
{
  VgRoom *room = vg_rooms_lookup (rooms, name);
  if (room)
    return room;
  if (!rooms->settings.auto_create)
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_NOT_FOUND, "room %s does not exist", name);
      return NULL;
    }
  return vg_rooms_create (rooms, name, NULL, error);
}

static gint
compare_rooms (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (vg_room_get_name (*(VgRoom **)a), vg_room_get_name (*(VgRoom **)b));
}

GPtrArray *
vg_rooms_list (VgRooms *rooms)
{
  GPtrArray *list = g_ptr_array_new ();
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, rooms->rooms);
  while (g_hash_table_iter_next (&it, NULL, &value))
    g_ptr_array_add (list, value);
  g_ptr_array_sort (list, compare_rooms);
  return list;
}

guint
vg_rooms_count (VgRooms *rooms)
{
  return g_hash_table_size (rooms->rooms);
}

gboolean
vg_rooms_delete (VgRooms *rooms, const char *name, GError **error)
{
  gpointer key = NULL, value = NULL;
  if (!name || !g_hash_table_steal_extended (rooms->rooms, name, &key, &value))
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_NOT_FOUND, "room %s does not exist",
                   name ? name : "");
      return FALSE;
    }
  VgRoom *room = value;
  vg_room_close (room, FALSE);
  vg_room_unref (room);
  g_free (key);
  update_room_gauge (rooms);
  update_participant_gauge (rooms);
  return TRUE;
}

VgParticipant *
vg_rooms_lookup_session (VgRooms *rooms, const char *session_id)
{
  return session_id ? g_hash_table_lookup (rooms->sessions, session_id) : NULL;
}

gboolean
vg_rooms_check_offer (const char *offer_sdp, GError **error)
{
  VgOffer offer;
  if (!vg_offer_parse (offer_sdp, &offer, error))
    return FALSE;
  vg_offer_clear (&offer);
  return TRUE;
}

/* ---- recordings (room-recorder.h) ---- */

void
vg_rooms_set_recording_observer (VgRooms *rooms, const VgRecordingCallbacks *callbacks,
                                 gpointer data)
{
  vg_recorders_set_observer (rooms->recorders, callbacks, data);
}

char *
vg_rooms_start_recording (VgRooms *rooms, const char *room_name, const VgRecordingSpec *spec,
                          const VgRecordingCallbacks *callbacks, gpointer data, GError **error)
{
  VgRoom *room = vg_rooms_lookup (rooms, room_name);
  if (!room)
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_NOT_FOUND, "room %s does not exist",
                   room_name ? room_name : "");
      return NULL;
    }
  return vg_recorders_start (rooms->recorders, room, spec, callbacks, data, error);
}

gboolean
vg_rooms_stop_recording (VgRooms *rooms, const char *id, GError **error)
{
  return vg_recorders_stop (rooms->recorders, id, error);
}

GPtrArray *
vg_rooms_list_recordings (VgRooms *rooms, const char *room_name)
{
  return vg_recorders_list (rooms->recorders, room_name);
}

VgRecordingInfo *
vg_rooms_get_recording (VgRooms *rooms, const char *id)
{
  return vg_recorders_get (rooms->recorders, id);
}

GstPipeline *
vg_rooms_get_recording_pipeline (VgRooms *rooms, const char *id)
{
  return vg_recorders_get_pipeline (rooms->recorders, id);
}
