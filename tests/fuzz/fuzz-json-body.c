/* libFuzzer target: a JSON request body (api/json-strict.c), then the
 * room-creation arguments read from it in both shapes, LiveKit's Twirp
 * (camelCase) and voxgate's REST (snake_case) (api/handlers/room-api.c), and the subtopic a token's
 * metadata asks for.
 */
#include "fuzz-common.h"
#include "api/handlers/room-api.h"
#include "common/json-strict.h"

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  fuzz_fatal_criticals ();
  g_autofree char *metadata = fuzz_text_body (data, size);
  if (metadata)
    g_assert (vg_claims_subtopic_id (metadata, NULL) >= 0);

  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = vg_json_strict_parse ((const char *)data, size, &error);
  if (!root)
    {
      g_assert (error != NULL);
      return 0;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return 0;
  const VgJsonShape shapes[] = { VG_JSON_PROTO, VG_JSON_REST };
  for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      VgRoomCreateArgs args;
      g_autoptr (GError) args_error = NULL;
      if (!vg_room_create_args_parse (json_node_get_object (root), shapes[i], &args, &args_error))
        g_assert (args_error != NULL);
      vg_room_create_args_clear (&args);
    }
  return 0;
}
