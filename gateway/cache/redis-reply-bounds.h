/* Bounds on what a Redis reply may declare, enforced on hiredis's reader
 * before it allocates.
 *
 * hiredis 0.14's reader allocates an array's element table as soon as it
 * reads the header: "*2000000000\r\n" (13 bytes) asks for 16 GB, and nested
 * arrays multiply that ("*1000000\r\n" inside an array of a million). A
 * bulk string is allocated only once all its bytes have arrived, but its
 * declared length tells at once that it cannot fit. These bounds refuse both:
 *   - the element slots all the arrays of one reply declare, added up
 *     (so one array, or a nest of them, is bounded the same way);
 *   - the bytes a bulk string (or a status or error line) declares or holds.
 * A refused reply makes the reader fail (hiredis reports every refusal from
 * a reply-object function as "Out of memory"; vg_redis_reply_bounds_refusal
 * gives the real reason, for the log and the caller's error).
 *
 * Threading: a VgRedisReplyBounds belongs to one reader and is used on
 * that reader's thread only. */
#pragma once

#include <glib.h>
#include <hiredis/read.h>

G_BEGIN_DECLS

/* Element slots the arrays of one reply may declare together: 1 Mi slots
 * is 8 MiB of element tables, far beyond any reply voxgate asks for. */
#define VG_REDIS_REPLY_MAX_ELEMENTS (1u << 20)

typedef struct
{
  gsize max_elements; /* element slots of one reply, all arrays added up */
  gsize max_bulk;     /* bytes of one bulk string, status or error */
  gsize declared;     /* slots declared so far by the reply being read */
  char refused[128];  /* why the reader failed, "" while nothing was refused */
} VgRedisReplyBounds;

/* Initialises bounds and installs reply-object functions on reader that
 * enforce them (the replies are hiredis's ordinary redisReply objects, freed
 * with freeReplyObject). bounds must outlive the reader's use; it is the
 * reader's privdata from here on. */
void vg_redis_reply_bounds_install (redisReader *reader, VgRedisReplyBounds *bounds,
                                    gsize max_elements, gsize max_bulk);

/* Checks the length a partly received bulk string or array declares (the
 * reader waits for all of a bulk string's bytes before creating it); call it
 * after feeding the reader and taking its replies. Returns FALSE, with the
 * refusal recorded in bounds, when the declared length is over a bound: the
 * caller must stop using the reader (drop the connection). */
gboolean vg_redis_reply_bounds_check_pending (redisReader *reader, VgRedisReplyBounds *bounds);

/* Why a reply was refused ("array of 2000000000 elements ..."), or NULL. */
const char *vg_redis_reply_bounds_refusal (const VgRedisReplyBounds *bounds);

G_END_DECLS
