/* The conversation items the Realtime client sends (plugins/vg-rt-events.c):
 * each builder's event parsed back, every member checked, strings that need
 * escaping kept whole. */
#include "plugins/vg-rt-events.h"

#include <string.h>

/* event's item, after checking the envelope; parsed is freed by the caller. */
static JsonObject *
item_of (const char *event, JsonNode **parsed, const char *item_type)
{
  g_autoptr (GError) error = NULL;
  const char *type = NULL;
  *parsed = vg_rt_event_parse (event, strlen (event), &type, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (type, ==, "conversation.item.create");
  JsonObject *root = json_node_get_object (*parsed);
  g_assert_cmpuint (json_object_get_size (root), ==, 2);
  JsonObject *item = json_object_get_object_member (root, "item");
  g_assert_nonnull (item);
  g_assert_cmpstr (vg_rt_json_get_string (item, "type"), ==, item_type);
  return item;
}

static void
test_text_items (void)
{
  const char *text = "say \"½\"\nthen \\stop";
  for (int assistant = 0; assistant < 2; assistant++)
    {
      g_autofree char *event = vg_rt_build_text_item (assistant ? "assistant" : "user", text);
      JsonNode *parsed;
      JsonObject *item = item_of (event, &parsed, "message");
      g_assert_cmpuint (json_object_get_size (item), ==, 3);
      g_assert_cmpstr (vg_rt_json_get_string (item, "role"), ==, assistant ? "assistant" : "user");
      JsonArray *content = json_object_get_array_member (item, "content");
      g_assert_cmpuint (json_array_get_length (content), ==, 1);
      JsonObject *part = json_array_get_object_element (content, 0);
      g_assert_cmpstr (vg_rt_json_get_string (part, "type"), ==,
                       assistant ? "output_text" : "input_text");
      g_assert_cmpstr (vg_rt_json_get_string (part, "text"), ==, text);
      json_node_unref (parsed);
    }
  /* Any other role is the learner's. */
  g_autofree char *system = vg_rt_build_text_item ("system", "x");
  JsonNode *parsed;
  JsonObject *item = item_of (system, &parsed, "message");
  g_assert_cmpstr (vg_rt_json_get_string (item, "role"), ==, "user");
  json_node_unref (parsed);
}

static void
test_function_output (void)
{
  const char *output = "{\"ok\":true,\"note\":\"a \\\"quoted\\\" word\"}";
  g_autofree char *event = vg_rt_build_function_output ("call_1", output);
  JsonNode *parsed;
  JsonObject *item = item_of (event, &parsed, "function_call_output");
  g_assert_cmpuint (json_object_get_size (item), ==, 3);
  g_assert_cmpstr (vg_rt_json_get_string (item, "call_id"), ==, "call_1");
  /* The output is a string holding JSON, as the API wants, not an object. */
  g_assert_cmpstr (vg_rt_json_get_string (item, "output"), ==, output);
  json_node_unref (parsed);
}

static void
test_function_call_item (void)
{
  g_autofree char *event
      = vg_rt_build_function_call_item ("call_2", "check_understanding", "{\"score\":3}");
  JsonNode *parsed;
  JsonObject *item = item_of (event, &parsed, "function_call");
  g_assert_cmpuint (json_object_get_size (item), ==, 4);
  g_assert_cmpstr (vg_rt_json_get_string (item, "call_id"), ==, "call_2");
  g_assert_cmpstr (vg_rt_json_get_string (item, "name"), ==, "check_understanding");
  g_assert_cmpstr (vg_rt_json_get_string (item, "arguments"), ==, "{\"score\":3}");
  json_node_unref (parsed);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rt-events/text-items", test_text_items);
  g_test_add_func ("/rt-events/function-output", test_function_output);
  g_test_add_func ("/rt-events/function-call-item", test_function_call_item);
  return g_test_run ();
}
