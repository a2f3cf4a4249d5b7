/* The process-wide context handed to every subsystem: configuration, metrics,
 * and the services built on them. Owned by main.c; lives as long as the process. */
#pragma once

#include <glib.h>
#include "gateway/core/config.h"
#include "gateway/core/events.h"
#include "gateway/core/metrics.h"
#include "gateway/core/ratelimit.h"

G_BEGIN_DECLS

typedef struct _VgApp VgApp;

/* A readiness probe: returns TRUE when the component can serve; on FALSE it
 * may set *detail to a short, secret-free reason (caller frees). */
typedef gboolean (*VgHealthCheck) (VgApp *app, char **detail, gpointer user_data);

struct _VgApp
{
  VgConfig *config;
  VgMetrics *metrics;
  VgRateLimiter *rate_limiter;
  GMainContext *main_context;
  gint64 start_time_us; /* g_get_real_time () at start */
  char *data_dir;       /* absolute, created at start */
  char *public_url;     /* base URL clients use; set once the server listens */
  VgEvents *events;     /* room and participant lifecycle (events.h) */

  /* Services added by later subsystems register here (NULL until then). */
  struct _VgStore *store;
  struct _VgRooms *rooms;
  struct _VgRedis *redis;     /* gateway/cache: NULL when [cache] url is empty */
  struct _VgCluster *cluster; /* with [cache] url: the node registry and placement */
  struct _VgEgress *egress;   /* recordings as LiveKit's Egress (gateway/egress) */
  /* Set on the main thread by SIGTERM on a single node with [node]
   * drain_timeout: new WHIP/WHEP sessions are refused (503 draining) while
   * the sessions here end. */
  gboolean draining;

  GPtrArray *health_checks; /* of VgHealthCheckEntry, see app.c */
};

VgApp *vg_app_new (VgConfig *config /* transfer full */);
void vg_app_free (VgApp *app);

void vg_app_add_health_check (VgApp *app, const char *component, VgHealthCheck check,
                              gpointer user_data);

/* Runs every health check; returns a JSON object text {"component": {"status":...}}
 * in *components_json and TRUE when all are up; *down lists the names that are not. */
gboolean vg_app_check_health (VgApp *app, GPtrArray **down, char **components_json);

G_END_DECLS
