/* VgCluster (gateway/cluster) in one process: two nodes on one real
 * redis-server, each with a host that pretends to hold rooms. Placement,
 * the owner's views read by the other node, hostile keys as errors,
 * Redis down (degraded placement, lookups fail) and back (re-registered),
 * and freeing with commands in flight. Everything runs on the default
 * main context, as in the gateway. */
#include "gateway/cluster/cluster.h"
#include "redis-fixture.h"

typedef struct
{
  GPtrArray *rooms; /* of char *: the rooms this host "holds" */
  guint sessions;
} FakeHost;

static GPtrArray *
fake_snapshot (gpointer data, const char *only)
{
  FakeHost *h = data;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)vg_cluster_room_free);
  for (guint i = 0; i < h->rooms->len; i++)
    {
      const char *name = g_ptr_array_index (h->rooms, i);
      if (only && g_strcmp0 (only, name) != 0)
        continue;
      VgClusterRoom *r = vg_cluster_room_new (name, 1700000000);
      for (guint v = 0; v < VG_CLUSTER_N_VIEWS; v++)
        r->views[v] = g_strdup_printf ("{\"name\":\"%s\",\"view\":%u}", name, v);
      g_ptr_array_add (r->session_ids, g_strdup_printf ("session-%s", name));
      g_ptr_array_add (r->identities, g_strdup ("learner"));
      g_ptr_array_add (out, r);
    }
  return out;
}

static guint
fake_sessions (gpointer data)
{
  return ((FakeHost *)data)->sessions;
}

static guint
fake_rooms (gpointer data)
{
  return ((FakeHost *)data)->rooms->len;
}

static const VgClusterHost fake_host = { fake_snapshot, fake_sessions, fake_rooms };

typedef struct
{
  VgApp *app;
  VgRedis *redis;
  FakeHost host;
  VgCluster *cluster;
} Node;

static Node *
node_new (const char *id, const char *url, const char *redis_url)
{
  Node *n = g_new0 (Node, 1);
  VgConfig *cfg = vg_config_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (vg_config_set (cfg, "node", "id", id, "test", NULL));
  g_assert_true (vg_config_set (cfg, "node", "heartbeat_interval", "1", "test", NULL));
  g_assert_true (vg_config_set (cfg, "node", "dead_after", "3", "test", NULL));
  n->app = vg_app_new (cfg);
  n->app->public_url = g_strdup (url);
  VgRedisOptions opts = { .backoff_max_ms = 200 };
  n->redis = vg_redis_new_full (redis_url, NULL, &opts, &error);
  g_assert_no_error (error);
  n->host.rooms = g_ptr_array_new_with_free_func (g_free);
  n->cluster = vg_cluster_new (n->app, n->redis, &fake_host, &n->host);
  return n;
}

static void
node_free (Node *n)
{
  vg_cluster_free (n->cluster);
  vg_redis_free (n->redis);
  g_ptr_array_unref (n->host.rooms);
  vg_app_free (n->app);
  g_free (n);
}

/* --- waiting for answers ------------------------------------------------------ */

typedef struct
{
  gboolean done;
  char *owner, *url, *view;
  gboolean local, degraded, found;
  GError *error;
  guint n_listed;
  char *listed; /* names, comma-separated */
} Answer;

static void
answer_clear (Answer *a)
{
  g_free (a->owner);
  g_free (a->url);
  g_free (a->view);
  g_free (a->listed);
  g_clear_error (&a->error);
  *a = (Answer){ 0 };
}

static void
on_placed (const VgClusterPlacement *p, const GError *error, gpointer data)
{
  Answer *a = data;
  if (p)
    {
      a->owner = g_strdup (p->owner);
      a->url = g_strdup (p->url);
      a->local = p->local;
      a->degraded = p->degraded;
    }
  a->error = error ? g_error_copy (error) : NULL;
  a->done = TRUE;
}

static void
on_looked_up (const VgClusterInfo *info, const GError *error, gpointer data)
{
  Answer *a = data;
  if (info)
    {
      a->found = TRUE;
      a->owner = g_strdup (info->owner);
      a->url = g_strdup (info->url);
      a->view = g_strdup (info->view);
      a->local = info->local;
    }
  a->error = error ? g_error_copy (error) : NULL;
  a->done = TRUE;
}

static void
on_listed (GArray *infos, const GError *error, gpointer data)
{
  Answer *a = data;
  if (infos)
    {
      GString *names = g_string_new (NULL);
      for (guint i = 0; i < infos->len; i++)
        g_string_append_printf (names, "%s%s", i ? "," : "",
                                g_array_index (infos, VgClusterInfo, i).name);
      a->n_listed = infos->len;
      a->listed = g_string_free (names, FALSE);
    }
  a->error = error ? g_error_copy (error) : NULL;
  a->done = TRUE;
}

static void
on_reply (VgRedis *redis, const redisReply *reply, const GError *error, gpointer data)
{
  *(gboolean *)data = TRUE;
}

/* A raw command through the node's client, waited for. */
static void
raw (Node *n, const char *a0, const char *a1, const char *a2, const char *a3)
{
  gboolean done = FALSE;
  vg_redis_commandv (n->redis, on_reply, &done, NULL, a0, a1, a2, a3, NULL);
  g_assert_true (vg_test_wait_flag (&done, 3000));
}

static gboolean
is_up (Node *n)
{
  gboolean flag = vg_redis_is_up (n->redis);
  for (guint i = 0; i < 300 && !flag; i++)
    {
      g_usleep (10000);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      flag = vg_redis_is_up (n->redis);
    }
  return flag;
}

static void
spin_ms (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;
  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
}

static void
test_two_nodes (void)
{
  VgTestRedis *srv = vg_test_redis_start (NULL);
  Node *a = node_new ("a", "http://node-a:1", srv->url);
  Node *b = node_new ("b", "http://node-b:2", srv->url);
  Answer x = { 0 };
  g_assert_true (is_up (a) && is_up (b));
  spin_ms (200); /* first heartbeats written */

  vg_cluster_place (a->cluster, "room1", on_placed, &x);
  g_assert_true (vg_test_wait_flag (&x.done, 3000));
  g_assert_no_error (x.error);
  g_assert_true (x.local && !x.degraded);
  answer_clear (&x);

  vg_cluster_place (b->cluster, "room1", on_placed, &x);
  g_assert_true (vg_test_wait_flag (&x.done, 3000));
  g_assert_no_error (x.error);
  g_assert_false (x.local);
  g_assert_cmpstr (x.owner, ==, "a");
  g_assert_cmpstr (x.url, ==, "http://node-a:1");
  answer_clear (&x);

  /* A opens it: its state (views, session) is written on the next event. */
  g_ptr_array_add (a->host.rooms, g_strdup ("room1"));
  a->host.sessions = 1;
  vg_cluster_room_changed (a->cluster, "room1");
  spin_ms (300);
  vg_cluster_lookup_room (b->cluster, "room1", VG_CLUSTER_VIEW_PARTICIPANTS_PROTO, on_looked_up,
                          &x);
  g_assert_true (vg_test_wait_flag (&x.done, 3000));
  g_assert_no_error (x.error);
  g_assert_true (x.found && !x.local);
  g_assert_cmpstr (x.view, ==, "{\"name\":\"room1\",\"view\":3}");
  answer_clear (&x);

  vg_cluster_lookup_session (b->cluster, "session-room1", on_looked_up, &x);
  g_assert_true (vg_test_wait_flag (&x.done, 3000));
  g_assert_true (x.found);
  g_assert_cmpstr (x.url, ==, "http://node-a:1");
  answer_clear (&x);

  vg_cluster_list_rooms (b->cluster, VG_CLUSTER_VIEW_ROOM_REST, on_listed, &x);
  g_assert_true (vg_test_wait_flag (&x.done, 3000));
  g_assert_no_error (x.error);
  g_assert_cmpstr (x.listed, ==, "room1");
  answer_clear (&x);

  /* An unknown room is none, not an error. */
  vg_cluster_lookup_room (b->cluster, "nowhere", VG_CLUSTER_VIEW_ROOM_REST, on_looked_up, &x);
  g_assert_true (vg_test_wait_flag (&x.done, 3000));
  g_assert_no_error (x.error);
  g_assert_false (x.found);
  answer_clear (&x);

  /* Hostile data: a room key of another type, a node entry without a URL. */
  raw (b, "SET", "vg:room:bad", "1", NULL);
  vg_cluster_place (b->cluster, "bad", on_placed, &x);
  g_assert_true (vg_test_wait_flag (&x.done, 3000));
  g_assert_error (x.error, VG_CLUSTER_ERROR, VG_CLUSTER_ERROR_STATE);
  answer_clear (&x);
  vg_cluster_lookup_room (b->cluster, "bad", VG_CLUSTER_VIEW_ROOM_REST, on_looked_up, &x);
  g_assert_true (vg_test_wait_flag (&x.done, 3000));
  g_assert_error (x.error, VG_CLUSTER_ERROR, VG_CLUSTER_ERROR_STATE);
  answer_clear (&x);
  raw (b, "HSET", "vg:session:odd", "node", "a");
  raw (b, "HSET", "vg:node:a", "url", "not-a-url");
  vg_cluster_lookup_session (b->cluster, "odd", on_looked_up, &x);
  g_assert_true (vg_test_wait_flag (&x.done, 3000));
  g_assert_error (x.error, VG_CLUSTER_ERROR, VG_CLUSTER_ERROR_STATE);
  answer_clear (&x);
  spin_ms (1200); /* A's heartbeat writes its entry again */

  /* Drain: B takes no new rooms; they go to A. */
  vg_cluster_set_draining (b->cluster);
  spin_ms (200);
  vg_cluster_place (b->cluster, "room2", on_placed, &x);
  g_assert_true (vg_test_wait_flag (&x.done, 3000));
  g_assert_no_error (x.error);
  g_assert_cmpstr (x.owner, ==, "a");
  answer_clear (&x);

  /* Redis down: placement is local and degraded, lookups fail as down. */
  vg_test_redis_stop (srv);
  spin_ms (300);
  vg_cluster_place (a->cluster, "room3", on_placed, &x);
  g_assert_true (vg_test_wait_flag (&x.done, 3000));
  g_assert_no_error (x.error);
  g_assert_true (x.local && x.degraded);
  answer_clear (&x);
  vg_cluster_list_rooms (a->cluster, VG_CLUSTER_VIEW_ROOM_REST, on_listed, &x);
  g_assert_true (vg_test_wait_flag (&x.done, 3000));
  g_assert_error (x.error, VG_CLUSTER_ERROR, VG_CLUSTER_ERROR_DOWN);
  answer_clear (&x);

  /* Back (empty, no persistence): A registers itself and room1 again. */
  vg_test_redis_restart (srv);
  g_assert_true (is_up (a));
  spin_ms (300);
  vg_cluster_lookup_room (b->cluster, "room1", VG_CLUSTER_VIEW_ROOM_REST, on_looked_up, &x);
  g_assert_true (vg_test_wait_flag (&x.done, 3000));
  g_assert_no_error (x.error);
  g_assert_true (x.found);
  g_assert_cmpstr (x.owner, ==, "a");
  answer_clear (&x);

  /* Freed with a placement in flight: its callback runs (closed), no leak. */
  vg_cluster_place (a->cluster, "room4", on_placed, &x);
  node_free (b);
  node_free (a);
  g_assert_true (x.done);
  answer_clear (&x);
  vg_test_redis_free (srv);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Redis going away is logged as a warning on purpose; criticals stay fatal. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_test_add_func ("/cluster/two-nodes", test_two_nodes);
  return g_test_run ();
}
