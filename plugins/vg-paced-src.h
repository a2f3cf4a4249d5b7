/* vg-paced-src.h: a live src pad that plays a VgPlayout out in real time,
 * one period at a time on the pipeline clock, with silence when idle. */
#pragma once

#include <gst/gst.h>
#include "vg-playout.h"

G_BEGIN_DECLS

typedef struct _VgPacedSrc VgPacedSrc;

/* Called on the src pad's streaming thread after each pop that played audio
 * or drained the queue. */
typedef void (*VgPacedSrcPlayedFunc) (gpointer user_data, const VgPlayoutPop *pop);

/* Takes over srcpad's activation, query and event functions. rate is the
 * sample rate of mono S16LE. */
VgPacedSrc *vg_paced_src_new (GstElement *element, GstPad *srcpad, VgPlayout *playout, guint rate,
                              guint period_ms, VgPacedSrcPlayedFunc played, gpointer user_data);
void vg_paced_src_free (VgPacedSrc *src);

/* From change_state: the task only waits on the clock while playing. */
void vg_paced_src_set_playing (VgPacedSrc *src, gboolean playing);
/* Barge-in, from any thread, never blocks nor pushes: drops the queued
 * audio, so the next period is silence. Downstream holds only what was
 * already due (the output is paced in real time), and is left alone:
 * flushing it would reset muxers such as wavenc. With downstream TRUE
 * (opt-in, e.g. for a local speaker), the next period is preceded by
 * flush-start, flush-stop and a new segment. */
void vg_paced_src_flush (VgPacedSrc *src, gboolean downstream);

/* EOS sent to the element (gst_element_send_event, gst-launch-1.0 -e):
 * instead of the next period, EOS is pushed, and nothing after it until
 * the pad is activated again. Any thread, never blocks. */
void vg_paced_src_finish (VgPacedSrc *src);

/* From GstElement::set_clock: restarts a clock wait on the new clock. */
void vg_paced_src_clock_changed (VgPacedSrc *src);

G_END_DECLS
