/* Layered, validated configuration. See config.h for the precedence rules. */
#include "gateway/core/config.h"
#include "gateway/core/config-schema.h"

#include <gio/gio.h>
#include <string.h>

G_DEFINE_QUARK (vg - config - error - quark, vg_config_error)

typedef struct
{
  char *value;
  char *origin;
} VgConfigValue;

/* Values sit in an array parallel to the schema, so a read is a short scan
 * of static names with no allocation. */
struct _VgConfig
{
  VgConfigValue *values;
  guint n_values;
  GPtrArray *warnings;
};

static char *
key_id (const char *section, const char *key)
{
  return g_strconcat (section, ".", key, NULL);
}

VgConfig *
vg_config_new (void)
{
  VgConfig *cfg = g_new0 (VgConfig, 1);
  const VgConfigKey *keys = vg_config_schema (&cfg->n_values);

  cfg->values = g_new0 (VgConfigValue, cfg->n_values);
  cfg->warnings = g_ptr_array_new_null_terminated (4, g_free, TRUE);
  for (guint i = 0; i < cfg->n_values; i++)
    {
      cfg->values[i].value = g_strdup (keys[i].default_value);
      cfg->values[i].origin = g_strdup ("default");
    }
  return cfg;
}

void
vg_config_free (VgConfig *cfg)
{
  if (!cfg)
    return;
  for (guint i = 0; i < cfg->n_values; i++)
    {
      g_free (cfg->values[i].value);
      g_free (cfg->values[i].origin);
    }
  g_free (cfg->values);
  g_ptr_array_unref (cfg->warnings);
  g_free (cfg);
}

const char *const *
vg_config_get_warnings (VgConfig *cfg)
{
  return (const char *const *)cfg->warnings->pdata;
}

/* Levenshtein distance, for "did you mean" suggestions. */
static guint
edit_distance (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  g_autofree guint *row = g_new (guint, lb + 1);

  for (gsize j = 0; j <= lb; j++)
    row[j] = j;
  for (gsize i = 1; i <= la; i++)
    {
      guint diag = row[0];
      row[0] = i;
      for (gsize j = 1; j <= lb; j++)
        {
          guint up = row[j];
          guint cost = g_ascii_tolower (a[i - 1]) == g_ascii_tolower (b[j - 1]) ? 0 : 1;
          row[j] = MIN (MIN (row[j] + 1, row[j - 1] + 1), diag + cost);
          diag = up;
        }
    }
  return row[lb];
}

/* The closest declared "section.key" to what was written, or NULL if nothing is close. */
static char *
closest_key (const char *section, const char *key)
{
  guint n, best = G_MAXUINT;
  const VgConfigKey *keys = vg_config_schema (&n);
  const VgConfigKey *found = NULL;
  guint limit = MAX (3u, (guint)strlen (key) / 3);

  /* The distance costs the product of the lengths for each declared key: a
   * key far longer than any declared one (a fuzzer's megabyte line) is close
   * to none of them, and is not worth seconds of start-up. */
  if (strlen (section) + strlen (key) > 128)
    return NULL;
  g_autofree char *wanted = key_id (section, key);
  gsize wanted_len = strlen (wanted);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = key_id (keys[i].section, keys[i].key);
      gsize id_len = strlen (id);
      guint d;
      /* A key that exists in another section is the likeliest mistake. */
      if (g_str_equal (keys[i].key, key))
        d = 1;
      /* The distance is at least the difference of the lengths: skip
       * what could not be within the limit anyway. */
      else if (MAX (id_len, wanted_len) - MIN (id_len, wanted_len) > limit)
        continue;
      else
        d = edit_distance (wanted, id);
      if (d < best)
        {
          best = d;
          found = &keys[i];
        }
    }
  if (!found || best > limit)
    return NULL;
  return g_strdup_printf ("[%s] %s", found->section, found->key);
}

static void
warn_unknown (VgConfig *cfg, const char *section, const char *key, const char *origin)
{
  g_autofree char *suggestion = closest_key (section, key);
  char *msg;

  if (suggestion)
    msg = g_strdup_printf ("unknown configuration key [%s] %s (%s); did you mean %s?", section, key,
                           origin, suggestion);
  else
    msg = g_strdup_printf ("unknown configuration key [%s] %s (%s)", section, key, origin);
  g_ptr_array_add (cfg->warnings, msg);
}

static gboolean
parse_bool (const char *value, gboolean *out)
{
  static const char *const yes[] = { "true", "yes", "on", "1", NULL };
  static const char *const no[] = { "false", "no", "off", "0", NULL };

  for (guint i = 0; yes[i]; i++)
    if (g_ascii_strcasecmp (value, yes[i]) == 0)
      return (*out = TRUE, TRUE);
  for (guint i = 0; no[i]; i++)
    if (g_ascii_strcasecmp (value, no[i]) == 0)
      return (*out = FALSE, TRUE);
  return FALSE;
}

static gboolean
validate_value (const VgConfigKey *k, const char *value, const char *origin, GError **error)
{
  g_autofree char *allowed_buf = NULL;
  const char *allowed = NULL;
  gboolean ok = TRUE;

  switch (k->type)
    {
      case VG_KEY_INT:
        {
          gint64 v;
          ok = g_ascii_string_to_signed (value, 10, k->min, k->max, &v, NULL);
          allowed = allowed_buf = g_strdup_printf (
              "an integer from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT, k->min, k->max);
          break;
        }
      case VG_KEY_DOUBLE:
        {
          char *end = NULL;
          double v = g_ascii_strtod (value, &end);
          ok = *value && end && *end == '\0' && v >= k->min && v <= k->max;
          allowed = allowed_buf = g_strdup_printf (
              "a number from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT, k->min, k->max);
          break;
        }
      case VG_KEY_BOOL:
        {
          gboolean b;
          ok = parse_bool (value, &b);
          allowed = "true or false";
          break;
        }
      case VG_KEY_ENUM:
        {
          g_auto (GStrv) choices = g_strsplit (k->choices, "|", -1);
          ok = g_strv_contains ((const char *const *)choices, value);
          allowed = allowed_buf = g_strjoinv (", ", choices);
          break;
        }
      case VG_KEY_STRING:
      case VG_KEY_LIST:
        break;
    }
  if (ok && k->check)
    ok = k->check (value, &allowed);
  if (!ok)
    {
      /* Never echo a secret back, even a wrong one. */
      g_set_error (error, VG_CONFIG_ERROR, VG_CONFIG_ERROR_VALUE,
                   "[%s] %s: value '%s' from %s is not allowed; expected %s", k->section, k->key,
                   k->secret ? "****" : value, origin, allowed);
      return FALSE;
    }
  return TRUE;
}

gboolean
vg_config_set (VgConfig *cfg, const char *section, const char *key, const char *value,
               const char *origin, GError **error)
{
  const VgConfigKey *k = vg_config_schema_lookup (section, key);
  g_autofree char *trimmed = g_strstrip (g_strdup (value));

  if (!k)
    {
      warn_unknown (cfg, section, key, origin);
      return TRUE;
    }
  if (!validate_value (k, trimmed, origin, error))
    return FALSE;

  guint n;
  VgConfigValue *v = &cfg->values[k - vg_config_schema (&n)];
  g_free (v->value);
  g_free (v->origin);
  v->value = g_steal_pointer (&trimmed);
  v->origin = g_strdup (origin);
  return TRUE;
}

gboolean
vg_config_load_file (VgConfig *cfg, const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len;
  g_autoptr (GError) local = NULL;

  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, VG_CONFIG_ERROR, VG_CONFIG_ERROR_FILE, "cannot read configuration %s: %s",
                   path, local->message);
      return FALSE;
    }
  return vg_config_load_data (cfg, text, len, path, error);
}

gboolean
vg_config_load_data (VgConfig *cfg, const char *data, gsize len, const char *origin, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) groups = NULL;

  if (!g_key_file_load_from_data (kf, data, len, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, VG_CONFIG_ERROR, VG_CONFIG_ERROR_FILE, "cannot read configuration %s: %s",
                   origin, local->message);
      return FALSE;
    }
  groups = g_key_file_get_groups (kf, NULL);
  for (guint i = 0; groups[i]; i++)
    {
      g_auto (GStrv) keys = g_key_file_get_keys (kf, groups[i], NULL, NULL);
      for (guint j = 0; keys && keys[j]; j++)
        {
          /* Raw value: GKeyFile's string unescaping would eat backslashes in paths. */
          g_autofree char *raw = g_key_file_get_value (kf, groups[i], keys[j], NULL);
          if (!vg_config_set (cfg, groups[i], keys[j], raw ? raw : "", origin, error))
            return FALSE;
        }
    }
  return TRUE;
}

gboolean
vg_config_load_environ (VgConfig *cfg, const char *const *envp, GError **error)
{
  guint n;
  const VgConfigKey *keys = vg_config_schema (&n);
  g_autoptr (GHashTable) sections = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < n; i++)
    g_hash_table_add (sections, g_ascii_strup (keys[i].section, -1));

  for (guint e = 0; envp && envp[e]; e++)
    {
      const char *eq = strchr (envp[e], '=');
      if (!eq || !g_str_has_prefix (envp[e], "VOXGATE_"))
        continue;
      g_autofree char *name = g_strndup (envp[e], eq - envp[e]);
      const char *rest = name + strlen ("VOXGATE_");
      gboolean matched = FALSE;

      for (guint i = 0; i < n && !matched; i++)
        {
          g_autofree char *want = g_ascii_strup (keys[i].section, -1);
          g_autofree char *want_key = g_ascii_strup (keys[i].key, -1);
          g_autofree char *full = g_strconcat (want, "_", want_key, NULL);
          if (g_str_equal (rest, full))
            {
              g_autofree char *origin = g_strdup_printf ("environment %s", name);
              if (!vg_config_set (cfg, keys[i].section, keys[i].key, eq + 1, origin, error))
                return FALSE;
              matched = TRUE;
            }
        }
      if (matched)
        continue;
      /* Only names that start with a known section are configuration; other
       * VOXGATE_* variables (e.g. of the test harness) are not ours to judge. */
      GHashTableIter it;
      gpointer sec;
      g_hash_table_iter_init (&it, sections);
      while (g_hash_table_iter_next (&it, &sec, NULL))
        {
          gsize len = strlen (sec);
          if (strncmp (rest, sec, len) == 0 && rest[len] == '_' && rest[len + 1])
            {
              g_autofree char *section = g_ascii_strdown (sec, -1);
              g_autofree char *key = g_ascii_strdown (rest + len + 1, -1);
              g_autofree char *origin = g_strdup_printf ("environment %s", name);
              warn_unknown (cfg, section, key, origin);
              break;
            }
        }
    }
  return TRUE;
}

static const VgConfigValue *
lookup (VgConfig *cfg, const char *section, const char *key, const VgConfigKey **k_out)
{
  guint n;
  const VgConfigKey *keys = vg_config_schema (&n);
  const VgConfigKey *k = vg_config_schema_lookup (section, key);

  g_assert (k != NULL); /* a key read by the program must be declared in the schema */
  if (k_out)
    *k_out = k;
  return &cfg->values[k - keys];
}

const char *
vg_config_get_string (VgConfig *cfg, const char *section, const char *key)
{
  return lookup (cfg, section, key, NULL)->value;
}

const char *
vg_config_get_origin (VgConfig *cfg, const char *section, const char *key)
{
  return lookup (cfg, section, key, NULL)->origin;
}

gint64
vg_config_get_int (VgConfig *cfg, const char *section, const char *key)
{
  return g_ascii_strtoll (vg_config_get_string (cfg, section, key), NULL, 10);
}

double
vg_config_get_double (VgConfig *cfg, const char *section, const char *key)
{
  return g_ascii_strtod (vg_config_get_string (cfg, section, key), NULL);
}

gboolean
vg_config_get_bool (VgConfig *cfg, const char *section, const char *key)
{
  gboolean b = FALSE;
  parse_bool (vg_config_get_string (cfg, section, key), &b);
  return b;
}

char **
vg_config_get_list (VgConfig *cfg, const char *section, const char *key)
{
  g_auto (GStrv) parts = g_strsplit (vg_config_get_string (cfg, section, key), ",", -1);
  GPtrArray *out = g_ptr_array_new_null_terminated (4, g_free, TRUE);

  for (guint i = 0; parts[i]; i++)
    {
      char *item = g_strstrip (parts[i]);
      if (*item)
        g_ptr_array_add (out, g_strdup (item));
    }
  return (char **)g_ptr_array_free (out, FALSE);
}

gboolean
vg_config_uses_dev_credentials (VgConfig *cfg)
{
  return g_str_equal (vg_config_get_string (cfg, "auth", "api_key"), "devkey")
         && g_str_equal (vg_config_get_string (cfg, "auth", "api_secret"), "secret");
}

static gboolean
is_loopback_listen (const char *listen)
{
  if (g_str_equal (listen, "localhost"))
    return TRUE;
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (listen);
  return addr && g_inet_address_get_is_loopback (addr);
}

gboolean
vg_config_validate (VgConfig *cfg, GError **error)
{
  const char *cert = vg_config_get_string (cfg, "server", "tls_cert");
  const char *key = vg_config_get_string (cfg, "server", "tls_key");

  if ((*cert == '\0') != (*key == '\0'))
    {
      g_set_error (error, VG_CONFIG_ERROR, VG_CONFIG_ERROR_VALUE,
                   "[server] tls_cert and tls_key must be set together (one of them is empty)");
      return FALSE;
    }
  gint64 port_min = vg_config_get_int (cfg, "webrtc", "ice_port_min");
  gint64 port_max = vg_config_get_int (cfg, "webrtc", "ice_port_max");
  if ((port_min == 0) != (port_max == 0))
    {
      g_set_error (error, VG_CONFIG_ERROR, VG_CONFIG_ERROR_VALUE,
                   "[webrtc] ice_port_min and ice_port_max must be set together (one of them is "
                   "0)");
      return FALSE;
    }
  if (port_min > port_max)
    {
      g_set_error (error, VG_CONFIG_ERROR, VG_CONFIG_ERROR_VALUE,
                   "[webrtc] ice_port_min (%" G_GINT64_FORMAT
                   ") is above ice_port_max (%" G_GINT64_FORMAT ")",
                   port_min, port_max);
      return FALSE;
    }
  if (vg_config_uses_dev_credentials (cfg)
      && !is_loopback_listen (vg_config_get_string (cfg, "server", "listen"))
      && !vg_config_get_bool (cfg, "auth", "allow_dev_credentials"))
    {
      g_set_error (
          error, VG_CONFIG_ERROR, VG_CONFIG_ERROR_VALUE,
          "[server] listen: '%s' is not a loopback address, and the development credentials "
          "devkey/secret are in effect; set [auth] api_key and api_secret, or "
          "[auth] allow_dev_credentials = true to accept the risk",
          vg_config_get_string (cfg, "server", "listen"));
      return FALSE;
    }
  return TRUE;
}

/* A URL's password is replaced by ****, e.g. postgresql://u:****@h/db. */
static char *
mask_url_password (const char *value)
{
  const char *scheme_end = strstr (value, "://");
  const char *at, *colon;

  if (!scheme_end)
    return g_strdup (value);
  at = strchr (scheme_end + 3, '@');
  if (!at)
    return g_strdup (value);
  colon = memchr (scheme_end + 3, ':', at - (scheme_end + 3));
  if (!colon)
    return g_strdup (value);
  return g_strdup_printf ("%.*s****%s", (int)(colon + 1 - value), value, at);
}

char *
vg_config_dump (VgConfig *cfg)
{
  guint n;
  const VgConfigKey *keys = vg_config_schema (&n);
  GString *out = g_string_new (NULL);
  const char *section = NULL;

  for (guint i = 0; i < n; i++)
    {
      const VgConfigKey *k = &keys[i];
      const VgConfigValue *v = lookup (cfg, k->section, k->key, NULL);
      g_autofree char *shown = NULL;

      if (!section || !g_str_equal (section, k->section))
        {
          g_string_append_printf (out, "%s[%s]\n", section ? "\n" : "", k->section);
          section = k->section;
        }
      if (k->secret && *v->value)
        shown = strstr (v->value, "://") ? mask_url_password (v->value) : g_strdup ("****");
      else
        shown = g_strdup (v->value);
      g_string_append_printf (out, "# %s (from %s)\n%s = %s\n", k->help, v->origin, k->key, shown);
    }
  return g_string_free (out, FALSE);
}
