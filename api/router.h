/* Routes by method and path template with {name} parameters, e.g.
 * "/api/rooms/{room}/participants/{identity}". A parameter matches one
 * non-empty path segment. Literal segments win over parameters. */
#pragma once

#include "api/http.h"

G_BEGIN_DECLS

typedef void (*VgHandler) (VgRequest *req, gpointer user_data);

typedef struct _VgRouter VgRouter;

VgRouter *vg_router_new (void);
void vg_router_free (VgRouter *router);

void vg_router_add (VgRouter *router, const char *method, const char *path_template,
                    VgHandler handler, gpointer user_data);

/* Keeps data (e.g. a handler group's state) until the router is freed. */
void vg_router_keep (VgRouter *router, gpointer data, GDestroyNotify free_func);

typedef enum
{
  VG_ROUTE_FOUND,
  VG_ROUTE_NOT_FOUND,          /* no template matches the path */
  VG_ROUTE_METHOD_NOT_ALLOWED, /* a template matches, not with this method */
} VgRouteResult;

typedef struct
{
  VgHandler handler;
  gpointer user_data;
  const char *route;     /* the template, owned by the router */
  GHashTable *params;    /* name -> decoded value; caller unrefs */
  char *allowed_methods; /* for 405: "GET, POST"; caller frees */
} VgRouteMatch;

VgRouteResult vg_router_match (VgRouter *router, const char *method, const char *path,
                               VgRouteMatch *match);

G_END_DECLS
