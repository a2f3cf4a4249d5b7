/* Agent templates and the agent's events; see agent-binding.h. */
#include "gateway/rooms/agent-binding.h"
#include "common/json-strict.h"
#include <json-glib/json-glib.h>
#include <string.h>

#define TEMPLATE_MAX_BYTES (64 * 1024)
/* A typed message longer than this is refused rather than sent to the model. */
#define CLIENT_TEXT_MAX_BYTES (16 * 1024)

gboolean
vg_agent_template_name_is_valid (const char *name)
{
  static const char suffix[] = ".pipeline";
  if (!name)
    return FALSE;
  gsize len = strlen (name);
  if (len <= strlen (suffix) || len > 128 || !g_str_has_suffix (name, suffix))
    return FALSE;
  for (gsize i = 0; i < len - strlen (suffix); i++)
    if (!g_ascii_isalnum (name[i]) && name[i] != '_' && name[i] != '-')
      return FALSE;
  return TRUE;
}

/* Drops comment lines ('#' first on the line) so templates can explain themselves. */
static char *
strip_comments (const char *text)
{
  GString *out = g_string_new (NULL);
  char **lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      const char *p = *l;
      while (g_ascii_isspace (*p))
        p++;
      if (*p == '#')
        continue;
      g_string_append (out, *l);
      g_string_append_c (out, '\n');
    }
  g_strfreev (lines);
  return g_string_free (out, FALSE);
}

static guint
count_pads (GstElement *element, GstPadDirection direction)
{
  return direction == GST_PAD_SINK ? element->numsinkpads : element->numsrcpads;
}

GstElement *
vg_agent_bin_load (const char *pipelines_dir, const char *template_name, GError **error)
{
  if (!vg_agent_template_name_is_valid (template_name))
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_INVALID,
                   "'%s' is not a pipeline template name", template_name ? template_name : "");
      return NULL;
    }
  g_autofree char *path = g_build_filename (pipelines_dir, template_name, NULL);
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, &text, &len, &local))
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_INVALID, "pipeline template %s: %s",
                   template_name, local->message);
      return NULL;
    }
  if (len > TEMPLATE_MAX_BYTES || memchr (text, '\0', len))
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_INVALID,
                   "pipeline template %s is not a text of at most 64 KiB", template_name);
      return NULL;
    }
  g_autofree char *description = strip_comments (text);
  GstElement *bin = gst_parse_bin_from_description_full (description, TRUE, NULL,
                                                         GST_PARSE_FLAG_FATAL_ERRORS, &local);
  if (!bin)
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_PIPELINE, "pipeline template %s: %s",
                   template_name, local ? local->message : "cannot be parsed");
      return NULL;
    }
  gst_object_ref_sink (bin);
  if (count_pads (bin, GST_PAD_SINK) != 1 || count_pads (bin, GST_PAD_SRC) != 1)
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_PIPELINE,
                   "pipeline template %s must leave exactly one sink and one src pad unlinked",
                   template_name);
      gst_object_unref (bin);
      return NULL;
    }
  return bin;
}

GstElement *
vg_agent_bin_get_agent (GstElement *agent_bin)
{
  return gst_bin_get_by_name (GST_BIN (agent_bin), "agent");
}

static void
set_string_if_present (GstElement *agent, const char *property, const char *value)
{
  if (value && *value && g_object_class_find_property (G_OBJECT_GET_CLASS (agent), property))
    g_object_set (agent, property, value, NULL);
}

void
vg_agent_configure (GstElement *agent, const VgRoomsSettings *settings)
{
  if (!agent)
    return;
  set_string_if_present (agent, "url", settings->agent_url);
  set_string_if_present (agent, "model", settings->agent_model);
  set_string_if_present (agent, "voice", settings->agent_voice);
  set_string_if_present (agent, "instructions", settings->agent_instructions);
  /* The key comes from the environment only: never from a template or a request. */
  set_string_if_present (agent, "api-key", g_getenv ("OPENAI_API_KEY"));
}

void
vg_agent_set_tools (GstElement *agent, const char *tools_json)
{
  if (agent)
    set_string_if_present (agent, "tools", tools_json);
}

static const char *
struct_string (const GstStructure *s, const char *field)
{
  const char *v = gst_structure_get_string (s, field);
  return v ? v : "";
}

static char *
builder_to_text (JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static const char *const agent_states[]
    = { "connecting", "reconnecting", "listening", "thinking", "speaking", "error", NULL };

char *
vg_agent_event_from_message (const GstStructure *s, const char **state_out)
{
  const char *name = gst_structure_get_name (s);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  if (state_out)
    *state_out = NULL;

  json_builder_begin_object (b);
  if (g_str_equal (name, "realtime-state"))
    {
      const char *state = struct_string (s, "state");
      const char *known = NULL;
      for (guint i = 0; agent_states[i]; i++)
        if (g_str_equal (state, agent_states[i]))
          known = agent_states[i];
      if (!known)
        return NULL;
      if (state_out)
        *state_out = known;
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "agent_state");
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, known);
    }
  else if (g_str_equal (name, "realtime-transcript"))
    {
      gboolean final = FALSE;
      gst_structure_get_boolean (s, "final", &final);
      const char *role = struct_string (s, "role");
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "transcript");
      json_builder_set_member_name (b, "role");
      json_builder_add_string_value (b, g_str_equal (role, "user") ? "user" : "assistant");
      json_builder_set_member_name (b, "item_id");
      json_builder_add_string_value (b, struct_string (s, "item-id"));
      json_builder_set_member_name (b, "text");
      json_builder_add_string_value (b, struct_string (s, "text"));
      json_builder_set_member_name (b, "final");
      json_builder_add_boolean_value (b, final);
    }
  else if (g_str_equal (name, "realtime-function-call"))
    {
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "tool");
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, struct_string (s, "name"));
      json_builder_set_member_name (b, "arguments");
      json_builder_add_string_value (b, struct_string (s, "arguments"));
      json_builder_set_member_name (b, "result");
      json_builder_add_null_value (b);
    }
  else if (g_str_equal (name, "realtime-error"))
    {
      const char *code = struct_string (s, "code");
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "error");
      json_builder_set_member_name (b, "code");
      json_builder_add_string_value (b, *code ? code : "agent_error");
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, struct_string (s, "message"));
    }
  else
    return NULL;
  json_builder_end_object (b);
  return builder_to_text (b);
}

gboolean
vg_agent_send_function_result (GstElement *agent, const char *call_id, const char *output_json)
{
  if (!agent || !call_id || !g_signal_lookup ("send-function-result", G_OBJECT_TYPE (agent)))
    return FALSE;
  g_signal_emit_by_name (agent, "send-function-result", call_id, output_json);
  return TRUE;
}

void
vg_agent_answer_function_call (GstElement *agent, const GstStructure *s)
{
  vg_agent_send_function_result (agent, gst_structure_get_string (s, "call-id"),
                                 "{\"error\":\"no such tool on this gateway\"}");
}

char *
vg_agent_tool_event (const char *name, const char *arguments, const char *output_json)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) output
      = output_json ? vg_json_strict_parse (output_json, strlen (output_json), NULL) : NULL;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "tool");
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name ? name : "");
  json_builder_set_member_name (b, "arguments");
  json_builder_add_string_value (b, arguments ? arguments : "");
  json_builder_set_member_name (b, "result");
  if (!output_json)
    json_builder_add_null_value (b);
  else if (output)
    json_builder_add_value (b, json_node_copy (output));
  else
    json_builder_add_string_value (b, output_json);
  json_builder_end_object (b);
  return builder_to_text (b);
}

gboolean
vg_agent_apply_client_event (GstElement *agent, const char *json, const char **error_code,
                             char **typed_text)
{
  if (strlen (json) > CLIENT_TEXT_MAX_BYTES)
    {
      *error_code = "too_large";
      return FALSE;
    }
  /* Strict: any participant writes these. json-glib alone recurses once per
   * nesting level and ignores, and leaks, a second value after the first
   * (found by tests/fuzz). */
  g_autoptr (JsonNode) root = vg_json_strict_parse (json, strlen (json), NULL);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      *error_code = "bad_json";
      return FALSE;
    }
  JsonObject *o = json_node_get_object (root);
  /* json-glib's _with_default gives NULL for a number and a critical for an
   * array: {"type":5} used to crash the gateway (found by tests/fuzz). */
  JsonNode *type_node = json_object_get_member (o, "type");
  const char *type = type_node && JSON_NODE_HOLDS_VALUE (type_node)
                             && json_node_get_value_type (type_node) == G_TYPE_STRING
                         ? json_node_get_string (type_node)
                         : "";
  if (g_str_equal (type, "text"))
    {
      JsonNode *text = json_object_get_member (o, "text");
      if (!text || !JSON_NODE_HOLDS_VALUE (text)
          || json_node_get_value_type (text) != G_TYPE_STRING)
        {
          *error_code = "bad_json";
          return FALSE;
        }
      if (!agent || !g_signal_lookup ("send-text", G_OBJECT_TYPE (agent)))
        {
          *error_code = "no_agent";
          return FALSE;
        }
      g_signal_emit_by_name (agent, "send-text", json_node_get_string (text));
      if (typed_text)
        *typed_text = g_strdup (json_node_get_string (text));
      return TRUE;
    }
  if (g_str_equal (type, "interrupt"))
    {
      if (!agent || !g_signal_lookup ("cancel-response", G_OBJECT_TYPE (agent)))
        {
          *error_code = "no_agent";
          return FALSE;
        }
      g_signal_emit_by_name (agent, "cancel-response");
      return TRUE;
    }
  *error_code = "unknown_type";
  return FALSE;
}
