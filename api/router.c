/* Method + path-template routing. See router.h. */
#include "api/router.h"

#include <string.h>

typedef struct
{
  char *method;
  char *template;
  char **segments;   /* split template; "{name}" marks a parameter */
  guint n_segments;
  VgHandler handler;
  gpointer user_data;
} VgRoute;

struct _VgRouter
{
  GPtrArray *routes;
  GPtrArray *kept; /* of GDestroyNotify-closures, see vg_router_keep */
};

typedef struct
{
  gpointer data;
  GDestroyNotify free_func;
} VgKept;

static void
kept_free (gpointer p)
{
  VgKept *k = p;
  k->free_func (k->data);
  g_free (k);
}

void
vg_router_keep (VgRouter *router, gpointer data, GDestroyNotify free_func)
{
  VgKept *k = g_new0 (VgKept, 1);
  k->data = data;
  k->free_func = free_func;
  g_ptr_array_add (router->kept, k);
}

static void
route_free (gpointer data)
{
  VgRoute *r = data;
  g_free (r->method);
  g_free (r->template);
  g_strfreev (r->segments);
  g_free (r);
}

VgRouter *
vg_router_new (void)
{
  VgRouter *router = g_new0 (VgRouter, 1);
  router->routes = g_ptr_array_new_with_free_func (route_free);
  router->kept = g_ptr_array_new_with_free_func (kept_free);
  return router;
}

void
vg_router_free (VgRouter *router)
{
  if (!router)
    return;
  g_ptr_array_unref (router->routes);
  g_ptr_array_unref (router->kept);
  g_free (router);
}

/* "/a/b/" -> ["a", "b"]; "/" -> []. Empty segments in the middle are kept
 * so that "/a//b" does not silently match "/a/b". */
static char **
split_path (const char *path)
{
  while (*path == '/')
    path++;
  if (*path == '\0')
    return g_new0 (char *, 1);
  g_autofree char *trimmed = g_strdup (path);
  gsize len = strlen (trimmed);
  if (len > 0 && trimmed[len - 1] == '/')
    trimmed[len - 1] = '\0';
  return g_strsplit (trimmed, "/", -1);
}

static gboolean
is_param (const char *segment)
{
  gsize len = strlen (segment);
  return len > 2 && segment[0] == '{' && segment[len - 1] == '}';
}

void
vg_router_add (VgRouter *router, const char *method, const char *path_template, VgHandler handler,
               gpointer user_data)
{
  VgRoute *r = g_new0 (VgRoute, 1);

  r->method = g_strdup (method);
  r->template = g_strdup (path_template);
  r->segments = split_path (path_template);
  r->n_segments = g_strv_length (r->segments);
  r->handler = handler;
  r->user_data = user_data;
  g_ptr_array_add (router->routes, r);
}

/* Literal segments earlier in the path weigh more, so "/rooms/new" beats
 * "/rooms/{room}" and "/a/{x}/c" beats "/a/{x}/{y}". Returns -1 on no match. */
static gint64
route_score (VgRoute *r, char **segments, guint n)
{
  gint64 score = 0;

  if (r->n_segments != n)
    return -1;
  for (guint i = 0; i < n; i++)
    {
      score <<= 1;
      if (is_param (r->segments[i]))
        {
          if (segments[i][0] == '\0')
            return -1;
        }
      else if (g_str_equal (r->segments[i], segments[i]))
        score |= 1;
      else
        return -1;
    }
  return score;
}

VgRouteResult
vg_router_match (VgRouter *router, const char *method, const char *path, VgRouteMatch *match)
{
  g_auto (GStrv) segments = split_path (path);
  guint n = g_strv_length (segments);
  VgRoute *best = NULL;
  gint64 best_score = -1, best_any_score = -1;
  g_autoptr (GString) allowed = NULL;

  memset (match, 0, sizeof *match);
  if (n > 32)
    return VG_ROUTE_NOT_FOUND;
  for (guint i = 0; i < router->routes->len; i++)
    {
      VgRoute *r = g_ptr_array_index (router->routes, i);
      gint64 score = route_score (r, segments, n);
      if (score < 0)
        continue;
      best_any_score = MAX (best_any_score, score);
      if (g_str_equal (r->method, method) && score > best_score)
        {
          best = r;
          best_score = score;
        }
    }
  if (best_any_score < 0)
    return VG_ROUTE_NOT_FOUND;
  if (!best || best_score < best_any_score)
    {
      /* Methods of the most specific template that matched. */
      allowed = g_string_new (NULL);
      for (guint i = 0; i < router->routes->len; i++)
        {
          VgRoute *r = g_ptr_array_index (router->routes, i);
          if (route_score (r, segments, n) == best_any_score)
            g_string_append_printf (allowed, "%s%s", allowed->len ? ", " : "", r->method);
        }
      match->allowed_methods = g_string_free (g_steal_pointer (&allowed), FALSE);
      return VG_ROUTE_METHOD_NOT_ALLOWED;
    }

  match->params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < n; i++)
    {
      if (!is_param (best->segments[i]))
        continue;
      char *value = g_uri_unescape_string (segments[i], "/");
      if (!value)
        {
          g_clear_pointer (&match->params, g_hash_table_unref);
          return VG_ROUTE_NOT_FOUND;
        }
      g_hash_table_insert (match->params,
                           g_strndup (best->segments[i] + 1, strlen (best->segments[i]) - 2), value);
    }
  match->handler = best->handler;
  match->user_data = best->user_data;
  match->route = best->template;
  return VG_ROUTE_FOUND;
}
