/* Tool argument checks; see tutor-args.h. */
#include "gateway/tutor/tutor-args.h"
#include "common/json-strict.h"
#include "gateway/store/store.h"
#include <string.h>

JsonObject *
vg_tutor_args_parse (const char *arguments, char **error)
{
  if (!arguments || !*arguments)
    return json_object_new ();
  if (strlen (arguments) > VG_TUTOR_ARGS_MAX)
    {
      *error = g_strdup_printf ("the arguments are longer than %d bytes", VG_TUTOR_ARGS_MAX);
      return NULL;
    }
  g_autoptr (GError) local = NULL;
  /* The model writes these: strict, so that trailing text is refused rather
   * than ignored (and leaked) by json-glib. */
  g_autoptr (JsonNode) root = vg_json_strict_parse (arguments, strlen (arguments), &local);
  if (!root)
    {
      *error = g_strdup_printf ("the arguments are not JSON: %s", local->message);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      *error = g_strdup ("the arguments must be a JSON object");
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

gboolean
vg_tutor_args_only (JsonObject *args, const char *const *allowed, char **error)
{
  g_autoptr (GList) members = json_object_get_members (args);
  for (GList *m = members; m; m = m->next)
    if (!g_strv_contains (allowed, m->data))
      {
        g_autofree char *list = g_strjoinv (", ", (char **)allowed);
        *error = g_strdup_printf ("unknown argument \"%.64s\" (this tool takes: %s)",
                                  (const char *)m->data, *list ? list : "nothing");
        return FALSE;
      }
  return TRUE;
}

static gboolean
is_blank (const char *s)
{
  for (; *s; s++)
    if (!g_ascii_isspace (*s))
      return FALSE;
  return TRUE;
}

gboolean
vg_tutor_args_string (JsonObject *args, const char *name, gboolean required, gsize max_bytes,
                      const char **out, char **error)
{
  JsonNode *node = json_object_get_member (args, name);
  *out = NULL;
  if (!node || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        *error = g_strdup_printf ("\"%s\" is required", name);
      return !required;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      *error = g_strdup_printf ("\"%s\" must be a string", name);
      return FALSE;
    }
  const char *value = json_node_get_string (node);
  if (is_blank (value))
    {
      *error = g_strdup_printf ("\"%s\" must not be empty", name);
      return FALSE;
    }
  if (strlen (value) > max_bytes)
    {
      *error = g_strdup_printf ("\"%s\" is longer than %" G_GSIZE_FORMAT " bytes", name, max_bytes);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

gboolean
vg_tutor_args_level (JsonObject *args, const char *name, int *out, char **error)
{
  static const char expected[]
      = "one of \"emerging\", \"developing\", \"proficient\", \"mastered\" (or 1-4)";
  JsonNode *node = json_object_get_member (args, name);
  if (!node || JSON_NODE_HOLDS_NULL (node))
    {
      *error = g_strdup_printf ("\"%s\" is required: %s", name, expected);
      return FALSE;
    }
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    {
      gint64 v = json_node_get_int (node);
      if (v >= VG_LEVEL_EMERGING && v <= VG_LEVEL_MAX)
        {
          *out = (int)v;
          return TRUE;
        }
    }
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      VgUnderstandingLevel level;
      /* "not yet assessed" is a name of the scale, not an assessment. */
      if (vg_store_level_from_name (json_node_get_string (node), &level)
          && level >= VG_LEVEL_EMERGING)
        {
          *out = level;
          return TRUE;
        }
    }
  *error = g_strdup_printf ("\"%s\" must be %s", name, expected);
  return FALSE;
}
