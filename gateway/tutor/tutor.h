/* The tutor: runs the teaching tools (tutor-tools.h) the model calls, off
 * the main context and off streaming threads, and answers on the context
 * the call came from. It knows nothing of rooms: the composition root
 * (main.c) hands it the calls of the rooms' agent hooks and gives the
 * answers back to the rooms.
 *
 * Threading: vg_tutor_call on any thread with a thread-default main context
 * (the main context, in the gateway); a tool runs on one of the tutor's
 * worker threads (a GThreadPool), which block on the store's reader pool;
 * the answer callback runs on the caller's context. Owns its pool; borrows
 * the store, which must outlive it. */
#pragma once

#include <glib.h>
#include "gateway/core/app.h"
#include "gateway/tutor/tutor-tools.h"

G_BEGIN_DECLS

typedef struct _VgTutor VgTutor;

/* output_json: the tool's result (borrowed for the call). */
typedef void (*VgTutorAnswerFunc) (const char *output_json, gpointer user_data);

/* A tutor on app->store (NULL store: every tool answers an error). */
VgTutor *vg_tutor_new (VgApp *app);
VgTutor *vg_tutor_new_with_store (VgStore *store);
/* Waits for the tools running or queued; answers not yet delivered are
 * delivered when their context next runs, or dropped with it. */
void vg_tutor_free (VgTutor *tutor);

/* Queues the call (strings copied). answer runs once on the caller's thread
 * default context, then notify (may be NULL) frees user_data. The time from
 * here to the answer is logged at debug level ("tutor: tool ... ms"). */
void vg_tutor_call (VgTutor *tutor, const VgTutorCall *call, VgTutorAnswerFunc answer,
                    gpointer user_data, GDestroyNotify notify);

G_END_DECLS
