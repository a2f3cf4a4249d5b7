/* See redis-source.h. Runs on the context the source is attached to. */
#include "gateway/cache/redis-source.h"

typedef struct
{
  GSource source;
  redisAsyncContext *ac; /* NULL once hiredis has called cleanup */
  gpointer fd_tag;
  GIOCondition events;
  VgRedisSourceAfterRead after_read;
  gpointer user_data;
} VgRedisSource;

static void
set_events (VgRedisSource *s, GIOCondition events)
{
  if (!s->ac || events == s->events)
    return;
  s->events = events;
  g_source_modify_unix_fd ((GSource *)s, s->fd_tag, events);
}

static void
add_read (void *data)
{
  VgRedisSource *s = data;
  set_events (s, s->events | G_IO_IN);
}

static void
del_read (void *data)
{
  VgRedisSource *s = data;
  set_events (s, s->events & ~G_IO_IN);
}

static void
add_write (void *data)
{
  VgRedisSource *s = data;
  set_events (s, s->events | G_IO_OUT);
}

static void
del_write (void *data)
{
  VgRedisSource *s = data;
  set_events (s, s->events & ~G_IO_OUT);
}

/* hiredis is freeing ac: stop polling its fd (about to be closed) and let
 * the context drop the source. Possibly called from inside our dispatch. */
static void
cleanup (void *data)
{
  VgRedisSource *s = data;

  if (s->fd_tag)
    g_source_remove_unix_fd ((GSource *)s, s->fd_tag);
  s->fd_tag = NULL;
  s->ac = NULL;
  g_source_destroy ((GSource *)s);
}

static gboolean
dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  VgRedisSource *s = (VgRedisSource *)source;
  GIOCondition revents;

  if (!s->ac || !s->fd_tag)
    return G_SOURCE_REMOVE;
  revents = g_source_query_unix_fd (source, s->fd_tag);
  /* Writes first: a non-blocking connect completes by becoming writable. */
  if (revents & (G_IO_OUT | G_IO_ERR | G_IO_HUP) && (s->events & G_IO_OUT))
    redisAsyncHandleWrite (s->ac);
  /* A hang-up or error is read too: hiredis then sees EOF or the error and
   * disconnects, failing the pending callbacks. */
  if (s->ac && revents & (G_IO_IN | G_IO_ERR | G_IO_HUP))
    {
      redisAsyncHandleRead (s->ac);
      if (s->ac && s->after_read)
        s->after_read (s->ac, s->user_data);
    }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs funcs = { .dispatch = dispatch };

GSource *
vg_redis_source_attach (redisAsyncContext *ac, GMainContext *ctx, VgRedisSourceAfterRead after_read,
                        gpointer user_data)
{
  GSource *source = g_source_new (&funcs, sizeof (VgRedisSource));
  VgRedisSource *s = (VgRedisSource *)source;

  g_source_set_static_name (source, "vg-redis");
  s->ac = ac;
  s->after_read = after_read;
  s->user_data = user_data;
  s->fd_tag = g_source_add_unix_fd (source, ac->c.fd, 0);
  ac->ev.data = s;
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;
  g_source_attach (source, ctx);
  g_source_unref (source);
  return source;
}
