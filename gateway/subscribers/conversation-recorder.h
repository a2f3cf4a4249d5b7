/* Records what happens in rooms into the store: a conversation per
 * publishing participant, its final transcripts and tool calls in order, and
 * a session_analytics row and the profile's last_seen_at when it ends. It
 * listens on the event bus (events.h), so the room code only publishes what
 * happened and never waits for the database. */
#pragma once

#include "gateway/core/app.h"

G_BEGIN_DECLS

typedef struct _VgRecorder VgRecorder;

/* Subscribes to app->events; writes to app->store (nothing when it is NULL). */
VgRecorder *vg_recorder_new (VgApp *app);
/* Ends the conversations still open as "abandoned", then unsubscribes. */
void vg_recorder_free (VgRecorder *recorder);

G_END_DECLS
