/* Rate limiting behind an interface, so counters can live in this process or
 * in Redis (shared by every node, gateway/cache/ratelimit-redis.h) without the
 * HTTP layer knowing which. The interface is asynchronous because a shared
 * count is a round trip to Redis; the HTTP layer pauses the request meanwhile.
 *
 * Threading: hit and its callback run on the main context. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VgRateLimiter VgRateLimiter;

/* The outcome of one hit: allowed, or refused with retry_after_s (>= 1) the
 * seconds until a hit would be allowed. */
typedef void (*VgRateLimitFunc) (gboolean allowed, guint retry_after_s, gpointer user_data);

typedef struct
{
  /* Records one hit for key and calls done exactly once, on the main
   * context: before hit returns when the answer is known locally, later when
   * it comes from Redis. */
  void (*hit) (VgRateLimiter *self, const char *key, guint limit, guint window_s,
               VgRateLimitFunc done, gpointer user_data);
  void (*free) (VgRateLimiter *self);
} VgRateLimiterVTable;

struct _VgRateLimiter
{
  const VgRateLimiterVTable *vtable;
};

static inline void
vg_rate_limiter_hit (VgRateLimiter *self, const char *key, guint limit, guint window_s,
                     VgRateLimitFunc done, gpointer user_data)
{
  self->vtable->hit (self, key, limit, window_s, done, user_data);
}

static inline void
vg_rate_limiter_free (VgRateLimiter *self)
{
  if (self)
    self->vtable->free (self);
}

/* Sliding-window log kept in this process: answers at once. max_keys bounds
 * memory: when full, the stalest keys are evicted first. Thread-safe. */
VgRateLimiter *vg_rate_limiter_new_local (guint max_keys);

/* The local limiter's answer, synchronously (limiter must come from
 * vg_rate_limiter_new_local): TRUE when allowed, else FALSE with
 * *retry_after_s set. For the shared limiter's fallback and for tests. */
gboolean vg_rate_limiter_local_hit (VgRateLimiter *limiter, const char *key, guint limit,
                                    guint window_s, guint *retry_after_s);

G_END_DECLS
