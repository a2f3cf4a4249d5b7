/* Loads the scripts from the compiled-in resource once per cluster. */
#include "gateway/cluster/cluster-scripts.h"
#include "vg-cluster-resources.h"

#include <gio/gio.h>

static const char *const names[VG_CLUSTER_N_SCRIPTS] = { "place", "sync", "forget", "lookup" };

struct _VgClusterScripts
{
  VgRedisScript *scripts[VG_CLUSTER_N_SCRIPTS];
};

static char *
resource_text (const char *name)
{
  g_autofree char *path = g_strdup_printf ("/voxgate/cluster/%s.lua", name);
  /* Compiled in: a missing one is a build error, not a runtime condition. */
  g_autoptr (GBytes) bytes = g_resource_lookup_data (vg_cluster_get_resource (), path, 0, NULL);
  g_assert (bytes);
  return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

VgClusterScripts *
vg_cluster_scripts_new (void)
{
  VgClusterScripts *s = g_new0 (VgClusterScripts, 1);
  g_autofree char *common = resource_text ("common");
  for (guint i = 0; i < VG_CLUSTER_N_SCRIPTS; i++)
    {
      g_autofree char *body = resource_text (names[i]);
      g_autofree char *source = g_strconcat (common, "\n", body, NULL);
      s->scripts[i] = vg_redis_script_new (source);
    }
  return s;
}

void
vg_cluster_scripts_free (VgClusterScripts *s)
{
  if (!s)
    return;
  for (guint i = 0; i < VG_CLUSTER_N_SCRIPTS; i++)
    vg_redis_script_free (s->scripts[i]);
  g_free (s);
}

const VgRedisScript *
vg_cluster_scripts_get (VgClusterScripts *s, VgClusterScriptId id)
{
  return s->scripts[id];
}
