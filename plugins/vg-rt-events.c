/* vg-rt-events.c: Realtime frame parsing and client event building. */
#include "vg-rt-events.h"
#include "common/json-strict.h"

#include <string.h>

#define VG_RT_ERROR (g_quark_from_static_string ("vg-rt-error"))

JsonNode *
vg_rt_event_parse (const char *text, gsize len, const char **type, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;
  const char *t;

  if (!g_utf8_validate (text, len, NULL))
    {
      g_set_error (error, VG_RT_ERROR, 1, "frame is not valid UTF-8");
      return NULL;
    }
  /* Strict first: json-glib alone ignores, and leaks, a second value after
   * the first (found by tests/fuzz), and recurses once per nesting level. */
  if (!vg_json_strict_check (text, len, VG_JSON_MAX_DEPTH, error)
      || !json_parser_load_from_data (parser, text, len, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, VG_RT_ERROR, 2, "frame is not a JSON object");
      return NULL;
    }
  t = vg_rt_json_get_string (json_node_get_object (root), "type");
  if (t == NULL || t[0] == '\0')
    {
      g_set_error (error, VG_RT_ERROR, 3, "frame has no type");
      return NULL;
    }
  *type = t;
  return json_node_ref (root);
}

const char *
vg_rt_json_get_string (JsonObject *obj, const char *member)
{
  JsonNode *node;

  if (obj == NULL || (node = json_object_get_member (obj, member)) == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

gint64
vg_rt_json_get_int (JsonObject *obj, const char *member, gint64 fallback)
{
  JsonNode *node;

  if (obj == NULL || (node = json_object_get_member (obj, member)) == NULL)
    return fallback;
  if (!JSON_NODE_HOLDS_VALUE (node))
    return fallback;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return json_node_get_int (node);
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    return (gint64)json_node_get_double (node);
  return fallback;
}

JsonObject *
vg_rt_json_get_object (JsonObject *obj, const char *member)
{
  JsonNode *node;

  if (obj == NULL || (node = json_object_get_member (obj, member)) == NULL)
    return NULL;
  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static gboolean
is_b64_char (char c)
{
  return g_ascii_isalnum (c) || c == '+' || c == '/';
}

guint8 *
vg_rt_decode_audio (const char *b64, gsize *out_len, GError **error)
{
  gsize len = b64 ? strlen (b64) : 0, i, pad = 0;
  guint8 *data;

  if (len == 0 || len % 4 != 0)
    {
      g_set_error (error, VG_RT_ERROR, 4, "base64 length %" G_GSIZE_FORMAT " is invalid", len);
      return NULL;
    }
  for (i = 0; i < len; i++)
    {
      if (b64[i] == '=' && i >= len - 2)
        {
          pad++;
          continue;
        }
      if (pad > 0 || !is_b64_char (b64[i]))
        {
          g_set_error (error, VG_RT_ERROR, 5, "invalid base64 character at %" G_GSIZE_FORMAT, i);
          return NULL;
        }
    }
  data = g_base64_decode (b64, out_len);
  if (*out_len % 2 != 0)
    {
      g_free (data);
      g_set_error (error, VG_RT_ERROR, 6, "odd number of PCM16 bytes");
      return NULL;
    }
  return data;
}

char *
vg_rt_build_event (JsonBuilder *builder)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (builder);

  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

char *
vg_rt_build_append (const guint8 *pcm, gsize len)
{
  static const char head[] = "{\"type\":\"input_audio_buffer.append\",\"audio\":\"";
  static const char tail[] = "\"}";
  gsize b64_len = (len / 3 + 1) * 4 + 4;
  char *out = g_malloc (sizeof head + b64_len + sizeof tail);
  gint state = 0, save = 0;
  gsize n = sizeof head - 1;

  memcpy (out, head, n);
  n += g_base64_encode_step (pcm, len, FALSE, out + n, &state, &save);
  n += g_base64_encode_close (FALSE, out + n, &state, &save);
  memcpy (out + n, tail, sizeof tail);
  return out;
}

static void
add_string (JsonBuilder *b, const char *member, const char *value)
{
  json_builder_set_member_name (b, member);
  json_builder_add_string_value (b, value);
}

char *
vg_rt_build_simple (const char *type)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_string (b, "type", type);
  json_builder_end_object (b);
  return vg_rt_build_event (b);
}

char *
vg_rt_build_response_create (const char *instructions)
{
  if (instructions == NULL || instructions[0] == '\0')
    return vg_rt_build_simple ("response.create");
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "type", "response.create");
  json_builder_set_member_name (b, "response");
  json_builder_begin_object (b);
  add_string (b, "instructions", instructions);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return vg_rt_build_event (b);
}

/* A conversation.item.create event, left open inside its item (whose type
 * is set) for the caller's members; end_item_create closes and builds it. */
static JsonBuilder *
begin_item_create (const char *item_type)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "type", "conversation.item.create");
  json_builder_set_member_name (b, "item");
  json_builder_begin_object (b);
  add_string (b, "type", item_type);
  return b;
}

static char *
end_item_create (JsonBuilder *b)
{
  json_builder_end_object (b);
  json_builder_end_object (b);
  char *event = vg_rt_build_event (b);
  g_object_unref (b);
  return event;
}

char *
vg_rt_build_text_item (const char *role, const char *text)
{
  gboolean assistant = g_strcmp0 (role, "assistant") == 0;
  JsonBuilder *b = begin_item_create ("message");
  add_string (b, "role", assistant ? "assistant" : "user");
  json_builder_set_member_name (b, "content");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_string (b, "type", assistant ? "output_text" : "input_text");
  add_string (b, "text", text);
  json_builder_end_object (b);
  json_builder_end_array (b);
  return end_item_create (b);
}

char *
vg_rt_build_function_output (const char *call_id, const char *output_json)
{
  JsonBuilder *b = begin_item_create ("function_call_output");
  add_string (b, "call_id", call_id);
  add_string (b, "output", output_json);
  return end_item_create (b);
}

char *
vg_rt_build_function_call_item (const char *call_id, const char *name, const char *arguments)
{
  JsonBuilder *b = begin_item_create ("function_call");
  add_string (b, "call_id", call_id);
  add_string (b, "name", name);
  add_string (b, "arguments", arguments);
  return end_item_create (b);
}

char *
vg_rt_build_truncate (const char *item_id, gint64 audio_end_ms)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_string (b, "type", "conversation.item.truncate");
  add_string (b, "item_id", item_id);
  json_builder_set_member_name (b, "content_index");
  json_builder_add_int_value (b, 0);
  json_builder_set_member_name (b, "audio_end_ms");
  json_builder_add_int_value (b, audio_end_ms);
  json_builder_end_object (b);
  return vg_rt_build_event (b);
}

char *
vg_rt_build_item_delete (const char *item_id)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_string (b, "type", "conversation.item.delete");
  add_string (b, "item_id", item_id);
  json_builder_end_object (b);
  return vg_rt_build_event (b);
}
