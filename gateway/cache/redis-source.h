/* hiredis's async event hooks as a GSource: a poll on the connection's fd whose
 * read/write interest hiredis switches through addRead/delRead/addWrite/
 * delWrite. (Debian 12's libhiredis-dev ships adapters/glib.h, but it ignores
 * G_IO_HUP/G_IO_ERR and lets dispatch touch the context after hiredis freed
 * it; this one does neither.) */
#pragma once

#include <glib.h>
#include <hiredis/async.h>

G_BEGIN_DECLS

/* Called on the context after each read, while ac is still alive (not after
 * hiredis freed it): the client checks the unread buffer bound there. */
typedef void (*VgRedisSourceAfterRead) (redisAsyncContext *ac, gpointer user_data);

/* Attaches ac's event hooks to a new source on ctx. The source lives until
 * hiredis calls cleanup (when ac is freed), which destroys it. Returns the
 * source (owned by ctx; no reference is given to the caller). */
GSource *vg_redis_source_attach (redisAsyncContext *ac, GMainContext *ctx,
                                 VgRedisSourceAfterRead after_read, gpointer user_data);

G_END_DECLS
