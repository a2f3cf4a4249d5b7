/* Loading a VgTutorContext from the store for the learner who just joined.
 *
 * Threads. vg_tutor_context_load blocks on the store's typed reads (a pooled
 * reader connection): call it on a worker thread, never on the main context. */
#pragma once

#include "gateway/tutor/tutor-instructions.h"

G_BEGIN_DECLS

/* Fills out (zeroed first) from the store: the subtopic (an unknown id is no
 * subtopic, not an error), the concepts of its worked examples, the profile's
 * display name, up to VG_TUTOR_SESSIONS_MAX earlier sessions on the subtopic
 * (still-active conversations, the current one among them, skipped) and the
 * learner's understanding in it. Without a subtopic there is no history to
 * load. identity: 1-128 bytes of UTF-8. On FALSE (invalid arguments or a store
 * error) out still holds base_instructions (and identity when valid), so the
 * caller can compose a session without history; clear it either way. */
gboolean vg_tutor_context_load (VgStore *store, const char *identity, gint64 subtopic_id,
                                const char *base_instructions, VgTutorContext *out, GError **error);

G_END_DECLS
