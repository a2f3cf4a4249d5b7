/* Stale audio dropped where a publisher's audio enters the room; see
 * rx-timeline.h. */
#include "gateway/rooms/rx-timeline.h"

void
vg_rx_timeline_init (VgRxTimeline *t)
{
  gst_segment_init (&t->segment, GST_FORMAT_UNDEFINED);
  t->next = GST_CLOCK_TIME_NONE;
  t->last_start = GST_CLOCK_TIME_NONE;
  t->dropped = 0;
}

static GstPadProbeReturn
on_event (VgRxTimeline *t, GstEvent *event)
{
  switch (GST_EVENT_TYPE (event))
    {
      case GST_EVENT_SEGMENT:
        gst_event_copy_segment (event, &t->segment);
        t->next = t->last_start = GST_CLOCK_TIME_NONE;
        break;
      case GST_EVENT_FLUSH_STOP:
        t->next = t->last_start = GST_CLOCK_TIME_NONE;
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

  gboolean known = GST_CLOCK_TIME_IS_VALID (t->next);
  gboolean forward = !GST_CLOCK_TIME_IS_VALID (t->last_start) || start >= t->last_start;
  t->last_start = start;
  if (known && start + VG_RX_TIMELINE_TOLERANCE < t->next && forward)
    {
      /* Time the room has already heard, the timestamps advancing slower
       * than the audio: a backlog squeezed onto past instants. */
      if (t->dropped++ == 0)
        g_debug ("rooms: %s:%s: dropping a backlog squeezed onto past instants",
                 GST_DEBUG_PAD_NAME (pad));
      return GST_PAD_PROBE_DROP;
    }
  /* Counted on end to end as a mixer counts; anew after a hole or a jump
   * back (the jitterbuffer restarted its timeline), which the mixers handle
   * as they always did. */
  if (known && (start > t->next + VG_RX_TIMELINE_TOLERANCE || !forward))
    known = FALSE;
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
