/* The rate limiter shared by every node: hits are counted in Redis by one
 * atomic Lua script (a sliding-window log per key, a sorted set of hit times
 * on Redis's clock), so N per window holds across all nodes on that Redis.
 *
 * When Redis is down, or does not answer within the client's command
 * timeout, or answers with something that is not the script's reply, the hit
 * is counted by the in-process limiter instead (each node then has its own
 * budget), logged once per change (not per request) and counted in
 * voxgate_rate_limit_fallback_total; once Redis answers again, hits are
 * counted there again.
 *
 * Threading: main context, like the Redis client it uses. */
#pragma once

#include "gateway/cache/redis-client.h"
#include "gateway/core/metrics.h"
#include "gateway/core/ratelimit.h"

G_BEGIN_DECLS

/* redis: borrowed; it must outlive the limiter's pending hits: free the
 * client first (its pending hits then complete, counted locally), then the
 * limiter. max_local_keys bounds the fallback limiter. metrics may be NULL. */
VgRateLimiter *vg_rate_limiter_new_redis (VgRedis *redis, guint max_local_keys, VgMetrics *metrics);

/* TRUE while hits are counted in Redis (FALSE after a fallback, until Redis
 * answers a hit again). */
gboolean vg_rate_limiter_redis_is_shared (VgRateLimiter *limiter);

G_END_DECLS
