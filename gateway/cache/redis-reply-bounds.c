/* See redis-reply-bounds.h. Runs on the reader's thread (the functions below
 * are called by hiredis from inside redisReaderGetReply). */
#include "gateway/cache/redis-reply-bounds.h"

#include <hiredis/hiredis.h>

/* hiredis's own reply-object functions (static in libhiredis, so they live
 * as long as the process): the bounded ones below wrap them. */
static redisReplyObjectFunctions *
default_functions (void)
{
  static redisReplyObjectFunctions *fn;
  static gsize once;

  if (g_once_init_enter (&once))
    {
      redisReader *r = redisReaderCreate ();
      fn = r->fn;
      redisReaderFree (r);
      g_once_init_leave (&once, 1);
    }
  return fn;
}

static void refuse (VgRedisReplyBounds *b, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
refuse (VgRedisReplyBounds *b, const char *format, ...)
{
  va_list ap;

  if (b->refused[0])
    return; /* the first reason is the one that stopped the reader */
  va_start (ap, format);
  g_vsnprintf (b->refused, sizeof b->refused, format, ap);
  va_end (ap);
}

/* hiredis takes NULL from these as "out of memory" and fails the reader. */
static void *
bounded_create_array (const redisReadTask *task, int elements)
{
  VgRedisReplyBounds *b = task->privdata;

  if (!task->parent)
    b->declared = 0; /* a new reply */
  if (elements < 0 || (gsize)elements > b->max_elements - b->declared)
    {
      refuse (
          b,
          "reply refused: an array of %d elements takes the reply past the bound of %zu elements",
          elements, b->max_elements);
      return NULL;
    }
  b->declared += elements;
  return default_functions ()->createArray (task, elements);
}

static void *
bounded_create_string (const redisReadTask *task, char *s, size_t len)
{
  VgRedisReplyBounds *b = task->privdata;

  if (len > b->max_bulk)
    {
      refuse (b, "reply refused: a string of %zu bytes exceeds the bound of %zu bytes", len,
              b->max_bulk);
      return NULL;
    }
  return default_functions ()->createString (task, s, len);
}

static void *
create_integer (const redisReadTask *task, long long value)
{
  return default_functions ()->createInteger (task, value);
}

static void *
create_nil (const redisReadTask *task)
{
  return default_functions ()->createNil (task);
}

static void
free_object (void *obj)
{
  default_functions ()->freeObject (obj);
}

static redisReplyObjectFunctions bounded_functions = {
  .createString = bounded_create_string,
  .createArray = bounded_create_array,
  .createInteger = create_integer,
  .createNil = create_nil,
  .freeObject = free_object,
};

void
vg_redis_reply_bounds_install (redisReader *reader, VgRedisReplyBounds *bounds, gsize max_elements,
                               gsize max_bulk)
{
  *bounds = (VgRedisReplyBounds){ .max_elements = max_elements, .max_bulk = max_bulk };
  default_functions ();
  reader->fn = &bounded_functions;
  reader->privdata = bounds;
}

/* The decimal length at the start of p[0..len), as far as it has arrived,
 * saturating at G_MAXSIZE; a leading '-' (nil) gives 0. */
static gsize
declared_length (const char *p, gsize len)
{
  gsize v = 0;

  if (len > 0 && p[0] == '-')
    return 0;
  for (gsize i = 0; i < len && g_ascii_isdigit (p[i]); i++)
    {
      guint d = p[i] - '0';
      if (v > (G_MAXSIZE - d) / 10)
        return G_MAXSIZE;
      v = v * 10 + d;
    }
  return v;
}

gboolean
vg_redis_reply_bounds_check_pending (redisReader *reader, VgRedisReplyBounds *bounds)
{
  if (bounds->refused[0])
    return FALSE;
  if (reader->err || reader->ridx < 0 || reader->pos >= reader->len)
    return TRUE;

  /* The reader stops on an item it cannot finish yet with buf + pos just
   * after the item's type byte: at the declared length for a bulk string or
   * an array, at the text for a line. */
  const redisReadTask *task = &reader->rstack[reader->ridx];
  const char *p = reader->buf + reader->pos;
  gsize avail = reader->len - reader->pos;

  switch (task->type)
    {
      case REDIS_REPLY_STRING:
        {
          gsize n = declared_length (p, avail);
          if (n > bounds->max_bulk)
            {
              refuse (bounds,
                      "reply refused: a bulk string declares %zu bytes, over the bound of %zu "
                      "bytes",
                      n, bounds->max_bulk);
              return FALSE;
            }
          break;
        }
      case REDIS_REPLY_ARRAY:
        {
          gsize n = declared_length (p, avail);
          gsize left = bounds->max_elements - (task->parent ? bounds->declared : 0);
          if (n > left)
            {
              refuse (bounds,
                      "reply refused: an array declares %zu elements, over the bound of %zu "
                      "elements per reply",
                      n, bounds->max_elements);
              return FALSE;
            }
          break;
        }
      case REDIS_REPLY_STATUS:
      case REDIS_REPLY_ERROR:
      case REDIS_REPLY_INTEGER:
        if (avail > bounds->max_bulk)
          {
            refuse (bounds, "reply refused: a line longer than the bound of %zu bytes",
                    bounds->max_bulk);
            return FALSE;
          }
        break;
      default:
        break;
    }
  return TRUE;
}

const char *
vg_redis_reply_bounds_refusal (const VgRedisReplyBounds *bounds)
{
  return bounds->refused[0] ? bounds->refused : NULL;
}
