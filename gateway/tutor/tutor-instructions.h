/* The tutor's instructions for one session, composed in one place from the
 * tutor's base instructions (config), the subtopic (its description, its
 * teaching instructions and the concepts it has worked examples of) and the
 * learner (name, earlier sessions on the subtopic, understanding recorded).
 *
 * Threads. vg_tutor_compose_* are pure (no I/O, no globals): any thread.
 * Filling a context from the store is tutor-context.h's, on a worker thread.
 *
 * Trust. Base and subtopic instructions are written by operators and kept as
 * text. What a learner (or the model, from a learner's words) wrote, names,
 * summaries, concepts, is quoted on one line each inside a <learner-data>
 * block the instructions declare to be data: control characters and line
 * breaks are flattened, '"' becomes ' and '<' '>' become angle quotes, so
 * stored text can neither end its quote nor close the block. Every part is
 * capped, and the result never exceeds the _MAX below, cut at UTF-8
 * character boundaries. */
#pragma once

#include <glib.h>
#include "gateway/store/store.h"

G_BEGIN_DECLS

#define VG_TUTOR_INSTRUCTIONS_MAX 8192 /* bytes of vg_tutor_compose_instructions */
#define VG_TUTOR_GREETING_MAX 2048     /* bytes of vg_tutor_compose_greeting */
#define VG_TUTOR_SESSIONS_MAX 3        /* earlier sessions quoted */
#define VG_TUTOR_CONCEPTS_MAX 10       /* concepts of understanding quoted, weakest first */

typedef struct
{
  char *base_instructions; /* the tutor's ([agent] instructions); NULL: none */

  gint64 subtopic_id; /* <= 0: no subtopic, and the subtopic fields are ignored */
  char *topic, *subtopic_name, *subtopic_description, *subtopic_instructions;
  char **concepts; /* that it has worked examples of; NULL: none */

  char *identity;     /* the learner's; not put in the text */
  char *display_name; /* NULL or empty: unknown */
  /* VgLearnerSession *: earlier sessions on this subtopic, newest first, the
   * current one excluded; NULL or empty: a first session. */
  GPtrArray *sessions;
  /* VgUnderstanding *: per concept, assessed in this subtopic; NULL: none. */
  GPtrArray *understanding;
} VgTutorContext;

/* Frees what ctx holds and zeroes it (a zeroed ctx is empty and valid). */
void vg_tutor_context_clear (VgTutorContext *ctx);

/* The session's instructions (the agent's `instructions`): never NULL, valid
 * UTF-8, at most VG_TUTOR_INSTRUCTIONS_MAX bytes. Free it. */
char *vg_tutor_compose_instructions (const VgTutorContext *ctx);

/* The instructions of the tutor's first response, the greeting it speaks
 * before the learner says anything: by name, opening the subtopic, or for a
 * returning learner recalling the last session and its weakest concept.
 * Never NULL, valid UTF-8, at most VG_TUTOR_GREETING_MAX bytes. Free it. */
char *vg_tutor_compose_greeting (const VgTutorContext *ctx);

G_END_DECLS
