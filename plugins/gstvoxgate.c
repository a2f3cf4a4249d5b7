/* gstvoxgate.c: the voxgate plugin: openairealtime and echoagent. */
#include "vg-plugin-config.h"
#include <gst/gst.h>

#include "gstechoagent.h"
#include "gstopenairealtime.h"

GST_DEBUG_CATEGORY (vg_rt_client_debug);

static gboolean
plugin_init (GstPlugin *plugin)
{
  gboolean ok = FALSE;

  GST_DEBUG_CATEGORY_INIT (vg_rt_client_debug, "vgrtclient", 0,
                           "Realtime WebSocket connection (shared I/O thread)");
  ok |= GST_ELEMENT_REGISTER (openairealtime, plugin);
  ok |= GST_ELEMENT_REGISTER (echoagent, plugin);
  return ok;
}

#define PACKAGE VG_PLUGIN_PACKAGE
GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, voxgate,
                   "voxgate voice agents: OpenAI Realtime and an offline echo agent", plugin_init,
                   VG_PLUGIN_VERSION, VG_PLUGIN_LICENSE, VG_PLUGIN_PACKAGE, VG_PLUGIN_ORIGIN)
