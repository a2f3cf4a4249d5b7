/* vg-main-context.h: running a function on the thread that iterates a
 * GMainContext, and waiting for it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Runs func (data) on the thread that owns context and returns when it
 * returned; at once when the caller owns context. The context must be
 * iterated: otherwise this never returns. Since default-priority sources
 * are dispatched in the order they were attached, it also waits for those
 * attached before. */
void vg_main_context_invoke_sync (GMainContext *context, GSourceFunc func, gpointer data);

G_END_DECLS
