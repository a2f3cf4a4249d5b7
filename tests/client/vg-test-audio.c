/* The test client's audio: what it sends (tone, samples, silence) and the
 * analysis of what it receives. Shared with vg-test-client.c through
 * vg-test-client-private.h. */
#include "vg-test-client-private.h"
#include <gst/app/gstappsink.h>
#include <gio/gio.h>
#include <math.h>
#include <string.h>

void
vg_test_audio_init (VgTestAudio *a, double tone_hz, double amplitude)
{
  g_mutex_init (&a->lock);
  a->tone_hz = tone_hz;
  a->amplitude = amplitude > 0 ? amplitude : 0.25;
  a->ring = g_new0 (gint16, VG_TEST_RING_SAMPLES);
}

void
vg_test_audio_clear (VgTestAudio *a)
{
  g_free (a->ring);
  g_free (a->samples);
  g_mutex_clear (&a->lock);
}

/* Fills out with the next n samples of the current source. Any thread. */
void
vg_test_audio_generate (VgTestAudio *a, gint16 *out, gsize n)
{
  g_mutex_lock (&a->lock);
  for (gsize i = 0; i < n; i++)
    {
      double v = 0;
      if (a->samples && a->sample_pos < a->n_samples)
        {
          out[i] = a->samples[a->sample_pos++];
          continue;
        }
      if (a->tone_hz > 0)
        {
          v = a->amplitude * sin (a->phase);
          a->phase += 2 * G_PI * a->tone_hz / VG_TEST_RATE;
          if (a->phase > 2 * G_PI)
            a->phase -= 2 * G_PI;
        }
      out[i] = (gint16)lrint (v * 32767);
    }
  g_mutex_unlock (&a->lock);
}

void
vg_test_audio_receive (VgTestAudio *a, const gint16 *in, gsize n)
{
  g_mutex_lock (&a->lock);
  for (gsize i = 0; i < n; i++)
    a->ring[(a->received + i) % VG_TEST_RING_SAMPLES] = in[i];
  a->received += n;
  g_mutex_unlock (&a->lock);
}

gssize
vg_test_audio_first_above (const gint16 *x, gsize n, double level)
{
  int threshold = (int)(level * 32768);
  for (gsize i = 0; i < n; i++)
    if (ABS ((int)x[i]) > threshold)
      return (gssize)i;
  return -1;
}

/* The last n received samples as doubles in [-1, 1]; *n_out may be smaller. */
static double *
last_samples (VgTestAudio *a, guint window_ms, gsize *n_out)
{
  gsize n = (gsize)window_ms * VG_TEST_RATE / 1000;
  n = MIN (n, VG_TEST_RING_SAMPLES);
  g_mutex_lock (&a->lock);
  n = MIN (n, a->received);
  double *x = g_new (double, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    x[i] = a->ring[(a->received - n + i) % VG_TEST_RING_SAMPLES] / 32768.0;
  g_mutex_unlock (&a->lock);
  *n_out = n;
  return x;
}

/* Amplitude of the hz component (Goertzel, Hann window), about 1 for a full-scale sine. */
static double
goertzel (const double *x, gsize n, double hz)
{
  if (n < 16)
    return 0;
  double w = 2 * G_PI * hz / VG_TEST_RATE, coeff = 2 * cos (w);
  double s1 = 0, s2 = 0;
  for (gsize i = 0; i < n; i++)
    {
      double win = 0.5 - 0.5 * cos (2 * G_PI * i / (n - 1));
      double s0 = x[i] * win + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
  double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  /* The Hann window halves the coherent gain. */
  return 2 * sqrt (MAX (power, 0)) / (n * 0.5);
}

double
vg_test_audio_tone_level (VgTestAudio *a, double hz, guint window_ms)
{
  gsize n;
  double *x = last_samples (a, window_ms, &n);
  double level = goertzel (x, n, hz);
  g_free (x);
  return level;
}

double
vg_test_audio_dominant_frequency (VgTestAudio *a, guint window_ms)
{
  gsize n;
  double *x = last_samples (a, window_ms, &n);
  double best = 0, best_level = 0;
  for (double f = 50; f <= 4000; f += 10)
    {
      double l = goertzel (x, n, f);
      if (l > best_level)
        best_level = l, best = f;
    }
  for (double f = best - 10; best > 0 && f <= best + 10; f += 1)
    {
      double l = goertzel (x, n, f);
      if (l > best_level)
        best_level = l, best = f;
    }
  g_free (x);
  return best_level > 0.001 ? best : 0;
}

double
vg_test_audio_rms (VgTestAudio *a, guint window_ms)
{
  gsize n;
  double *x = last_samples (a, window_ms, &n);
  double sum = 0;
  for (gsize i = 0; i < n; i++)
    sum += x[i] * x[i];
  g_free (x);
  return n ? sqrt (sum / n) : 0;
}

gint16 *
vg_test_load_audio_file (const char *path, gsize *n_samples, GError **error)
{
  g_autofree char *uri = gst_filename_to_uri (path, error);
  if (!uri)
    return NULL;
  g_autofree char *desc = g_strdup_printf (
      "uridecodebin uri=\"%s\" ! audioconvert ! audioresample ! "
      "audio/x-raw,format=S16LE,rate=48000,channels=1 ! appsink name=out sync=false",
      uri);
  GstElement *pipeline = gst_parse_launch (desc, error);
  if (!pipeline)
    return NULL;
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  GByteArray *bytes = g_byte_array_new ();
  GstSample *sample;
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink))))
    {
      GstMapInfo map;
      GstBuffer *buf = gst_sample_get_buffer (sample);
      if (gst_buffer_map (buf, &map, GST_MAP_READ))
        {
          g_byte_array_append (bytes, map.data, map.size);
          gst_buffer_unmap (buf, &map);
        }
      gst_sample_unref (sample);
    }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  if (bytes->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "no audio in %s", path);
      g_byte_array_unref (bytes);
      return NULL;
    }
  *n_samples = bytes->len / 2;
  return (gint16 *)g_byte_array_free (bytes, FALSE);
}
