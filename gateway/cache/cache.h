/* The cache package's start and stop for the composition root: with a
 * [cache] url, the Redis client (app->redis), its metrics, the "cache"
 * readiness check and the shared rate limiter; without one, the in-process
 * rate limiter alone. Main context. */
#pragma once

#include "gateway/core/app.h"

G_BEGIN_DECLS

/* Sets app->rate_limiter, and app->redis when a URL is configured. Fails only
 * on a bad URL (an unreachable Redis is not an error: the node serves with
 * local limits and /readyz names "cache" until Redis is reached). */
gboolean vg_cache_start (VgApp *app, GError **error);

/* Frees app->redis first (pending rate-limit hits then complete, counted
 * locally), then app->rate_limiter. Call while the HTTP server still exists,
 * so those requests are answered. Idempotent. */
void vg_cache_stop (VgApp *app);

G_END_DECLS
