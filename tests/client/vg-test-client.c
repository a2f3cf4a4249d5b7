/* The WebRTC side of the test client; see vg-test-client.h. */
#define GST_USE_UNSTABLE_API
#include "vg-test-client-private.h"
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/webrtc/webrtc.h>
#include "gateway/rooms/webrtc-stop.h"
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <math.h>
#include <string.h>

#define FRAME_MS 20
#define FRAME_SAMPLES (48 * FRAME_MS) /* at 48 kHz */
/* A sample this loud (of full scale) in the echo is the tone's onset: the
 * tones are sent at 0.25, the codec's noise on silence stays below 0.01. */
#define ONSET_LEVEL 0.1

struct _VgTestClient
{
  char *label;
  VgTestClientOptions options;
  VgTestAudio audio;
  guint64 sent_packets; /* the sender's streaming thread only (drop_every) */
  GstElement *pipeline, *webrtc, *appsrc;
  GMainContext *context;

  VgTestSignalFunc signal_fn;
  gpointer signal_data;
  char *endpoint, *token, *location, *etag;
  /* RFC 9725 §4.5: a 307/308 on the POST is followed with the same offer;
   * post_url is where it went last (the Location is relative to it). */
  char *offer, *post_url;
  guint redirects;
  SoupSession *session;
  GCancellable *cancellable; /* in-flight HTTP, cancelled on free */
  guint http_status;
  char *error;

  gint64 start_us;
  gint64 signal_us;        /* the offer left (POST sent) */
  gint64 first_audio_us;   /* audio.lock: the first audible buffer arrived */
  gint connected_us_delta; /* atomic-ish: set once */
  gint connection_state;   /* atomic GstWebRTCPeerConnectionState */
  gint gathering_done;     /* atomic */
  gint channel_open;       /* atomic */
  gboolean answered, failed, recv_linked;
  GstWebRTCDataChannel *channel;
  GMutex events_lock;
  GPtrArray *events; /* received JSON texts */
  GstClockTime next_pts;
  /* Round-trip measurement (audio.lock): the first tone buffer's PTS, when
   * its first sample was spoken, and when a loud buffer came back. */
  gboolean onset_armed;
  GstClockTime onset_pts;
  gint64 onset_us, heard_us;
  /* Barge-in measurement (audio.lock): when armed, the arrival of the first
   * buffer quieter than silence_level. */
  double silence_level; /* 0 = not armed */
  gint64 silence_us;
  /* Continuity (audio.lock): when watched, the current and longest quiet
   * runs (samples), the last buffer's arrival and the longest interval. */
  double watch_level; /* 0 = not watched */
  guint64 watch_quiet, watch_longest_quiet, watch_buffers;
  gint64 watch_last_us, watch_longest_interval_us;
  /* Sender mode (options.sender): the shared sender's feed into this
   * peer, set once when built; heard_first (atomic) stops decoding an
   * unmeasured peer; replies (audio.lock) are the reply latencies in
   * seconds, reply_turn the turn end they were last measured from. */
  VgLoadFeed *feed;
  gint heard_first;
  GArray *replies;
  gint64 reply_turn_us;
};

/* ---- small helpers ---- */

gboolean
vg_test_wait_until (gboolean (*cond) (gpointer data), gpointer data, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;
  GMainContext *ctx = g_main_context_get_thread_default ();
  while (!cond (data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      if (!g_main_context_iteration (ctx, FALSE))
        g_usleep (5000);
    }
  return TRUE;
}

static gboolean
never (gpointer data)
{
  return FALSE;
}

void
vg_test_run_for (guint ms)
{
  vg_test_wait_until (never, NULL, ms);
}

static void
set_error (VgTestClient *c, guint status, const char *message)
{
  g_free (c->error);
  c->error = g_strdup (message);
  c->http_status = status;
  c->failed = TRUE;
}

/* ---- media ---- */

static void
on_need_data (GstAppSrc *src, guint length, gpointer data)
{
  VgTestClient *c = data;
  GstBuffer *buf = gst_buffer_new_allocate (NULL, FRAME_SAMPLES * 2, NULL);
  GstMapInfo map;
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  vg_test_audio_generate (&c->audio, (gint16 *)map.data, FRAME_SAMPLES);
  gst_buffer_unmap (buf, &map);
  g_mutex_lock (&c->audio.lock);
  if (c->onset_armed && c->onset_pts == GST_CLOCK_TIME_NONE && c->audio.tone_hz > 0)
    c->onset_pts = c->next_pts;
  g_mutex_unlock (&c->audio.lock);
  GST_BUFFER_PTS (buf) = c->next_pts;
  GST_BUFFER_DURATION (buf) = gst_util_uint64_scale (FRAME_SAMPLES, GST_SECOND, VG_TEST_RATE);
  c->next_pts += GST_BUFFER_DURATION (buf);
  gst_app_src_push_buffer (src, buf);
}

/* After the pacer, which releases each buffer when its last sample has been
 * "spoken" (ts-offset = one frame), as a microphone delivers it: its first
 * sample was spoken one frame ago. */
static GstPadProbeReturn
on_paced (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  VgTestClient *c = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  g_mutex_lock (&c->audio.lock);
  if (c->onset_armed && !c->onset_us && GST_BUFFER_PTS (buf) == c->onset_pts)
    c->onset_us = g_get_monotonic_time () - FRAME_MS * 1000;
  g_mutex_unlock (&c->audio.lock);
  return GST_PAD_PROBE_OK;
}

/* The sender's streaming thread: a lossy link, after the payloader so the
 * receiver sees gaps in the sequence numbers. */
static GstPadProbeReturn
drop_some (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  VgTestClient *c = data;
  return ++c->sent_packets % c->options.drop_every == 0 ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

/* audio.lock held. */
static void
watch_buffer (VgTestClient *c, double rms, gsize samples)
{
  gint64 now = g_get_monotonic_time ();
  if (c->watch_last_us)
    c->watch_longest_interval_us = MAX (c->watch_longest_interval_us, now - c->watch_last_us);
  c->watch_last_us = now;
  c->watch_buffers++;
  c->watch_quiet = rms < c->watch_level ? c->watch_quiet + samples : 0;
  c->watch_longest_quiet = MAX (c->watch_longest_quiet, c->watch_quiet);
}

/* audio.lock held; the receiving thread of a measured sender-mode peer: a
 * loud buffer is the reply to the turn that ended last. */
static void
feed_heard_loud (VgTestClient *c)
{
  VgLoadFeedTimes t;
  vg_load_feed_get_times (c->feed, &t);
  gint64 now = g_get_monotonic_time ();
  if (t.turn_end_us > c->reply_turn_us)
    {
      double seconds = (now - t.turn_end_us) / 1e6;
      g_array_append_val (c->replies, seconds);
      c->reply_turn_us = t.turn_end_us;
    }
}

/* audio.lock held; the receiving thread of a sender-mode peer: the onset of
 * an armed round trip is the feed's, known once it sent the tone. */
static void
take_feed_onset (VgTestClient *c)
{
  if (!c->feed || !c->onset_armed || c->onset_us)
    return;
  VgLoadFeedTimes t;
  vg_load_feed_get_times (c->feed, &t);
  c->onset_us = t.onset_us;
}

/* The receiving thread of an unmeasured sender-mode peer: once it heard
 * its first audio, nothing more is decoded (webrtcbin still counts the
 * packets and their loss). */
static GstPadProbeReturn
drop_after_first_audio (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  VgTestClient *c = data;
  return g_atomic_int_get (&c->heard_first) ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

static GstFlowReturn
on_new_sample (GstAppSink *sink, gpointer data)
{
  VgTestClient *c = data;
  GstSample *sample = gst_app_sink_pull_sample (sink);
  if (!sample)
    return GST_FLOW_OK;
  GstMapInfo map;
  GstBuffer *buf = gst_sample_get_buffer (sample);
  if (gst_buffer_map (buf, &map, GST_MAP_READ))
    {
      vg_test_audio_receive (&c->audio, (const gint16 *)map.data, map.size / 2);
      g_mutex_lock (&c->audio.lock);
      take_feed_onset (c);
      gboolean measuring_feed = c->feed && c->options.measure;
      if ((c->onset_us && !c->heard_us) || !c->first_audio_us
          || (c->silence_level > 0 && !c->silence_us) || c->watch_level > 0 || measuring_feed)
        {
          const gint16 *x = (const gint16 *)map.data;
          double sum = 0;
          for (gsize i = 0; i < map.size / 2; i++)
            sum += (double)x[i] * x[i];
          double rms = map.size >= 2 ? sqrt (sum / (map.size / 2)) / 32768.0 : 0;
          gboolean loud = rms > 0.05;
          if (loud && !c->first_audio_us)
            {
              c->first_audio_us = g_get_monotonic_time ();
              g_atomic_int_set (&c->heard_first, 1);
            }
          if (loud && measuring_feed)
            feed_heard_loud (c);
          /* The echo's onset is heard when its first sample would play: a
           * buffer is played from its arrival, so that is the arrival plus
           * the onset's place in the buffer. Timing the first loud buffer
           * instead read 21 or 41 ms for the same path, by whether the
           * gateway's encoder frame put the onset late in one frame (too
           * little of it to be loud) or at the start of the next. */
          gssize onset = c->onset_us && !c->heard_us
                             ? vg_test_audio_first_above (x, map.size / 2, ONSET_LEVEL)
                             : -1;
          if (onset >= 0)
            c->heard_us = g_get_monotonic_time () + onset * G_USEC_PER_SEC / VG_TEST_RATE;
          if (c->silence_level > 0 && !c->silence_us && rms < c->silence_level)
            c->silence_us = g_get_monotonic_time ();
          if (c->watch_level > 0)
            watch_buffer (c, rms, map.size / 2);
        }
      g_mutex_unlock (&c->audio.lock);
      gst_buffer_unmap (buf, &map);
    }
  gst_sample_unref (sample);
  return GST_FLOW_OK;
}

static void
on_pad_added (GstElement *webrtc, GstPad *pad, gpointer data)
{
  VgTestClient *c = data;
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC || c->recv_linked)
    return;
  c->recv_linked = TRUE;
  GError *error = NULL;
  GstElement *bin = gst_parse_bin_from_description (
      "rtpopusdepay ! opusdec plc=true ! audioconvert ! audioresample ! "
      "audio/x-raw,format=S16LE,rate=48000,channels=1 ! appsink name=heard sync=false "
      "emit-signals=false max-buffers=100 drop=true",
      TRUE, &error);
  if (!bin)
    {
      g_warning ("test client: %s", error->message);
      g_error_free (error);
      return;
    }
  GstElement *sink = gst_bin_get_by_name (GST_BIN (bin), "heard");
  GstAppSinkCallbacks cbs = { .new_sample = on_new_sample };
  gst_app_sink_set_callbacks (GST_APP_SINK (sink), &cbs, c, NULL);
  gst_object_unref (sink);
  gst_bin_add (GST_BIN (c->pipeline), bin);
  gst_element_sync_state_with_parent (bin);
  GstPad *sinkpad = gst_element_get_static_pad (bin, "sink");
  if (c->options.sender && !c->options.measure)
    gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER, drop_after_first_audio, c, NULL);
  gst_pad_link (pad, sinkpad);
  gst_object_unref (sinkpad);
}

static void
on_connection_state (GObject *webrtc, GParamSpec *pspec, gpointer data)
{
  VgTestClient *c = data;
  GstWebRTCPeerConnectionState state;
  g_object_get (webrtc, "connection-state", &state, NULL);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED
      && g_atomic_int_get (&c->connected_us_delta) == 0)
    g_atomic_int_set (&c->connected_us_delta, (gint)MAX (1, g_get_monotonic_time () - c->start_us));
  g_atomic_int_set (&c->connection_state, state);
  /* Frames go out only while connected: before, webrtcbin would hold them
   * and block the sender's one thread. */
  if (c->feed)
    vg_load_feed_set_active (c->feed, state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED);
}

static void
on_gathering_state (GObject *webrtc, GParamSpec *pspec, gpointer data)
{
  VgTestClient *c = data;
  GstWebRTCICEGatheringState state;
  g_object_get (webrtc, "ice-gathering-state", &state, NULL);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    g_atomic_int_set (&c->gathering_done, 1);
}

static void
on_channel_open (GstWebRTCDataChannel *channel, gpointer data)
{
  g_atomic_int_set (&((VgTestClient *)data)->channel_open, 1);
}

static void
on_channel_message (GstWebRTCDataChannel *channel, const char *text, gpointer data)
{
  VgTestClient *c = data;
  if (!text)
    return;
  g_mutex_lock (&c->events_lock);
  g_ptr_array_add (c->events, g_strdup (text));
  g_mutex_unlock (&c->events_lock);
}

/* GStreamer 1.22's srtpdec warns when the first packet of a connection is
 * RTCP: it copies the RTP side's segment onto its RTCP pad, and before any
 * RTP there is none. The packet is still delivered. A peer that sends its
 * RTP only once connected (the gateway) makes this order more common, and a
 * test binary aborts on any warning (and TAP reads "Bail out!"), so exactly
 * this one is logged as a test message instead. */
static gboolean
is_srtpdec_rtcp_first (const char *domain, const char *message)
{
  return g_strcmp0 (domain, "GStreamer") == 0 && strstr (message, "<srtpdec")
         && strstr (message, ":rtcp_src> Got data flow before segment event");
}

static gboolean
fatal_unless_tolerated (const char *domain, GLogLevelFlags level, const char *message,
                        gpointer unused)
{
  return !is_srtpdec_rtcp_first (domain, message);
}

static void
log_gstreamer_warning (const char *domain, GLogLevelFlags level, const char *message,
                       gpointer data)
{
  if (is_srtpdec_rtcp_first (domain, message))
    g_test_message ("tolerated (GStreamer 1.22 srtpdec, RTCP before RTP): %s", message);
  else
    g_log_default_handler (domain, level, message, data);
}

static void
tolerate_known_gstreamer_warnings (void)
{
  static gsize once;
  if (g_once_init_enter (&once))
    {
      if (g_test_initialized ())
        {
          g_log_set_handler ("GStreamer", G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL,
                             log_gstreamer_warning, NULL);
          g_test_log_set_fatal_handler (fatal_unless_tolerated, NULL);
        }
      g_once_init_leave (&once, 1);
    }
}

VgTestClient *
vg_test_client_new (const char *label, const VgTestClientOptions *options)
{
  tolerate_known_gstreamer_warnings ();
  VgTestClient *c = g_new0 (VgTestClient, 1);
  c->label = g_strdup (label);
  if (options)
    c->options = *options;
  vg_test_audio_init (&c->audio, c->options.tone_hz, c->options.tone_amplitude);
  g_mutex_init (&c->events_lock);
  c->events = g_ptr_array_new_with_free_func (g_free);
  c->context = g_main_context_ref_thread_default ();
  c->onset_pts = GST_CLOCK_TIME_NONE;
  c->replies = g_array_new (FALSE, FALSE, sizeof (double));
  return c;
}

void
vg_test_client_use_http (VgTestClient *c, const char *endpoint_url, const char *token)
{
  g_free (c->endpoint);
  g_free (c->token);
  c->endpoint = g_strdup (endpoint_url);
  c->token = g_strdup (token);
  c->signal_fn = NULL;
}

void
vg_test_client_use_signaller (VgTestClient *c, VgTestSignalFunc fn, gpointer user_data)
{
  c->signal_fn = fn;
  c->signal_data = user_data;
}

/* Like a browser, send each packet as soon as it is encoded: webrtcbin's
 * clocksync would hold it for the encoder's reported latency, which would be
 * counted in the round trip as if the gateway had added it. */
static void
send_without_clock_wait (GstBin *webrtc, GstBin *sub_bin, GstElement *element, gpointer data)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  if (factory && g_str_equal (GST_OBJECT_NAME (factory), "clocksync"))
    g_object_set (element, "sync", FALSE, NULL);
}

/* The webrtcbin sink pad for our Opus RTP, with the codec preferred (the
 * offer is made before any data flows). NULL on failure. */
static GstPad *
request_send_pad (VgTestClient *c)
{
  GstCaps *caps = gst_caps_from_string (
      "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111");
  GstPadTemplate *templ
      = gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (c->webrtc), "sink_%u");
  GstPad *sink = gst_element_request_pad (c->webrtc, templ, NULL, caps);
  GstWebRTCRTPTransceiver *trans = NULL;
  if (sink)
    g_object_get (sink, "transceiver", &trans, NULL);
  if (trans)
    g_object_set (trans, "codec-preferences", caps, NULL);
  g_clear_object (&trans);
  gst_caps_unref (caps);
  return sink;
}

/* Sender mode: the shared sender's feed ! rtpopuspay ! webrtcbin. No
 * thread of our own: the sender's pacer pushes through the payloader. */
static gboolean
link_sender_feed (VgTestClient *c, GError **error)
{
  GstElement *pay = gst_element_factory_make ("rtpopuspay", NULL);
  if (!pay)
    {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN, "no rtpopuspay");
      return FALSE;
    }
  g_object_set (pay, "pt", 111, NULL);
  gst_bin_add (GST_BIN (c->pipeline), pay);
  GstPad *sink = request_send_pad (c);
  GstPad *src = gst_element_get_static_pad (pay, "src");
  gboolean linked = sink && gst_pad_link (src, sink) == GST_PAD_LINK_OK;
  gst_object_unref (src);
  g_clear_object (&sink);
  if (!linked)
    {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION, "cannot link the sender");
      return FALSE;
    }
  GstPad *pay_sink = gst_element_get_static_pad (pay, "sink");
  g_mutex_lock (&c->audio.lock);
  double hz = c->audio.tone_hz;
  g_mutex_unlock (&c->audio.lock);
  c->feed = vg_load_sender_add (c->options.sender, c->pipeline, pay_sink, hz);
  gst_object_unref (pay_sink);
  return TRUE;
}

static gboolean
build_pipeline (VgTestClient *c, GError **error)
{
  c->pipeline = gst_pipeline_new (c->label);
  c->webrtc = gst_element_factory_make ("webrtcbin", "webrtc");
  if (!c->webrtc)
    {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN, "no webrtcbin");
      return FALSE;
    }
  /* A browser-like jitterbuffer (webrtcbin's default is 200 ms). */
  g_object_set (c->webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, "latency", 40,
                NULL);
  /* No UPnP discovery: it only adds sockets and threads on loopback. */
  GObject *ice = NULL, *agent = NULL;
  g_object_get (c->webrtc, "ice-agent", &ice, NULL);
  if (ice && g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "agent"))
    g_object_get (ice, "agent", &agent, NULL);
  if (agent)
    g_object_set (agent, "upnp", FALSE, NULL);
  g_clear_object (&agent);
  g_clear_object (&ice);
  gst_bin_add (GST_BIN (c->pipeline), c->webrtc);
  g_signal_connect (c->webrtc, "pad-added", G_CALLBACK (on_pad_added), c);
  g_signal_connect (c->webrtc, "deep-element-added", G_CALLBACK (send_without_clock_wait), NULL);
  g_signal_connect (c->webrtc, "notify::connection-state", G_CALLBACK (on_connection_state), c);
  g_signal_connect (c->webrtc, "notify::ice-gathering-state", G_CALLBACK (on_gathering_state), c);

  if (c->options.listen_only)
    {
      GstCaps *caps = gst_caps_from_string (
          "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111");
      GstWebRTCRTPTransceiver *t = NULL;
      g_signal_emit_by_name (c->webrtc, "add-transceiver",
                             GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &t);
      gst_caps_unref (caps);
      g_clear_object (&t);
    }
  else if (c->options.sender)
    {
      if (!link_sender_feed (c, error))
        return FALSE;
    }
  else
    {
      g_autofree char *description = g_strdup_printf (
          "appsrc name=gen is-live=true format=time do-timestamp=false max-bytes=3840 "
          "caps=audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1 ! clocksync "
          "name=pace ts-offset=%u000000 ! audioconvert ! opusenc bitrate=32000 dtx=%d ! "
          "rtpopuspay pt=111 dtx=%d",
          FRAME_MS, c->options.dtx, c->options.dtx);
      GstElement *send = gst_parse_bin_from_description (description, TRUE, error);
      if (!send)
        return FALSE;
      c->appsrc = gst_bin_get_by_name (GST_BIN (send), "gen");
      GstElement *pace = gst_bin_get_by_name (GST_BIN (send), "pace");
      GstPad *paced = gst_element_get_static_pad (pace, "src");
      gst_pad_add_probe (paced, GST_PAD_PROBE_TYPE_BUFFER, on_paced, c, NULL);
      gst_object_unref (paced);
      gst_object_unref (pace);
      GstAppSrcCallbacks cbs = { .need_data = on_need_data };
      gst_app_src_set_callbacks (GST_APP_SRC (c->appsrc), &cbs, c, NULL);
      gst_bin_add (GST_BIN (c->pipeline), send);
      GstPad *sink = request_send_pad (c);
      GstPad *src = gst_element_get_static_pad (send, "src");
      if (c->options.drop_every)
        gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, drop_some, c, NULL);
      gboolean linked = sink && gst_pad_link (src, sink) == GST_PAD_LINK_OK;
      gst_object_unref (src);
      g_clear_object (&sink);
      if (!linked)
        {
          g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION, "cannot link the sender");
          return FALSE;
        }
    }
  if (gst_element_set_state (c->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE, "cannot start");
      return FALSE;
    }
  if (c->options.data_channel && !c->options.listen_only)
    {
      g_signal_emit_by_name (c->webrtc, "create-data-channel", "events", NULL, &c->channel);
      if (!c->channel)
        {
          g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "no data channel");
          return FALSE;
        }
      g_signal_connect (c->channel, "on-open", G_CALLBACK (on_channel_open), c);
      g_signal_connect (c->channel, "on-message-string", G_CALLBACK (on_channel_message), c);
    }
  return TRUE;
}

static gboolean
gathering_done (gpointer data)
{
  return g_atomic_int_get (&((VgTestClient *)data)->gathering_done);
}

char *
vg_test_client_make_offer (VgTestClient *c, guint timeout_ms, GError **error)
{
  if (!c->pipeline && !build_pipeline (c, error))
    return NULL;
  GstPromise *promise = gst_promise_new ();
  g_signal_emit_by_name (c->webrtc, "create-offer", NULL, promise);
  gst_promise_wait (promise);
  const GstStructure *reply = gst_promise_get_reply (promise);
  GstWebRTCSessionDescription *offer = NULL;
  if (reply)
    gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
  gst_promise_unref (promise);
  if (!offer)
    {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION, "no offer");
      return NULL;
    }
  g_signal_emit_by_name (c->webrtc, "set-local-description", offer, NULL);
  gst_webrtc_session_description_free (offer);
  /* Non-trickle: the offer carries every candidate. */
  vg_test_wait_until (gathering_done, c, timeout_ms);
  GstWebRTCSessionDescription *local = NULL;
  g_object_get (c->webrtc, "local-description", &local, NULL);
  char *text = gst_sdp_message_as_text (local->sdp);
  gst_webrtc_session_description_free (local);
  return text;
}

static void
on_answer (VgTestClient *c, const char *answer_sdp, guint status, const char *error)
{
  c->http_status = status;
  if (!answer_sdp)
    {
      set_error (c, status, error ? error : "no answer");
      return;
    }
  GstSDPMessage *sdp = NULL;
  if (gst_sdp_message_new_from_text (answer_sdp, &sdp) != GST_SDP_OK)
    {
      set_error (c, status, "the answer does not parse");
      return;
    }
  GstWebRTCSessionDescription *answer
      = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  GstPromise *promise = gst_promise_new ();
  g_signal_emit_by_name (c->webrtc, "set-remote-description", answer, promise);
  gst_promise_wait (promise);
  gst_promise_unref (promise);
  gst_webrtc_session_description_free (answer);
  c->answered = TRUE;
}

static void http_post (VgTestClient *c);

static void
http_answered (GObject *source, GAsyncResult *result, gpointer data)
{
  VgTestClient *c = data;
  GError *error = NULL;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  GBytes *body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_error_free (error);
      return; /* the client is gone */
    }
  if (!body)
    {
      set_error (c, 0, error->message);
      g_error_free (error);
      return;
    }
  guint status = soup_message_get_status (msg);
  const char *redirect
      = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Location");
  /* libsoup follows 307/308 only for safe methods: the POST is ours to resend. */
  if ((status == SOUP_STATUS_TEMPORARY_REDIRECT || status == SOUP_STATUS_PERMANENT_REDIRECT)
      && redirect && c->redirects < 5)
    {
      g_autoptr (GUri) base = g_uri_parse (c->post_url, G_URI_FLAGS_NONE, NULL);
      g_autoptr (GUri) next
          = base ? g_uri_parse_relative (base, redirect, G_URI_FLAGS_NONE, NULL) : NULL;
      g_bytes_unref (body);
      if (!next)
        {
          set_error (c, status, "bad redirect Location");
          return;
        }
      c->redirects++;
      g_free (c->post_url);
      c->post_url = g_uri_to_string (next);
      http_post (c);
      return;
    }
  gsize len;
  const char *text = g_bytes_get_data (body, &len);
  g_autofree char *copy = g_strndup (text ? text : "", len);
  if (status == SOUP_STATUS_CREATED)
    {
      const char *location
          = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Location");
      g_free (c->location);
      c->location = g_strdup (location);
      g_free (c->etag);
      c->etag = g_strdup (
          soup_message_headers_get_one (soup_message_get_response_headers (msg), "ETag"));
      on_answer (c, copy, status, NULL);
    }
  else
    on_answer (c, NULL, status, copy);
  g_bytes_unref (body);
}

static void
http_signal (VgTestClient *c, const char *offer)
{
  g_free (c->offer);
  c->offer = g_strdup (offer);
  g_free (c->post_url);
  c->post_url = g_strdup (c->endpoint);
  c->redirects = 0;
  http_post (c);
}

static void
http_post (VgTestClient *c)
{
  const char *offer = c->offer;
  if (!c->session)
    c->session = soup_session_new_with_options (
        "timeout", c->options.http_timeout_s ? c->options.http_timeout_s : 15, NULL);
  SoupMessage *msg = soup_message_new ("POST", c->post_url);
  if (!msg)
    {
      set_error (c, 0, "bad endpoint URL");
      return;
    }
  g_autoptr (GBytes) body = g_bytes_new (offer, strlen (offer));
  soup_message_set_request_body_from_bytes (msg, "application/sdp", body);
  if (c->token)
    {
      g_autofree char *auth = g_strdup_printf ("Bearer %s", c->token);
      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
    }
  if (!c->cancellable)
    c->cancellable = g_cancellable_new ();
  soup_session_send_and_read_async (c->session, msg, G_PRIORITY_DEFAULT, c->cancellable,
                                    http_answered, c);
  g_object_unref (msg);
}

gboolean
vg_test_client_start (VgTestClient *c, GError **error)
{
  c->start_us = g_get_monotonic_time ();
  g_autofree char *offer = vg_test_client_make_offer (c, 5000, error);
  if (!offer)
    return FALSE;
  c->signal_us = g_get_monotonic_time ();
  if (c->signal_fn)
    c->signal_fn (c, offer, on_answer, c->signal_data);
  else if (c->endpoint)
    http_signal (c, offer);
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, "no signalling configured");
      return FALSE;
    }
  return TRUE;
}

static gboolean
connected_or_failed (gpointer data)
{
  VgTestClient *c = data;
  gint state = g_atomic_int_get (&c->connection_state);
  return c->failed || state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED
         || state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED;
}

gboolean
vg_test_client_wait_connected (VgTestClient *c, guint timeout_ms)
{
  vg_test_wait_until (connected_or_failed, c, timeout_ms);
  return vg_test_client_is_connected (c);
}

gboolean
vg_test_client_is_connected (VgTestClient *c)
{
  return !c->failed
         && g_atomic_int_get (&c->connection_state) == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED;
}

gboolean
vg_test_client_has_failed (VgTestClient *c)
{
  return c->failed
         || g_atomic_int_get (&c->connection_state) == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED;
}

double
vg_test_client_get_connect_seconds (VgTestClient *c)
{
  gint d = g_atomic_int_get (&c->connected_us_delta);
  return d > 0 ? d / 1e6 : -1;
}

static void
deleted (GObject *source, GAsyncResult *result, gpointer data)
{
  GBytes *body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, NULL);
  if (body)
    g_bytes_unref (body);
  *(gboolean *)data = TRUE;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *)data;
}

void
vg_test_client_stop (VgTestClient *c, gboolean leave)
{
  if (leave && c->location && c->endpoint && c->session)
    {
      g_autoptr (GUri) base
          = g_uri_parse (c->post_url ? c->post_url : c->endpoint, G_URI_FLAGS_NONE, NULL);
      g_autoptr (GUri) uri
          = base ? g_uri_parse_relative (base, c->location, G_URI_FLAGS_NONE, NULL) : NULL;
      g_autofree char *url = uri ? g_uri_to_string (uri) : NULL;
      SoupMessage *msg = url ? soup_message_new ("DELETE", url) : NULL;
      if (msg)
        {
          gboolean done = FALSE;
          g_autofree char *auth = g_strdup_printf ("Bearer %s", c->token ? c->token : "");
          soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                        auth);
          soup_session_send_and_read_async (c->session, msg, G_PRIORITY_DEFAULT, NULL, deleted,
                                            &done);
          vg_test_wait_until (flag_set, &done, 5000);
          g_object_unref (msg);
        }
    }
  if (c->pipeline)
    {
      gst_element_set_state (c->pipeline, GST_STATE_NULL);
      /* A plain state change races webrtcbin's own threads and can leave an
       * SCTP pad task started, which freeing the client would then wait for
       * forever (the load client hung at exit with 100 peers). The gateway's
       * ordered stop (webrtc-stop.h) deadlocks here with the client's own
       * pipeline changing state, so the stray task is found, reported and
       * flushed instead. */
      if (c->webrtc && vg_element_count_live_tasks (c->webrtc) > 0)
        g_warning ("test client %s: a pad task is still running after the stop", c->label);
    }
}

void
vg_test_client_free (VgTestClient *c)
{
  if (!c)
    return;
  if (c->cancellable)
    {
      g_cancellable_cancel (c->cancellable);
      /* Let the cancelled callback run while c is still alive. */
      while (g_main_context_iteration (c->context, FALSE))
        ;
    }
  vg_test_client_stop (c, FALSE);
  if (c->feed)
    vg_load_sender_remove (c->options.sender, c->feed);
  g_array_unref (c->replies);
  g_clear_object (&c->cancellable);
  g_clear_object (&c->channel);
  g_clear_object (&c->appsrc);
  g_clear_object (&c->pipeline);
  g_clear_object (&c->session);
  vg_test_audio_clear (&c->audio);
  g_ptr_array_unref (c->events);
  g_mutex_clear (&c->events_lock);
  g_main_context_unref (c->context);
  g_free (c->label);
  g_free (c->offer);
  g_free (c->post_url);
  g_free (c->endpoint);
  g_free (c->token);
  g_free (c->location);
  g_free (c->etag);
  g_free (c->error);
  g_free (c);
}

const char *
vg_test_client_get_label (VgTestClient *c)
{
  return c->label;
}

const char *
vg_test_client_get_etag (VgTestClient *c)
{
  return c->etag;
}

const char *
vg_test_client_get_location (VgTestClient *c)
{
  return c->location;
}

guint
vg_test_client_get_http_status (VgTestClient *c)
{
  return c->http_status;
}

const char *
vg_test_client_get_error (VgTestClient *c)
{
  return c->error;
}

void
vg_test_client_send_tone (VgTestClient *c, double hz)
{
  g_mutex_lock (&c->audio.lock);
  c->audio.tone_hz = hz;
  g_mutex_unlock (&c->audio.lock);
  if (c->feed)
    vg_load_feed_set_tone (c->feed, hz);
}

void
vg_test_client_set_turns (VgTestClient *c, guint on_ms, guint off_ms, guint delay_ms)
{
  if (c->feed)
    vg_load_feed_set_turns (c->feed, on_ms, off_ms, delay_ms);
}

void
vg_test_client_get_reply_seconds (VgTestClient *c, GArray *out)
{
  g_mutex_lock (&c->audio.lock);
  g_array_append_vals (out, c->replies->data, c->replies->len);
  g_mutex_unlock (&c->audio.lock);
}

guint64
vg_test_client_get_frames_sent (VgTestClient *c)
{
  VgLoadFeedTimes t = { 0 };
  if (c->feed)
    vg_load_feed_get_times (c->feed, &t);
  return t.frames_sent;
}

void
vg_test_client_send_samples (VgTestClient *c, const gint16 *samples, gsize n)
{
  g_mutex_lock (&c->audio.lock);
  g_free (c->audio.samples);
  c->audio.samples = g_memdup2 (samples, n * sizeof *samples);
  c->audio.n_samples = n;
  c->audio.sample_pos = 0;
  g_mutex_unlock (&c->audio.lock);
}

double
vg_test_client_tone_level (VgTestClient *c, double hz, guint window_ms)
{
  return vg_test_audio_tone_level (&c->audio, hz, window_ms);
}

double
vg_test_client_dominant_frequency (VgTestClient *c, guint window_ms)
{
  return vg_test_audio_dominant_frequency (&c->audio, window_ms);
}

double
vg_test_client_rms (VgTestClient *c, guint window_ms)
{
  return vg_test_audio_rms (&c->audio, window_ms);
}

guint64
vg_test_client_samples_received (VgTestClient *c)
{
  g_mutex_lock (&c->audio.lock);
  guint64 n = c->audio.received;
  g_mutex_unlock (&c->audio.lock);
  return n;
}

void
vg_test_client_clear_audio (VgTestClient *c)
{
  g_mutex_lock (&c->audio.lock);
  memset (c->audio.ring, 0, VG_TEST_RING_SAMPLES * sizeof (gint16));
  g_mutex_unlock (&c->audio.lock);
}

static gboolean
channel_open (gpointer data)
{
  return g_atomic_int_get (&((VgTestClient *)data)->channel_open);
}

gboolean
vg_test_client_wait_channel_open (VgTestClient *c, guint timeout_ms)
{
  return c->channel && vg_test_wait_until (channel_open, c, timeout_ms);
}

gboolean
vg_test_client_send_event (VgTestClient *c, const char *json)
{
  if (!c->channel || !g_atomic_int_get (&c->channel_open))
    return FALSE;
  g_signal_emit_by_name (c->channel, "send-string", json);
  return TRUE;
}

typedef struct
{
  VgTestClient *c;
  const char *type, *field, *value;
  char *found;
} EventWait;

static gboolean
event_matches (const char *text, const EventWait *w)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return FALSE;
  JsonObject *o = json_node_get_object (json_parser_get_root (parser));
  if (g_strcmp0 (json_object_get_string_member_with_default (o, "type", ""), w->type) != 0)
    return FALSE;
  if (!w->field)
    return TRUE;
  JsonNode *n = json_object_get_member (o, w->field);
  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  if (json_node_get_value_type (n) == G_TYPE_STRING)
    return g_strcmp0 (json_node_get_string (n), w->value) == 0;
  if (json_node_get_value_type (n) == G_TYPE_BOOLEAN)
    return g_strcmp0 (json_node_get_boolean (n) ? "true" : "false", w->value) == 0;
  return FALSE;
}

static gboolean
event_arrived (gpointer data)
{
  EventWait *w = data;
  g_mutex_lock (&w->c->events_lock);
  for (guint i = 0; i < w->c->events->len && !w->found; i++)
    if (event_matches (g_ptr_array_index (w->c->events, i), w))
      w->found = g_ptr_array_steal_index (w->c->events, i);
  g_mutex_unlock (&w->c->events_lock);
  return w->found != NULL;
}

char *
vg_test_client_wait_event (VgTestClient *c, const char *type, const char *field, const char *value,
                           guint timeout_ms)
{
  EventWait w = { c, type, field, value, NULL };
  vg_test_wait_until (event_arrived, &w, timeout_ms);
  return w.found;
}

static gboolean
round_trip_done (gpointer data)
{
  VgTestClient *c = data;
  g_mutex_lock (&c->audio.lock);
  gboolean done = c->heard_us != 0;
  g_mutex_unlock (&c->audio.lock);
  return done;
}

gboolean
vg_test_client_arm_round_trip (VgTestClient *c, double hz)
{
  if (vg_test_client_rms (c, 100) > 0.01)
    return FALSE; /* someone else is making noise: nothing to measure */
  /* The feed stamps the onset when it sends the tone's first frame; its
   * last onset is cleared before the receiving thread may take it. */
  if (c->feed)
    vg_load_feed_set_tone (c->feed, hz);
  g_mutex_lock (&c->audio.lock);
  c->onset_armed = TRUE;
  c->onset_pts = GST_CLOCK_TIME_NONE;
  c->onset_us = c->heard_us = 0;
  c->audio.tone_hz = hz;
  g_mutex_unlock (&c->audio.lock);
  return TRUE;
}

/* Seconds from *from_us to *to_us (fields of c, read under audio.lock), or -1
 * while either is unset. */
static double
seconds_between (VgTestClient *c, const gint64 *from_us, const gint64 *to_us)
{
  g_mutex_lock (&c->audio.lock);
  double seconds = *from_us && *to_us ? (*to_us - *from_us) / 1e6 : -1;
  g_mutex_unlock (&c->audio.lock);
  return seconds;
}

double
vg_test_client_get_round_trip (VgTestClient *c)
{
  return seconds_between (c, &c->onset_us, &c->heard_us);
}

double
vg_test_client_measure_round_trip (VgTestClient *c, double hz, guint timeout_ms)
{
  vg_test_client_send_tone (c, 0);
  vg_test_run_for (600); /* let the room fall silent */
  if (!vg_test_client_arm_round_trip (c, hz))
    return -1;
  vg_test_wait_until (round_trip_done, c, timeout_ms);
  double seconds = vg_test_client_get_round_trip (c);
  g_mutex_lock (&c->audio.lock);
  c->onset_armed = FALSE;
  g_mutex_unlock (&c->audio.lock);
  return seconds;
}

void
vg_test_client_arm_silence (VgTestClient *c, double level)
{
  g_mutex_lock (&c->audio.lock);
  c->silence_level = level;
  c->silence_us = 0;
  g_mutex_unlock (&c->audio.lock);
}

gint64
vg_test_client_get_silence_us (VgTestClient *c)
{
  g_mutex_lock (&c->audio.lock);
  gint64 us = c->silence_us;
  g_mutex_unlock (&c->audio.lock);
  return us;
}

void
vg_test_client_watch_audio (VgTestClient *c, double level)
{
  g_mutex_lock (&c->audio.lock);
  c->watch_level = level;
  c->watch_quiet = c->watch_longest_quiet = c->watch_buffers = 0;
  c->watch_last_us = c->watch_longest_interval_us = 0;
  g_mutex_unlock (&c->audio.lock);
}

void
vg_test_client_get_audio_watch (VgTestClient *c, VgTestAudioWatch *watch)
{
  g_mutex_lock (&c->audio.lock);
  watch->longest_quiet_ms = c->watch_longest_quiet * 1000.0 / VG_TEST_RATE;
  watch->longest_interval_ms = c->watch_longest_interval_us / 1000.0;
  watch->buffers = c->watch_buffers;
  g_mutex_unlock (&c->audio.lock);
}

double
vg_test_client_get_first_audio_seconds (VgTestClient *c)
{
  return seconds_between (c, &c->signal_us, &c->first_audio_us);
}

/* Adds up the inbound-rtp entries of a webrtcbin stats structure. */
static gboolean
sum_inbound (GQuark field, const GValue *value, gpointer data)
{
  VgTestInboundStats *sum = data;
  if (!GST_VALUE_HOLDS_STRUCTURE (value))
    return TRUE;
  const GstStructure *st = gst_value_get_structure (value);
  GstWebRTCStatsType type;
  if (!gst_structure_get (st, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL))
    return TRUE;
  if (type == GST_WEBRTC_STATS_REMOTE_INBOUND_RTP)
    {
      /* An int in some GStreamer versions, an int64 in others. */
      const GValue *v = gst_structure_get_value (st, "packets-lost");
      gint64 remote_lost = !v                        ? 0
                           : G_VALUE_HOLDS_INT64 (v) ? g_value_get_int64 (v)
                           : G_VALUE_HOLDS_INT (v)   ? g_value_get_int (v)
                                                     : 0;
      sum->remote_lost += MAX (remote_lost, 0);
      return TRUE;
    }
  if (type != GST_WEBRTC_STATS_INBOUND_RTP)
    return TRUE;
  guint64 received = 0;
  gint64 lost = 0;
  double jitter = 0;
  gst_structure_get_uint64 (st, "packets-received", &received);
  gst_structure_get_int64 (st, "packets-lost", &lost);
  gst_structure_get_double (st, "jitter", &jitter);
  sum->packets_received += received;
  sum->packets_lost += MAX (lost, 0);
  sum->jitter_seconds = MAX (sum->jitter_seconds, jitter);
  sum->streams++;
  return TRUE;
}

gboolean
vg_test_client_get_inbound_stats (VgTestClient *c, VgTestInboundStats *out)
{
  memset (out, 0, sizeof *out);
  if (!c->webrtc)
    return FALSE;
  GstPromise *promise = gst_promise_new ();
  g_signal_emit_by_name (c->webrtc, "get-stats", NULL, promise);
  gboolean ok = gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED;
  const GstStructure *reply = ok ? gst_promise_get_reply (promise) : NULL;
  if (reply)
    gst_structure_foreach (reply, sum_inbound, out);
  gst_promise_unref (promise);
  return out->streams > 0;
}
