/* The load client's shared, pre-encoded microphone; see vg-load-sender.h. */
#include "vg-load-sender.h"
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <math.h>
#include <string.h>

#define FRAME_US 20000
#define FRAME_SAMPLES 960
#define LOOP_FRAMES 50 /* one second: each tone is a whole number of periods */
/* A tone's frames: its first second after silence (the onset, encoded
 * from silence as a live encoder would: Opus predicts each frame's band
 * energies from the previous frame's, so frames encoded after tone would
 * decode far too quiet after silence and delay the onset by several
 * frames), then one second that loops. */
#define TONE_FRAMES (2 * LOOP_FRAMES)
#define LATE_RESYNC_FRAMES 5

/* The encoded tones, index 0 is silence. */
static const double tones[] = { 0, 440, 660, 880 };
#define N_TONES G_N_ELEMENTS (tones)

struct _VgLoadSender
{
  GstBuffer *frames[N_TONES][TONE_FRAMES]; /* read-only after new () */
  GstCaps *caps;
  GstClock *clock;

  GMutex lock; /* feeds, running, stats */
  GCond wake;
  GPtrArray *feeds; /* VgLoadFeed references */
  gboolean running;
  VgLoadSenderStats stats;
  GThread *thread;
  guint next_id;
};

/* An atomic rc box: the peer's and the pacer's references. */
struct _VgLoadFeed
{
  GstPad *pad;          /* ours, linked to the peer's sink; pushed by the pacer only */
  GstElement *pipeline; /* a reference, for its base time */
  GMutex lock;          /* everything below */
  gboolean active, discont;
  double tone_hz;
  guint on_ms, off_ms;
  double turn_hz;
  gint64 turns_start_us, last_push_us, onset_us, turn_end_us;
  double last_hz;
  guint turns_ended, pos;
  guint64 frames_sent;
};

static guint
tone_index (double hz)
{
  if (hz <= 0)
    return 0;
  for (guint i = 1; i < N_TONES; i++)
    if (ABS (hz - tones[i]) < 1)
      return i;
  return 1;
}

/* One second of silence, then two of the tone (amplitude 0.25, as the
 * test client's), encoded with the settings the test client always used
 * (opusenc at 32 kb/s, 20 ms frames); keeps the tone's frames. */
static gboolean
encode_tone (VgLoadSender *s, guint index, GError **error)
{
  GstElement *pipeline = gst_parse_launch (
      "appsrc name=in format=time caps=audio/x-raw,format=S16LE,layout=interleaved,rate=48000,"
      "channels=1 ! opusenc bitrate=32000 frame-size=20 ! appsink name=out sync=false",
      error);
  if (!pipeline)
    return FALSE;
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "in");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  double phase = 0;
  for (guint f = 0; f < LOOP_FRAMES + TONE_FRAMES; f++)
    {
      GstBuffer *buf = gst_buffer_new_allocate (NULL, FRAME_SAMPLES * 2, NULL);
      GstMapInfo map;
      gst_buffer_map (buf, &map, GST_MAP_WRITE);
      gint16 *pcm = (gint16 *)map.data;
      for (guint i = 0; i < FRAME_SAMPLES; i++)
        {
          pcm[i] = f < LOOP_FRAMES ? 0 : (gint16)lrint (0.25 * 32767 * sin (phase));
          if (f >= LOOP_FRAMES)
            phase = fmod (phase + 2 * G_PI * tones[index] / 48000, 2 * G_PI);
        }
      gst_buffer_unmap (buf, &map);
      GST_BUFFER_PTS (buf) = f * FRAME_US * GST_USECOND;
      GST_BUFFER_DURATION (buf) = FRAME_US * GST_USECOND;
      gst_app_src_push_buffer (GST_APP_SRC (src), buf);
    }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  gst_object_unref (src);
  GPtrArray *got = g_ptr_array_new_with_free_func ((GDestroyNotify)gst_buffer_unref);
  GstSample *sample;
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink))))
    {
      if (!s->caps)
        s->caps = gst_caps_ref (gst_sample_get_caps (sample));
      g_ptr_array_add (got, gst_buffer_ref (gst_sample_get_buffer (sample)));
      gst_sample_unref (sample);
    }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  /* The encoder's output frames line up with its input's (it pads its
   * look-ahead at the start and flushes it at the end). */
  gboolean ok = got->len >= LOOP_FRAMES + TONE_FRAMES && s->caps;
  if (ok)
    for (guint i = 0; i < TONE_FRAMES; i++)
      s->frames[index][i] = gst_buffer_ref (g_ptr_array_index (got, LOOP_FRAMES + i));
  else
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
                 "the Opus encoder gave %u frames for %g Hz", got->len, tones[index]);
  g_ptr_array_unref (got);
  return ok;
}

static void
feed_clear (gpointer data)
{
  VgLoadFeed *f = data;
  GstPad *peer = gst_pad_get_peer (f->pad);
  if (peer)
    {
      gst_pad_unlink (f->pad, peer);
      gst_object_unref (peer);
    }
  gst_pad_set_active (f->pad, FALSE);
  gst_object_unref (f->pad);
  gst_object_unref (f->pipeline);
  g_mutex_clear (&f->lock);
}

static void
feed_release (gpointer data)
{
  g_atomic_rc_box_release_full (data, feed_clear);
}

/* Pacer thread: the next frame of one feed, chosen under the feed's lock
 * and pushed without it. */
static guint64
push_one (VgLoadSender *s, VgLoadFeed *f, gint64 now_us, GstClockTime clock_now)
{
  g_mutex_lock (&f->lock);
  if (!f->active)
    {
      g_mutex_unlock (&f->lock);
      return 0;
    }
  double hz = f->tone_hz;
  if (f->on_ms > 0)
    {
      gint64 elapsed = now_us - f->turns_start_us;
      gint64 period = (gint64)(f->on_ms + f->off_ms) * 1000;
      hz = elapsed >= 0 && elapsed % period < (gint64)f->on_ms * 1000 ? f->turn_hz : 0;
      /* The previous frame was the turn's last: its last sample was spoken
       * when it was pushed (a microphone delivers a frame once captured). */
      if (f->last_hz > 0 && hz == 0)
        {
          f->turn_end_us = f->last_push_us;
          f->turns_ended++;
        }
    }
  if (hz > 0 && f->onset_us == 0)
    f->onset_us = now_us - FRAME_US;
  /* A tone starts with its onset frames, then loops its second second. */
  if (hz != f->last_hz)
    f->pos = 0;
  guint pos = f->pos < TONE_FRAMES ? f->pos : LOOP_FRAMES + (f->pos - LOOP_FRAMES) % LOOP_FRAMES;
  f->pos++;
  GstBuffer *frame = s->frames[tone_index (hz)][pos];
  gboolean discont = f->discont;
  f->discont = FALSE;
  f->last_hz = hz;
  f->last_push_us = now_us;
  f->frames_sent++;
  g_mutex_unlock (&f->lock);

  GstBuffer *buf = gst_buffer_copy (frame); /* shares the encoded memory */
  GstClockTime base = gst_element_get_base_time (f->pipeline);
  /* Stamped with its first sample's capture time, a frame before now. */
  GstClockTime captured = clock_now - FRAME_US * GST_USECOND;
  GST_BUFFER_PTS (buf) = captured > base ? captured - base : 0;
  GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (buf) = FRAME_US * GST_USECOND;
  GST_BUFFER_OFFSET (buf) = GST_BUFFER_OFFSET_END (buf) = GST_BUFFER_OFFSET_NONE;
  if (discont)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  gst_pad_push (f->pad, buf); /* FLUSHING or NOT_LINKED while a peer goes away: fine */
  return 1;
}

static gpointer
pacer (gpointer data)
{
  VgLoadSender *s = data;
  GPtrArray *snapshot = g_ptr_array_new_with_free_func (feed_release);
  gint64 next = g_get_monotonic_time ();
  g_mutex_lock (&s->lock);
  while (s->running)
    {
      if (g_get_monotonic_time () < next)
        {
          g_cond_wait_until (&s->wake, &s->lock, next);
          continue;
        }
      gint64 now = g_get_monotonic_time ();
      double late_ms = (now - next) / 1000.0;
      s->stats.ticks++;
      if (late_ms > FRAME_US / 1000.0)
        s->stats.late_ticks++;
      s->stats.max_late_ms = MAX (s->stats.max_late_ms, late_ms);
      /* Far behind (the core was taken away): start again from now rather
       * than burst the missed frames into every peer. */
      if (now - next > LATE_RESYNC_FRAMES * FRAME_US)
        next = now;
      next += FRAME_US;
      for (guint i = 0; i < s->feeds->len; i++)
        g_ptr_array_add (snapshot, g_atomic_rc_box_acquire (g_ptr_array_index (s->feeds, i)));
      g_mutex_unlock (&s->lock);

      GstClockTime clock_now = gst_clock_get_time (s->clock);
      guint64 frames = 0;
      for (guint i = 0; i < snapshot->len; i++)
        frames += push_one (s, g_ptr_array_index (snapshot, i), now, clock_now);
      g_ptr_array_set_size (snapshot, 0);

      g_mutex_lock (&s->lock);
      s->stats.frames += frames;
    }
  g_mutex_unlock (&s->lock);
  g_ptr_array_unref (snapshot);
  return NULL;
}

VgLoadSender *
vg_load_sender_new (GError **error)
{
  VgLoadSender *s = g_new0 (VgLoadSender, 1);
  g_mutex_init (&s->lock);
  g_cond_init (&s->wake);
  s->feeds = g_ptr_array_new_with_free_func (feed_release);
  for (guint i = 0; i < N_TONES; i++)
    if (!encode_tone (s, i, error))
      {
        vg_load_sender_free (s);
        return NULL;
      }
  /* The pipelines' clock: running time = this clock's time - base time. */
  s->clock = gst_system_clock_obtain ();
  s->running = TRUE;
  s->thread = g_thread_new ("vg-load-pacer", pacer, s);
  return s;
}

void
vg_load_sender_free (VgLoadSender *s)
{
  if (!s)
    return;
  if (s->thread)
    {
      g_mutex_lock (&s->lock);
      s->running = FALSE;
      g_cond_signal (&s->wake);
      g_mutex_unlock (&s->lock);
      g_thread_join (s->thread);
    }
  g_ptr_array_unref (s->feeds);
  for (guint i = 0; i < N_TONES; i++)
    for (guint j = 0; j < TONE_FRAMES; j++)
      if (s->frames[i][j])
        gst_buffer_unref (s->frames[i][j]);
  if (s->caps)
    gst_caps_unref (s->caps);
  if (s->clock)
    gst_object_unref (s->clock);
  g_cond_clear (&s->wake);
  g_mutex_clear (&s->lock);
  g_free (s);
}

void
vg_load_sender_get_stats (VgLoadSender *s, VgLoadSenderStats *stats)
{
  g_mutex_lock (&s->lock);
  *stats = s->stats;
  g_mutex_unlock (&s->lock);
}

VgLoadFeed *
vg_load_sender_add (VgLoadSender *s, GstElement *pipeline, GstPad *sink, double tone_hz)
{
  VgLoadFeed *f = g_atomic_rc_box_new0 (VgLoadFeed);
  g_mutex_init (&f->lock);
  f->pipeline = gst_object_ref (pipeline);
  f->tone_hz = tone_hz;
  f->discont = TRUE;
  g_mutex_lock (&s->lock);
  guint id = s->next_id++;
  g_mutex_unlock (&s->lock);
  g_autofree char *name = g_strdup_printf ("vg-load-feed-%u", id);
  f->pad = gst_object_ref_sink (gst_pad_new (name, GST_PAD_SRC));
  gst_pad_set_active (f->pad, TRUE);
  gst_pad_link (f->pad, sink);
  /* Sticky: stored now and sent ahead of the first frame. */
  gst_pad_push_event (f->pad, gst_event_new_stream_start (name));
  gst_pad_push_event (f->pad, gst_event_new_caps (s->caps));
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_push_event (f->pad, gst_event_new_segment (&segment));

  g_mutex_lock (&s->lock);
  g_ptr_array_add (s->feeds, g_atomic_rc_box_acquire (f));
  g_mutex_unlock (&s->lock);
  return f;
}

void
vg_load_sender_remove (VgLoadSender *s, VgLoadFeed *f)
{
  vg_load_feed_set_active (f, FALSE);
  g_mutex_lock (&s->lock);
  g_ptr_array_remove (s->feeds, f); /* the sender's reference */
  g_mutex_unlock (&s->lock);
  feed_release (f); /* the caller's */
}

void
vg_load_feed_set_active (VgLoadFeed *f, gboolean active)
{
  g_mutex_lock (&f->lock);
  f->active = active;
  g_mutex_unlock (&f->lock);
}

void
vg_load_feed_set_tone (VgLoadFeed *f, double hz)
{
  g_mutex_lock (&f->lock);
  f->tone_hz = hz;
  f->on_ms = 0;
  f->onset_us = 0;
  g_mutex_unlock (&f->lock);
}

void
vg_load_feed_set_turns (VgLoadFeed *f, guint on_ms, guint off_ms, guint delay_ms)
{
  g_mutex_lock (&f->lock);
  f->turn_hz = f->tone_hz > 0 ? f->tone_hz : 440;
  f->on_ms = on_ms;
  f->off_ms = off_ms;
  f->turns_start_us = g_get_monotonic_time () + (gint64)delay_ms * 1000;
  g_mutex_unlock (&f->lock);
}

void
vg_load_feed_get_times (VgLoadFeed *f, VgLoadFeedTimes *t)
{
  g_mutex_lock (&f->lock);
  t->onset_us = f->onset_us;
  t->turn_end_us = f->turn_end_us;
  t->turns_ended = f->turns_ended;
  t->frames_sent = f->frames_sent;
  g_mutex_unlock (&f->lock);
}
