/* vg-io-context.h: the one I/O thread and GMainContext shared by every
 * openairealtime instance in the process. */
#pragma once

#include <glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _VgIoContext VgIoContext;

/* Returns a reference on the process-wide context, starting its thread on
 * first use. Thread safe. */
VgIoContext *vg_io_context_ref_default (void);
/* Drops a reference; the last one stops and joins the thread. Must not be
 * called from the I/O thread itself. */
void vg_io_context_unref (VgIoContext *io);

GMainContext *vg_io_context_get_main_context (VgIoContext *io);
/* The SoupSession owned by the I/O context: use it only on the I/O thread. */
SoupSession *vg_io_context_get_session (VgIoContext *io);
gboolean vg_io_context_is_current (VgIoContext *io);

/* Runs func on the I/O thread (at once when already on it). */
void vg_io_context_invoke (VgIoContext *io, GSourceFunc func, gpointer data, GDestroyNotify notify);
/* Runs func on the I/O thread and waits until it returned. */
void vg_io_context_invoke_sync (VgIoContext *io, GSourceFunc func, gpointer data);

/* Number of I/O threads currently running in the process (0 or 1); for the
 * benchmark and tests. */
guint vg_io_context_thread_count (void);

G_END_DECLS
