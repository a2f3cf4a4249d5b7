/* gstopenairealtime-actions.c: the action signals of openairealtime
 * (send-function-result, send-text, cancel-response). Any thread. */
#include "gstopenairealtime.h"
#include "vg-rt-events.h"

GST_DEBUG_CATEGORY_EXTERN (gst_openai_realtime_debug);
#define GST_CAT_DEFAULT gst_openai_realtime_debug

void
gst_openai_realtime_send_function_result (GstOpenAiRealtime *self, const char *call_id,
                                          const char *output_json)
{
  if (call_id == NULL || call_id[0] == '\0')
    {
      GST_WARNING_OBJECT (self, "send-function-result without call_id");
      return;
    }
  g_rec_mutex_lock (&self->state_lock);
  gst_openai_realtime_send (
      self, vg_rt_build_function_output (call_id, output_json ? output_json : "{}"));
  if (self->response_active)
    self->response_create_pending = TRUE;
  else
    gst_openai_realtime_send (self, vg_rt_build_simple ("response.create"));
  g_rec_mutex_unlock (&self->state_lock);
}

void
gst_openai_realtime_send_text (GstOpenAiRealtime *self, const char *text)
{
  if (text == NULL || text[0] == '\0')
    return;
  g_rec_mutex_lock (&self->state_lock);
  if (self->response_active && !self->stopped)
    {
      /* A typed message interrupts like speech would. */
      vg_paced_src_flush (self->paced, g_atomic_int_get (&self->flush_downstream));
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
  g_rec_mutex_unlock (&self->state_lock);
}

void
gst_openai_realtime_cancel_response (GstOpenAiRealtime *self)
{
  g_rec_mutex_lock (&self->state_lock);
  if (self->paced != NULL)
    vg_paced_src_flush (self->paced, g_atomic_int_get (&self->flush_downstream));
  if (self->response_active)
    {
      self->response_interrupted = TRUE;
      gst_openai_realtime_send (self, vg_rt_build_simple ("response.cancel"));
    }
  g_rec_mutex_unlock (&self->state_lock);
}
