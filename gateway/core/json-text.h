/* Writing JSON text by hand on hot paths, where a JSON tree would only cost
 * allocations. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Appends s as a quoted JSON string (RFC 8259 escapes; s must be UTF-8). */
void vg_json_append_string (GString *out, const char *s);

/* Appends v in decimal, as printf's %" G_GINT64_FORMAT " would (without its
 * cost: formats are parsed at every call). */
void vg_json_append_int (GString *out, gint64 v);

G_END_DECLS
