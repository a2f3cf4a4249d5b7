/* vg-agent-messages.c: builders of the bus messages shared by openairealtime
 * and echoagent, so both look alike to the gateway. */
#include "vg-agent-messages.h"

void
vg_agent_post_structure (GstElement *element, GstStructure *s)
{
  gst_element_post_message (element, gst_message_new_element (GST_OBJECT (element), s));
}

void
vg_agent_post_state (GstElement *element, const char *state)
{
  vg_agent_post_structure (element,
                           gst_structure_new (VG_MSG_STATE, "state", G_TYPE_STRING, state, NULL));
}

void
vg_agent_post_transcript (GstElement *element, const char *role, const char *item_id,
                          const char *text, gboolean final)
{
  vg_agent_post_structure (
      element, gst_structure_new (VG_MSG_TRANSCRIPT, "role", G_TYPE_STRING, role, "item-id",
                                  G_TYPE_STRING, item_id ? item_id : "", "text", G_TYPE_STRING,
                                  text ? text : "", "final", G_TYPE_BOOLEAN, final, NULL));
}

void
vg_agent_post_function_call (GstElement *element, const char *call_id, const char *name,
                             const char *arguments)
{
  vg_agent_post_structure (element,
                           gst_structure_new (VG_MSG_FUNCTION_CALL, "call-id", G_TYPE_STRING,
                                              call_id, "name", G_TYPE_STRING, name, "arguments",
                                              G_TYPE_STRING, arguments ? arguments : "{}", NULL));
}

void
vg_agent_post_error (GstElement *element, const char *code, const char *message, gboolean fatal)
{
  vg_agent_post_structure (element, gst_structure_new (VG_MSG_ERROR, "code", G_TYPE_STRING,
                                                       code ? code : "unknown", "message",
                                                       G_TYPE_STRING, message ? message : "",
                                                       "fatal", G_TYPE_BOOLEAN, fatal, NULL));
}
