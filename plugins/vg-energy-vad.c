/* vg-energy-vad.c: RMS over 10 ms frames with hysteresis in time. */
#include "vg-energy-vad.h"

#include <math.h>

void
vg_energy_vad_init (VgEnergyVad *vad, guint rate, double threshold, guint min_speech_ms,
                    guint silence_ms)
{
  *vad = (VgEnergyVad){ 0 };
  vad->rate = rate;
  vad->threshold = threshold;
  vad->min_speech_ms = min_speech_ms;
  vad->silence_ms = silence_ms;
}

VgVadEvent
vg_energy_vad_process (VgEnergyVad *vad, const gint16 *samples, gsize n, gsize *consumed,
                       guint64 *event_pos)
{
  guint frame = vad->rate / 100;
  guint64 min_loud = (guint64)vad->rate * vad->min_speech_ms / 1000;
  guint64 min_quiet = (guint64)vad->rate * vad->silence_ms / 1000;
  gsize i;

  for (i = 0; i < n; i++)
    {
      double s = samples[i] / 32768.0;

      vad->frame_energy += s * s;
      vad->position++;
      if (++vad->frame_fill < frame)
        continue;
      {
        gboolean loud = sqrt (vad->frame_energy / frame) >= vad->threshold;

        vad->frame_fill = 0;
        vad->frame_energy = 0;
        if (loud)
          {
            vad->loud_run += frame;
            vad->quiet_run = 0;
          }
        else
          {
            vad->loud_run = 0;
            vad->quiet_run += frame;
          }
        if (!vad->speaking && vad->loud_run >= MAX (min_loud, frame))
          {
            vad->speaking = TRUE;
            vad->speech_start = vad->position - vad->loud_run;
            *consumed = i + 1;
            *event_pos = vad->speech_start;
            return VG_VAD_SPEECH_STARTED;
          }
        if (vad->speaking && vad->quiet_run >= MAX (min_quiet, frame))
          {
            vad->speaking = FALSE;
            *consumed = i + 1;
            *event_pos = vad->position - vad->quiet_run;
            return VG_VAD_SPEECH_STOPPED;
          }
      }
    }
  *consumed = n;
  return VG_VAD_NONE;
}
