/* The recording engine; see recorders.h (and room-recorder.h, its public side).
 *
 * Shape: the room's pipeline is only tapped, never changed. A buffer probe
 * on each recorded pad (the agent's mixer output = the learners' mix, the
 * agent tee's input = the agent's voice, or a publisher's depayloader
 * output = its Opus) hands a reference to the buffer to an appsrc of the
 * recording's own pipeline, in the same process:
 *
 *   composite: appsrc(learners) ─┐
 *              appsrc(agent)  ───┴ audiointerleave ! opusenc ! oggmux ! filesink
 *   track:     appsrc(opus) ! opusparse ! oggmux ! filesink
 *
 * Why a second pipeline rather than a branch in the room's: a branch's
 * write error would flow back through the tee into the room (a tee returns
 * its branches' errors upstream) and its end (EOS) and teardown would have
 * to be staged inside a running room; here a failing or finishing recording
 * touches nothing of the room, and its errors arrive on its own bus.
 *
 * Bounded and leaky: a probe pushes only while its appsrc holds less than
 * TAP_MAX_BYTES (about 2 s of audio); beyond that it drops the buffer and
 * counts it (the metric). The probe never blocks: the room never waits for
 * the disk. Memory per recording is that bound plus one Ogg page.
 *
 * Crash safety: oggmux closes a page at least every 500 ms (max-page-delay)
 * and filesink writes each page straight to the file (buffer-mode
 * unbuffered = one write(2) per page). After kill -9 of the gateway the
 * pages are in the kernel's page cache, so the file plays to within ~0.5 s
 * of the kill. No fsync per page: that only matters if the machine itself
 * loses power, and would cost a disk flush per second per room; the file
 * is fdatasync'ed once when it ends, before the atomic rename.
 *
 * Timeline: time zero is the running time of the first buffer a tap sees;
 * each buffer is restamped (running time - zero), so both channels of a
 * composite line up as they did in the room and the Ogg stream starts at 0.
 * Transcript cues use the room's clock at the moment its agent reports a
 * turn, on the same timeline.
 *
 * Threading: probes run on the room's streaming threads and touch only
 * their Tap and the Shared counters (atomics); everything else runs on the
 * main context. */
#include "gateway/rooms/recorders.h"
#include "gateway/rooms/participant.h"
#include "gateway/rooms/recording-vtt.h"
#include "gateway/rooms/room-events.h"
#include "gateway/rooms/room-graph.h"
#include <gst/app/gstappsrc.h>
#include <gst/audio/audio.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/* About 2 s of the room's raw mono audio (96 kB/s); for Opus (5 kB/s) far more. */
#define TAP_MAX_BYTES (192 * 1024)
#define OPUS_BITRATE 48000 /* stereo speech: two 24 kbit/s voices */
#define PAGE_DELAY_NS (500 * GST_MSECOND)
#define EOS_TIMEOUT_MS 5000
#define NAME_MAX_BYTES 200

/* What probes and the recording share: atomics only. */
typedef struct
{
  gint64 t0;       /* running time of time zero; -1 until the first buffer */
  guint64 dropped; /* buffers the taps dropped */
  gint64 end_ns;   /* end of the last buffer in the recording's timeline */
  guint64 bytes;   /* bytes handed to the file */
} Shared;

static Shared *
shared_new (void)
{
  Shared *s = g_atomic_rc_box_new0 (Shared);
  s->t0 = -1;
  return s;
}

static void
shared_unref (gpointer s)
{
  g_atomic_rc_box_release (s);
}

typedef struct
{
  Shared *shared;     /* ref */
  GstElement *appsrc; /* ref */
  GstPad *pad;        /* ref: the room pad probed */
  gulong probe_id;
  gboolean raw; /* caps fixed on the appsrc; otherwise the pad's caps are forwarded */
  /* Streaming thread of pad only: */
  GstSegment segment;
  gboolean have_segment, have_caps;
} Tap;

static void
tap_free (gpointer data)
{
  Tap *t = data;
  shared_unref (t->shared);
  gst_object_unref (t->appsrc);
  gst_object_unref (t->pad);
  g_free (t);
}

/* The room's streaming thread. Never blocks, takes no lock of ours. */
static GstPadProbeReturn
tap_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Tap *t = data;
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM)
    {
      GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
      if (GST_EVENT_TYPE (ev) == GST_EVENT_SEGMENT)
        {
          gst_event_copy_segment (ev, &t->segment);
          t->have_segment = TRUE;
        }
      else if (GST_EVENT_TYPE (ev) == GST_EVENT_CAPS && !t->raw)
        {
          GstCaps *caps;
          gst_event_parse_caps (ev, &caps);
          gst_app_src_set_caps (GST_APP_SRC (t->appsrc), caps);
          t->have_caps = TRUE;
        }
      return GST_PAD_PROBE_OK;
    }
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  /* Tapped mid-stream: the sticky events came before the probe. */
  if (!t->have_segment)
    {
      GstEvent *ev = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT, 0);
      if (!ev)
        return GST_PAD_PROBE_OK;
      gst_event_copy_segment (ev, &t->segment);
      gst_event_unref (ev);
      t->have_segment = TRUE;
    }
  if (!t->raw && !t->have_caps)
    {
      GstCaps *caps = gst_pad_get_current_caps (pad);
      if (!caps)
        return GST_PAD_PROBE_OK;
      gst_app_src_set_caps (GST_APP_SRC (t->appsrc), caps);
      gst_caps_unref (caps);
      t->have_caps = TRUE;
    }
  if (t->segment.format != GST_FORMAT_TIME || !GST_BUFFER_PTS_IS_VALID (buffer))
    return GST_PAD_PROBE_OK;
  guint64 rt = gst_segment_to_running_time (&t->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buffer));
  if (!GST_CLOCK_TIME_IS_VALID (rt))
    return GST_PAD_PROBE_OK;
  gint64 t0 = __atomic_load_n (&t->shared->t0, __ATOMIC_ACQUIRE);
  if (t0 < 0)
    {
      gint64 expected = -1;
      if (__atomic_compare_exchange_n (&t->shared->t0, &expected, (gint64)rt, FALSE,
                                       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        t0 = (gint64)rt;
      else
        t0 = expected;
    }
  if ((gint64)rt < t0)
    return GST_PAD_PROBE_OK; /* from before this recording began */
  if (gst_app_src_get_current_level_bytes (GST_APP_SRC (t->appsrc)) >= TAP_MAX_BYTES)
    {
      __atomic_add_fetch (&t->shared->dropped, 1, __ATOMIC_RELAXED);
      return GST_PAD_PROBE_OK;
    }
  /* A new buffer sharing the memory: no copy of the audio. */
  GstBuffer *copy = gst_buffer_copy_region (
      buffer, GST_BUFFER_COPY_MEMORY | GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_TIMESTAMPS, 0, -1);
  GST_BUFFER_PTS (copy) = rt - t0;
  GST_BUFFER_DTS (copy) = GST_CLOCK_TIME_NONE;
  /* Offsets are the room's (RTP or sample counts there): the muxer would
   * take them for granule positions. */
  GST_BUFFER_OFFSET (copy) = GST_BUFFER_OFFSET_NONE;
  GST_BUFFER_OFFSET_END (copy) = GST_BUFFER_OFFSET_NONE;
  gst_app_src_push_buffer (GST_APP_SRC (t->appsrc), copy);
  return GST_PAD_PROBE_OK;
}

/* The recording's streaming thread: the end of the media encoded so far. */
static GstPadProbeReturn
end_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Shared *s = data;
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER (info);
  if (GST_BUFFER_PTS_IS_VALID (b))
    {
      gint64 end
          = GST_BUFFER_PTS (b) + (GST_BUFFER_DURATION_IS_VALID (b) ? GST_BUFFER_DURATION (b) : 0);
      if (end > __atomic_load_n (&s->end_ns, __ATOMIC_RELAXED))
        __atomic_store_n (&s->end_ns, end, __ATOMIC_RELAXED);
    }
  return GST_PAD_PROBE_OK;
}

/* The recording's streaming thread (after opusparse): packets back to
 * back. Ogg Opus positions count decoded samples, so a timestamp gap (a
 * lost packet, jitter) would read as overlapping or missing samples; the
 * track's timeline is its packets'. Lost packets shorten the file by their
 * duration (20 ms each): they are not concealed, which needs a decoder. */
static GstPadProbeReturn
restamp_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GstClockTime *next = data;
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER (info);
  if (!GST_BUFFER_DURATION_IS_VALID (b))
    return GST_PAD_PROBE_OK;
  b = gst_buffer_make_writable (b);
  GST_BUFFER_PTS (b) = *next;
  GST_BUFFER_DTS (b) = *next;
  *next += GST_BUFFER_DURATION (b);
  GST_PAD_PROBE_INFO_DATA (info) = b;
  return GST_PAD_PROBE_OK;
}

/* The recording's streaming thread: bytes reaching filesink. */
static GstPadProbeReturn
bytes_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Shared *s = data;
  __atomic_add_fetch (&s->bytes, gst_buffer_get_size (GST_PAD_PROBE_INFO_BUFFER (info)),
                      __ATOMIC_RELAXED);
  return GST_PAD_PROBE_OK;
}

/* ---- recordings ---- */

typedef struct
{
  VgRecorders *owner;
  VgRecordingInfo *info;      /* owned */
  VgRoom *room;               /* borrowed; NULL once the room closes */
  VgParticipant *participant; /* TRACK: borrowed; NULL once it leaves */
  Shared *shared;
  GstElement *pipeline;
  GSource *bus_source, *tick_source, *eos_source;
  Tap *taps[2]; /* borrowed: each owned by its probe */
  guint n_taps;
  char *part_path;
  VgVttWriter *vtt;
  const VgRecordingCallbacks *callbacks;
  gpointer callbacks_data;
  /* The room's clock and base time: the present on the recording's timeline. */
  GstClock *clock;
  GstClockTime base_time;
  /* Transcript timing, in the recording's timeline (ns; -1 = unknown). */
  gint64 listening_at, thinking_at, speaking_at, last_cue_end;
  gboolean speaking;
  char *pending_assistant; /* a final assistant text waiting for the end of its speech */
  guint64 bytes_counted, dropped_counted; /* already added to the counters */
} Recording;

struct _VgRecorders
{
  GMainContext *context;
  char *default_dir;
  GHashTable *running; /* id -> Recording* (owned) */
  const VgRecordingCallbacks *observer;
  gpointer observer_data;
  VgMetric *active, *total, *dropped, *bytes;
};

static void
clear_source (GSource **source)
{
  if (*source)
    {
      g_source_destroy (*source);
      g_source_unref (*source);
      *source = NULL;
    }
}

/* Brings info's counters up to date and feeds the metrics their growth. */
static void
refresh_counters (Recording *r)
{
  VgRecorders *o = r->owner;
  guint64 bytes = __atomic_load_n (&r->shared->bytes, __ATOMIC_RELAXED);
  guint64 dropped = __atomic_load_n (&r->shared->dropped, __ATOMIC_RELAXED);
  r->info->size_bytes = bytes;
  r->info->dropped_buffers = dropped;
  r->info->duration_ns = __atomic_load_n (&r->shared->end_ns, __ATOMIC_RELAXED);
  if (o->bytes && bytes > r->bytes_counted)
    vg_metric_add (o->bytes, NULL, (double)(bytes - r->bytes_counted));
  if (o->dropped && dropped > r->dropped_counted)
    vg_metric_add (o->dropped, NULL, (double)(dropped - r->dropped_counted));
  r->bytes_counted = bytes;
  r->dropped_counted = dropped;
}

/* Observer first, then the starter's callbacks; no lock is held. */
static void
set_state (Recording *r, VgRecordingState state)
{
  r->info->state = state;
  refresh_counters (r);
  const VgRecordingCallbacks *observer = r->owner->observer;
  if (observer && observer->state_changed)
    observer->state_changed (r->owner->observer_data, r->info);
  if (r->callbacks && r->callbacks->state_changed)
    r->callbacks->state_changed (r->callbacks_data, r->info);
}

static void
remove_taps (Recording *r)
{
  for (guint i = 0; i < r->n_taps; i++)
    {
      Tap *t = r->taps[i];
      GstElement *appsrc = gst_object_ref (t->appsrc);
      /* The probe may run once more meanwhile: it then pushes into an
       * appsrc at EOS, which refuses the buffer. The Tap goes with it. */
      gst_pad_remove_probe (t->pad, t->probe_id);
      gst_app_src_end_of_stream (GST_APP_SRC (appsrc));
      gst_object_unref (appsrc);
    }
  r->n_taps = 0;
}

static void
recording_free (Recording *r)
{
  remove_taps (r);
  clear_source (&r->bus_source);
  clear_source (&r->tick_source);
  clear_source (&r->eos_source);
  if (r->pipeline)
    {
      gst_element_set_state (r->pipeline, GST_STATE_NULL);
      gst_object_unref (r->pipeline);
    }
  vg_vtt_writer_free (r->vtt);
  g_clear_object (&r->clock);
  shared_unref (r->shared);
  vg_recording_info_free (r->info);
  g_free (r->part_path);
  g_free (r->pending_assistant);
  g_free (r);
}

/* The file is complete on disk: make it durable, then visible. */
static gboolean
commit_file (const char *part, const char *path, GError **error)
{
  int fd = g_open (part, O_RDONLY, 0);
  if (fd < 0 || fdatasync (fd) != 0)
    {
      int err = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err), "cannot sync %s: %s", part,
                   g_strerror (err));
      return FALSE;
    }
  close (fd);
  if (g_rename (part, path) != 0)
    {
      int err = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err), "cannot rename %s: %s", part,
                   g_strerror (err));
      return FALSE;
    }
  return TRUE;
}

static void flush_assistant (Recording *r, gint64 end);

/* Ends r (COMPLETE when error is NULL) and frees it; main context. */
static void
finish (Recording *r, const char *error_message)
{
  VgRecorders *o = r->owner;
  remove_taps (r);
  clear_source (&r->bus_source);
  clear_source (&r->tick_source);
  clear_source (&r->eos_source);
  /* NULL closes the file (filesink flushes nothing more: it is unbuffered). */
  gst_element_set_state (r->pipeline, GST_STATE_NULL);
  refresh_counters (r);
  g_autoptr (GError) error = NULL;
  if (error_message)
    error = g_error_new_literal (VG_ROOMS_ERROR, VG_ROOMS_ERROR_PIPELINE, error_message);
  else
    commit_file (r->part_path, r->info->path, &error);
  if (r->vtt)
    {
      if (!error)
        flush_assistant (r, r->info->duration_ns);
      g_autoptr (GError) vtt_error = NULL;
      if (!vg_vtt_writer_finish (r->vtt, !error, &vtt_error) && !error)
        error = g_steal_pointer (&vtt_error);
    }
  if (error)
    {
      g_unlink (r->part_path);
      if (!error_message && g_file_test (r->info->path, G_FILE_TEST_EXISTS))
        g_unlink (r->info->path); /* the sidecar failed after the rename */
      g_free (r->info->error);
      r->info->error = g_strdup (error->message);
      g_warning ("recording %s of %s failed: %s", r->info->id, r->info->room_name, error->message);
    }
  else
    g_message ("recording %s of %s complete: %s (%.1f s, %" G_GUINT64_FORMAT " bytes)", r->info->id,
               r->info->room_name, r->info->path, r->info->duration_ns / 1e9, r->info->size_bytes);
  r->info->ended_at_us = g_get_real_time ();
  if (o->total)
    {
      const char *labels[]
          = { vg_recording_kind_to_string (r->info->kind), error ? "failed" : "complete", NULL };
      vg_metric_add (o->total, labels, 1);
    }
  /* Out of the table before the last callback: a callback that lists or
   * stops recordings sees it gone. */
  g_hash_table_steal (o->running, r->info->id);
  if (o->active)
    vg_metric_set (o->active, NULL, g_hash_table_size (o->running));
  set_state (r, error ? VG_RECORDING_FAILED : VG_RECORDING_COMPLETE);
  recording_free (r);
}

static gboolean
on_recording_bus (GstBus *bus, GstMessage *msg, gpointer data)
{
  Recording *r = data;
  switch (GST_MESSAGE_TYPE (msg))
    {
      case GST_MESSAGE_EOS:
        finish (r, NULL);
        return G_SOURCE_REMOVE; /* finish destroyed this source */
      case GST_MESSAGE_ERROR:
        {
          g_autoptr (GError) error = NULL;
          g_autofree char *debug = NULL;
          gst_message_parse_error (msg, &error, &debug);
          /* The debug text's last line names the cause ("... : No space left
           * on device"); the paths in it are the operator's own. */
          const char *cause = debug ? strrchr (debug, '\n') : NULL;
          cause = cause ? cause + 1 : NULL;
          if (cause && (*cause == '/' || !*cause))
            cause = NULL; /* only the element's path */
          g_autofree char *text
              = g_strdup_printf ("%s: %s%s%s", GST_MESSAGE_SRC_NAME (msg), error->message,
                                 cause ? " " : "", cause ? cause : "");
          finish (r, text);
          return G_SOURCE_REMOVE;
        }
      default:
        return G_SOURCE_CONTINUE;
    }
}

static gboolean
recording_tick (gpointer data)
{
  Recording *r = data;
  refresh_counters (r);
  if (r->info->state == VG_RECORDING_STARTING && r->info->size_bytes > 0)
    set_state (r, VG_RECORDING_ACTIVE);
  return G_SOURCE_CONTINUE;
}

static gboolean
eos_timeout (gpointer data)
{
  Recording *r = data;
  g_warning ("recording %s: no end of stream after %d ms; closing the file as it is", r->info->id,
             EOS_TIMEOUT_MS);
  finish (r, NULL);
  return G_SOURCE_REMOVE;
}

static void
begin_ending (Recording *r)
{
  if (r->info->state >= VG_RECORDING_ENDING)
    return;
  remove_taps (r);
  r->room = NULL;
  r->participant = NULL;
  recording_tick (r); /* ACTIVE first if pages were written since the last tick */
  set_state (r, VG_RECORDING_ENDING);
  r->eos_source = g_timeout_source_new (EOS_TIMEOUT_MS);
  g_source_set_callback (r->eos_source, eos_timeout, r, NULL);
  g_source_attach (r->eos_source, r->owner->context);
}

/* ---- building ---- */

static GstElement *
add (GstElement *pipeline, const char *factory, const char *name, GError **error)
{
  GstElement *e = vg_element_make (factory, name, error);
  if (e)
    gst_bin_add (GST_BIN (pipeline), e);
  return e;
}

static GstElement *
add_appsrc (GstElement *pipeline, const char *name, GstCaps *caps, GError **error)
{
  GstElement *src = add (pipeline, "appsrc", name, error);
  if (!src)
    return NULL;
  /* Not live: the recording pipeline has no clock of its own to keep; it
   * writes as fast as data comes and never syncs. */
  g_object_set (src, "format", GST_FORMAT_TIME, "is-live", FALSE, "block", FALSE, "max-bytes",
                (guint64)TAP_MAX_BYTES * 2, "leaky-type", GST_APP_LEAKY_TYPE_DOWNSTREAM, NULL);
  if (caps)
    g_object_set (src, "caps", caps, NULL);
  return src;
}

static void
add_probe (GstElement *e, const char *pad_name, GstPadProbeCallback fn, Shared *s)
{
  GstPad *pad = gst_element_get_static_pad (e, pad_name);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, fn, g_atomic_rc_box_acquire (s), shared_unref);
  gst_object_unref (pad);
}

/* The tail shared by both kinds: oggmux ! filesink (location = part). */
static GstElement *
add_writer (Recording *r, GError **error)
{
  GstElement *mux, *sink;
  if (!(mux = add (r->pipeline, "oggmux", "mux", error))
      || !(sink = add (r->pipeline, "filesink", "sink", error)))
    return NULL;
  g_object_set (mux, "max-page-delay", (guint64)PAGE_DELAY_NS, "max-delay", (guint64)PAGE_DELAY_NS,
                NULL);
  /* buffer-mode 2 = unbuffered: each page is one write(2), see the top. */
  gst_util_set_object_arg (G_OBJECT (sink), "buffer-mode", "unbuffered");
  g_object_set (sink, "location", r->part_path, "sync", FALSE, "async", FALSE, NULL);
  add_probe (sink, "sink", bytes_probe, r->shared);
  if (!gst_element_link (mux, sink))
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_PIPELINE, "cannot link oggmux");
      return NULL;
    }
  return mux;
}

static Tap *
add_tap (Recording *r, GstPad *room_pad, GstElement *appsrc, gboolean raw)
{
  Tap *t = g_new0 (Tap, 1);
  t->shared = g_atomic_rc_box_acquire (r->shared);
  t->appsrc = gst_object_ref (appsrc);
  t->pad = gst_object_ref (room_pad);
  t->raw = raw;
  gst_segment_init (&t->segment, GST_FORMAT_UNDEFINED);
  t->probe_id = gst_pad_add_probe (room_pad,
                                   GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                                   tap_probe, t, tap_free);
  r->taps[r->n_taps++] = t;
  return t;
}

static GstPad *
room_pad (VgRoom *room, const char *element, const char *pad_name)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (vg_room_get_pipeline (room)), element);
  if (!e)
    return NULL;
  GstPad *pad = gst_element_get_static_pad (e, pad_name);
  gst_object_unref (e);
  return pad;
}

static gboolean
build_composite (Recording *r, GError **error)
{
  g_autoptr (GstPad) mix_pad = room_pad (r->room, "agent-mix", "src");
  g_autoptr (GstPad) agent_pad = room_pad (r->room, "agent-tee", "sink");
  if (!mix_pad || !agent_pad)
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_PIPELINE,
                   "room %s has no agent mix to record", r->info->room_name);
      return FALSE;
    }
  g_autoptr (GstCaps) caps = gst_caps_from_string (VG_ROOM_AUDIO_CAPS);
  GstElement *learners, *agent, *interleave, *enc, *mux;
  if (!(learners = add_appsrc (r->pipeline, "learners", caps, error))
      || !(agent = add_appsrc (r->pipeline, "agent", caps, error))
      || !(interleave = add (r->pipeline, "audiointerleave", "interleave", error))
      || !(enc = add (r->pipeline, "opusenc", "enc", error)) || !(mux = add_writer (r, error)))
    return FALSE;
  /* Left = learners, right = agent: a stereo file any player maps. */
  /* The property is a GValueArray (deprecated type, the element's API). */
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  GValueArray *positions = g_value_array_new (2);
  GValue v = G_VALUE_INIT;
  g_value_init (&v, GST_TYPE_AUDIO_CHANNEL_POSITION);
  g_value_set_enum (&v, GST_AUDIO_CHANNEL_POSITION_FRONT_LEFT);
  g_value_array_append (positions, &v);
  g_value_set_enum (&v, GST_AUDIO_CHANNEL_POSITION_FRONT_RIGHT);
  g_value_array_append (positions, &v);
  g_value_unset (&v);
  g_object_set (interleave, "channel-positions-from-input", FALSE, "channel-positions", positions,
                NULL);
  g_value_array_free (positions);
  G_GNUC_END_IGNORE_DEPRECATIONS
  g_object_set (enc, "bitrate", OPUS_BITRATE, NULL);
  gst_util_set_object_arg (G_OBJECT (enc), "audio-type", "voice");
  if (!gst_element_link_pads (learners, "src", interleave, "sink_0")
      || !gst_element_link_pads (agent, "src", interleave, "sink_1")
      || !gst_element_link_many (interleave, enc, mux, NULL))
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_PIPELINE, "cannot link the recorder");
      return FALSE;
    }
  add_probe (interleave, "src", end_probe, r->shared);
  add_tap (r, mix_pad, learners, TRUE);
  add_tap (r, agent_pad, agent, TRUE);
  return TRUE;
}

static gboolean
build_track (Recording *r, GError **error)
{
  g_autofree char *depay_name
      = g_strconcat (vg_participant_get_element_prefix (r->participant), "depay", NULL);
  g_autoptr (GstPad) depay_pad = room_pad (r->room, depay_name, "src");
  if (!depay_pad)
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_NOT_FOUND, "track %s has no audio yet",
                   r->info->track_sid);
      return FALSE;
    }
  GstElement *src, *parse, *mux;
  if (!(src = add_appsrc (r->pipeline, "track", NULL, error))
      || !(parse = add (r->pipeline, "opusparse", "parse", error))
      || !(mux = add_writer (r, error)))
    return FALSE;
  if (!gst_element_link_many (src, parse, mux, NULL))
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_PIPELINE, "cannot link the recorder");
      return FALSE;
    }
  GstPad *parsed = gst_element_get_static_pad (parse, "src");
  gst_pad_add_probe (parsed, GST_PAD_PROBE_TYPE_BUFFER, restamp_probe, g_new0 (GstClockTime, 1),
                     g_free);
  gst_object_unref (parsed);
  add_probe (parse, "src", end_probe, r->shared);
  add_tap (r, depay_pad, src, FALSE);
  return TRUE;
}

/* ---- names ---- */

static char *
new_id (void)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  char id[3 + 12 + 1] = "EG_";
  for (int i = 0; i < 12; i++)
    id[3 + i] = alphabet[g_random_int_range (0, sizeof alphabet - 1)];
  id[15] = 0;
  return g_strdup (id);
}

static gboolean
file_name_is_valid (const char *name)
{
  gsize len = strlen (name);
  if (len == 0 || len > NAME_MAX_BYTES || name[0] == '.' || !g_utf8_validate (name, len, NULL))
    return FALSE;
  for (const char *c = name; *c; c++)
    if (*c == '/' || *c == '\\' || (guchar)*c < 0x20)
      return FALSE;
  return TRUE;
}

static VgParticipant *
find_track (VgRoom *room, const char *track)
{
  g_autoptr (GPtrArray) list = vg_room_list_participants (room);
  for (guint i = 0; i < list->len; i++)
    {
      VgParticipant *p = g_ptr_array_index (list, i);
      if (vg_participant_get_kind (p) != VG_PARTICIPANT_PUBLISHER)
        continue;
      g_autofree char *sid = vg_participant_dup_track_sid (p);
      if (g_str_equal (sid, track) || g_strcmp0 (vg_participant_get_identity (p), track) == 0)
        return p;
    }
  return NULL;
}

/* ---- the registry's side ---- */

VgRecorders *
vg_recorders_new (GMainContext *context, VgMetrics *metrics, const char *default_dir)
{
  VgRecorders *o = g_new0 (VgRecorders, 1);
  o->context = g_main_context_ref (context);
  o->default_dir = g_strdup (default_dir);
  o->running = g_hash_table_new (g_str_hash, g_str_equal);
  if (metrics)
    {
      static const char *const kind_status[] = { "kind", "status", NULL };
      o->active = vg_metrics_register (metrics, VG_METRIC_GAUGE, "voxgate_recordings_active",
                                       "Recordings being written.", NULL, NULL);
      o->total = vg_metrics_register (metrics, VG_METRIC_COUNTER, "voxgate_recordings_total",
                                      "Recordings that ended, by kind and status "
                                      "(complete, failed).",
                                      kind_status, NULL);
      o->dropped = vg_metrics_register (
          metrics, VG_METRIC_COUNTER, "voxgate_recording_dropped_buffers_total",
          "Audio buffers a recorder dropped because its file lagged (the room never waits).", NULL,
          NULL);
      o->bytes = vg_metrics_register (metrics, VG_METRIC_COUNTER, "voxgate_recording_bytes_total",
                                      "Bytes written to recording files.", NULL, NULL);
      vg_metric_set (o->active, NULL, 0);
      vg_metric_add (o->dropped, NULL, 0);
      vg_metric_add (o->bytes, NULL, 0);
      for (int k = 0; k < 2; k++)
        for (int s = 0; s < 2; s++)
          {
            const char *labels[]
                = { vg_recording_kind_to_string (k), s ? "failed" : "complete", NULL };
            vg_metric_add (o->total, labels, 0);
          }
    }
  return o;
}

void
vg_recorders_set_observer (VgRecorders *o, const VgRecordingCallbacks *callbacks, gpointer data)
{
  o->observer = callbacks;
  o->observer_data = callbacks ? data : NULL;
}

char *
vg_recorders_start (VgRecorders *o, VgRoom *room, const VgRecordingSpec *spec,
                    const VgRecordingCallbacks *callbacks, gpointer data, GError **error)
{
  VgParticipant *participant = NULL;
  if (spec->kind != VG_RECORDING_ROOM_COMPOSITE && spec->kind != VG_RECORDING_TRACK)
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_INVALID, "unknown recording kind");
      return NULL;
    }
  if (spec->kind == VG_RECORDING_TRACK
      && !(spec->track && (participant = find_track (room, spec->track))))
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_NOT_FOUND, "no published track %s in %s",
                   spec->track ? spec->track : "(none)", vg_room_get_name (room));
      return NULL;
    }
  if (spec->file_name && !file_name_is_valid (spec->file_name))
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_INVALID,
                   "a recording's file name is 1 to %d bytes, without '/' and not starting "
                   "with '.'",
                   NAME_MAX_BYTES);
      return NULL;
    }
  const char *dir = spec->directory && *spec->directory ? spec->directory : o->default_dir;
  if (!dir || !*dir || g_mkdir_with_parents (dir, 0750) != 0)
    {
      int err = errno;
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_INVALID,
                   "the recording directory %s cannot be created: %s", dir ? dir : "(none)",
                   g_strerror (err));
      return NULL;
    }

  Recording *r = g_new0 (Recording, 1);
  r->owner = o;
  r->room = room;
  r->participant = participant;
  r->shared = shared_new ();
  r->callbacks = callbacks;
  r->callbacks_data = data;
  r->listening_at = r->thinking_at = r->speaking_at = r->last_cue_end = -1;
  VgRecordingInfo *i = r->info = g_new0 (VgRecordingInfo, 1);
  i->id = new_id ();
  i->room_name = g_strdup (vg_room_get_name (room));
  i->room_sid = vg_room_dup_sid (room);
  i->kind = spec->kind;
  i->started_at_us = g_get_real_time ();
  if (participant)
    {
      i->track_sid = vg_participant_dup_track_sid (participant);
      i->participant_identity = g_strdup (vg_participant_get_identity (participant));
      i->participant_session_id = g_strdup (vg_participant_get_session_id (participant));
    }
  g_autofree char *name = NULL;
  if (spec->file_name)
    name = g_str_has_suffix (spec->file_name, ".ogg") ? g_strdup (spec->file_name)
                                                      : g_strconcat (spec->file_name, ".ogg", NULL);
  else
    {
      g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
      g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
      name = g_strdup_printf ("%s-%s-%s.ogg", i->room_name, stamp, i->id);
    }
  i->path = g_build_filename (dir, name, NULL);
  r->part_path = g_strconcat (i->path, ".part", NULL);
  if (g_file_test (i->path, G_FILE_TEST_EXISTS) || g_file_test (r->part_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_EXISTS, "%s exists", i->path);
      recording_free (r);
      return NULL;
    }

  g_autofree char *pipeline_name = g_strdup_printf ("recording-%s", i->id);
  r->pipeline = gst_object_ref_sink (gst_pipeline_new (pipeline_name));
  gboolean built
      = spec->kind == VG_RECORDING_TRACK ? build_track (r, error) : build_composite (r, error);
  if (built && spec->kind == VG_RECORDING_ROOM_COMPOSITE)
    {
      g_autofree char *base = g_strndup (i->path, strlen (i->path) - strlen (".ogg"));
      i->transcript_path = g_strconcat (base, ".vtt", NULL);
      if (!(r->vtt = vg_vtt_writer_new (i->transcript_path, error)))
        built = FALSE;
    }
  if (!built)
    {
      g_prefix_error (error, "recording %s: ", i->room_name);
      recording_free (r);
      return NULL;
    }
  GstBus *bus = gst_pipeline_get_bus (GST_PIPELINE (r->pipeline));
  r->bus_source = gst_bus_create_watch (bus);
  g_source_set_callback (r->bus_source, G_SOURCE_FUNC (on_recording_bus), r, NULL);
  g_source_attach (r->bus_source, o->context);
  gst_object_unref (bus);
  if (gst_element_set_state (r->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_PIPELINE, "recording %s: cannot open %s",
                   i->room_name, r->part_path);
      g_unlink (r->part_path);
      recording_free (r);
      return NULL;
    }
  /* The clock the room runs on (gst_pipeline_get_clock would ask the
   * elements to provide one, walking the room's graph, which has loops). */
  GstElement *room_pipeline = GST_ELEMENT (vg_room_get_pipeline (room));
  r->clock = gst_element_get_clock (room_pipeline);
  r->base_time = gst_element_get_base_time (room_pipeline);
  r->tick_source = g_timeout_source_new_seconds (1);
  g_source_set_callback (r->tick_source, recording_tick, r, NULL);
  g_source_attach (r->tick_source, o->context);
  g_hash_table_insert (o->running, i->id, r);
  if (o->active)
    vg_metric_set (o->active, NULL, g_hash_table_size (o->running));
  g_message ("recording %s of %s (%s) into %s", i->id, i->room_name,
             vg_recording_kind_to_string (i->kind), r->part_path);
  char *id = g_strdup (i->id);
  set_state (r, VG_RECORDING_STARTING);
  return id;
}

gboolean
vg_recorders_stop (VgRecorders *o, const char *id, GError **error)
{
  Recording *r = id ? g_hash_table_lookup (o->running, id) : NULL;
  if (!r || r->info->state >= VG_RECORDING_ENDING)
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_NOT_FOUND, "no running recording %s",
                   id ? id : "");
      return FALSE;
    }
  begin_ending (r);
  return TRUE;
}

static gint
compare_infos (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 ((*(VgRecordingInfo **)a)->id, (*(VgRecordingInfo **)b)->id);
}

GPtrArray *
vg_recorders_list (VgRecorders *o, const char *room_name)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify)vg_recording_info_free);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, o->running);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Recording *r = value;
      if (room_name && g_strcmp0 (room_name, r->info->room_name) != 0)
        continue;
      refresh_counters (r);
      g_ptr_array_add (list, vg_recording_info_copy (r->info));
    }
  g_ptr_array_sort (list, compare_infos);
  return list;
}

VgRecordingInfo *
vg_recorders_get (VgRecorders *o, const char *id)
{
  Recording *r = id ? g_hash_table_lookup (o->running, id) : NULL;
  if (!r)
    return NULL;
  refresh_counters (r);
  return vg_recording_info_copy (r->info);
}

GstPipeline *
vg_recorders_get_pipeline (VgRecorders *o, const char *id)
{
  Recording *r = id ? g_hash_table_lookup (o->running, id) : NULL;
  return r ? GST_PIPELINE (r->pipeline) : NULL;
}

/* The recordings matching a predicate, collected first: ending one may
 * change the table (callbacks). */
static GPtrArray *
collect (VgRecorders *o, VgRoom *room, VgParticipant *participant)
{
  GPtrArray *list = g_ptr_array_new ();
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, o->running);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Recording *r = value;
      if ((room && r->room == room) || (participant && r->participant == participant))
        g_ptr_array_add (list, g_strdup (r->info->id));
    }
  return list;
}

static void
end_listed (VgRecorders *o, GPtrArray *ids)
{
  for (guint i = 0; i < ids->len; i++)
    {
      Recording *r = g_hash_table_lookup (o->running, g_ptr_array_index (ids, i));
      if (r)
        begin_ending (r);
      g_free (g_ptr_array_index (ids, i));
    }
  g_ptr_array_unref (ids);
}

void
vg_recorders_room_closing (VgRecorders *o, VgRoom *room)
{
  end_listed (o, collect (o, room, NULL));
}

void
vg_recorders_participant_leaving (VgRecorders *o, VgParticipant *participant)
{
  end_listed (o, collect (o, NULL, participant));
}

/* ---- transcripts ---- */

/* The present on r's timeline (ns), or -1 before its first buffer. */
static gint64
timeline_now (Recording *r)
{
  gint64 t0 = __atomic_load_n (&r->shared->t0, __ATOMIC_ACQUIRE);
  if (t0 < 0 || !r->clock)
    return -1;
  gint64 running = (gint64)(gst_clock_get_time (r->clock) - r->base_time);
  return MAX (running - t0, 0);
}

static void
flush_assistant (Recording *r, gint64 end)
{
  if (!r->pending_assistant)
    return;
  gint64 start = r->speaking_at >= 0 ? r->speaking_at : end;
  vg_vtt_writer_add (r->vtt, start, end, "agent", r->pending_assistant);
  r->last_cue_end = MAX (end, start);
  g_clear_pointer (&r->pending_assistant, g_free);
}

/* A final transcript or a state change of the agent: cues span the turn
 * as the agent saw it (the learner: from the agent's listening to its
 * thinking; the agent: from speaking to listening). */
static void
on_agent_message (Recording *r, const GstStructure *s)
{
  gint64 now = timeline_now (r);
  if (now < 0 || !r->vtt)
    return;
  if (gst_structure_has_name (s, "realtime-state"))
    {
      const char *state = gst_structure_get_string (s, "state");
      if (g_strcmp0 (state, "thinking") == 0)
        r->thinking_at = now;
      else if (g_strcmp0 (state, "speaking") == 0)
        {
          r->speaking = TRUE;
          r->speaking_at = now;
        }
      else if (g_strcmp0 (state, "listening") == 0)
        {
          if (r->speaking)
            flush_assistant (r, now);
          r->speaking = FALSE;
          r->listening_at = now;
        }
      return;
    }
  if (!gst_structure_has_name (s, "realtime-transcript"))
    return;
  gboolean final = FALSE;
  gst_structure_get_boolean (s, "final", &final);
  const char *text = gst_structure_get_string (s, "text");
  if (!final || !text || !*text)
    return;
  if (g_strcmp0 (gst_structure_get_string (s, "role"), "user") == 0)
    {
      gint64 start = MAX (MAX (r->listening_at, r->last_cue_end), 0);
      gint64 end = r->thinking_at > start ? r->thinking_at : now;
      vg_vtt_writer_add (r->vtt, start, end, "learner", text);
      r->last_cue_end = MAX (end, start);
      return;
    }
  flush_assistant (r, now); /* an earlier one never saw its "listening" */
  r->pending_assistant = g_strdup (text);
  if (!r->speaking)
    flush_assistant (r, now);
}

void
vg_recorders_agent_message (VgRecorders *o, VgRoom *room, const GstStructure *s)
{
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, o->running);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Recording *r = value;
      if (r->room == room && r->info->state < VG_RECORDING_ENDING)
        on_agent_message (r, s);
    }
}

/* ---- shutdown ---- */

void
vg_recorders_free (VgRecorders *o)
{
  if (!o)
    return;
  GList *all = g_hash_table_get_values (o->running);
  for (GList *l = all; l; l = l->next)
    begin_ending (l->data);
  g_list_free (all);
  /* Each recording's bus is watched on the main context: drive it here,
   * bounded, until every file is closed. */
  gint64 deadline = g_get_monotonic_time () + (EOS_TIMEOUT_MS + 500) * G_TIME_SPAN_MILLISECOND;
  while (g_hash_table_size (o->running) > 0 && g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (o->context, FALSE))
      g_usleep (1000);
  all = g_hash_table_get_values (o->running);
  for (GList *l = all; l; l = l->next)
    finish (l->data, NULL);
  g_list_free (all);
  g_hash_table_unref (o->running);
  g_main_context_unref (o->context);
  g_free (o->default_dir);
  g_free (o);
}
