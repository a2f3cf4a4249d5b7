/* The rooms' agents bound to the tutor: the agent hooks (rooms.h,
 * VgAgentHooks) that hand an agent's function calls to the tutor's tools
 * and a learner whose audio path is up to the tutor's greeting, and that
 * give the tutor's answers back to the room:
 *   - a tool's result to the agent (and the room's "tool" event);
 *   - after switch_subtopic, the room moved to the new subtopic
 *     (vg_rooms_set_subtopic, so later calls, examples and assessments use
 *     it) and the recomposed instructions live in the agent's session,
 *     both before the result, so the model's reply runs under them;
 *   - after end_session, the learner's leaving once the goodbye has played
 *     (or after VG_TUTOR_ROOMS_END_SESSION_TIMEOUT_MS);
 *   - a composed greeting: the session's instructions, then the response
 *     that greets.
 * The only code that knows both packages; the composition root
 * (gateway/main.c) and the room tests make one per registry.
 *
 * Threading: everything here, the hooks and the answers included, runs on
 * the registry's main context; the tutor does the work on its workers.
 *
 * Ownership: borrows the registry, the tutor and the HTTP tools, which must
 * outlive it. Unbind it (vg_tutor_rooms_free) before freeing the registry:
 * that clears the hooks, and answers still on their way are dropped when
 * they arrive (each holds a reference to the binding's state, not to the
 * registry). */
#pragma once

#include <glib.h>
#include "gateway/rooms/rooms.h"
#include "gateway/tutor/tutor.h"
#include "gateway/tutor/tutor-http-tools.h"

G_BEGIN_DECLS

/* How long the tutor's goodbye may take before the learner is removed
 * anyway: a reply that never plays must not keep the session open. */
#define VG_TUTOR_ROOMS_END_SESSION_TIMEOUT_MS (15 * 1000)

typedef struct _VgTutorRooms VgTutorRooms;

/* Sets the rooms' agent hooks: every agent that takes tools is declared the
 * built-in tools and http_tools' (may be NULL: the built-ins only), its
 * calls run on tutor, and every publishing learner is greeted. The tutor's
 * base instructions are the registry's ([agent] instructions). */
VgTutorRooms *vg_tutor_rooms_new (VgRooms *rooms, VgTutor *tutor, VgTutorHttpTools *http_tools);
/* Clears the hooks (NULL: nothing). */
void vg_tutor_rooms_free (VgTutorRooms *binding);

/* Greetings that reached a room's agent (for tests and diagnostics). */
guint vg_tutor_rooms_get_greetings (VgTutorRooms *binding);

G_END_DECLS
