/* Internals shared by http.c (the request object) and server.c (its owner). */
#pragma once

#include "api/http.h"

G_BEGIN_DECLS

typedef struct _VgServer VgServer;

struct _VgRequest
{
  gint ref_count;
  VgApp *app;
  VgServer *server;
  SoupServerMessage *msg;
  char *method;
  char *path;
  const char *route;        /* owned by the router; "unmatched" when none */
  char request_id[40];
  char *client_addr;
  char *origin;             /* Origin header when CORS allows it, else NULL */
  char *content_type;       /* lower-case media type, filled on first use */
  GHashTable *params;
  GHashTable *query;        /* parsed on first use */
  GByteArray *body;
  gsize body_received;
  gboolean body_too_large;
  gboolean paused;
  gboolean replied;
  gboolean finished;        /* the message is done; replies are ignored */
  gint64 start_us;
};

VgRequest *vg_request_new (VgServer *server, SoupServerMessage *msg);

/* Decodes the query string once for every route. FALSE (and no parameters)
 * when it has a bad %-escape, %00 or bytes that are not UTF-8. */
gboolean vg_request_parse_query (VgRequest *req);

/* Server facts a request needs when it replies. */
gboolean vg_server_is_tls (VgServer *server);
VgApp *vg_server_app (VgServer *server);

G_END_DECLS
