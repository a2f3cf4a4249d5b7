/* Writing JSON text by hand on hot paths, where a JSON tree would only cost
 * allocations. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Appends s as a quoted JSON string (RFC 8259 escapes; s must be UTF-8). */
void vg_json_append_string (GString *out, const char *s);

G_END_DECLS
