/* Internals of the test client shared by its files. */
#pragma once

#include <gst/gst.h>
#include "vg-test-client.h"

G_BEGIN_DECLS

#define VG_TEST_RATE 48000
#define VG_TEST_RING_SAMPLES (VG_TEST_RATE * 4) /* the last 4 s heard */

typedef struct
{
  GMutex lock;
  double tone_hz, amplitude, phase;
  gint16 *samples; /* played once, then the tone or silence */
  gsize n_samples, sample_pos;
  gint16 *ring;
  guint64 received;
} VgTestAudio;

void vg_test_audio_init (VgTestAudio *a, double tone_hz, double amplitude);
void vg_test_audio_clear (VgTestAudio *a);
void vg_test_audio_generate (VgTestAudio *a, gint16 *out, gsize n);
void vg_test_audio_receive (VgTestAudio *a, const gint16 *in, gsize n);
double vg_test_audio_tone_level (VgTestAudio *a, double hz, guint window_ms);
double vg_test_audio_dominant_frequency (VgTestAudio *a, guint window_ms);
double vg_test_audio_rms (VgTestAudio *a, guint window_ms);
/* Index of the first of x's n samples whose magnitude passes level (of full
 * scale), or -1. */
gssize vg_test_audio_first_above (const gint16 *x, gsize n, double level);

G_END_DECLS
