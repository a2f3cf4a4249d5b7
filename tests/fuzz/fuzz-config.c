/* libFuzzer target: the configuration file (gateway/core/config.c): the
 * key file itself, every key's value checked against its schema, then the
 * cross-key rules and the dump operators read. */
#include "fuzz-common.h"
#include "gateway/core/config.h"

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  fuzz_fatal_criticals ();
  g_autoptr (VgConfig) cfg = vg_config_new ();
  g_autoptr (GError) error = NULL;

  if (!vg_config_load_data (cfg, (const char *)data, size, "fuzz.conf", &error))
    {
      g_assert (error != NULL);
      return 0;
    }
  if (!vg_config_validate (cfg, &error))
    g_assert (error != NULL);
  g_free (vg_config_dump (cfg));
  return 0;
}
