/* The tutor: runs the teaching tools (tutor-tools.h) the model calls, and
 * composes each learner's session and greeting (vg_tutor_greet), off the
 * main context and off streaming threads, and answers on the context the
 * request came from. It knows nothing of rooms: the composition root
 * (main.c) hands it the calls of the rooms' agent hooks and gives the
 * answers back to the rooms.
 *
 * Threading: vg_tutor_call and vg_tutor_greet on any thread with a
 * thread-default main context (the main context, in the gateway); a tool or
 * a greeting runs on one of the tutor's worker threads (a GThreadPool),
 * which block on the store's reader pool;
 * the answer callback runs on the caller's context. Owns its pool; borrows
 * the store, which must outlive it. */
#pragma once

#include <glib.h>
#include "gateway/core/app.h"
#include "gateway/tutor/tutor-tools.h"
#include "gateway/tutor/tutor-instructions.h"

G_BEGIN_DECLS

typedef struct _VgTutor VgTutor;

/* A call's answer; everything borrowed for the answer callback. */
typedef struct
{
  const char *output_json; /* the tool's result, for the model */
  /* Set when switch_subtopic moved the session: the session's instructions
   * recomposed for the new subtopic (vg_tutor_compose_instructions), for the
   * caller to apply to the live session. Out of band: never in the result. */
  const char *instructions;
  gint64 subtopic_id; /* > 0: the subtopic the session moved to */
  /* end_session stored the summary: the caller closes the learner's
   * session once the tutor's goodbye (its reply to the result) has played. */
  gboolean end_session;
} VgTutorOutcome;

typedef void (*VgTutorAnswerFunc) (const VgTutorOutcome *outcome, gpointer user_data);

/* A tutor on app->store (NULL store: every tool answers an error). */
VgTutor *vg_tutor_new (VgApp *app);
VgTutor *vg_tutor_new_with_store (VgStore *store);
/* Waits for the tools running or queued; answers not yet delivered are
 * delivered when their context next runs, or dropped with it. */
void vg_tutor_free (VgTutor *tutor);
/* Operators' HTTP tools (borrowed; NULL: none), called by name before the
 * built-ins. Set before the first call; outlives the tutor. */
typedef struct _VgTutorHttpTools VgTutorHttpTools;
void vg_tutor_set_http_tools (VgTutor *tutor, VgTutorHttpTools *tools);

/* Queues the call (strings copied). answer runs once on the caller's thread
 * default context, then notify (may be NULL) frees user_data. The time from
 * here to the answer is logged at debug level ("tutor: tool ... ms"). */
void vg_tutor_call (VgTutor *tutor, const VgTutorCall *call, VgTutorAnswerFunc answer,
                    gpointer user_data, GDestroyNotify notify);

/* The learner to greet: strings copied by vg_tutor_greet. */
typedef struct
{
  const char *identity;
  gint64 subtopic_id;            /* 0 = none */
  const char *display_name;      /* from the token, overrides the profile's; NULL = the profile's */
  const char *base_instructions; /* the tutor's ([agent] instructions); NULL = none */
} VgTutorGreeting;

/* instructions: the session's (vg_tutor_compose_instructions); response:
 * the greeting response's, the session's instructions followed by the
 * greeting (vg_tutor_compose_greeting), so the first response keeps the
 * persona (at most VG_TUTOR_INSTRUCTIONS_MAX + VG_TUTOR_GREETING_MAX + 2
 * bytes). Both borrowed for the call. */
typedef void (*VgTutorGreetFunc) (const char *instructions, const char *response,
                                  gpointer user_data);

/* Loads the learner's context (vg_tutor_context_load) on a worker and
 * composes the session's instructions and the greeting; a load that fails
 * composes from what it got (no history), so answer always runs: once, on
 * the caller's thread default context, then notify frees user_data. */
void vg_tutor_greet (VgTutor *tutor, const VgTutorGreeting *greeting, VgTutorGreetFunc answer,
                     gpointer user_data, GDestroyNotify notify);

G_END_DECLS
