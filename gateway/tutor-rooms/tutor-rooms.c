/* The rooms' agents bound to the tutor; see tutor-rooms.h. */
#include "gateway/tutor-rooms/tutor-rooms.h"

/* Referenced by the binding's owner and by each request on its way through
 * the tutor; rooms is NULL once unbound. Main context only. */
typedef struct
{
  VgRooms *rooms;
  VgTutor *tutor;
  VgTutorHttpTools *http_tools;
  guint greetings;
} Binding;

struct _VgTutorRooms
{
  Binding *b; /* a reference */
};

/* A tool call or a greeting in flight: owned by the tutor's job, freed
 * (its notify) on the main context after the answer ran or was dropped. */
typedef struct
{
  Binding *b; /* a reference */
  char *room, *call_id, *identity;
  gint64 ready_us; /* a greeting: when the learner was ready */
} Request;

static Request *
request_new (Binding *b, const char *room)
{
  Request *r = g_new0 (Request, 1);
  r->b = g_rc_box_acquire (b);
  r->room = g_strdup (room);
  return r;
}

static void
request_free (gpointer data)
{
  Request *r = data;
  g_rc_box_release (r->b);
  g_free (r->room);
  g_free (r->call_id);
  g_free (r->identity);
  g_free (r);
}

static void
tool_answered (const VgTutorOutcome *outcome, gpointer data)
{
  Request *r = data;
  VgRooms *rooms = r->b->rooms;
  if (!rooms)
    return;
  /* The room and the session move before the result goes out: the model's
   * reply to it (opening the new subtopic) and its next calls then run on
   * the new subtopic. */
  if (outcome->subtopic_id > 0 && !vg_rooms_set_subtopic (rooms, r->room, outcome->subtopic_id))
    g_debug ("tutor: the switch of %s to subtopic %" G_GINT64_FORMAT " found no room", r->room,
             outcome->subtopic_id);
  if (outcome->instructions
      && !vg_rooms_set_agent_instructions (rooms, r->room, outcome->instructions))
    g_debug ("tutor: the switched subtopic's instructions for %s found no agent", r->room);
  if (!vg_rooms_answer_tool_call (rooms, r->room, r->call_id, outcome->output_json))
    {
      g_debug ("tutor: the answer to %s in %s found no room or call", r->call_id, r->room);
      return;
    }
  /* Answered: the model now says goodbye; the learner leaves once it played. */
  if (outcome->end_session
      && !vg_rooms_leave_after_reply (rooms, r->room, r->identity,
                                      VG_TUTOR_ROOMS_END_SESSION_TIMEOUT_MS))
    g_debug ("tutor: end_session in %s found no learner to remove", r->room);
}

static void
agent_tool_call (gpointer data, const VgAgentToolCall *call)
{
  Binding *b = data;
  Request *r = request_new (b, call->room);
  r->call_id = g_strdup (call->call_id);
  r->identity = g_strdup (call->identity);
  VgTutorCall tutor_call = {
    .identity = call->identity,
    .subtopic_id = call->subtopic_id,
    .name = call->name,
    .arguments = call->arguments,
    .base_instructions = vg_rooms_get_settings (b->rooms)->agent_instructions,
    .room = call->room,
    .display_name = call->display_name,
  };
  vg_tutor_call (b->tutor, &tutor_call, tool_answered, r, request_free);
}

static const char *
agent_tools (gpointer data, const char *template_name)
{
  /* The gateway is a tutor: every agent that takes tools gets the tutor's. */
  Binding *b = data;
  return vg_tutor_http_tools_json (b->http_tools);
}

static void
greeting_composed (const char *instructions, const char *response, gpointer data)
{
  Request *r = data;
  VgRooms *rooms = r->b->rooms;
  if (!rooms)
    return;
  /* The instructions first: the greeting response then runs in the session
   * they configure (both go out on the agent's one ordered connection). */
  vg_rooms_set_agent_instructions (rooms, r->room, instructions);
  if (!vg_rooms_agent_respond (rooms, r->room, response))
    {
      g_debug ("tutor: the greeting for %s found no room or agent", r->room);
      return;
    }
  r->b->greetings++;
  g_debug ("tutor: greeting %s %.1f ms after the learner was ready", r->room,
           (g_get_monotonic_time () - r->ready_us) / 1000.0);
}

/* The session is composed on the tutor's workers (store reads); a room gone
 * by the time it comes back drops it. */
static void
agent_learner_ready (gpointer data, const VgAgentLearner *learner)
{
  Binding *b = data;
  Request *r = request_new (b, learner->room);
  r->ready_us = g_get_monotonic_time ();
  VgTutorGreeting greeting = {
    .identity = learner->identity,
    .subtopic_id = learner->subtopic_id,
    .display_name = learner->display_name,
    .base_instructions = vg_rooms_get_settings (b->rooms)->agent_instructions,
  };
  vg_tutor_greet (b->tutor, &greeting, greeting_composed, r, request_free);
}

static const VgAgentHooks hooks = {
  .tool_call = agent_tool_call,
  .tools = agent_tools,
  .learner_ready = agent_learner_ready,
};

VgTutorRooms *
vg_tutor_rooms_new (VgRooms *rooms, VgTutor *tutor, VgTutorHttpTools *http_tools)
{
  VgTutorRooms *binding = g_new0 (VgTutorRooms, 1);
  binding->b = g_rc_box_new0 (Binding);
  binding->b->rooms = rooms;
  binding->b->tutor = tutor;
  binding->b->http_tools = http_tools;
  vg_rooms_set_agent_hooks (rooms, &hooks, binding->b);
  return binding;
}

void
vg_tutor_rooms_free (VgTutorRooms *binding)
{
  if (!binding)
    return;
  vg_rooms_set_agent_hooks (binding->b->rooms, NULL, NULL);
  binding->b->rooms = NULL;
  g_rc_box_release (binding->b);
  g_free (binding);
}

guint
vg_tutor_rooms_get_greetings (VgTutorRooms *binding)
{
  return binding->b->greetings;
}
