/* gstvoxgate.c: the voxgate plugin: openairealtime and echoagent. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <gst/gst.h>

#include "gstechoagent.h"
#include "gstopenairealtime.h"

GST_DEBUG_CATEGORY (vg_rt_client_debug);
GST_DEBUG_CATEGORY (vg_paced_src_debug);

static gboolean
plugin_init (GstPlugin *plugin)
{
  gboolean ok = FALSE;

  GST_DEBUG_CATEGORY_INIT (vg_rt_client_debug, "vgrtclient", 0,
                           "Realtime WebSocket connection (shared I/O thread)");
  GST_DEBUG_CATEGORY_INIT (vg_paced_src_debug, "vgpacedsrc", 0, "Real-time audio playout");
  ok |= GST_ELEMENT_REGISTER (openairealtime, plugin);
  ok |= GST_ELEMENT_REGISTER (echoagent, plugin);
  return ok;
}

#define PACKAGE "voxgate"
GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, voxgate,
                   "voxgate voice agents: OpenAI Realtime and an offline echo agent", plugin_init,
                   "0.1.0", "MIT/X11", "voxgate", "https://github.com/voxgate/voxgate")
