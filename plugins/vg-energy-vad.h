/* vg-energy-vad.h: a small energy voice activity detector on PCM16 mono,
 * used by echoagent and by the Realtime test server. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  VG_VAD_NONE,
  VG_VAD_SPEECH_STARTED,
  VG_VAD_SPEECH_STOPPED,
} VgVadEvent;

typedef struct
{
  guint rate;
  double threshold;    /* RMS in 0..1 of full scale */
  guint min_speech_ms; /* loud time before speech counts as started */
  guint silence_ms;    /* quiet time before speech counts as stopped */
  /* state */
  gboolean speaking;
  guint64 position;     /* samples seen */
  guint64 loud_run;     /* consecutive loud samples */
  guint64 quiet_run;    /* consecutive quiet samples while speaking */
  guint64 speech_start; /* sample where the current speech began */
  guint frame_fill;
  double frame_energy;
} VgEnergyVad;

void vg_energy_vad_init (VgEnergyVad *vad, guint rate, double threshold, guint min_speech_ms,
                         guint silence_ms);
/* Feeds samples; returns the first event found and the sample position
 * where it happened in *event_pos. *consumed tells how many samples were
 * used (call again with the rest). */
VgVadEvent vg_energy_vad_process (VgEnergyVad *vad, const gint16 *samples, gsize n, gsize *consumed,
                                  guint64 *event_pos);

G_END_DECLS
