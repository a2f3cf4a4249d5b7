/* A request's query string (application/x-www-form-urlencoded), decoded
 * strictly: the parameters every handler reads come from any client. Pure
 * function; any thread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Decodes query (NULL: none) into `into` (string -> string, both owned by
 * the table; a repeated name keeps its last value, an empty name is
 * dropped). On a bad %-escape, %00 or a component that is not UTF-8, empties
 * `into` and returns FALSE. */
gboolean vg_http_query_parse (const char *query, GHashTable *into);

G_END_DECLS
