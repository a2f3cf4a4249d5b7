/* vg-rt-server-script.c: a scenario for every connection: a response is a
 * function call when a step of the script matches it, by its number on the
 * connection or by what the user last typed; otherwise it speaks. Parsed and
 * checked once, read-only afterwards. */
#include "vg-rt-server-private.h"

#include <string.h>

void
vg_rt_script_step_free (gpointer data)
{
  VgRtScriptStep *s = data;

  g_free (s->user_says);
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
is_string (JsonNode *node)
{
  return node && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

static gboolean
parse_step (JsonNode *node, guint index, GPtrArray *steps, GError **error)
{
  static const char *const known[] = { "response", "user_says", "call", "arguments", NULL };
  VgRtScriptStep *step;
  JsonObject *o;
  JsonNode *response, *user_says, *call, *args;
  GList *members, *l;
  gboolean unknown = FALSE;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return step_fail (error, index, "not an object");
  o = json_node_get_object (node);
  members = json_object_get_members (o);
  for (l = members; l; l = l->next)
    unknown |= !g_strv_contains (known, l->data);
  g_list_free (members);
  if (unknown)
    return step_fail (error, index,
                      "unknown member (only \"response\", \"user_says\", \"call\", \"arguments\")");
  step = g_new0 (VgRtScriptStep, 1);
  g_ptr_array_add (steps, step);
  response = json_object_get_member (o, "response");
  user_says = json_object_get_member (o, "user_says");
  call = json_object_get_member (o, "call");
  args = json_object_get_member (o, "arguments");

  if ((response == NULL) == (user_says == NULL))
    return step_fail (error, index, "exactly one of \"response\" and \"user_says\"");
  if (response != NULL)
    {
      if (!JSON_NODE_HOLDS_VALUE (response) || json_node_get_value_type (response) != G_TYPE_INT64
          || json_node_get_int (response) < 0 || json_node_get_int (response) > G_MAXINT)
        return step_fail (error, index, "\"response\" must be a response number (0: the first)");
      step->response = json_node_get_int (response);
    }
  else
    {
      if (!is_string (user_says) || json_node_get_string (user_says)[0] == '\0')
        return step_fail (error, index, "\"user_says\" must be a non-empty string");
      step->user_says = g_utf8_casefold (json_node_get_string (user_says), -1);
    }
  if (!is_string (call) || !valid_name (json_node_get_string (call)))
    return step_fail (error, index, "\"call\" must be a function name ([A-Za-z0-9_-]{1,64})");
  step->name = g_strdup (json_node_get_string (call));
  /* An object is sent as its JSON text; a string as it is, so that a
   * scenario can send arguments that are not valid JSON. */
  if (args == NULL)
    step->arguments = g_strdup ("{}");
  else if (JSON_NODE_HOLDS_OBJECT (args))
    step->arguments = json_to_string (args, FALSE);
  else if (is_string (args))
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

const VgRtScriptStep *
vg_rt_script_match (GPtrArray *script, guint response, const char *user_text)
{
  g_autofree char *folded = user_text ? g_utf8_casefold (user_text, -1) : NULL;

  for (guint i = 0; script && i < script->len; i++)
    {
      const VgRtScriptStep *s = g_ptr_array_index (script, i);

      if (s->user_says ? folded && strstr (folded, s->user_says) : s->response == response)
        return s;
    }
  return NULL;
}
