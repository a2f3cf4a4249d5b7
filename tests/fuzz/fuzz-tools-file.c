/* libFuzzer target: an operator's tools file (gateway/tutor/tutor-http-tools.c):
 * the JSON array of tool declarations, checked entry by entry, and the
 * declaration handed to the model when it loads. */
#include "fuzz-common.h"
#include "gateway/tutor/tutor-http-tools.h"

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  fuzz_fatal_criticals ();
  g_autoptr (GError) error = NULL;
  g_autoptr (VgTutorHttpTools) tools = vg_tutor_http_tools_parse ((const char *)data, size, &error);
  if (!tools)
    {
      g_assert (error != NULL);
      return 0;
    }
  g_assert (vg_tutor_http_tools_json (tools) != NULL);
  vg_tutor_http_tools_has (tools, "lookup");
  return 0;
}
