/* libFuzzer target: a message a participant sends on the "events" data
 * channel (gateway/rooms/agent-binding.c, vg_agent_apply_client_event), as
 * the room hands it to the agent: text to say, an interrupt, or a refusal
 * with its error code. The agent is a minimal element with the two action
 * signals the real agents have, counting what reached it. With the first
 * byte odd, the rest is a tool's output instead, as the tool event the data
 * channel carries embeds it (vg_agent_tool_event). */
#include "fuzz-common.h"
#include "gateway/rooms/agent-binding.h"

typedef struct
{
  GstElement parent;
  guint texts, cancels;
} FuzzAgent;
typedef struct
{
  GstElementClass parent_class;
} FuzzAgentClass;

G_DEFINE_TYPE (FuzzAgent, fuzz_agent, GST_TYPE_ELEMENT)

static void
fuzz_agent_send_text (FuzzAgent *self, const char *text)
{
  g_assert (g_utf8_validate (text, -1, NULL));
  self->texts++;
}

static void
fuzz_agent_cancel_response (FuzzAgent *self)
{
  self->cancels++;
}

static void
fuzz_agent_class_init (FuzzAgentClass *klass)
{
  g_signal_new_class_handler (
      "send-text", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (fuzz_agent_send_text), NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  g_signal_new_class_handler (
      "cancel-response", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (fuzz_agent_cancel_response), NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
fuzz_agent_init (FuzzAgent *self)
{
}

static FuzzAgent *
the_agent (void)
{
  static FuzzAgent *agent;
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      gst_init (NULL, NULL);
      agent = gst_object_ref_sink (g_object_new (fuzz_agent_get_type (), NULL));
      g_once_init_leave (&once, 1);
    }
  return agent;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  fuzz_fatal_criticals ();
  FuzzAgent *agent = the_agent ();
  if (size < 1)
    return 0;
  /* The data channel delivers text messages as strings (webrtcbin's
   * on-message-string): no NUL, UTF-8. */
  g_autofree char *text = fuzz_text_body (data + 1, size - 1);
  if (!text)
    return 0;

  if (data[0] & 1)
    {
      g_autofree char *event = vg_agent_tool_event ("lookup", "{}", text);
      g_assert (event != NULL && g_utf8_validate (event, -1, NULL));
      return 0;
    }
  guint texts = agent->texts, cancels = agent->cancels;
  const char *code = NULL;
  g_autofree char *typed = NULL;
  if (vg_agent_apply_client_event (GST_ELEMENT (agent), text, &code, &typed))
    g_assert (agent->texts + agent->cancels == texts + cancels + 1
              && (typed != NULL) == (agent->texts == texts + 1));
  else
    g_assert (code != NULL && agent->texts == texts && agent->cancels == cancels);
  return 0;
}
