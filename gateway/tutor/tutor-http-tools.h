/* Operators' own tools (issue 17): a tools file declares them, the gateway
 * calls them over HTTP(S) with the model's arguments, signed like webhooks.
 *
 * Threading: loading and the declaration run anywhere; vg_tutor_http_tools_run
 * blocks (it iterates a private context until the response, the timeout or
 * a failure), so it runs on the tutor's worker threads, never on the main
 * context. A loaded VgTutorHttpTools is immutable, so workers share it. */
#pragma once

#include <glib.h>
#include "gateway/tutor/tutor-tools.h"

G_BEGIN_DECLS

#define VG_TUTOR_HTTP_TOOLS_RESULT_MAX (64 * 1024)
#define VG_TUTOR_HTTP_TOOLS_FILE_MAX (1024 * 1024)

typedef struct _VgTutorHttpTools VgTutorHttpTools;

/* Parses and validates a tools file's text: a JSON array of {name,
 * description, parameters, url, timeout_ms?}. The error names the entry and
 * the problem. */
VgTutorHttpTools *vg_tutor_http_tools_parse (const char *text, gsize len, GError **error);
VgTutorHttpTools *vg_tutor_http_tools_load (const char *path, GError **error);
void vg_tutor_http_tools_free (VgTutorHttpTools *tools);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VgTutorHttpTools, vg_tutor_http_tools_free)

/* The key and secret that sign requests (copied). */
void vg_tutor_http_tools_set_signer (VgTutorHttpTools *tools, const char *api_key,
                                     const char *api_secret);

/* The built-in tools followed by the file's, as the agent's "tools" property
 * takes them. tools may be NULL (the built-ins). Owned by tools. */
const char *vg_tutor_http_tools_json (VgTutorHttpTools *tools);

gboolean vg_tutor_http_tools_has (VgTutorHttpTools *tools, const char *name);

/* Blocking: POSTs the call's arguments to the tool's URL and returns its
 * 2xx JSON body, or {"error":"tool <name> failed: ..."} (free it). */
char *vg_tutor_http_tools_run (VgTutorHttpTools *tools, const VgTutorCall *call);

G_END_DECLS
