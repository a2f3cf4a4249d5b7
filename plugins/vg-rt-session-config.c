/* vg-rt-session-config.c: builds session.update. GA rules: session.type is
 * required on every update, no top-level voice/temperature/modalities, audio
 * formats spelled out, turn detection with explicit values. */
#include "vg-rt-session-config.h"
#include "vg-rt-events.h"

#define VG_RT_CONFIG_ERROR (g_quark_from_static_string ("vg-rt-config-error"))

gboolean
vg_rt_tools_validate (const char *text, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonArray *array;
  guint i;

  if (!json_parser_load_from_data (parser, text, -1, error))
    return FALSE;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error (error, VG_RT_CONFIG_ERROR, 1, "tools must be a JSON array");
      return FALSE;
    }
  array = json_node_get_array (root);
  for (i = 0; i < json_array_get_length (array); i++)
    if (!JSON_NODE_HOLDS_OBJECT (json_array_get_element (array, i)))
      {
        g_set_error (error, VG_RT_CONFIG_ERROR, 2, "tools[%u] is not an object", i);
        return FALSE;
      }
  return TRUE;
}

static void
add_pcm_format (JsonBuilder *b)
{
  json_builder_set_member_name (b, "format");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "audio/pcm");
  json_builder_set_member_name (b, "rate");
  json_builder_add_int_value (b, 24000);
  json_builder_end_object (b);
}

static void
add_turn_detection (JsonBuilder *b, const VgRtSessionSettings *s)
{
  json_builder_set_member_name (b, "turn_detection");
  if (s->turn_detection == VG_RT_TURN_DETECTION_NONE)
    {
      json_builder_add_null_value (b);
      return;
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  if (s->turn_detection == VG_RT_TURN_DETECTION_SEMANTIC_VAD)
    {
      json_builder_add_string_value (b, "semantic_vad");
      json_builder_set_member_name (b, "eagerness");
      json_builder_add_string_value (b, s->eagerness ? s->eagerness : "auto");
    }
  else
    {
      json_builder_add_string_value (b, "server_vad");
      json_builder_set_member_name (b, "threshold");
      json_builder_add_double_value (b, s->vad_threshold);
      json_builder_set_member_name (b, "prefix_padding_ms");
      json_builder_add_int_value (b, s->prefix_padding_ms);
      json_builder_set_member_name (b, "silence_duration_ms");
      json_builder_add_int_value (b, s->silence_duration_ms);
    }
  json_builder_set_member_name (b, "create_response");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "interrupt_response");
  json_builder_add_boolean_value (b, s->interrupt_response);
  json_builder_end_object (b);
}

/* The settings' tools, validated and parsed (*out NULL when there are none). */
static gboolean
load_tools (const VgRtSessionSettings *s, JsonParser **out, GError **error)
{
  *out = NULL;
  if (s->tools_json == NULL || s->tools_json[0] == '\0')
    return TRUE;
  if (!vg_rt_tools_validate (s->tools_json, error))
    return FALSE;
  *out = json_parser_new ();
  json_parser_load_from_data (*out, s->tools_json, -1, NULL);
  return TRUE;
}

/* {"type":"session.update","session":{"type":"realtime", ... left open. */
static void
begin_session_update (JsonBuilder *b)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "session.update");
  json_builder_set_member_name (b, "session");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "realtime");
}

char *
vg_rt_session_update_build (const VgRtSessionSettings *s, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonParser) tools = NULL;

  if (!load_tools (s, &tools, error))
    return NULL;
  begin_session_update (b);
  json_builder_set_member_name (b, "instructions");
  json_builder_add_string_value (b, s->instructions ? s->instructions : "");
  json_builder_set_member_name (b, "output_modalities");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, "audio");
  json_builder_end_array (b);

  json_builder_set_member_name (b, "audio");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "input");
  json_builder_begin_object (b);
  add_pcm_format (b);
  json_builder_set_member_name (b, "transcription");
  if (s->transcription_model && s->transcription_model[0])
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "model");
      json_builder_add_string_value (b, s->transcription_model);
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "noise_reduction");
  if (s->noise_reduction && s->noise_reduction[0])
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, s->noise_reduction);
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);
  add_turn_detection (b, s);
  json_builder_end_object (b); /* input */
  json_builder_set_member_name (b, "output");
  json_builder_begin_object (b);
  add_pcm_format (b);
  json_builder_set_member_name (b, "voice");
  json_builder_add_string_value (b, s->voice ? s->voice : "marin");
  json_builder_end_object (b); /* output */
  json_builder_end_object (b); /* audio */

  if (tools != NULL)
    {
      json_builder_set_member_name (b, "tools");
      json_builder_add_value (b, json_node_copy (json_parser_get_root (tools)));
      json_builder_set_member_name (b, "tool_choice");
      json_builder_add_string_value (b, "auto");
    }
  json_builder_end_object (b); /* session */
  json_builder_end_object (b);
  return vg_rt_build_event (b);
}

char *
vg_rt_session_update_build_fields (const VgRtSessionSettings *s, VgRtSessionFields fields,
                                   GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonParser) tools = NULL;

  if ((fields & VG_RT_SESSION_TOOLS) && !load_tools (s, &tools, error))
    return NULL;
  begin_session_update (b);
  if (fields & VG_RT_SESSION_INSTRUCTIONS)
    {
      json_builder_set_member_name (b, "instructions");
      json_builder_add_string_value (b, s->instructions ? s->instructions : "");
    }
  if (fields & VG_RT_SESSION_TOOLS)
    {
      json_builder_set_member_name (b, "tools");
      if (tools != NULL)
        json_builder_add_value (b, json_node_copy (json_parser_get_root (tools)));
      else
        {
          json_builder_begin_array (b);
          json_builder_end_array (b);
        }
      json_builder_set_member_name (b, "tool_choice");
      json_builder_add_string_value (b, "auto");
    }
  json_builder_end_object (b); /* session */
  json_builder_end_object (b);
  return vg_rt_build_event (b);
}

void
vg_rt_session_settings_clear (VgRtSessionSettings *s)
{
  g_clear_pointer (&s->instructions, g_free);
  g_clear_pointer (&s->voice, g_free);
  g_clear_pointer (&s->eagerness, g_free);
  g_clear_pointer (&s->transcription_model, g_free);
  g_clear_pointer (&s->noise_reduction, g_free);
  g_clear_pointer (&s->tools_json, g_free);
}
