/* The HTTP server: libsoup on the main context, with the router, body limits,
 * CORS, security headers, request ids and per-route metrics. */
#pragma once

#include "api/http.h"
#include "api/router.h"

G_BEGIN_DECLS

typedef struct _VgServer VgServer;

/* Builds the server with every route registered (api/routes.c). */
VgServer *vg_server_new (VgApp *app, GError **error);
void vg_server_free (VgServer *server);

/* Listens on [server] listen:port (TLS when tls_cert/tls_key are set). */
gboolean vg_server_listen (VgServer *server, GError **error);
/* The port actually bound (useful with port 0). */
guint vg_server_get_port (VgServer *server);
/* The base URL clients should use ([server] public_url, else derived). */
const char *vg_server_get_public_url (VgServer *server);

VgRouter *vg_server_get_router (VgServer *server);

/* Graceful shutdown: closes the listening sockets; requests in flight go on. */
void vg_server_stop_accepting (VgServer *server);
guint vg_server_in_flight (VgServer *server);

G_END_DECLS
