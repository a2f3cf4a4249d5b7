/* Prometheus scrape endpoint. */
#include "api/handlers/handlers.h"

static void
handle_metrics (VgRequest *req, gpointer user_data)
{
  char *text = vg_metrics_render (vg_request_app (req)->metrics);
  g_autoptr (GBytes) body = g_bytes_new_take (text, strlen (text));

  vg_reply_bytes (req, SOUP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8", body);
}

void
vg_metrics_routes_register (VgRouter *router, VgApp *app)
{
  vg_router_add (router, "GET", "/metrics", handle_metrics, NULL);
  vg_router_add (router, "GET", "/api/metrics", handle_metrics, NULL);
}
