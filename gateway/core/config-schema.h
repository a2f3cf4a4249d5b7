/* The declared configuration keys. Internal to config.c and its tests. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  VG_KEY_STRING,
  VG_KEY_INT,
  VG_KEY_DOUBLE,
  VG_KEY_BOOL,
  VG_KEY_ENUM, /* one of choices, "a|b|c" */
  VG_KEY_LIST, /* comma-separated strings */
} VgKeyType;

typedef struct
{
  const char *section;
  const char *key;
  VgKeyType type;
  const char *default_value;
  const char *help;
  gint64 min, max;     /* VG_KEY_INT and VG_KEY_DOUBLE */
  const char *choices; /* VG_KEY_ENUM */
  gboolean secret;     /* masked in check-config */
  /* Extra check of a syntactically valid value; on FALSE sets *allowed to a
   * description of what is allowed (static string). */
  gboolean (*check) (const char *value, const char **allowed);
} VgConfigKey;

const VgConfigKey *vg_config_schema (guint *n_keys);
const VgConfigKey *vg_config_schema_lookup (const char *section, const char *key);

G_END_DECLS
