/* Liveness, readiness and the detailed health report. */
#include "api/handlers/handlers.h"
#include "vg-build-config.h"

static void
handle_healthz (VgRequest *req, gpointer user_data)
{
  vg_reply_json_text (req, SOUP_STATUS_OK, "{\"status\":\"ok\"}", -1);
}

static void
handle_readyz (VgRequest *req, gpointer user_data)
{
  g_autoptr (GPtrArray) down = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  gboolean ready = vg_app_check_health (vg_request_app (req), &down, NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, ready ? "ready" : "unavailable");
  if (!ready)
    {
      json_builder_set_member_name (b, "down");
      json_builder_begin_array (b);
      for (guint i = 0; i < down->len; i++)
        json_builder_add_string_value (b, g_ptr_array_index (down, i));
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
  vg_reply_json (req, ready ? SOUP_STATUS_OK : SOUP_STATUS_SERVICE_UNAVAILABLE, json_builder_get_root (b));
}

static double
gauge_value (VgApp *app, const char *name, const char *help)
{
  VgMetric *m = vg_metrics_register (app->metrics, VG_METRIC_GAUGE, name, help, NULL, NULL);
  return vg_metric_get (m, NULL);
}

static void
handle_health (VgRequest *req, gpointer user_data)
{
  VgApp *app = vg_request_app (req);
  g_autofree char *components = NULL;
  gboolean ready = vg_app_check_health (app, NULL, &components);
  g_autoptr (GDateTime) started = g_date_time_new_from_unix_utc (app->start_time_us / G_USEC_PER_SEC);
  g_autofree char *started_text = g_date_time_format_iso8601 (started);
  const char *node = vg_config_get_string (app->config, "node", "id");
  g_autoptr (GString) json = g_string_new (NULL);
  g_autoptr (JsonNode) node_id = json_node_init_string (json_node_alloc (), *node ? node : g_get_host_name ());
  g_autofree char *node_json = json_to_string (node_id, FALSE);

  g_string_append_printf (json,
                          "{\"status\":\"%s\",\"version\":\"%s\",\"node_id\":%s,\"started_at\":\"%s\","
                          "\"uptime_seconds\":%.0f,\"counts\":{\"rooms\":%.0f,\"participants\":%.0f},"
                          "\"components\":%s}",
                          ready ? "ok" : "degraded", VOXGATE_VERSION, node_json, started_text,
                          (g_get_real_time () - app->start_time_us) / 1e6,
                          gauge_value (app, "voxgate_rooms", "Rooms open on this node"),
                          gauge_value (app, "voxgate_participants", "Participants connected to this node"),
                          components);
  vg_reply_json_text (req, SOUP_STATUS_OK, json->str, json->len);
}

void
vg_health_routes_register (VgRouter *router, VgApp *app)
{
  vg_router_add (router, "GET", "/healthz", handle_healthz, NULL);
  vg_router_add (router, "GET", "/readyz", handle_readyz, NULL);
  vg_router_add (router, "GET", "/api/health", handle_health, NULL);
}
