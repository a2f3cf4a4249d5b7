/* The client events the Realtime client builds (plugins/vg-rt-events.c):
 * each builder's event parsed back, every member checked; strings that need
 * escaping, empty ones and a large one kept whole. */
#include "plugins/vg-rt-events.h"

#include <string.h>

/* event parsed, its type checked; the caller unrefs *parsed. */
static JsonObject *
event_of (const char *event, JsonNode **parsed, const char *type)
{
  g_autoptr (GError) error = NULL;
  const char *t = NULL;
  *parsed = vg_rt_event_parse (event, strlen (event), &t, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (t, ==, type);
  return json_node_get_object (*parsed);
}

/* event's item, after checking the envelope; the caller unrefs *parsed. */
static JsonObject *
item_of (const char *event, JsonNode **parsed, const char *item_type)
{
  JsonObject *root = event_of (event, parsed, "conversation.item.create");
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

static void
test_empty_and_large_strings (void)
{
  g_autofree char *empty = vg_rt_build_function_output ("", "");
  JsonNode *parsed;
  JsonObject *item = item_of (empty, &parsed, "function_call_output");
  g_assert_cmpstr (vg_rt_json_get_string (item, "call_id"), ==, "");
  g_assert_cmpstr (vg_rt_json_get_string (item, "output"), ==, "");
  json_node_unref (parsed);

  /* 1 MiB of text with a quote and a control character every 1 KiB. */
  GString *big = g_string_sized_new (1 << 20);
  for (guint i = 0; big->len < (1 << 20); i++)
    g_string_append (big, i % 1024 == 0 ? "\"\t" : "a");
  g_autofree char *event = vg_rt_build_text_item ("user", big->str);
  item = item_of (event, &parsed, "message");
  JsonObject *part
      = json_array_get_object_element (json_object_get_array_member (item, "content"), 0);
  g_assert_cmpstr (vg_rt_json_get_string (part, "text"), ==, big->str);
  json_node_unref (parsed);
  g_string_free (big, TRUE);
}

static void
test_other_events (void)
{
  JsonNode *parsed;
  /* No instructions (NULL or empty): a bare response.create. */
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *bare = vg_rt_build_response_create (i ? "" : NULL);
      JsonObject *root = event_of (bare, &parsed, "response.create");
      g_assert_cmpuint (json_object_get_size (root), ==, 1);
      json_node_unref (parsed);
    }
  g_autofree char *with = vg_rt_build_response_create ("be brief");
  JsonObject *root = event_of (with, &parsed, "response.create");
  g_assert_cmpstr (
      vg_rt_json_get_string (json_object_get_object_member (root, "response"), "instructions"), ==,
      "be brief");
  json_node_unref (parsed);

  g_autofree char *truncate = vg_rt_build_truncate ("item_7", 1234);
  root = event_of (truncate, &parsed, "conversation.item.truncate");
  g_assert_cmpuint (json_object_get_size (root), ==, 4);
  g_assert_cmpstr (vg_rt_json_get_string (root, "item_id"), ==, "item_7");
  g_assert_cmpint (vg_rt_json_get_int (root, "content_index", -1), ==, 0);
  g_assert_cmpint (vg_rt_json_get_int (root, "audio_end_ms", -1), ==, 1234);
  json_node_unref (parsed);

  g_autofree char *del = vg_rt_build_item_delete ("item_8");
  root = event_of (del, &parsed, "conversation.item.delete");
  g_assert_cmpuint (json_object_get_size (root), ==, 2);
  g_assert_cmpstr (vg_rt_json_get_string (root, "item_id"), ==, "item_8");
  json_node_unref (parsed);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rt-events/text-items", test_text_items);
  g_test_add_func ("/rt-events/function-output", test_function_output);
  g_test_add_func ("/rt-events/function-call-item", test_function_call_item);
  g_test_add_func ("/rt-events/empty-and-large-strings", test_empty_and_large_strings);
  g_test_add_func ("/rt-events/other-events", test_other_events);
  return g_test_run ();
}
