/* gstopenairealtime-actions.c: what openairealtime does for the action
 * signals of GstVgAgent (send-function-result, send-text, respond,
 * cancel-response).
 * GstVgAgent hands them to the I/O thread, the owner of the conversation
 * state, so they run between server events, never inside one. */
#include "gstopenairealtime.h"
#include "vg-rt-events.h"

GST_DEBUG_CATEGORY_EXTERN (gst_openai_realtime_debug);
#define GST_CAT_DEFAULT gst_openai_realtime_debug

/* Every response.create of the I/O thread goes through here: until its
 * response.created arrives, a second one would be refused
 * (conversation_already_has_active_response) and its request lost. */
void
gst_openai_realtime_create_response (GstOpenAiRealtime *self, const char *instructions)
{
  self->response_requested = TRUE;
  gst_openai_realtime_send (self, vg_rt_build_response_create (instructions));
}

/* At response.done (or when the connection is lost): what waited for the
 * response to end. Function results first: the model owes their answer. */
void
gst_openai_realtime_next_response (GstOpenAiRealtime *self)
{
  g_autofree char *instructions = NULL;

  if (self->response_create_pending)
    {
      self->response_create_pending = FALSE;
      gst_openai_realtime_create_response (self, NULL);
      return;
    }
  instructions = g_queue_pop_head (&self->pending_responds);
  if (instructions != NULL)
    {
      GST_INFO_OBJECT (self, "sending the deferred respond");
      gst_openai_realtime_create_response (self, instructions);
    }
}

void
gst_openai_realtime_respond (GstVgAgent *agent, const char *instructions)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (agent);

  if (self->response_active || self->response_requested || self->response_create_pending)
    {
      /* Not cut, unlike send-text: the answer under way was asked for too. */
      GST_INFO_OBJECT (self, "a response is under way: respond waits for its response.done");
      g_queue_push_tail (&self->pending_responds, g_strdup (instructions ? instructions : ""));
      return;
    }
  gst_openai_realtime_create_response (self, instructions);
}

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
  /* Into the history only if it goes to this session: one that waits for
   * the next session is sent after its replay, and must not come twice. */
  if (self->client != NULL && vg_rt_client_is_ready (self->client))
    gst_openai_realtime_history_add_call (self, VG_RT_HISTORY_FUNCTION_OUTPUT, call_id, NULL,
                                          output_json ? output_json : "{}");
  gst_openai_realtime_send (
      self, vg_rt_build_function_output (call_id, output_json ? output_json : "{}"));
  if (self->response_active || self->response_requested)
    self->response_create_pending = TRUE;
  else
    gst_openai_realtime_create_response (self, NULL);
}

void
gst_openai_realtime_handle_text (GstVgAgent *agent, const char *text)
{
  GstOpenAiRealtime *self = GST_OPENAI_REALTIME (agent);

  if (text == NULL || text[0] == '\0')
    return;
  /* As for function outputs: only what goes to this session. */
  if (self->client != NULL && vg_rt_client_is_ready (self->client))
    gst_openai_realtime_history_add_message (self, "user", text);
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
      gst_openai_realtime_create_response (self, NULL);
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
