/* Rate limiting behind an interface, so counters can live in this process or
 * in Redis (shared by every node) without the HTTP layer knowing which. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VgRateLimiter VgRateLimiter;

typedef struct
{
  /* Records one hit for key. Returns TRUE when allowed; otherwise FALSE with
   * *retry_after_s set to the seconds until a hit would be allowed (>= 1). */
  gboolean (*hit) (VgRateLimiter *self, const char *key, guint limit, guint window_s,
                   guint *retry_after_s);
  void (*free) (VgRateLimiter *self);
} VgRateLimiterVTable;

struct _VgRateLimiter
{
  const VgRateLimiterVTable *vtable;
};

static inline gboolean
vg_rate_limiter_hit (VgRateLimiter *self, const char *key, guint limit, guint window_s,
                     guint *retry_after_s)
{
  return self->vtable->hit (self, key, limit, window_s, retry_after_s);
}

static inline void
vg_rate_limiter_free (VgRateLimiter *self)
{
  if (self)
    self->vtable->free (self);
}

/* Sliding-window log kept in this process. max_keys bounds memory: when full,
 * the stalest keys are evicted first. */
VgRateLimiter *vg_rate_limiter_new_local (guint max_keys);

G_END_DECLS
