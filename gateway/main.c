/* voxgate: the voice-AI media gateway.
 *
 *   voxgate [serve] [--config FILE] [--listen ADDR] [--port N] [--data-dir DIR]
 *   voxgate token --room R --identity I [--name N] [--admin] [--ttl S]
 *   voxgate check-config [--config FILE]
 *   voxgate migrate [--config FILE] [--data-dir DIR]
 *
 * Exit status: 0 on success and after a clean shutdown, 2 for a bad command
 * line or configuration, 1 for a failure at run time. */
#include "api/cli.h"
#include "api/server.h"
#include "api/handlers/cluster-route.h"
#include "gateway/cache/cache.h"
#include "gateway/cache/redis-client.h"
#include "gateway/cluster/cluster.h"
#include "gateway/subscribers/webhooks.h"
#include "gateway/core/app.h"
#include "gateway/egress/egress.h"
#include "gateway/egress/recording-retention.h"
#include "gateway/subscribers/conversation-recorder.h"
#include "gateway/core/log.h"
#include "gateway/rooms/rooms.h"
#include "gateway/store/store.h"
#include "gateway/tutor/tutor.h"
#include "gateway/tutor/tutor-http-tools.h"
#include "gateway/tutor-rooms/tutor-rooms.h"
#include "vg-build-config.h"

#include <glib-unix.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <locale.h>
#include <stdio.h>

#define SHUTDOWN_GRACE_US (5 * G_USEC_PER_SEC)

typedef struct
{
  char *config_file;
  char *listen;
  int port;
  char *data_dir;
  char *log_format;
  /* token */
  char *room;
  char *identity;
  char *name;
  gboolean admin;
  gint64 ttl;
} VgOptions;

static void
options_clear (VgOptions *o)
{
  g_free (o->config_file);
  g_free (o->listen);
  g_free (o->data_dir);
  g_free (o->log_format);
  g_free (o->room);
  g_free (o->identity);
  g_free (o->name);
}

/* Builds the configuration from its layers; NULL (after printing why) on error. */
static VgConfig *
load_config (VgOptions *o)
{
  g_autoptr (VgConfig) cfg = vg_config_new ();
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) env = g_get_environ ();
  gboolean ok = TRUE;

  if (o->config_file)
    ok = vg_config_load_file (cfg, o->config_file, &error);
  ok = ok && vg_config_load_environ (cfg, (const char *const *) env, &error);
  if (ok && o->listen)
    ok = vg_config_set (cfg, "server", "listen", o->listen, "flag --listen", &error);
  if (ok && o->port >= 0)
    {
      char port[16];
      g_snprintf (port, sizeof port, "%d", o->port);
      ok = vg_config_set (cfg, "server", "port", port, "flag --port", &error);
    }
  if (ok && o->data_dir)
    ok = vg_config_set (cfg, "server", "data_dir", o->data_dir, "flag --data-dir", &error);
  if (ok && o->log_format)
    ok = vg_config_set (cfg, "log", "format", o->log_format, "flag --log-format", &error);
  ok = ok && vg_config_validate (cfg, &error);
  /* The schema checks the scheme; the cache package the rest of the URL. */
  if (ok && *vg_config_get_string (cfg, "cache", "url"))
    ok = vg_redis_check_url (vg_config_get_string (cfg, "cache", "url"), &error);
  if (!ok)
    {
      g_printerr ("voxgate: %s\n", error->message);
      return NULL;
    }
  for (const char *const *w = vg_config_get_warnings (cfg); *w; w++)
    g_printerr ("voxgate: warning: %s\n", *w);
  return g_steal_pointer (&cfg);
}

typedef struct
{
  VgServer *server;
  VgApp *app;
  GMainLoop *loop;
  gint64 deadline_us;
  guint drain_source;
  /* In a cluster, before the above: rooms are left to empty (new ones go
   * to other nodes) until rooms_deadline_us. */
  guint rooms_source;
  gint64 rooms_deadline_us;
} VgShutdown;

static gboolean
quit_loop (gpointer user_data)
{
  VgShutdown *s = user_data;
  g_main_loop_quit (s->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
drain_in_flight (gpointer user_data)
{
  VgShutdown *s = user_data;

  if (vg_server_in_flight (s->server) > 0 && g_get_monotonic_time () < s->deadline_us)
    return G_SOURCE_CONTINUE;
  if (vg_server_in_flight (s->server) > 0)
    g_warning ("shutting down with %u requests still in flight", vg_server_in_flight (s->server));
  s->drain_source = 0;
  /* The node leaves the registry (its rooms placeable at once), then stops. */
  if (s->app->cluster)
    vg_cluster_leave (s->app->cluster, quit_loop, s);
  else
    g_main_loop_quit (s->loop);
  return G_SOURCE_REMOVE;
}

static void
stop_serving (VgShutdown *s)
{
  g_message ("stopping: no new connections; finishing %u requests",
             vg_server_in_flight (s->server));
  vg_server_stop_accepting (s->server);
  s->deadline_us = g_get_monotonic_time () + SHUTDOWN_GRACE_US;
  s->drain_source = g_timeout_add (20, drain_in_flight, s);
}

/* Participants in this node's rooms: the drain waits for them, not for the
 * rooms (an empty room lingers for its empty_timeout). */
static guint
count_participants (VgRooms *rooms)
{
  guint n = 0;
  if (!rooms)
    return 0;
  g_autoptr (GPtrArray) list = vg_rooms_list (rooms);
  for (guint i = 0; i < list->len; i++)
    n += vg_room_count_participants (g_ptr_array_index (list, i));
  return n;
}

static gboolean
drain_rooms (gpointer user_data)
{
  VgShutdown *s = user_data;
  guint n = count_participants (s->app->rooms);
  if (n > 0 && g_get_monotonic_time () < s->rooms_deadline_us)
    return G_SOURCE_CONTINUE;
  if (n > 0)
    g_message ("drain: %u participants still here after [node] drain_timeout; closing", n);
  s->rooms_source = 0;
  stop_serving (s);
  return G_SOURCE_REMOVE;
}

/* Every participant hears on its "events" channel that this node stops
 * within grace_s seconds (0: now), so a client can rejoin elsewhere or say
 * goodbye instead of finding a dead connection. */
static void
announce_draining (VgRooms *rooms, guint grace_s)
{
  if (!rooms)
    return;
  g_autofree char *event
      = g_strdup_printf ("{\"type\":\"node_draining\",\"grace_seconds\":%u}", grace_s);
  g_autoptr (GPtrArray) list = vg_rooms_list (rooms);
  for (guint i = 0; i < list->len; i++)
    vg_room_broadcast (g_ptr_array_index (list, i), event);
}

static gboolean
on_stop_signal (gpointer user_data)
{
  VgShutdown *s = user_data;
  guint drain_s = vg_config_get_int (s->app->config, "node", "drain_timeout");
  guint participants;

  if (s->drain_source)
    return G_SOURCE_CONTINUE; /* a second signal while stopping changes nothing */
  if (s->rooms_source)
    {
      /* A second signal while rooms drain: stop now. */
      g_clear_handle_id (&s->rooms_source, g_source_remove);
      stop_serving (s);
      return G_SOURCE_CONTINUE;
    }
  participants = count_participants (s->app->rooms);
  announce_draining (s->app->rooms, drain_s);
  if (s->app->cluster && drain_s > 0)
    {
      /* New rooms go elsewhere first; the listener stays open for the rooms
       * still here (their sessions, and 307s for the rest). */
      vg_cluster_set_draining (s->app->cluster);
      g_message ("drain: waiting up to %u s for %u participants to leave", drain_s,
                 count_participants (s->app->rooms));
      s->rooms_deadline_us = g_get_monotonic_time () + (gint64)drain_s * G_USEC_PER_SEC;
      s->rooms_source = g_timeout_add (200, drain_rooms, s);
      return G_SOURCE_CONTINUE;
    }
  if (!s->app->cluster && drain_s > 0 && participants > 0)
    {
      /* One node: no other node takes new sessions, so they are refused
       * (503 draining) while the sessions here get drain_timeout to end;
       * the listener stays open for their DELETEs. */
      s->app->draining = TRUE;
      g_message ("drain: no new sessions; waiting up to %u s for %u participants to leave", drain_s,
                 participants);
      s->rooms_deadline_us = g_get_monotonic_time () + (gint64)drain_s * G_USEC_PER_SEC;
      s->rooms_source = g_timeout_add (200, drain_rooms, s);
      return G_SOURCE_CONTINUE;
    }
  if (s->app->cluster)
    vg_cluster_set_draining (s->app->cluster);
  stop_serving (s);
  return G_SOURCE_CONTINUE;
}

static char *
prepare_data_dir (VgConfig *cfg, GError **error)
{
  const char *dir = vg_config_get_string (cfg, "server", "data_dir");
  g_autofree char *cwd = g_get_current_dir ();
  char *abs = g_path_is_absolute (dir) ? g_strdup (dir) : g_build_filename (cwd, dir, NULL);

  if (g_mkdir_with_parents (abs, 0700) != 0)
    {
      int errsv = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv), "[server] data_dir: cannot create %s: %s",
                   abs, g_strerror (errsv));
      g_free (abs);
      return NULL;
    }
  return abs;
}

/* Opens [store] url and, unless [store] migrate_on_start is false (or
 * migrate is FALSE), applies pending migrations. NULL after printing why. */
static VgStore *
open_store (VgApp *app, VgConfig *cfg, const char *data_dir, gboolean migrate)
{
  g_autoptr (GError) error = NULL;
  VgStore *store = vg_store_open (app, vg_config_get_string (cfg, "store", "url"), data_dir, &error);
  guint applied = 0;

  if (!store)
    {
      g_printerr ("voxgate: store: %s\n", error->message);
      return NULL;
    }
  if (migrate && !vg_store_migrate (store, &applied, &error))
    {
      g_printerr ("voxgate: store: %s\n", error->message);
      vg_store_close (store);
      return NULL;
    }
  if (applied)
    g_message ("store: %u migrations applied (%s)", applied, vg_store_backend_name (store));
  return store;
}

static int
run_migrate (VgOptions *o)
{
  g_autoptr (VgConfig) cfg = load_config (o);
  g_autoptr (GError) error = NULL;
  g_autofree char *data_dir = NULL;
  VgStore *store;
  guint applied = 0;
  gboolean ok;

  if (!cfg)
    return 2;
  if (!(data_dir = prepare_data_dir (cfg, &error)))
    {
      g_printerr ("voxgate: %s\n", error->message);
      return 2;
    }
  if (!(store = open_store (NULL, cfg, data_dir, FALSE)))
    return 1;
  ok = vg_store_migrate (store, &applied, &error);
  if (ok)
    printf ("voxgate: %u migrations applied (%s)\n", applied, vg_store_backend_name (store));
  else
    g_printerr ("voxgate: store: %s\n", error->message);
  vg_store_close (store);
  return ok ? 0 : 1;
}

static void
close_store (VgApp *app)
{
  VgStore *store = app->store;

  app->store = NULL;
  vg_store_close (store);
}

/* What serving runs besides the HTTP server, in dependency order. */
typedef struct
{
  VgApp *app;
  VgRecorder *recorder;
  VgRecordingRetention *retention;
  VgWebhooks *webhooks;
  VgTutor *tutor;
  VgTutorHttpTools *http_tools; /* [agent] tools_file, NULL: none */
  VgTutorRooms *tutor_rooms;    /* the rooms' agents bound to the tutor */
} VgServices;

static gboolean
start_services (VgApp *app, VgServices *s)
{
  g_autoptr (GError) error = NULL;

  /* Redis (with a [cache] url) and the rate limiter counting in it. */
  if (!vg_cache_start (app, &error))
    {
      g_printerr ("voxgate: %s\n", error->message);
      return FALSE;
    }
  /* The store before rooms: participants' conversations are written through it. */
  app->store = open_store (app, app->config, app->data_dir,
                           vg_config_get_bool (app->config, "store", "migrate_on_start"));
  if (!app->store)
    return FALSE;
  /* Before any conversation starts: those this node left active when it was
   * killed are marked abandoned. */
  if (!vg_store_recover_node (app->store, vg_cluster_node_id_from_config (app->config), &error))
    {
      g_printerr ("voxgate: store: %s\n", error->message);
      return FALSE;
    }
  g_message ("store: node %s: conversations it left active are marked abandoned",
             vg_cluster_node_id_from_config (app->config));
  /* Listeners of room events before the rooms that emit them. */
  s->recorder = vg_recorder_new (app);
  s->webhooks = vg_webhooks_new (app, app->events);
  s->app = app;
  s->tutor = vg_tutor_new (app);
  vg_tutor_set_http_tools (s->tutor, s->http_tools);
  /* Rooms before the server: WHIP/WHEP handlers find them in app->rooms. */
  app->rooms = vg_rooms_new (app);
  s->tutor_rooms = vg_tutor_rooms_new (app->rooms, s->tutor, s->http_tools);
  /* Egress watches every recording of the rooms (Twirp, /api/recordings). */
  app->egress = vg_egress_new (app, app->rooms);
  s->retention = vg_recording_retention_new (
      app, app->egress, vg_config_get_double (app->config, "recording", "retain_days"),
      vg_config_get_int (app->config, "recording", "retention_check_seconds"));
  return TRUE;
}

static gboolean
wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* The main thread, after the main loop: the webhooks of the rooms' last
 * events (participant_left, room_finished, egress_ended) are delivered, or
 * retried, for up to SHUTDOWN_GRACE_US before the queue is dropped. */
static void
flush_webhooks (VgWebhooks *webhooks)
{
  gint64 deadline_us = g_get_monotonic_time () + SHUTDOWN_GRACE_US;
  guint tick;

  if (vg_webhooks_pending (webhooks) == 0)
    return;
  tick = g_timeout_add (50, wake, NULL);
  while (vg_webhooks_pending (webhooks) > 0 && g_get_monotonic_time () < deadline_us)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  if (vg_webhooks_pending (webhooks) > 0)
    g_warning ("stopping with %u webhooks undelivered", vg_webhooks_pending (webhooks));
}

static void
stop_services (VgApp *app, VgServices *s)
{
  /* The agents unbound from the tutor: answers still on their way are
   * dropped. Then rooms close, so their participant_left and room_finished
   * events reach the recorder and the webhook queue (delivered within a grace,
   * then dropped). */
  g_clear_pointer (&s->tutor_rooms, vg_tutor_rooms_free);
  g_clear_pointer (&s->retention, vg_recording_retention_free);
  g_clear_pointer (&app->rooms, vg_rooms_free);
  /* After the rooms: the recordings they end while closing reach egress
   * (webhooks, the store). */
  g_clear_pointer (&app->egress, vg_egress_free);
  /* Then the tools still running: they use the store. */
  g_clear_pointer (&s->tutor, vg_tutor_free);
  g_clear_pointer (&s->http_tools, vg_tutor_http_tools_free);
  flush_webhooks (s->webhooks);
  g_clear_pointer (&s->webhooks, vg_webhooks_free);
  g_clear_pointer (&s->recorder, vg_recorder_free);
  /* The last writes are queued by now: written within a short grace, or
   * spooled for the next start. */
  close_store (app);
  vg_cache_stop (app);
}

/* [agent] tools_file: a bad file is a configuration error, found at start
 * rather than at the model's first call. */
static gboolean
load_http_tools (VgConfig *cfg, VgTutorHttpTools **out, GError **error)
{
  const char *path = vg_config_get_string (cfg, "agent", "tools_file");
  *out = NULL;
  if (!path || !*path)
    return TRUE;
  if (!(*out = vg_tutor_http_tools_load (path, error)))
    return FALSE;
  vg_tutor_http_tools_set_signer (*out, vg_config_get_string (cfg, "auth", "api_key"),
                                  vg_config_get_string (cfg, "auth", "api_secret"));
  return TRUE;
}

static int
run_serve (VgOptions *o)
{
  VgConfig *cfg = load_config (o);
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  VgShutdown shutdown = { 0 };
  VgApp *app;
  VgServer *server;
  VgServices services = { 0 };
  char *data_dir;
  guint sigint, sigterm;

  if (!cfg)
    return 2;
  vg_log_setup (g_str_equal (vg_config_get_string (cfg, "log", "format"), "json") ? VG_LOG_JSON : VG_LOG_TEXT,
                vg_config_get_string (cfg, "log", "level"));
  if (vg_config_uses_dev_credentials (cfg))
    g_warning ("*** using the DEVELOPMENT credentials devkey/secret: anyone can mint tokens. "
               "Set [auth] api_key and api_secret (or VOXGATE_AUTH_API_KEY / VOXGATE_AUTH_API_SECRET) "
               "before exposing this gateway. ***");
  if (!load_http_tools (cfg, &services.http_tools, &error))
    {
      g_printerr ("voxgate: [agent] %s\n", error->message);
      vg_config_free (cfg);
      return 2;
    }
  if (!(data_dir = prepare_data_dir (cfg, &error)))
    {
      g_printerr ("voxgate: %s\n", error->message);
      g_clear_pointer (&services.http_tools, vg_tutor_http_tools_free);
      vg_config_free (cfg);
      return 2;
    }

  app = vg_app_new (cfg);
  app->data_dir = data_dir;
  if (!start_services (app, &services))
    {
      stop_services (app, &services);
      vg_app_free (app);
      return 1;
    }
  server = vg_server_new (app, &error);
  if (!server || !vg_server_listen (server, &error))
    {
      g_printerr ("voxgate: %s\n", error->message);
      vg_server_free (server);
      stop_services (app, &services);
      vg_app_free (app);
      return error->domain == G_IO_ERROR && error->code == G_IO_ERROR_INVALID_ARGUMENT ? 2 : 1;
    }
  g_message ("voxgate %s listening on %s/ (data in %s)", VOXGATE_VERSION, vg_server_get_public_url (server),
             app->data_dir);
  printf ("voxgate: serving on %s/\n", vg_server_get_public_url (server));
  fflush (stdout);
  /* With Redis (vg_cache_start): the node registers once its URL is known. */
  if (app->redis)
    app->cluster = vg_cluster_new (app, app->redis, &vg_cluster_rooms_host, app->rooms);

  loop = g_main_loop_new (NULL, FALSE);
  shutdown.app = app;
  shutdown.server = server;
  shutdown.loop = loop;
  sigint = g_unix_signal_add (SIGINT, on_stop_signal, &shutdown);
  sigterm = g_unix_signal_add (SIGTERM, on_stop_signal, &shutdown);
  g_main_loop_run (loop);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  /* The cluster before the client it uses (it has left the registry by now). */
  g_clear_pointer (&app->cluster, vg_cluster_free);
  /* Before the server: rate-limit hits waiting on Redis are answered while
   * their requests can still be. */
  vg_cache_stop (app);
  vg_server_free (server);
  stop_services (app, &services);
  vg_app_free (app);
  g_message ("stopped");
  return 0;
}

static int
run_check_config (VgOptions *o)
{
  g_autoptr (VgConfig) cfg = load_config (o);
  g_autofree char *dump = NULL;

  if (!cfg)
    return 2;
  g_autoptr (VgTutorHttpTools) tools = NULL;
  g_autoptr (GError) error = NULL;
  if (!load_http_tools (cfg, &tools, &error))
    {
      g_printerr ("voxgate: [agent] %s\n", error->message);
      return 2;
    }
  dump = vg_config_dump (cfg);
  printf ("%s", dump);
  if (vg_config_uses_dev_credentials (cfg))
    printf ("\n# WARNING: the development credentials devkey/secret are in effect.\n");
  return 0;
}

static int
run_token (VgOptions *o)
{
  g_autoptr (VgConfig) cfg = load_config (o);
  if (!cfg)
    return 2;
  return vg_cli_token (cfg, o->room, o->identity, o->name, o->admin, o->ttl);
}

int
main (int argc, char **argv)
{
  VgOptions o = { .port = -1 };
  const char *command = "serve";
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  int status;
  GOptionEntry common[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &o.config_file, "Configuration file (GKeyFile)", "FILE" },
    { "listen", 0, 0, G_OPTION_ARG_STRING, &o.listen, "Address to listen on ([server] listen)", "ADDR" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &o.port, "TCP port ([server] port)", "N" },
    { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.data_dir, "Data directory ([server] data_dir)", "DIR" },
    { "log-format", 0, 0, G_OPTION_ARG_STRING, &o.log_format, "Log format: text or json", "FORMAT" },
    { NULL },
  };
  GOptionEntry token[] = {
    { "room", 0, 0, G_OPTION_ARG_STRING, &o.room, "Room the token joins", "ROOM" },
    { "identity", 0, 0, G_OPTION_ARG_STRING, &o.identity, "Participant identity (generated if absent)", "ID" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &o.name, "Display name", "NAME" },
    { "admin", 0, 0, G_OPTION_ARG_NONE, &o.admin, "Add the admin grants (roomAdmin, roomList, roomCreate…); without --room the token is unscoped, which the data API requires", NULL },
    { "ttl", 0, 0, G_OPTION_ARG_INT64, &o.ttl, "Lifetime in seconds ([auth] token_ttl)", "S" },
    { NULL },
  };

  setlocale (LC_ALL, "");
  if (argc > 1 && argv[1][0] != '-')
    {
      command = argv[1];
      argv[1] = argv[0];
      argv++;
      argc--;
    }

  ctx = g_option_context_new ("[serve|token|check-config|migrate] - voice-AI media gateway");
  g_option_context_add_main_entries (ctx, common, NULL);
  if (g_str_equal (command, "token"))
    g_option_context_add_main_entries (ctx, token, NULL);
  if (g_str_equal (command, "serve"))
    g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("voxgate: %s\n", error->message);
      return 2;
    }
  if (argc > 1)
    {
      g_printerr ("voxgate: unexpected argument '%s'\n", argv[1]);
      return 2;
    }

  if (g_str_equal (command, "serve"))
    status = run_serve (&o);
  else if (g_str_equal (command, "token"))
    status = run_token (&o);
  else if (g_str_equal (command, "check-config"))
    status = run_check_config (&o);
  else if (g_str_equal (command, "migrate"))
    status = run_migrate (&o);
  else
    {
      g_printerr ("voxgate: unknown command '%s' (serve, token, check-config, migrate)\n", command);
      status = 2;
    }
  options_clear (&o);
  return status;
}
