/* The process-wide context. */
#include "gateway/core/app.h"

#include <json-glib/json-glib.h>

typedef struct
{
  char *component;
  VgHealthCheck check;
  gpointer user_data;
} VgHealthCheckEntry;

static void
health_check_entry_free (gpointer data)
{
  VgHealthCheckEntry *e = data;
  g_free (e->component);
  g_free (e);
}

static gboolean run_health_checks (VgApp *app, GString *metrics, JsonBuilder *b, GPtrArray *down);

/* At each scrape, on the thread rendering the metrics (the main context for
 * GET /metrics, as for /readyz): readiness as Prometheus sees it. */
static void
collect_health (GString *out, gpointer user_data)
{
  g_autoptr (GString) components = g_string_new (NULL);
  gboolean ready = run_health_checks (user_data, components, NULL, NULL);
  g_string_append_printf (out,
                          "# HELP voxgate_ready 1 when every component is up (GET /readyz answers "
                          "200), else 0.\n# TYPE voxgate_ready gauge\nvoxgate_ready %d\n"
                          "# HELP voxgate_component_up Each component's health check: 1 up, 0 "
                          "down.\n# TYPE voxgate_component_up gauge\n%s",
                          ready ? 1 : 0, components->str);
}

VgApp *
vg_app_new (VgConfig *config)
{
  VgApp *app = g_new0 (VgApp, 1);

  app->config = config;
  app->metrics = vg_metrics_new ();
  app->main_context = g_main_context_ref_thread_default ();
  app->start_time_us = g_get_real_time ();
  app->health_checks = g_ptr_array_new_with_free_func (health_check_entry_free);
  app->events = vg_events_new ();
  vg_metrics_add_collector (app->metrics, vg_metrics_collect_process, NULL);
  vg_metrics_add_collector (app->metrics, collect_health, app);
  return app;
}

void
vg_app_free (VgApp *app)
{
  if (!app)
    return;
  vg_rate_limiter_free (app->rate_limiter);
  g_ptr_array_unref (app->health_checks);
  vg_events_free (app->events);
  vg_metrics_free (app->metrics);
  vg_config_free (app->config);
  g_main_context_unref (app->main_context);
  g_free (app->data_dir);
  g_free (app->public_url);
  g_free (app);
}

void
vg_app_add_health_check (VgApp *app, const char *component, VgHealthCheck check, gpointer user_data)
{
  VgHealthCheckEntry *e = g_new0 (VgHealthCheckEntry, 1);

  e->component = g_strdup (component);
  e->check = check;
  e->user_data = user_data;
  g_ptr_array_add (app->health_checks, e);
}

/* Runs every check once; fills whichever of metrics (voxgate_component_up
 * lines), b (an open JSON object) and down are given. */
static gboolean
run_health_checks (VgApp *app, GString *metrics, JsonBuilder *b, GPtrArray *down)
{
  gboolean all_up = TRUE;

  for (guint i = 0; i < app->health_checks->len; i++)
    {
      VgHealthCheckEntry *e = g_ptr_array_index (app->health_checks, i);
      g_autofree char *detail = NULL;
      gboolean up = e->check (app, &detail, e->user_data);

      if (b)
        {
          json_builder_set_member_name (b, e->component);
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "status");
          json_builder_add_string_value (b, up ? "up" : "down");
          if (detail)
            {
              json_builder_set_member_name (b, "detail");
              json_builder_add_string_value (b, detail);
            }
          json_builder_end_object (b);
        }
      if (metrics)
        {
          g_string_append (metrics, "voxgate_component_up{component=\"");
          vg_metrics_escape_label (metrics, e->component);
          g_string_append_printf (metrics, "\"} %d\n", up ? 1 : 0);
        }
      if (!up)
        {
          all_up = FALSE;
          if (down)
            g_ptr_array_add (down, g_strdup (e->component));
        }
    }
  return all_up;
}

gboolean
vg_app_check_health (VgApp *app, GPtrArray **down, char **components_json)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  gboolean all_up;

  if (down)
    *down = g_ptr_array_new_with_free_func (g_free);
  json_builder_begin_object (b);
  all_up = run_health_checks (app, NULL, b, down ? *down : NULL);
  json_builder_end_object (b);
  if (components_json)
    {
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      *components_json = json_to_string (root, FALSE);
    }
  return all_up;
}
