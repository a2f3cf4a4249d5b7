#include "tutor-test-env.h"

#include "store-fixture.h"
#include "vg-build-config.h"

void
vg_tutor_test_env_init (VgTutorTestEnv *env, const VgRtServerOptions *server_options,
                        const char *instructions)
{
  g_autoptr (GError) error = NULL;

  env->store = vg_test_store_open_new (NULL, &env->url, &env->dir);
  env->fractions = vg_test_store_subtopic_id (env->store, "Fractions");
  env->server = vg_rt_server_new (server_options, &error);
  g_assert_no_error (error);
  g_setenv ("OPENAI_API_KEY", server_options->api_key ? server_options->api_key : "", TRUE);

  g_autofree char *server_url = vg_rt_server_get_url (env->server);
  const char *src = g_getenv ("VOXGATE_SOURCE_DIR");
  g_autofree char *pipelines = g_build_filename (src ? src : VOXGATE_SOURCE_DIR, "pipelines", NULL);
  const char *const overrides[][3] = {
    { "agent", "pipelines_dir", pipelines },
    { "agent", "pipeline", "tutor.pipeline" },
    { "agent", "realtime_url", server_url },
    { "agent", "instructions", instructions },
  };
  VgConfig *cfg = vg_config_new ();
  for (guint i = 0; i < G_N_ELEMENTS (overrides); i++)
    g_assert_true (
        vg_config_set (cfg, overrides[i][0], overrides[i][1], overrides[i][2], "test", &error));
  env->app = vg_app_new (cfg);
  env->app->store = env->store;
}

void
vg_tutor_test_env_clear (VgTutorTestEnv *env)
{
  /* The store is the env's, not the app's. */
  env->app->store = NULL;
  vg_app_free (env->app);
  vg_rt_server_free (env->server);
  vg_store_close (env->store);
  g_free (env->url);
  g_free (env->dir);
}
