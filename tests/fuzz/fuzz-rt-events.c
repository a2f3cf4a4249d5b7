/* libFuzzer target: a Realtime server frame as openairealtime reads it
 * (plugins/vg-rt-events.c): the frame parse, the members the handlers read
 * through the tolerant accessors, and an audio delta's strict base64.
 * The element's handlers themselves are not driven here (they need a
 * running element); what they read comes through these functions. */
#include "fuzz-common.h"
#include "vg-rt-events.h"

static const char *const string_members[]
    = { "event_id", "item_id", "response_id", "delta", "transcript", "text",
        "call_id",  "name",    "arguments",   "code",  "message" };

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  fuzz_fatal_criticals ();
  const char *type = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = vg_rt_event_parse ((const char *)data, size, &type, &error);
  if (!root)
    {
      g_assert (error != NULL);
      return 0;
    }
  g_assert (type != NULL && *type != '\0');
  JsonObject *event = json_node_get_object (root);
  for (guint i = 0; i < G_N_ELEMENTS (string_members); i++)
    vg_rt_json_get_string (event, string_members[i]);
  vg_rt_json_get_int (event, "content_index", -1);
  vg_rt_json_get_int (event, "audio_end_ms", -1);
  JsonObject *objects[]
      = { vg_rt_json_get_object (event, "error"), vg_rt_json_get_object (event, "response"),
          vg_rt_json_get_object (event, "session"), vg_rt_json_get_object (event, "item") };
  for (guint i = 0; i < G_N_ELEMENTS (objects); i++)
    if (objects[i])
      {
        vg_rt_json_get_string (objects[i], "type");
        vg_rt_json_get_string (objects[i], "code");
        vg_rt_json_get_object (objects[i], "usage");
        vg_rt_json_get_int (objects[i], "total_tokens", 0);
      }
  const char *audio = vg_rt_json_get_string (event, "delta");
  if (audio)
    {
      gsize len = 0;
      g_autoptr (GError) audio_error = NULL;
      g_autofree guint8 *pcm = vg_rt_decode_audio (audio, &len, &audio_error);
      g_assert (pcm ? len % 2 == 0 : audio_error != NULL);
    }
  return 0;
}
