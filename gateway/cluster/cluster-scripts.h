/* The cluster's Lua scripts (gateway/cluster/lua/), compiled in as a
 * GResource; each is sent with common.lua in front of it. */
#pragma once

#include "gateway/cache/redis-client.h"

G_BEGIN_DECLS

typedef enum
{
  VG_CLUSTER_SCRIPT_PLACE,
  VG_CLUSTER_SCRIPT_SYNC,
  VG_CLUSTER_SCRIPT_FORGET,
  VG_CLUSTER_SCRIPT_LOOKUP,
  VG_CLUSTER_N_SCRIPTS
} VgClusterScriptId;

typedef struct _VgClusterScripts VgClusterScripts;

VgClusterScripts *vg_cluster_scripts_new (void);
void vg_cluster_scripts_free (VgClusterScripts *scripts);
const VgRedisScript *vg_cluster_scripts_get (VgClusterScripts *scripts, VgClusterScriptId id);

G_END_DECLS
