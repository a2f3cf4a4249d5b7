/* Stale audio dropped where a publisher's audio enters the room; see
 * rx-timeline.h. */
#include "gateway/rooms/rx-timeline.h"

void
vg_rx_timeline_init (VgRxTimeline *t)
{
  gst_segment_init (&t->segment, GST_FORMAT_UNDEFINED);
  t->next = GST_CLOCK_TIME_NONE;
  t->dropped = 0;
  t->ahead_since = GST_CLOCK_TIME_NONE;
  t->clock_trusted = TRUE;
}

/* The element's running time now, or NONE before it has a clock. */
static GstClockTime
running_time_now (GstPad *pad)
{
  GstElement *element = gst_pad_get_parent_element (pad);
  if (!element)
    return GST_CLOCK_TIME_NONE;
  GstClockTime now = GST_CLOCK_TIME_NONE;
  GstClock *clock = gst_element_get_clock (element);
  if (clock)
    {
      GstClockTime base = gst_element_get_base_time (element);
      now = gst_clock_get_time (clock);
      now = now > base ? now - base : 0;
      gst_object_unref (clock);
    }
  gst_object_unref (element);
  return now;
}

static GstPadProbeReturn
on_event (VgRxTimeline *t, GstEvent *event)
{
  switch (GST_EVENT_TYPE (event))
    {
      case GST_EVENT_SEGMENT:
        gst_event_copy_segment (event, &t->segment);
        t->next = GST_CLOCK_TIME_NONE;
        break;
      case GST_EVENT_FLUSH_STOP:
        t->next = GST_CLOCK_TIME_NONE;
        break;
      default:
        break;
    }
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
rx_timeline_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  VgRxTimeline *t = data;
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM)
    return on_event (t, GST_PAD_PROBE_INFO_EVENT (info));

  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime duration = GST_BUFFER_DURATION (buffer);
  GstClockTime start
      = t->segment.format == GST_FORMAT_TIME
            ? gst_segment_to_running_time (&t->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buffer))
            : GST_CLOCK_TIME_NONE;
  /* Untimed audio is the mixers' to place. */
  if (!GST_CLOCK_TIME_IS_VALID (start) || !GST_CLOCK_TIME_IS_VALID (duration))
    return GST_PAD_PROBE_OK;

  GstClockTime now = t->clock_trusted ? running_time_now (pad) : GST_CLOCK_TIME_NONE;
  gboolean ahead = GST_CLOCK_TIME_IS_VALID (now) && start > now + VG_RX_TIMELINE_AHEAD;
  gboolean known = GST_CLOCK_TIME_IS_VALID (t->next);
  gboolean overlaps = known && start + VG_RX_TIMELINE_TOLERANCE < t->next;
  if (ahead && !GST_CLOCK_TIME_IS_VALID (t->ahead_since))
    t->ahead_since = now;
  if (ahead && now > t->ahead_since + VG_RX_TIMELINE_AHEAD_MAX)
    {
      /* Not a backlog, which the clock soon overtakes: timestamps that stay
       * ahead of it. Keep the audio; only overlaps are dropped from now on. */
      g_warning ("rooms: %s:%s: audio stays timestamped ahead of the clock; kept",
                 GST_DEBUG_PAD_NAME (pad));
      t->clock_trusted = FALSE;
      ahead = FALSE;
    }
  if (!ahead)
    t->ahead_since = GST_CLOCK_TIME_NONE;
  if (ahead || overlaps)
    {
      if (t->dropped++ == 0)
        g_debug ("rooms: %s:%s: dropping a backlog (audio %s)", GST_DEBUG_PAD_NAME (pad),
                 ahead ? "ahead of the clock" : "overlapping what was heard");
      return GST_PAD_PROBE_DROP;
    }
  if (known && start > t->next + VG_RX_TIMELINE_TOLERANCE)
    {
      /* A hole: mixers place this at its time now, not a second later. */
      buffer = gst_buffer_make_writable (buffer);
      GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
      GST_PAD_PROBE_INFO_DATA (info) = buffer;
      known = FALSE;
    }
  /* Counted on like a mixer counts: end to end within the tolerance. */
  t->next = known ? t->next + duration : start + duration;
  return GST_PAD_PROBE_OK;
}

void
vg_rx_timeline_attach (VgRxTimeline *t, GstPad *pad)
{
  vg_rx_timeline_init (t);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                     rx_timeline_probe, t, NULL);
}
