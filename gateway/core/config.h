/* voxgate configuration: a GKeyFile schema with typed, validated keys.
 *
 * Precedence, lowest to highest: built-in defaults, the configuration file,
 * VOXGATE_<SECTION>_<KEY> environment variables, command-line flags.
 * Every key the program reads is declared in the schema (config-schema.c), so
 * check-config can print all of them and an unknown key can be named. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VG_CONFIG_ERROR (vg_config_error_quark ())
GQuark vg_config_error_quark (void);

typedef enum
{
  VG_CONFIG_ERROR_FILE,  /* the file cannot be read or parsed */
  VG_CONFIG_ERROR_VALUE, /* a value is not allowed for its key */
} VgConfigError;

typedef struct _VgConfig VgConfig;

VgConfig *vg_config_new (void);
void vg_config_free (VgConfig *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VgConfig, vg_config_free)

/* Each layer may be applied once, in precedence order. Unknown keys are
 * warnings (collected, see vg_config_get_warnings); bad values are errors. */
gboolean vg_config_load_file (VgConfig *cfg, const char *path, GError **error);
/* The same from a file's text; origin names it in errors and origins. */
gboolean vg_config_load_data (VgConfig *cfg, const char *data, gsize len, const char *origin,
                              GError **error);
gboolean vg_config_load_environ (VgConfig *cfg, const char *const *envp, GError **error);
/* A single override from a command-line flag, e.g. ("server", "port", "9000"). */
gboolean vg_config_set (VgConfig *cfg, const char *section, const char *key, const char *value,
                        const char *origin, GError **error);
/* Cross-key rules (e.g. TLS cert without key). Call after all layers. */
gboolean vg_config_validate (VgConfig *cfg, GError **error);

const char *const *vg_config_get_warnings (VgConfig *cfg);

/* Typed accessors; the key must be in the schema (a programming error otherwise). */
const char *vg_config_get_string (VgConfig *cfg, const char *section, const char *key);
gint64 vg_config_get_int (VgConfig *cfg, const char *section, const char *key);
double vg_config_get_double (VgConfig *cfg, const char *section, const char *key);
gboolean vg_config_get_bool (VgConfig *cfg, const char *section, const char *key);
/* Comma-separated list, trimmed, empty items dropped. Free with g_strfreev. */
char **vg_config_get_list (VgConfig *cfg, const char *section, const char *key);
/* Where the effective value came from: "default", a file path, "env", "flag". */
const char *vg_config_get_origin (VgConfig *cfg, const char *section, const char *key);

/* The effective configuration as an INI text, secrets masked. */
char *vg_config_dump (VgConfig *cfg);

/* TRUE when the development credentials (devkey/secret) are in effect. */
gboolean vg_config_uses_dev_credentials (VgConfig *cfg);

G_END_DECLS
