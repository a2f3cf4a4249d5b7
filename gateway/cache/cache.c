/* See cache.h. */
#include "gateway/cache/cache.h"
#include "gateway/cache/ratelimit-redis.h"
#include "gateway/cache/redis-client.h"

#define LOCAL_KEYS_MAX 100000

/* Any thread that checks health; reads only the client's state, which the
 * main context writes: /readyz runs on the main context. */
static gboolean
cache_health (VgApp *app, char **detail, gpointer user_data)
{
  if (!app->redis)
    {
      *detail = g_strdup ("stopped");
      return FALSE;
    }
  if (vg_redis_is_up (app->redis))
    return TRUE;
  *detail = g_strdup (vg_redis_last_error (app->redis));
  return FALSE;
}

gboolean
vg_cache_start (VgApp *app, GError **error)
{
  const char *url = vg_config_get_string (app->config, "cache", "url");
  guint timeout_ms = vg_config_get_int (app->config, "cache", "timeout_ms");
  VgRedisOptions opts = { .command_timeout_ms = timeout_ms, .connect_timeout_ms = timeout_ms };

  if (!*url)
    {
      app->rate_limiter = vg_rate_limiter_new_local (LOCAL_KEYS_MAX);
      return TRUE;
    }
  app->redis = vg_redis_new_full (url, app->main_context, &opts, error);
  if (!app->redis)
    return FALSE;
  vg_redis_set_metrics (app->redis, app->metrics);
  vg_app_add_health_check (app, "cache", cache_health, NULL);
  app->rate_limiter = vg_rate_limiter_new_redis (app->redis, LOCAL_KEYS_MAX, app->metrics);
  g_message ("cache: Redis at %s (rate limits shared by all nodes)",
             vg_redis_display_url (app->redis));
  return TRUE;
}

void
vg_cache_stop (VgApp *app)
{
  g_clear_pointer (&app->redis, vg_redis_free);
  g_clear_pointer (&app->rate_limiter, vg_rate_limiter_free);
}
