/* gstopenairealtime-actions.c: what openairealtime does for the action
 * signals of GstVgAgent (send-function-result, send-text, cancel-response).
 * GstVgAgent hands them to the I/O thread, the owner of the conversation
 * state, so they run between server events, never inside one. */
#include "gstopenairealtime.h"
#include "vg-rt-events.h"

GST_DEBUG_CATEGORY_EXTERN (gst_openai_realtime_debug);
#define GST_CAT_DEFAULT gst_openai_realtime_debug

void
gst_openai_realtime_function_result (GstVgAgent *agent, const char *call_id,
                                     const char *output_json)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (agent);

  if (call_id == NULL || call_id[0] == '\0')
    {
      GST_WARNING_OBJECT (self, "send-function-result without call_id");
      return;
    }
  gst_openai_realtime_send (
      self, vg_rt_build_function_output (call_id, output_json ? output_json : "{}"));
  if (self->response_active)
    self->response_create_pending = TRUE;
  else
    gst_openai_realtime_send (self, vg_rt_build_simple ("response.create"));
}

void
gst_openai_realtime_handle_text (GstVgAgent *agent, const char *text)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (agent);

  if (text == NULL || text[0] == '\0')
    return;
  if (self->response_active)
    {
      /* A typed message interrupts like speech would. */
      gst_vg_agent_cut_playback (agent);
      self->response_interrupted = TRUE;
      gst_openai_realtime_send (self, vg_rt_build_simple ("response.cancel"));
      self->response_create_pending = TRUE;
      gst_openai_realtime_send (self, vg_rt_build_text_item ("user", text));
    }
  else
    {
      gst_openai_realtime_send (self, vg_rt_build_text_item ("user", text));
      gst_openai_realtime_send (self, vg_rt_build_simple ("response.create"));
    }
}

void
gst_openai_realtime_interrupt (GstVgAgent *agent)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (agent);

  gst_vg_agent_cut_playback (agent);
  if (self->response_active)
    {
      self->response_interrupted = TRUE;
      gst_openai_realtime_send (self, vg_rt_build_simple ("response.cancel"));
    }
}
