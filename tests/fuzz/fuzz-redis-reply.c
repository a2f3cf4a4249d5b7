/* libFuzzer target: replies from Redis (gateway/cache/redis-client.c). The
 * bytes are RESP as a server (or anything that answers on its port) sends
 * them, read by hiredis's reader with the bounds the client's connection
 * installs (redis-reply-bounds.h; hiredis alone allocates whatever an array
 * declares: corpus/redis-reply/crash-array-2000000000); every reply, and
 * every element of an array, then goes through each of voxgate's
 * validators, which must refuse with an error or accept. */
#include "fuzz-common.h"
#include "gateway/cache/redis-client.h"
#include "gateway/cache/redis-reply-bounds.h"
#include <hiredis/read.h>

/* The client's bounds, but smaller strings (the client uses
 * max_reply_bytes, 64 MiB by default), so that bound is reached too. */
#define FUZZ_MAX_BULK 4096

static void
validate (const redisReply *reply, guint depth)
{
  gint64 number;
  const char *text;
  g_autoptr (GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL;

  if (!vg_redis_reply_get_int (reply, G_MININT64, G_MAXINT64, &number, "fuzz", &e1))
    g_assert (e1 != NULL);
  if (!vg_redis_reply_get_int (reply, 0, 100, &number, "fuzz", &e2))
    g_assert (e2 != NULL);
  else
    g_assert (number >= 0 && number <= 100);
  if (vg_redis_reply_get_string (reply, 64, TRUE, &text, "fuzz", &e3))
    g_assert (text == NULL || strlen (text) <= 64);
  else
    g_assert (e3 != NULL);
  if (!vg_redis_reply_check_status (reply, "OK", "fuzz", &e4))
    g_assert (e4 != NULL);
  if (vg_redis_reply_check_array (reply, 0, 16, "fuzz", &e5) && depth < 8)
    for (size_t i = 0; i < reply->elements; i++)
      validate (reply->element[i], depth + 1);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  fuzz_fatal_criticals ();
  redisReader *reader = redisReaderCreate ();
  VgRedisReplyBounds bounds;
  vg_redis_reply_bounds_install (reader, &bounds, VG_REDIS_REPLY_MAX_ELEMENTS, FUZZ_MAX_BULK);
  if (redisReaderFeed (reader, (const char *)data, size) == REDIS_OK)
    for (guint n = 0; n < 64; n++)
      {
        void *reply = NULL;
        if (redisReaderGetReply (reader, &reply) != REDIS_OK)
          {
            /* A refusal always fails the reader (the client then drops
             * the connection). */
            g_assert (reader->err != 0);
            g_assert (reader->err != REDIS_ERR_OOM || vg_redis_reply_bounds_refusal (&bounds));
            break;
          }
        if (!reply)
          {
            /* Incomplete: what it declares so far is checked as the client
             * checks it after each read; a refusal says why. */
            if (!vg_redis_reply_bounds_check_pending (reader, &bounds))
              g_assert (vg_redis_reply_bounds_refusal (&bounds) != NULL);
            break;
          }
        g_assert (vg_redis_reply_bounds_refusal (&bounds) == NULL);
        validate (reply, 0);
        freeReplyObject (reply);
      }
  redisReaderFree (reader);
  return 0;
}
