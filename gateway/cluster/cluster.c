/* The node registry, placement and shared room state (cluster.h). Each
 * operation is one Lua script (gateway/cluster/lua/), so every Redis call
 * is a single asynchronous EVALSHA and every multi-key change is atomic.
 * Every reply is a JSON text made by the script; it is checked here (types,
 * sizes) before use, so bad data in Redis is an error for one key. */
#include "gateway/cluster/cluster.h"
#include "gateway/cluster/cluster-scripts.h"

#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/resource.h>

#define KEY_PREFIX "vg:"
/* Script replies are small JSON texts; a list of rooms is the largest. */
#define MAX_REPLY_BYTES (32 * 1024 * 1024)
/* A room's and a session's state outlive the owner's heartbeat TTL a few
 * times over: they are refreshed on every heartbeat and only read through a
 * live owner, so their TTL only bounds what a crashed node leaves behind. */
#define STATE_TTL_FACTOR 5

G_DEFINE_QUARK (vg - cluster - error - quark, vg_cluster_error)

struct _VgCluster
{
  VgApp *app;
  VgRedis *redis;
  const VgClusterHost *host;
  gpointer host_data;
  char *node_id, *url;
  guint interval_s, dead_after_s, max_sessions;
  gboolean draining;
  VgClusterScripts *scripts;
  guint heartbeat_source, dirty_source, state_handler;
  gboolean heartbeat_in_flight;
  GHashTable *dirty;  /* room names to write on the next idle */
  GHashTable *synced; /* room names this node wrote as its own */
  gint64 cpu_last_us, cpu_wall_last_us;
  double cpu;
  VgMetric *placements, *routed, *draining_gauge;
  /* Each script in flight holds a reference, so a reply that arrives after
   * vg_cluster_free (the client fails pending commands when it is freed)
   * finds the cluster and its scripts still allocated; closed says so. */
  guint refs;
  gboolean closed;
};

static void
cluster_unref (VgCluster *c)
{
  if (--c->refs > 0)
    return;
  g_hash_table_unref (c->dirty);
  g_hash_table_unref (c->synced);
  vg_cluster_scripts_free (c->scripts);
  g_free (c->node_id);
  g_free (c->url);
  g_free (c);
}

typedef struct
{
  VgCluster *cluster;
  VgRedisReplyFunc done;
  gpointer data;
  GDestroyNotify notify;
} VgEvalCall;

static void
eval_replied (VgRedis *redis, const redisReply *reply, const GError *error, gpointer data)
{
  VgEvalCall *call = data;
  if (call->done)
    call->done (redis, reply, error, call->data);
}

static void
eval_free (gpointer data)
{
  VgEvalCall *call = data;
  if (call->notify)
    call->notify (call->data);
  cluster_unref (call->cluster);
  g_free (call);
}

/* Every script goes through here (see refs). */
static void
cluster_eval (VgCluster *c, VgClusterScriptId id, guint nkeys, const char *const *keys, guint nargs,
              const char *const *args, VgRedisReplyFunc done, gpointer data, GDestroyNotify notify)
{
  VgEvalCall *call = g_new0 (VgEvalCall, 1);
  call->cluster = c;
  call->done = done;
  call->data = data;
  call->notify = notify;
  c->refs++;
  vg_redis_eval (c->redis, vg_cluster_scripts_get (c->scripts, id), nkeys, keys, nargs, args,
                 eval_replied, call, eval_free);
}

static void
count_placement (VgCluster *c, const char *result)
{
  const char *labels[] = { result };
  if (c->closed)
    return;
  vg_metric_add (c->placements, labels, 1);
}

void
vg_cluster_count_routed (VgCluster *cluster, const char *action)
{
  const char *labels[] = { action };
  vg_metric_add (cluster->routed, labels, 1);
}

VgClusterRoom *
vg_cluster_room_new (const char *name, gint64 created_at)
{
  VgClusterRoom *room = g_new0 (VgClusterRoom, 1);
  room->name = g_strdup (name);
  room->created_at = created_at;
  room->session_ids = g_ptr_array_new_with_free_func (g_free);
  room->identities = g_ptr_array_new_with_free_func (g_free);
  return room;
}

void
vg_cluster_room_free (VgClusterRoom *room)
{
  if (!room)
    return;
  g_free (room->name);
  for (guint i = 0; i < VG_CLUSTER_N_VIEWS; i++)
    g_free (room->views[i]);
  g_ptr_array_unref (room->session_ids);
  g_ptr_array_unref (room->identities);
  g_free (room);
}

/* --- replies ------------------------------------------------------------ */

/* The script's JSON reply as an object, or NULL with error. */
static JsonObject *
parse_reply (const redisReply *reply, const GError *redis_error, JsonNode **root, GError **error)
{
  const char *text = NULL;
  if (redis_error)
    {
      g_set_error (error, VG_CLUSTER_ERROR,
                   redis_error->code == VG_REDIS_ERROR_REPLY ? VG_CLUSTER_ERROR_STATE
                                                             : VG_CLUSTER_ERROR_DOWN,
                   "%s", redis_error->message);
      return NULL;
    }
  if (!vg_redis_reply_get_string (reply, MAX_REPLY_BYTES, FALSE, &text, "cluster script reply",
                                  error))
    return NULL;
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, VG_CLUSTER_ERROR, VG_CLUSTER_ERROR_STATE,
                   "cluster script reply is not a JSON object");
      return NULL;
    }
  *root = json_node_ref (json_parser_get_root (parser));
  JsonObject *obj = json_node_get_object (*root);
  const char *script_error = NULL;
  if (json_object_has_member (obj, "error"))
    {
      JsonNode *e = json_object_get_member (obj, "error");
      script_error = JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING
                         ? json_node_get_string (e)
                         : "unreadable state";
      g_set_error (error, VG_CLUSTER_ERROR,
                   g_str_equal (script_error, "draining") ? VG_CLUSTER_ERROR_DRAINING
                                                          : VG_CLUSTER_ERROR_STATE,
                   "%s", script_error);
      g_clear_pointer (root, json_node_unref);
      return NULL;
    }
  return obj;
}

/* A string member of at most max bytes, NULL when absent or of another type. */
static const char *
member_string (JsonObject *obj, const char *name, gsize max)
{
  JsonNode *n = json_object_get_member (obj, name);
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  const char *s = json_node_get_string (n);
  return strlen (s) <= max ? s : NULL;
}

/* Fills info from a room or session object; FALSE when owner or URL is
 * missing or not a string (someone else's data in our keys). */
static gboolean
read_info (VgCluster *c, JsonObject *obj, VgClusterInfo *info)
{
  *info = (VgClusterInfo){
    .name = member_string (obj, "name", 256),
    .owner = member_string (obj, "owner", 256),
    .url = member_string (obj, "url", 2048),
    .view = member_string (obj, "view", MAX_REPLY_BYTES),
    .room = member_string (obj, "room", 256),
    .identity = member_string (obj, "identity", 1024),
  };
  if (info->view && !*info->view)
    info->view = NULL; /* placed, not written by its owner yet */
  if (!info->owner || !info->url || !g_str_has_prefix (info->url, "http"))
    return FALSE;
  info->local = g_str_equal (info->owner, c->node_id);
  return TRUE;
}

/* --- heartbeat and room state -------------------------------------------- */

static double
cpu_fraction (VgCluster *c)
{
  struct rusage ru;
  if (getrusage (RUSAGE_SELF, &ru) != 0)
    return c->cpu;
  gint64 cpu_us = (gint64)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * G_USEC_PER_SEC
                  + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
  gint64 now = g_get_monotonic_time ();
  if (c->cpu_wall_last_us > 0 && now > c->cpu_wall_last_us)
    c->cpu = (double)(cpu_us - c->cpu_last_us) / (double)(now - c->cpu_wall_last_us);
  c->cpu_last_us = cpu_us;
  c->cpu_wall_last_us = now;
  return c->cpu;
}

static char *
node_json (VgCluster *c)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "url");
  json_builder_add_string_value (b, c->url);
  json_builder_set_member_name (b, "sessions");
  json_builder_add_int_value (b, c->host->count_sessions (c->host_data));
  json_builder_set_member_name (b, "rooms");
  json_builder_add_int_value (b, c->host->count_rooms (c->host_data));
  json_builder_set_member_name (b, "cpu");
  json_builder_add_double_value (b, cpu_fraction (c));
  json_builder_set_member_name (b, "capacity");
  json_builder_add_int_value (b, c->max_sessions);
  json_builder_set_member_name (b, "draining");
  json_builder_add_boolean_value (b, c->draining);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

static char *
rooms_json (GPtrArray *rooms)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; i < rooms->len; i++)
    {
      VgClusterRoom *r = g_ptr_array_index (rooms, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, r->name);
      json_builder_set_member_name (b, "created_at");
      json_builder_add_int_value (b, r->created_at);
      json_builder_set_member_name (b, "views");
      json_builder_begin_array (b);
      for (guint v = 0; v < VG_CLUSTER_N_VIEWS; v++)
        json_builder_add_string_value (b, r->views[v] ? r->views[v] : "");
      json_builder_end_array (b);
      json_builder_set_member_name (b, "sessions");
      json_builder_begin_array (b);
      for (guint s = 0; s < r->session_ids->len; s++)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "id");
          json_builder_add_string_value (b, g_ptr_array_index (r->session_ids, s));
          json_builder_set_member_name (b, "identity");
          json_builder_add_string_value (b, g_ptr_array_index (r->identities, s));
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  /* An empty array must stay an array for cjson ("[]", not "{}"). */
  return json_to_string (root, FALSE);
}

static void
forget_full (VgCluster *c, GPtrArray *room_names, gboolean leaving, VgRedisReplyFunc done,
             gpointer data, GDestroyNotify notify)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; i < room_names->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (room_names, i));
  json_builder_end_array (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *names = json_to_string (root, FALSE);
  const char *args[] = { KEY_PREFIX, c->node_id, names, "[]", leaving ? "1" : "0" };
  cluster_eval (c, VG_CLUSTER_SCRIPT_FORGET, 0, NULL, G_N_ELEMENTS (args), args, done, data,
                notify);
}

static void
forget (VgCluster *c, GPtrArray *room_names)
{
  if (room_names->len > 0)
    forget_full (c, room_names, FALSE, NULL, NULL, NULL);
}

typedef struct
{
  GSourceFunc done;
  gpointer data;
} VgLeaveCall;

static void
left (VgRedis *redis, const redisReply *reply, const GError *error, gpointer data)
{
  VgLeaveCall *call = data;
  if (error)
    g_warning ("cluster: leaving the registry failed (%s); the node expires with its heartbeat",
               error->message);
  call->done (call->data);
}

void
vg_cluster_leave (VgCluster *c, GSourceFunc done, gpointer data)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  GHashTableIter it;
  gpointer key;
  g_clear_handle_id (&c->heartbeat_source, g_source_remove);
  g_hash_table_iter_init (&it, c->synced);
  while (g_hash_table_iter_next (&it, &key, NULL))
    g_ptr_array_add (names, key);
  VgLeaveCall *call = g_new0 (VgLeaveCall, 1);
  call->done = done;
  call->data = data;
  /* Down: answered from an idle with an error, as every command is. */
  forget_full (c, names, TRUE, left, call, g_free);
  g_hash_table_remove_all (c->synced);
}

typedef struct
{
  VgCluster *cluster;
  gboolean heartbeat;
} VgSyncCall;

static void
synced (VgRedis *redis, const redisReply *reply, const GError *redis_error, gpointer data)
{
  VgSyncCall *call = data;
  VgCluster *c = call->cluster;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = NULL;

  if (call->heartbeat)
    c->heartbeat_in_flight = FALSE;
  if (c->closed)
    return;
  JsonObject *obj = parse_reply (reply, redis_error, &root, &error);
  if (!obj)
    {
      /* Down is already logged by the client and counted in its metrics. */
      if (!g_error_matches (error, VG_CLUSTER_ERROR, VG_CLUSTER_ERROR_DOWN))
        g_warning ("cluster: writing this node's state failed: %s", error->message);
      return;
    }
  JsonNode *n = json_object_get_member (obj, "conflicts");
  JsonArray *conflicts = n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
  for (guint i = 0; conflicts && i < json_array_get_length (conflicts); i++)
    {
      JsonNode *e = json_array_get_element (conflicts, i);
      if (JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING)
        g_warning ("cluster: room %s is served here but owned by another live node "
                   "(both placed it while Redis was unreachable); new joins go to that node",
                   json_node_get_string (e));
    }
}

/* Writes the heartbeat and the state of the given rooms (all when only is
 * NULL; rooms that closed since the last full write are released). */
static void
sync_state (VgCluster *c, const char *only, gboolean heartbeat)
{
  if (!vg_redis_is_up (c->redis))
    return;
  g_autoptr (GPtrArray) rooms = c->host->snapshot (c->host_data, only);
  if (!only)
    {
      g_autoptr (GHashTable) now = g_hash_table_new (g_str_hash, g_str_equal);
      for (guint i = 0; i < rooms->len; i++)
        g_hash_table_add (now, ((VgClusterRoom *)g_ptr_array_index (rooms, i))->name);
      g_autoptr (GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
      GHashTableIter it;
      gpointer key;
      g_hash_table_iter_init (&it, c->synced);
      while (g_hash_table_iter_next (&it, &key, NULL))
        if (!g_hash_table_contains (now, key))
          {
            g_ptr_array_add (gone, g_strdup (key));
            g_hash_table_iter_remove (&it);
          }
      forget (c, gone);
    }
  for (guint i = 0; i < rooms->len; i++)
    g_hash_table_add (c->synced, g_strdup (((VgClusterRoom *)g_ptr_array_index (rooms, i))->name));

  g_autofree char *now_ms = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / 1000);
  g_autofree char *node_ttl = g_strdup_printf ("%u", c->dead_after_s * 1000);
  g_autofree char *state_ttl = g_strdup_printf ("%u", c->dead_after_s * 1000 * STATE_TTL_FACTOR);
  g_autofree char *node = node_json (c);
  g_autofree char *list = rooms_json (rooms);
  const char *args[]
      = { KEY_PREFIX, c->node_id, now_ms, node_ttl, state_ttl, state_ttl, node, list };
  VgSyncCall *call = g_new0 (VgSyncCall, 1);
  call->cluster = c;
  call->heartbeat = heartbeat;
  if (heartbeat)
    c->heartbeat_in_flight = TRUE;
  cluster_eval (c, VG_CLUSTER_SCRIPT_SYNC, 0, NULL, G_N_ELEMENTS (args), args, synced, call,
                g_free);
}

static gboolean
heartbeat_tick (gpointer data)
{
  VgCluster *c = data;
  /* A slow Redis must not pile heartbeats up: the client times the one in
   * flight out (and reconnects), then the next tick sends again. */
  if (!c->heartbeat_in_flight)
    sync_state (c, NULL, TRUE);
  return G_SOURCE_CONTINUE;
}

static gboolean
write_dirty (gpointer data)
{
  VgCluster *c = data;
  c->dirty_source = 0;
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, c->dirty);
  while (g_hash_table_iter_next (&it, &key, NULL))
    sync_state (c, key, FALSE);
  g_hash_table_remove_all (c->dirty);
  return G_SOURCE_REMOVE;
}

void
vg_cluster_room_changed (VgCluster *cluster, const char *room)
{
  g_hash_table_add (cluster->dirty, g_strdup (room));
  if (!cluster->dirty_source)
    cluster->dirty_source = g_idle_add (write_dirty, cluster);
}

static void
on_event (const VgEvent *event, gpointer data)
{
  VgCluster *c = data;
  if (!event->room || !vg_event_type_is_lifecycle (event->type))
    return;
  if (event->type != VG_EVENT_ROOM_FINISHED)
    {
      vg_cluster_room_changed (c, event->room);
      return;
    }
  g_hash_table_remove (c->dirty, event->room);
  g_hash_table_remove (c->synced, event->room);
  if (vg_redis_is_up (c->redis))
    {
      g_autoptr (GPtrArray) names = g_ptr_array_new ();
      g_ptr_array_add (names, (gpointer)event->room);
      forget (c, names);
    }
}

static void
on_redis_state (VgRedis *redis, gboolean up, gpointer data)
{
  VgCluster *c = data;
  if (!up)
    {
      g_warning ("cluster: Redis is unreachable: new rooms are placed on this node, rooms "
                 "elsewhere are not listed until it is back");
      c->heartbeat_in_flight = FALSE;
      return;
    }
  g_message ("cluster: Redis is up: registering node %s and its rooms", c->node_id);
  c->heartbeat_in_flight = FALSE;
  sync_state (c, NULL, TRUE);
}

VgCluster *
vg_cluster_new (VgApp *app, VgRedis *redis, const VgClusterHost *host, gpointer host_data)
{
  VgCluster *c = g_new0 (VgCluster, 1);
  c->app = app;
  c->redis = redis;
  c->host = host;
  c->host_data = host_data;
  c->node_id = g_strdup (vg_cluster_node_id_from_config (app->config));
  c->url = g_strdup (app->public_url);
  c->interval_s = vg_config_get_int (app->config, "node", "heartbeat_interval");
  c->dead_after_s = vg_config_get_int (app->config, "node", "dead_after");
  c->max_sessions = vg_config_get_int (app->config, "node", "max_sessions");
  if (c->dead_after_s < 2 * c->interval_s)
    {
      g_warning ("cluster: [node] dead_after %u s is less than two heartbeats; using %u s",
                 c->dead_after_s, 2 * c->interval_s);
      c->dead_after_s = 2 * c->interval_s;
    }
  static const char *const result_label[] = { "result", NULL };
  static const char *const action_label[] = { "action", NULL };
  c->placements = vg_metrics_register (
      app->metrics, VG_METRIC_COUNTER, "voxgate_cluster_placements_total",
      "Rooms looked up or placed for a join or creation, by result (local, remote, degraded = "
      "Redis unreachable so served here, error)",
      result_label, NULL);
  c->routed = vg_metrics_register (app->metrics, VG_METRIC_COUNTER, "voxgate_cluster_routed_total",
                                   "Requests for rooms of other nodes, by action (redirect, "
                                   "forward, view = served from Redis)",
                                   action_label, NULL);
  c->draining_gauge
      = vg_metrics_register (app->metrics, VG_METRIC_GAUGE, "voxgate_cluster_draining",
                             "1 while this node takes no new rooms", NULL, NULL);
  vg_metric_set (c->draining_gauge, NULL, 0);
  c->scripts = vg_cluster_scripts_new ();
  c->refs = 1;
  c->dirty = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  c->synced = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  c->state_handler = vg_redis_add_state_handler (redis, on_redis_state, c, NULL);
  vg_events_subscribe (app->events, on_event, c);
  c->heartbeat_source = g_timeout_add_seconds (c->interval_s, heartbeat_tick, c);
  g_message ("cluster: node %s at %s, heartbeat every %u s, dead after %u s", c->node_id, c->url,
             c->interval_s, c->dead_after_s);
  sync_state (c, NULL, TRUE);
  return c;
}

void
vg_cluster_free (VgCluster *c)
{
  if (!c)
    return;
  if (vg_redis_is_up (c->redis) && g_hash_table_size (c->synced) > 0)
    {
      g_autoptr (GPtrArray) names = g_ptr_array_new ();
      GHashTableIter it;
      gpointer key;
      g_hash_table_iter_init (&it, c->synced);
      while (g_hash_table_iter_next (&it, &key, NULL))
        g_ptr_array_add (names, key);
      forget (c, names);
    }
  vg_events_unsubscribe (c->app->events, on_event, c);
  vg_redis_remove_state_handler (c->redis, c->state_handler);
  g_clear_handle_id (&c->heartbeat_source, g_source_remove);
  g_clear_handle_id (&c->dirty_source, g_source_remove);
  c->closed = TRUE;
  cluster_unref (c);
}

const char *
vg_cluster_node_id_from_config (VgConfig *config)
{
  const char *id = vg_config_get_string (config, "node", "id");
  return id && *id ? id : g_get_host_name ();
}

const char *
vg_cluster_node_id (VgCluster *cluster)
{
  return cluster->node_id;
}

const char *
vg_cluster_public_url (VgCluster *cluster)
{
  return cluster->url;
}

void
vg_cluster_set_draining (VgCluster *cluster)
{
  if (cluster->draining)
    return;
  cluster->draining = TRUE;
  vg_metric_set (cluster->draining_gauge, NULL, 1);
  g_message ("cluster: node %s is draining: new rooms go to other nodes", cluster->node_id);
  /* At once, not at the next tick: placements elsewhere read it. */
  sync_state (cluster, NULL, FALSE);
}

gboolean
vg_cluster_is_draining (VgCluster *cluster)
{
  return cluster->draining;
}

/* --- placement and lookups ------------------------------------------------ */

typedef struct
{
  VgCluster *cluster;
  VgClusterPlaceFunc place;
  VgClusterLookupFunc lookup;
  VgClusterListFunc list;
  gpointer user_data;
} VgClusterCall;

static VgClusterCall *
call_new (VgCluster *c, gpointer user_data)
{
  VgClusterCall *call = g_new0 (VgClusterCall, 1);
  call->cluster = c;
  call->user_data = user_data;
  return call;
}

static void
placed (VgRedis *redis, const redisReply *reply, const GError *redis_error, gpointer data)
{
  VgClusterCall *call = data;
  VgCluster *c = call->cluster;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = NULL;
  VgClusterInfo info;

  JsonObject *obj = parse_reply (reply, redis_error, &root, &error);
  if (!obj && g_error_matches (error, VG_CLUSTER_ERROR, VG_CLUSTER_ERROR_DOWN))
    {
      /* Redis went away meanwhile: serve here rather than fail the join. */
      VgClusterPlacement local = { c->node_id, c->url, TRUE, TRUE };
      count_placement (c, "degraded");
      call->place (&local, NULL, call->user_data);
      return;
    }
  if (obj && !read_info (c, obj, &info))
    g_set_error (&error, VG_CLUSTER_ERROR, VG_CLUSTER_ERROR_STATE,
                 "placement reply without owner or URL");
  if (error)
    {
      count_placement (c, "error");
      call->place (NULL, error, call->user_data);
      return;
    }
  VgClusterPlacement p = { info.owner, info.url, info.local, FALSE };
  count_placement (c, info.local ? "local" : "remote");
  call->place (&p, NULL, call->user_data);
}

static gboolean
place_degraded (gpointer data)
{
  VgClusterCall *call = data;
  VgClusterPlacement local = { call->cluster->node_id, call->cluster->url, TRUE, TRUE };
  count_placement (call->cluster, "degraded");
  call->place (&local, NULL, call->user_data);
  return G_SOURCE_REMOVE;
}

static void
degraded_free (gpointer data)
{
  VgClusterCall *call = data;
  cluster_unref (call->cluster);
  g_free (call);
}

void
vg_cluster_place (VgCluster *c, const char *room, VgClusterPlaceFunc callback, gpointer user_data)
{
  VgClusterCall *call = call_new (c, user_data);
  call->place = callback;
  if (!vg_redis_is_up (c->redis))
    {
      /* Nothing to ask: answered from an idle, like every other answer. */
      c->refs++;
      g_idle_add_full (G_PRIORITY_DEFAULT, place_degraded, call, degraded_free);
      return;
    }
  g_autofree char *key = g_strconcat (KEY_PREFIX "room:", room, NULL);
  g_autofree char *sessions = g_strdup_printf ("%u", c->host->count_sessions (c->host_data));
  g_autofree char *capacity = g_strdup_printf ("%u", c->max_sessions);
  g_autofree char *now_ms = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / 1000);
  g_autofree char *ttl = g_strdup_printf ("%u", c->dead_after_s * 1000 * STATE_TTL_FACTOR);
  const char *keys[] = { key };
  const char *args[]
      = { KEY_PREFIX, room, c->node_id, c->url, sessions, capacity, c->draining ? "1" : "0",
          now_ms,     ttl };
  cluster_eval (c, VG_CLUSTER_SCRIPT_PLACE, 1, keys, G_N_ELEMENTS (args), args, placed, call,
                g_free);
}

static void
looked_up (VgRedis *redis, const redisReply *reply, const GError *redis_error, gpointer data)
{
  VgClusterCall *call = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = NULL;
  VgClusterInfo info;

  JsonObject *obj = parse_reply (reply, redis_error, &root, &error);
  if (!obj)
    call->lookup (NULL, error, call->user_data);
  else if (json_object_get_size (obj) == 0)
    call->lookup (NULL, NULL, call->user_data); /* no live node has it */
  else if (!read_info (call->cluster, obj, &info))
    {
      g_set_error (&error, VG_CLUSTER_ERROR, VG_CLUSTER_ERROR_STATE, "unreadable state in Redis");
      call->lookup (NULL, error, call->user_data);
    }
  else
    call->lookup (&info, NULL, call->user_data);
}

static void
listed (VgRedis *redis, const redisReply *reply, const GError *redis_error, gpointer data)
{
  VgClusterCall *call = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = NULL;

  JsonObject *obj = parse_reply (reply, redis_error, &root, &error);
  JsonNode *n = obj ? json_object_get_member (obj, "rooms") : NULL;
  /* cjson writes an empty Lua table as {}: the script sends [] itself. */
  if (obj && (!n || !JSON_NODE_HOLDS_ARRAY (n)))
    g_set_error (&error, VG_CLUSTER_ERROR, VG_CLUSTER_ERROR_STATE, "room list is not an array");
  if (error)
    {
      call->list (NULL, error, call->user_data);
      return;
    }
  JsonArray *rooms = json_node_get_array (n);
  g_autoptr (GArray) infos = g_array_new (FALSE, FALSE, sizeof (VgClusterInfo));
  for (guint i = 0; i < json_array_get_length (rooms); i++)
    {
      JsonNode *e = json_array_get_element (rooms, i);
      VgClusterInfo info;
      /* One unreadable room is left out, not the whole list. */
      if (JSON_NODE_HOLDS_OBJECT (e) && read_info (call->cluster, json_node_get_object (e), &info)
          && info.name && info.view)
        g_array_append_val (infos, info);
      else
        g_debug ("cluster: an unreadable room entry was left out of the list");
    }
  call->list (infos, NULL, call->user_data);
}

static void
lookup (VgCluster *c, const char *what, const char *name, VgClusterView view, VgRedisReplyFunc done,
        VgClusterCall *call)
{
  g_autofree char *index = g_strdup_printf ("%d", (int)view);
  const char *args[] = { KEY_PREFIX, what, name, index };
  cluster_eval (c, VG_CLUSTER_SCRIPT_LOOKUP, 0, NULL, G_N_ELEMENTS (args), args, done, call,
                g_free);
}

void
vg_cluster_lookup_room (VgCluster *c, const char *room, VgClusterView view,
                        VgClusterLookupFunc callback, gpointer user_data)
{
  VgClusterCall *call = call_new (c, user_data);
  call->lookup = callback;
  lookup (c, "room", room, view, looked_up, call);
}

void
vg_cluster_lookup_session (VgCluster *c, const char *session_id, VgClusterLookupFunc callback,
                           gpointer user_data)
{
  VgClusterCall *call = call_new (c, user_data);
  call->lookup = callback;
  lookup (c, "session", session_id, 0, looked_up, call);
}

void
vg_cluster_list_rooms (VgCluster *c, VgClusterView view, VgClusterListFunc callback,
                       gpointer user_data)
{
  VgClusterCall *call = call_new (c, user_data);
  call->list = callback;
  lookup (c, "list", "", view, listed, call);
}
