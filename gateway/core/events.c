#include "gateway/core/events.h"

typedef struct
{
  VgEventHandler handler;
  gpointer user_data;
} VgSubscriber;

struct _VgEvents
{
  GArray *subscribers;
};

const char *
vg_event_type_name (VgEventType type)
{
  switch (type)
    {
      case VG_EVENT_ROOM_STARTED:
        return "room_started";
      case VG_EVENT_PARTICIPANT_JOINED:
        return "participant_joined";
      case VG_EVENT_TRACK_PUBLISHED:
        return "track_published";
      case VG_EVENT_TRACK_UNPUBLISHED:
        return "track_unpublished";
      case VG_EVENT_PARTICIPANT_LEFT:
        return "participant_left";
      case VG_EVENT_ROOM_FINISHED:
        return "room_finished";
      case VG_EVENT_AGENT_TRANSCRIPT:
        return "agent_transcript";
      case VG_EVENT_AGENT_TOOL_CALL:
        return "agent_tool_call";
      case VG_EVENT_AGENT_USAGE:
        return "agent_usage";
      case VG_EVENT_AGENT_INTERRUPTED:
        return "agent_interrupted";
      case VG_EVENT_EGRESS_STARTED:
        return "egress_started";
      case VG_EVENT_EGRESS_UPDATED:
        return "egress_updated";
      case VG_EVENT_EGRESS_ENDED:
        return "egress_ended";
    }
  return "unknown";
}

gboolean
vg_event_type_is_lifecycle (VgEventType type)
{
  return type <= VG_EVENT_ROOM_FINISHED
         || (type >= VG_EVENT_EGRESS_STARTED && type <= VG_EVENT_EGRESS_ENDED);
}

VgEvents *
vg_events_new (void)
{
  VgEvents *events = g_new0 (VgEvents, 1);
  events->subscribers = g_array_new (FALSE, FALSE, sizeof (VgSubscriber));
  return events;
}

void
vg_events_free (VgEvents *events)
{
  if (!events)
    return;
  g_array_unref (events->subscribers);
  g_free (events);
}

void
vg_events_subscribe (VgEvents *events, VgEventHandler handler, gpointer user_data)
{
  VgSubscriber s = { handler, user_data };
  g_array_append_val (events->subscribers, s);
}

void
vg_events_unsubscribe (VgEvents *events, VgEventHandler handler, gpointer user_data)
{
  for (guint i = 0; i < events->subscribers->len; i++)
    {
      VgSubscriber *s = &g_array_index (events->subscribers, VgSubscriber, i);
      if (s->handler == handler && s->user_data == user_data)
        {
          g_array_remove_index (events->subscribers, i);
          return;
        }
    }
}

void
vg_events_emit (VgEvents *events, const VgEvent *event)
{
  VgEvent copy = *event;

  if (!events)
    return;
  if (!copy.time_us)
    copy.time_us = g_get_real_time ();
  /* Index loop: a handler may subscribe or unsubscribe. */
  for (guint i = 0; i < events->subscribers->len; i++)
    {
      VgSubscriber s = g_array_index (events->subscribers, VgSubscriber, i);
      s.handler (&copy, s.user_data);
    }
}
