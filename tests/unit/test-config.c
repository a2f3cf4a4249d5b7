/* Configuration: precedence, unknown keys, bad values, masking. */
#include "gateway/core/config.h"

#include <glib/gstdio.h>

static char *
write_temp_config (const char *text)
{
  GError *error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("vg-config-XXXXXX.ini", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
test_defaults (void)
{
  g_autoptr (VgConfig) cfg = vg_config_new ();

  g_assert_cmpstr (vg_config_get_string (cfg, "server", "listen"), ==, "127.0.0.1");
  g_assert_cmpint (vg_config_get_int (cfg, "server", "port"), ==, 8080);
  g_assert_cmpint (vg_config_get_int (cfg, "auth", "token_ttl"), ==, 7200);
  g_assert_cmpint (vg_config_get_int (cfg, "rate_limit", "token_per_minute"), ==, 10);
  g_assert_true (vg_config_get_bool (cfg, "rooms", "auto_create"));
  g_assert_true (vg_config_uses_dev_credentials (cfg));
  g_assert_cmpstr (vg_config_get_origin (cfg, "server", "port"), ==, "default");
}

static void
test_precedence (void)
{
  g_autoptr (VgConfig) cfg = vg_config_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = write_temp_config ("[server]\nport = 9000\nlisten = ::1\n"
                                              "[rate_limit]\ntoken_per_minute = 3\n[auth]\ntoken_ttl = 600\n");
  const char *env[] = { "VOXGATE_SERVER_PORT=9100", "VOXGATE_RATE_LIMIT_TOKEN_PER_MINUTE=7", "PATH=/bin", NULL };

  g_assert_true (vg_config_load_file (cfg, path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (vg_config_get_int (cfg, "server", "port"), ==, 9000);
  g_assert_cmpstr (vg_config_get_origin (cfg, "server", "port"), ==, path);

  g_assert_true (vg_config_load_environ (cfg, env, &error));
  g_assert_cmpint (vg_config_get_int (cfg, "server", "port"), ==, 9100);
  g_assert_cmpint (vg_config_get_int (cfg, "rate_limit", "token_per_minute"), ==, 7);
  g_assert_cmpstr (vg_config_get_origin (cfg, "server", "port"), ==, "environment VOXGATE_SERVER_PORT");

  g_assert_true (vg_config_set (cfg, "server", "port", "9200", "flag --port", &error));
  g_assert_cmpint (vg_config_get_int (cfg, "server", "port"), ==, 9200);
  /* Keys set in only one layer keep that layer's value. */
  g_assert_cmpstr (vg_config_get_string (cfg, "server", "listen"), ==, "::1");
  g_assert_cmpint (vg_config_get_int (cfg, "auth", "token_ttl"), ==, 600);
  g_assert_true (vg_config_validate (cfg, &error));
  g_unlink (path);
}

static void
test_unknown_keys (void)
{
  g_autoptr (VgConfig) cfg = vg_config_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = write_temp_config ("[server]\nprot = 1\n[store]\nport = 5\n[nonsense]\nzzzzqqq = 1\n");
  const char *env[] = { "VOXGATE_AUTH_API_SECRT=x", "VOXGATE_BIN=/usr/bin/true", NULL };
  const char *const *warnings;

  g_assert_true (vg_config_load_file (cfg, path, &error));
  g_assert_true (vg_config_load_environ (cfg, env, &error));
  warnings = vg_config_get_warnings (cfg);
  g_assert_cmpuint (g_strv_length ((char **) warnings), ==, 4);
  g_assert_nonnull (strstr (warnings[0], "[server] prot"));
  g_assert_nonnull (strstr (warnings[0], "did you mean [server] port?"));
  g_assert_nonnull (strstr (warnings[1], "did you mean [server] port?"));
  g_assert_null (strstr (warnings[2], "did you mean"));
  g_assert_nonnull (strstr (warnings[3], "did you mean [auth] api_secret?"));
  /* A variable outside the configuration sections is not judged. */
  for (guint i = 0; warnings[i]; i++)
    g_assert_null (strstr (warnings[i], "VOXGATE_BIN"));
  g_unlink (path);
}

typedef struct
{
  const char *section, *key, *value, *expect;
} BadValue;

static void
test_bad_values (void)
{
  static const BadValue cases[] = {
    { "server", "port", "99999", "0 to 65535" },
    { "server", "port", "80a", "integer" },
    { "server", "port", "", "integer" },
    { "server", "listen", "not an address", "IPv4 or IPv6" },
    { "server", "max_body_bytes", "10", "1024 to" },
    { "server", "public_url", "ftp://x", "http" },
    { "auth", "token_ttl", "-5", "60 to" },
    { "auth", "api_key", "", "non-empty" },
    { "rooms", "auto_create", "maybe", "true or false" },
    { "store", "url", "mysql://x", "postgresql://" },
    { "cache", "url", "memcached://x", "redis://" },
    { "agent", "pipeline", "../../etc/passwd", ".pipeline" },
    { "agent", "pipeline", "/abs/tutor.pipeline", ".pipeline" },
    { "agent", "realtime_url", "https://api.openai.com", "ws://" },
    { "log", "format", "xml", "text, json" },
    { "webrtc", "jitter_latency_ms", "5000", "0 to 2000" },
    { "webrtc", "ice_port_max", "70000", "0 to 65535" },
    { "webrtc", "nat_1_1_address", "voice.example.org", "IPv4 or IPv6 address" },
    { "webrtc", "nat_1_1_address", "203.0.113.300", "IPv4 or IPv6 address" },
    { "webrtc", "ice_addresses", "10.0.0.5, eth0", "IPv4 or IPv6 addresses" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (VgConfig) cfg = vg_config_new ();
      g_autoptr (GError) error = NULL;
      g_assert_false (vg_config_set (cfg, cases[i].section, cases[i].key, cases[i].value, "test", &error));
      g_assert_error (error, VG_CONFIG_ERROR, VG_CONFIG_ERROR_VALUE);
      /* The message names the key, the value and what is allowed. */
      g_autofree char *key = g_strdup_printf ("[%s] %s", cases[i].section, cases[i].key);
      g_assert_nonnull (strstr (error->message, key));
      /* ...except a secret's value, which is never echoed. */
      if (g_str_equal (cases[i].key, "url"))
        g_assert_null (strstr (error->message, cases[i].value));
      else
        g_assert_nonnull (strstr (error->message, cases[i].value));
      g_assert_nonnull (strstr (error->message, cases[i].expect));
    }
}

static void
test_bad_file (void)
{
  g_autoptr (VgConfig) cfg = vg_config_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = write_temp_config ("[server\nport = 1\n");

  g_assert_false (vg_config_load_file (cfg, path, &error));
  g_assert_error (error, VG_CONFIG_ERROR, VG_CONFIG_ERROR_FILE);
  g_clear_error (&error);
  g_assert_false (vg_config_load_file (cfg, "/nonexistent/voxgate.ini", &error));
  g_assert_error (error, VG_CONFIG_ERROR, VG_CONFIG_ERROR_FILE);
  g_unlink (path);
}

static void
test_secret_never_echoed (void)
{
  g_autoptr (VgConfig) cfg = vg_config_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dump = NULL;

  g_assert_false (vg_config_set (cfg, "store", "url", "mysql://user:hunter2@db", "test", &error));
  g_assert_null (strstr (error->message, "hunter2"));
  g_assert_true (vg_config_set (cfg, "store", "url", "postgresql://user:hunter2@db/voxgate", "test", NULL));
  g_assert_true (vg_config_set (cfg, "auth", "api_secret", "very-secret-value", "test", NULL));
  g_assert_true (vg_config_set (cfg, "webrtc", "turn_server", "turn://u:turnpass@turn.example:3478", "t", NULL));
  dump = vg_config_dump (cfg);
  g_assert_null (strstr (dump, "hunter2"));
  g_assert_null (strstr (dump, "very-secret-value"));
  g_assert_null (strstr (dump, "turnpass"));
  g_assert_nonnull (strstr (dump, "url = postgresql://user:****@db/voxgate"));
  g_assert_nonnull (strstr (dump, "api_secret = ****"));
}

static void
test_cross_rules (void)
{
  g_autoptr (GError) error = NULL;
  {
    g_autoptr (VgConfig) cfg = vg_config_new ();
    g_assert_true (vg_config_set (cfg, "server", "listen", "0.0.0.0", "t", NULL));
    g_assert_false (vg_config_validate (cfg, &error));
    g_assert_nonnull (strstr (error->message, "allow_dev_credentials"));
    g_clear_error (&error);
    g_assert_true (vg_config_set (cfg, "auth", "allow_dev_credentials", "true", "t", NULL));
    g_assert_true (vg_config_validate (cfg, &error));
  }
  {
    g_autoptr (VgConfig) cfg = vg_config_new ();
    g_assert_true (vg_config_set (cfg, "server", "listen", "0.0.0.0", "t", NULL));
    g_assert_true (vg_config_set (cfg, "auth", "api_secret", "a-real-secret-of-decent-length", "t", NULL));
    g_assert_true (vg_config_validate (cfg, &error));
  }
  {
    g_autoptr (VgConfig) cfg = vg_config_new ();
    g_assert_true (vg_config_set (cfg, "server", "tls_cert", "/tmp/cert.pem", "t", NULL));
    g_assert_false (vg_config_validate (cfg, &error));
    g_assert_nonnull (strstr (error->message, "tls_key"));
    g_clear_error (&error);
  }
  {
    /* The ICE port range: both bounds or neither, and in order. */
    g_autoptr (VgConfig) cfg = vg_config_new ();
    g_assert_true (vg_config_set (cfg, "webrtc", "ice_port_min", "50000", "t", NULL));
    g_assert_false (vg_config_validate (cfg, &error));
    g_assert_nonnull (strstr (error->message, "ice_port_max must be set together"));
    g_clear_error (&error);
    g_assert_true (vg_config_set (cfg, "webrtc", "ice_port_max", "40000", "t", NULL));
    g_assert_false (vg_config_validate (cfg, &error));
    g_assert_nonnull (
        strstr (error->message, "ice_port_min (50000) is above ice_port_max (40000)"));
    g_clear_error (&error);
    g_assert_true (vg_config_set (cfg, "webrtc", "ice_port_max", "50000", "t", NULL));
    g_assert_true (vg_config_validate (cfg, &error));
    g_assert_true (vg_config_set (cfg, "webrtc", "nat_1_1_address", "2001:db8::7", "t", NULL));
    g_assert_true (vg_config_set (cfg, "webrtc", "ice_addresses", "10.0.0.5, fd00::2", "t", NULL));
  }
}

static void
test_lists (void)
{
  g_autoptr (VgConfig) cfg = vg_config_new ();
  g_auto (GStrv) list = NULL;

  g_assert_true (vg_config_set (cfg, "server", "cors_origins", " https://a.example , ,https://b.example ", "t", NULL));
  list = vg_config_get_list (cfg, "server", "cors_origins");
  g_assert_cmpuint (g_strv_length (list), ==, 2);
  g_assert_cmpstr (list[0], ==, "https://a.example");
  g_assert_cmpstr (list[1], ==, "https://b.example");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/defaults", test_defaults);
  g_test_add_func ("/config/precedence", test_precedence);
  g_test_add_func ("/config/unknown-keys", test_unknown_keys);
  g_test_add_func ("/config/bad-values", test_bad_values);
  g_test_add_func ("/config/bad-file", test_bad_file);
  g_test_add_func ("/config/secrets-masked", test_secret_never_echoed);
  g_test_add_func ("/config/cross-rules", test_cross_rules);
  g_test_add_func ("/config/lists", test_lists);
  return g_test_run ();
}
