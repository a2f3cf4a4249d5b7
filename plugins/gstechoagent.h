/* gstechoagent.h: the offline default agent: plays each user turn back. */
#pragma once

#include "gstvgagent.h"

G_BEGIN_DECLS

#define GST_TYPE_ECHO_AGENT (gst_echo_agent_get_type ())
G_DECLARE_FINAL_TYPE (GstEchoAgent, gst_echo_agent, GST, ECHO_AGENT, GstVgAgent)

GST_ELEMENT_REGISTER_DECLARE (echoagent);

G_END_DECLS
