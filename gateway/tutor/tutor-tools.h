/* The tutor's teaching tools: their declaration to the model (JSON Schemas)
 * and their execution against the store.
 *
 * Threading: vg_tutor_tool_run blocks on the store's reader pool, so it runs
 * on the tutor's worker threads (tutor.c) or in tests, never on the main
 * context or a streaming thread. It keeps no state. */
#pragma once

#include <glib.h>
#include "gateway/store/store.h"

G_BEGIN_DECLS

/* One call of the model, as the tutor needs it; strings borrowed. */
typedef struct
{
  const char *identity;  /* the learner, NULL when the room has none */
  gint64 subtopic_id;    /* <= 0: none */
  const char *name;      /* the tool */
  const char *arguments; /* the model's JSON text, unchecked */
  /* The tutor's ([agent] instructions), to recompose the session when
   * switch_subtopic moves it (vg_tutor_call); NULL = none. */
  const char *base_instructions;
  /* The room the call came from, told to operators' HTTP tools; NULL = none. */
  const char *room;
  /* The learner's name from its token, which (as in the greeting) the
   * recomposed instructions use over the profile's; NULL = the profile's. */
  const char *display_name;
} VgTutorCall;

/* The tools as the agent's "tools" property takes them: a JSON array of
 * {type:"function", name, description, parameters: JSON Schema}. Static. */
const char *vg_tutor_tools_json (void);

/* Runs the call and returns its result, a JSON object text (free it): the
 * tool's answer or {"error":"..."} for any malformed call (bad JSON, wrong
 * types, missing or unknown arguments, unknown tool, oversized strings) and
 * for store failures. store may be NULL (every tool then answers an error). */
char *vg_tutor_tool_run (VgStore *store, const VgTutorCall *call);

/* What a call did besides its result, for the gateway to act on; never sent
 * to the model. */
typedef struct
{
  gint64 subtopic_id;   /* > 0: switch_subtopic moved the session to this subtopic */
  gboolean end_session; /* end_session stored the summary: close after the goodbye */
} VgTutorEffects;

/* vg_tutor_tool_run, also filling effects (zeroed first). */
char *vg_tutor_tool_run_effects (VgStore *store, const VgTutorCall *call, VgTutorEffects *effects);

G_END_DECLS
