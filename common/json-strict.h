/* Strict JSON (RFC 8259) for text from outside: request bodies, tokens'
 * headers and claims, the tools file, the model's tool arguments.
 *
 * json-glib is lenient (single quotes, comments, bare words), recurses
 * once per nesting level, so a deeply nested body overflows the stack, and
 * (1.6.6, Debian 12) ignores a second top-level value after the first one
 * and leaks the tree it built for it ("{}{...}": found by tests/fuzz).
 * Every such text goes through vg_json_strict_parse() or
 * vg_json_strict_check(): a flat scan first
 * refuses anything that is not RFC 8259 JSON, nests deeper than
 * VG_JSON_MAX_DEPTH or has a string holding U+0000 (which C strings would cut
 * short), and only then json-glib builds the tree. Pure functions; any thread. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define VG_JSON_MAX_DEPTH 64

#define VG_JSON_STRICT_ERROR (vg_json_strict_error_quark ())
GQuark vg_json_strict_error_quark (void);

typedef enum
{
  VG_JSON_STRICT_ERROR_INVALID,  /* not RFC 8259 JSON, or not UTF-8 */
  VG_JSON_STRICT_ERROR_TOO_DEEP, /* arrays/objects nested deeper than the limit */
  VG_JSON_STRICT_ERROR_NUL,      /* a string contains \u0000 */
} VgJsonStrictError;

/* Checks that data[0..len) is one JSON text, nested at most max_depth deep,
 * with no \u0000 in any string. Never recurses. */
gboolean vg_json_strict_check (const char *data, gsize len, guint max_depth, GError **error);

/* vg_json_strict_check() with VG_JSON_MAX_DEPTH, then json-glib.
 * Returns the root (transfer full) or NULL with error set. */
JsonNode *vg_json_strict_parse (const char *data, gsize len, GError **error);

G_END_DECLS
