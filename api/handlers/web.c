/* The web client, served from the compiled-in GResource. */
#include "api/handlers/handlers.h"
#include "vg-web-resources.h"

#include <string.h>

#define WEB_PREFIX "/voxgate/web/"

static const char *
content_type_for (const char *file)
{
  if (g_str_has_suffix (file, ".html"))
    return "text/html; charset=utf-8";
  if (g_str_has_suffix (file, ".js"))
    return "text/javascript; charset=utf-8";
  if (g_str_has_suffix (file, ".css"))
    return "text/css; charset=utf-8";
  if (g_str_has_suffix (file, ".svg"))
    return "image/svg+xml";
  return "application/octet-stream";
}

static void
serve_resource (VgRequest *req, const char *file)
{
  g_autofree char *path = g_strconcat (WEB_PREFIX, file, NULL);
  g_autoptr (GBytes) body = NULL;

  /* Resource names are flat: a path that is anything but a plain file name
   * is not ours, whatever it would resolve to. */
  if (strchr (file, '/') || file[0] == '.' || !(body = g_resource_lookup_data (vg_web_get_resource (), path, 0, NULL)))
    {
      vg_reply_error (req, SOUP_STATUS_NOT_FOUND, "not_found", "no such file");
      return;
    }
  vg_reply_header (req, "Cache-Control", g_str_has_suffix (file, ".html") ? "no-cache" : "public, max-age=300");
  vg_reply_bytes (req, SOUP_STATUS_OK, content_type_for (file), body);
}

static void
handle_index (VgRequest *req, gpointer user_data)
{
  serve_resource (req, "index.html");
}

static void
handle_asset (VgRequest *req, gpointer user_data)
{
  serve_resource (req, vg_request_param (req, "file"));
}

void
vg_web_routes_register (VgRouter *router, VgApp *app)
{
  vg_router_add (router, "GET", "/", handle_index, NULL);
  vg_router_add (router, "GET", "/assets/{file}", handle_asset, NULL);
}
