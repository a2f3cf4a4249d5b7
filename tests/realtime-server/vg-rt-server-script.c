/* vg-rt-server-script.c: a scenario for every connection: the nth response
 * a connection starts follows the script's nth step, a function call or a
 * spoken reply. Parsed and checked once, read-only afterwards. */
#include "vg-rt-server-private.h"

#include <string.h>

void
vg_rt_script_step_free (gpointer data)
{
  VgRtScriptStep *s = data;

  g_free (s->name);
  g_free (s->arguments);
  g_free (s);
}

static gboolean
step_fail (GError **error, guint index, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "script step %u: %s", index, what);
  return FALSE;
}

/* A function name as the API accepts it: [A-Za-z0-9_-]{1,64}. */
static gboolean
valid_name (const char *name)
{
  gsize n = strlen (name);

  if (n == 0 || n > 64)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (name[i]) && name[i] != '_' && name[i] != '-')
      return FALSE;
  return TRUE;
}

static gboolean
parse_step (JsonNode *node, guint index, GPtrArray *steps, GError **error)
{
  VgRtScriptStep *step;
  JsonObject *o;
  JsonNode *call, *args;
  GList *members, *l;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return step_fail (error, index, "not an object");
  o = json_node_get_object (node);
  members = json_object_get_members (o);
  for (l = members; l; l = l->next)
    if (strcmp (l->data, "call") != 0 && strcmp (l->data, "arguments") != 0)
      {
        g_list_free (members);
        return step_fail (error, index, "unknown member (only \"call\" and \"arguments\")");
      }
  g_list_free (members);
  step = g_new0 (VgRtScriptStep, 1);
  g_ptr_array_add (steps, step);
  call = json_object_get_member (o, "call");
  args = json_object_get_member (o, "arguments");
  if (call == NULL)
    return args == NULL || step_fail (error, index, "\"arguments\" without \"call\"");
  if (!JSON_NODE_HOLDS_VALUE (call) || json_node_get_value_type (call) != G_TYPE_STRING
      || !valid_name (json_node_get_string (call)))
    return step_fail (error, index, "\"call\" must be a function name ([A-Za-z0-9_-]{1,64})");
  step->name = g_strdup (json_node_get_string (call));
  /* An object is sent as its JSON text; a string as it is, so that a
   * scenario can send arguments that are not valid JSON. */
  if (args == NULL)
    step->arguments = g_strdup ("{}");
  else if (JSON_NODE_HOLDS_OBJECT (args))
    step->arguments = json_to_string (args, FALSE);
  else if (JSON_NODE_HOLDS_VALUE (args) && json_node_get_value_type (args) == G_TYPE_STRING)
    step->arguments = g_strdup (json_node_get_string (args));
  else
    return step_fail (error, index, "\"arguments\" must be an object or a string");
  return TRUE;
}

GPtrArray *
vg_rt_script_parse (const char *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) steps = g_ptr_array_new_with_free_func (vg_rt_script_step_free);
  JsonNode *root;
  JsonArray *array;

  if (!json_parser_load_from_data (parser, json, -1, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "a script is a JSON array of steps");
      return NULL;
    }
  array = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (array); i++)
    if (!parse_step (json_array_get_element (array, i), i, steps, error))
      return NULL;
  return g_steal_pointer (&steps);
}
