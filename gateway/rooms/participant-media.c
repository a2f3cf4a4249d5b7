/* Elements of one participant; see participant-media.h. Owns a reference
 * to each element (m->elements) until it is stopped: the stop takes them
 * over and drops them on the worker that stopped them.
 * Threads: built, added and started on the main context; statistics on the
 * main context; pad-added linking and the connected flag on webrtcbin's
 * threads (m->lock, atomics); stopped on a GStreamer worker (the
 * asynchronous stop, its done then on the main context) or on the room's
 * stopping thread. */
#define GST_USE_UNSTABLE_API /* webrtcbin's library: stable in practice since 1.16 */
#include "gateway/rooms/participant-media.h"
#include "gateway/rooms/room-graph.h"
#include "gateway/rooms/shared-ice.h"
#include "gateway/rooms/webrtc-stop.h"
#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>
#include <string.h>

static GstElement *
make (VgParticipantMedia *m, const char *factory, const char *role, GError **error)
{
  g_autofree char *name = g_strdup_printf ("%s%s", m->prefix, role);
  GstElement *e = vg_element_make (factory, name, error);
  if (e)
    g_ptr_array_add (m->elements, gst_object_ref_sink (e));
  return e;
}

static void
set_caps (GstElement *capsfilter, const char *caps_text)
{
  GstCaps *caps = gst_caps_from_string (caps_text);
  g_object_set (capsfilter, "caps", caps, NULL);
  gst_caps_unref (caps);
}

static GstPadProbeReturn
count_rx (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  VgParticipantMedia *m = data;
  __atomic_store_n (&m->last_rx_us, g_get_monotonic_time (), __ATOMIC_RELAXED);
  return GST_PAD_PROBE_OK;
}

/* A webrtcbin's own ICE agent (not shared: shared_ice off, or an ice-lite
 * offerer), configured like the shared ones before it gathers. */
static void
configure_ice_agent (GstElement *webrtc, const VgRoomsSettings *settings)
{
  GstWebRTCICE *ice = NULL;
  g_object_get (webrtc, "ice-agent", &ice, NULL);
  if (ice)
    vg_ice_configure (ice, settings);
  gst_clear_object (&ice);
}

/* The ICE agent is a construct property: webrtcbin takes over the reference
 * (1.22 neither adds one nor lets one go but in dispose). */
static GstElement *
make_webrtcbin_on_shared_ice (VgParticipantMedia *m, const VgRoomsSettings *settings,
                              GError **error)
{
  g_autofree char *name = g_strdup_printf ("%swebrtc", m->prefix);
  GstWebRTCICE *ice = vg_shared_ice_new (settings);
  GstElement *e = gst_element_factory_make_full ("webrtcbin", "name", name, "ice-agent", ice, NULL);
  if (!e)
    {
      gst_object_unref (ice);
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_PIPELINE,
                   "GStreamer element 'webrtcbin' is not available");
      return NULL;
    }
  g_ptr_array_add (m->elements, gst_object_ref_sink (e));
  return e;
}

static GstPadProbeReturn
silence_when_muted (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  VgParticipantMedia *m = data;
  GstBuffer *buffer;
  GstMapInfo map;

  if (!g_atomic_int_get (&m->muted))
    return GST_PAD_PROBE_OK;
  buffer = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  if (gst_buffer_map (buffer, &map, GST_MAP_WRITE))
    {
      memset (map.data, 0, map.size);
      gst_buffer_unmap (buffer, &map);
    }
  GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_GAP);
  GST_PAD_PROBE_INFO_DATA (info) = buffer;
  return GST_PAD_PROBE_OK;
}

/* Before DTLS is up webrtcbin blocks the data it is given, and whatever
 * pushes into it (the participant's mixer, or the agent itself while it
 * feeds this participant directly) would block every source of the room
 * through the graph's direct links (room-graph.h). Audio from before the
 * connection is stale anyway. */
static GstPadProbeReturn
drop_until_connected (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  VgParticipantMedia *m = data;
  return g_atomic_int_get (&m->connected) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

void
vg_participant_media_set_connected (VgParticipantMedia *m, gboolean connected)
{
  g_atomic_int_set (&m->connected, connected);
}

/* webrtcbin paces what it sends with clocksync elements, which hold every
 * packet until its running time plus the latency upstream of them. Our
 * upstream (a live mixer or the agent's playout) is paced by the clock
 * already, and its reported
 * latency sums the jitterbuffer, the decoder and both mixers (~200 ms) while
 * the audio is ready within ~30 ms: waiting would only add that difference
 * to the round trip, and a timer wake-up per packet. */
static void
send_without_clock_wait (GstBin *webrtc, GstBin *sub_bin, GstElement *element, gpointer data)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  if (factory && g_str_equal (GST_OBJECT_NAME (factory), "clocksync"))
    g_object_set (element, "sync", FALSE, NULL);
}

gboolean
vg_participant_media_build (VgParticipantMedia *m, const char *prefix, gboolean publisher,
                            guint opus_pt, const VgRoomsSettings *settings, GError **error)
{
  g_mutex_init (&m->lock);
  vg_media_stats_init (&m->stats);
  m->elements = g_ptr_array_new_with_free_func (gst_object_unref);
  m->prefix = g_strdup (prefix);
  m->opus_pt = opus_pt;

  if (settings->shared_ice)
    m->webrtc = make_webrtcbin_on_shared_ice (m, settings, error);
  else
    m->webrtc = make (m, "webrtcbin", "webrtc", error);
  if (!m->webrtc)
    return FALSE;
  g_object_set (m->webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, "latency",
                settings->jitter_latency_ms, NULL);
  if (!settings->shared_ice)
    configure_ice_agent (m->webrtc, settings);
  g_signal_connect (m->webrtc, "deep-element-added", G_CALLBACK (send_without_clock_wait), NULL);
  if (settings->stun_server && *settings->stun_server)
    g_object_set (m->webrtc, "stun-server", settings->stun_server, NULL);
  if (settings->turn_server && *settings->turn_server)
    {
      g_object_set (m->webrtc, "turn-server", settings->turn_server, NULL);
      m->uses_turn = TRUE;
    }

  if (publisher)
    {
      GstElement *dec, *caps;
      if (!(m->depay = make (m, "rtpopusdepay", "depay", error))
          || !(dec = make (m, "opusdec", "dec", error))
          || !(caps = make (m, "capsfilter", "caps", error))
          || !(m->tee = make (m, "tee", "tee", error)))
        return FALSE;
      /* Lost packets are concealed (PLC) rather than left as gaps. In-band
       * FEC would recover them better, but opusdec then holds every packet
       * until the next one arrives: 20 ms more on every round trip, and its
       * reported latency grows by 120 ms, which every mixer then waits out
       * whenever an input stalls. Voice to a model tolerates PLC well. */
      g_object_set (dec, "use-inband-fec", FALSE, "plc", TRUE, NULL);
      /* Opus decodes straight to the room's rate and channels: no resampler
       * (and no resampler latency) on the way in. */
      set_caps (caps, VG_ROOM_AUDIO_CAPS);
      g_object_set (m->tee, "allow-not-linked", TRUE, NULL);
      GstElement *recv[] = { m->depay, dec, caps, m->tee, NULL };
      memcpy (m->recv_chain, recv, sizeof recv);
      GstPad *pad = gst_element_get_static_pad (m->depay, "sink");
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, count_rx,
                         m, NULL);
      gst_object_unref (pad);
      /* A peer's backlog (stale audio sent at once) is dropped before any
       * mixer lays it end to end and later drops fresh audio instead. */
      pad = gst_element_get_static_pad (m->tee, "sink");
      vg_rx_timeline_attach (&m->rx_timeline, pad);
      /* Muting (MutePublishedTrack) keeps the stream flowing, as silence, so
       * mixers downstream neither wait for it nor glitch on unmute. */
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, silence_when_muted, m, NULL);
      gst_object_unref (pad);
    }

  GstElement *out_caps, *enc;
  g_autofree char *mixer_name = g_strconcat (prefix, "mix", NULL);
  if (!(m->mixer = vg_mixer_new (mixer_name, error)))
    return FALSE;
  g_ptr_array_add (m->elements, gst_object_ref_sink (m->mixer));
  /* Started by the room graph if and when this participant needs mixing. */
  gst_element_set_locked_state (m->mixer, TRUE);
  if (!(m->mix_into = make (m, "funnel", "in", error))
      || !(out_caps = make (m, "capsfilter", "mixcaps", error))
      || !(enc = make (m, "opusenc", "enc", error))
      || !(m->payloader = make (m, "rtpopuspay", "pay", error)))
    return FALSE;
  set_caps (out_caps, VG_ROOM_AUDIO_CAPS);
  /* Opus's CELT layer alone (restricted-lowdelay), 40 kb/s, 20 ms frames.
   * The encoder is the largest single cost of a session: in the voice mode
   * (SILK or hybrid, with in-band FEC) it took a third of the gateway's CPU.
   * CELT alone costs a third of that, measured closer to the source than
   * voice at 32 kb/s, and looks 4 ms less ahead (2.5 instead of 6.5 ms).
   * It has no in-band FEC: a lost packet is concealed by the browser's
   * decoder. pipelines/README.md has the numbers. */
  gst_util_set_object_arg (G_OBJECT (enc), "audio-type", "restricted-lowdelay");
  g_object_set (enc, "bitrate", VG_OPUS_BITRATE, "complexity", VG_OPUS_COMPLEXITY, NULL);
  g_object_set (m->payloader, "pt", opus_pt, NULL);
  GstPad *rtp_out = gst_element_get_static_pad (m->payloader, "src");
  gst_pad_add_probe (rtp_out, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                     drop_until_connected, m, NULL);
  gst_object_unref (rtp_out);
  GstElement *send[] = { m->mix_into, out_caps, enc, m->payloader, NULL };
  memcpy (m->send_chain, send, sizeof send);
  return TRUE;
}

gboolean
vg_participant_media_add_to (VgParticipantMedia *m, GstBin *bin, GError **error)
{
  m->bin = gst_object_ref (bin);
  g_mutex_lock (&m->lock);
  for (guint i = 0; i < m->elements->len; i++)
    gst_bin_add (bin, g_ptr_array_index (m->elements, i));
  g_mutex_unlock (&m->lock);

  gboolean ok = TRUE;
  for (guint i = 0; m->recv_chain[0] && m->recv_chain[i + 1]; i++)
    ok = ok && gst_element_link (m->recv_chain[i], m->recv_chain[i + 1]);
  for (guint i = 0; m->send_chain[i + 1]; i++)
    ok = ok && gst_element_link (m->send_chain[i], m->send_chain[i + 1]);

  g_autofree char *caps_text = g_strdup_printf (
      "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=%u", m->opus_pt);
  GstCaps *caps = gst_caps_from_string (caps_text);
  GstPadTemplate *templ
      = gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (m->webrtc), "sink_%u");
  GstPad *sink = gst_element_request_pad (m->webrtc, templ, NULL, caps);
  /* webrtcbin 1.22 builds the m-line from the transceiver's codec
   * preferences; the pad caps alone leave the payload type open. */
  GstWebRTCRTPTransceiver *trans = NULL;
  if (sink)
    g_object_get (sink, "transceiver", &trans, NULL);
  if (trans)
    g_object_set (trans, "codec-preferences", caps, NULL);
  m->transceiver = trans; /* the offer's audio section is matched to it */
  gst_caps_unref (caps);
  GstPad *src = gst_element_get_static_pad (m->payloader, "src");
  ok = ok && sink && gst_pad_link (src, sink) == GST_PAD_LINK_OK;
  gst_object_unref (src);
  g_clear_object (&sink);
  if (!ok)
    {
      g_set_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_PIPELINE,
                   "cannot link the participant's elements");
      return FALSE;
    }
  /* Downstream first, so nothing pushes into an element that is not running
   * (the mixer stays locked: the room graph starts it). */
  g_mutex_lock (&m->lock);
  for (guint i = m->elements->len; i > 0; i--)
    if (g_ptr_array_index (m->elements, i - 1) != m->mixer)
      gst_element_sync_state_with_parent (g_ptr_array_index (m->elements, i - 1));
  g_mutex_unlock (&m->lock);
  return TRUE;
}

void
vg_participant_media_link_incoming (VgParticipantMedia *m, GstPad *pad)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  const GstStructure *s
      = caps && gst_caps_get_size (caps) ? gst_caps_get_structure (caps, 0) : NULL;
  gboolean opus = s && g_strcmp0 (gst_structure_get_string (s, "media"), "audio") == 0
                  && g_ascii_strcasecmp (gst_structure_get_string (s, "encoding-name")
                                             ? gst_structure_get_string (s, "encoding-name")
                                             : "",
                                         "OPUS")
                         == 0;
  gst_clear_caps (&caps);

  g_mutex_lock (&m->lock);
  GstElement *target = NULL;
  GstBin *bin = m->bin ? gst_object_ref (m->bin) : NULL;
  if (m->stopping || !bin)
    {
      /* A pad-added already under way when the stop took the elements:
       * nothing may be added to the room any more. */
      g_mutex_unlock (&m->lock);
      gst_clear_object (&bin);
      return;
    }
  if (opus && m->depay && !m->incoming_linked)
    {
      m->incoming_linked = TRUE;
      target = gst_object_ref (m->depay);
    }
  else
    {
      /* Media we do not route (video, a second audio stream) is consumed. */
      g_autofree char *name = g_strdup_printf ("%sdrop%u", m->prefix, m->elements->len);
      target = gst_element_factory_make ("fakesink", name);
      if (target)
        {
          g_object_set (target, "async", FALSE, "sync", FALSE, NULL);
          g_ptr_array_add (m->elements, gst_object_ref_sink (target));
          gst_bin_add (bin, target);
          gst_element_sync_state_with_parent (target);
          gst_object_ref (target);
        }
    }
  g_mutex_unlock (&m->lock);
  if (target)
    {
      GstPad *sink = gst_element_get_static_pad (target, "sink");
      if (gst_pad_link (pad, sink) != GST_PAD_LINK_OK)
        GST_WARNING_OBJECT (pad, "cannot link incoming media");
      else
        vg_room_graph_latency_changed (bin); /* the jitterbuffer is upstream now */
      gst_object_unref (sink);
      gst_object_unref (target);
    }
  gst_object_unref (bin);
}

void
vg_participant_media_record_stats (VgParticipantMedia *media, const GstStructure *reply,
                                   const VgRoomsMetrics *m)
{
  VgMediaSample sample;
  vg_media_sample_parse (reply, &sample);
  vg_media_stats_update (&media->stats, &sample, g_get_monotonic_time (), m);
}

gint64
vg_participant_media_last_rx_us (VgParticipantMedia *m)
{
  return __atomic_load_n (&m->last_rx_us, __ATOMIC_RELAXED);
}

/* The elements, taken over from m (its lock held by the caller): from here
 * on the participant's pointers to them are cleared, pad-added adds nothing,
 * and the references belong to whoever stops them. */
static GPtrArray *
take_elements (VgParticipantMedia *m)
{
  GPtrArray *elements = m->elements;
  m->elements = g_ptr_array_new_with_free_func (gst_object_unref);
  m->stopping = TRUE;
  m->webrtc = m->depay = m->tee = m->mixer = m->mix_into = m->payloader = NULL;
  memset (m->recv_chain, 0, sizeof m->recv_chain);
  memset (m->send_chain, 0, sizeof m->send_chain);
  return elements;
}

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean done;
} AgentClosed;

static void
agent_closed_clear (gpointer data)
{
  AgentClosed *c = data;
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->cond);
}

/* The agent's own thread (GstWebRTCNice runs its main context). */
static void
on_agent_closed (GObject *agent, GAsyncResult *result, gpointer data)
{
  AgentClosed *c = data;
  g_mutex_lock (&c->lock);
  c->done = TRUE;
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->lock);
  g_rc_box_release_full (c, agent_closed_clear);
}

/* Releases the TURN allocations (a refresh with lifetime 0) before the agent
 * goes: libnice warns when an agent is finalized with refreshes alive, and
 * the server would keep the relay ports until they expire. Waits at most
 * CLOSE_TIMEOUT_US for the server; a worker thread only (it blocks). */
#define CLOSE_TIMEOUT_US (300 * G_TIME_SPAN_MILLISECOND)
static void
release_turn_allocations (GstElement *webrtc)
{
  GObject *ice = NULL, *agent = NULL;
  g_object_get (webrtc, "ice-agent", &ice, NULL);
  if (ice && g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "agent"))
    g_object_get (ice, "agent", &agent, NULL);
  if (agent && NICE_IS_AGENT (agent))
    {
      AgentClosed *c = g_rc_box_new0 (AgentClosed);
      g_mutex_init (&c->lock);
      g_cond_init (&c->cond);
      nice_agent_close_async (NICE_AGENT (agent), on_agent_closed, g_rc_box_acquire (c));
      gint64 deadline = g_get_monotonic_time () + CLOSE_TIMEOUT_US;
      g_mutex_lock (&c->lock);
      while (!c->done)
        if (!g_cond_wait_until (&c->cond, &c->lock, deadline))
          break;
      g_mutex_unlock (&c->lock);
      g_rc_box_release_full (c, agent_closed_clear);
    }
  g_clear_object (&agent);
  g_clear_object (&ice);
}

/* A worker thread (it waits for webrtcbin's threads): brings every element
 * to NULL, webrtcbin first and with the care webrtc-stop.h explains, then
 * takes them out of bin and drops the references, elements first.
 * Removing here, concurrently with the main context adding the next
 * participant's elements to the same bin, is safe: GstBin serialises both
 * under its lock, these elements run no thread any more, and every
 * participant's element names are unique (its prefix). The last reference
 * of each element is normally this one, so disposing them (which joins
 * their pads' tasks) happens here and not on the main context. */
static void
stop_elements (GPtrArray *elements, GstBin *bin, gboolean uses_turn)
{
  GstElement *webrtc = g_ptr_array_index (elements, 0);
  if (uses_turn)
    release_turn_allocations (webrtc);
  guint live = vg_webrtc_stop (webrtc);
  for (guint i = 1; i < elements->len; i++)
    {
      GstElement *e = g_ptr_array_index (elements, i);
      gst_element_set_state (e, GST_STATE_NULL);
      live += vg_element_count_live_tasks (e);
    }
  if (live)
    g_warning ("rooms: %u streaming task(s) still run in %s's stopped elements", live,
               GST_OBJECT_NAME (webrtc));
  for (guint i = 0; i < elements->len; i++)
    {
      GstElement *e = g_ptr_array_index (elements, i);
      if (bin && GST_OBJECT_PARENT (e) == GST_OBJECT (bin))
        gst_bin_remove (bin, e);
    }
  g_ptr_array_unref (elements);
}

typedef struct
{
  GstBin *bin;
  GPtrArray *elements;
  GMainContext *context;
  GSourceFunc done;
  gpointer user_data;
  gboolean uses_turn;
} StopJob;

/* The main context, after stop_job_done. */
static void
stop_job_free (gpointer data)
{
  StopJob *job = data;
  g_main_context_unref (job->context);
  g_free (job);
}

static gboolean
stop_job_done (gpointer data)
{
  StopJob *job = data;
  if (job->done)
    job->done (job->user_data);
  return G_SOURCE_REMOVE;
}

/* A GStreamer worker thread (gst_element_call_async). */
static void
stop_job_run (GstElement *unused, gpointer data)
{
  StopJob *job = data;
  stop_elements (g_steal_pointer (&job->elements), job->bin, job->uses_turn);
  gst_clear_object (&job->bin);
  GSource *source = g_idle_source_new ();
  g_source_set_callback (source, stop_job_done, job, stop_job_free);
  g_source_attach (source, job->context);
  g_source_unref (source);
}

void
vg_participant_media_stop_async (VgParticipantMedia *m, GMainContext *context, GSourceFunc done,
                                 gpointer user_data)
{
  StopJob *job = g_new0 (StopJob, 1);
  job->context = g_main_context_ref (context);
  job->done = done;
  job->user_data = user_data;
  job->uses_turn = m->uses_turn;
  g_mutex_lock (&m->lock);
  job->bin = g_steal_pointer (&m->bin);
  GstElement *webrtc = m->webrtc ? gst_object_ref (m->webrtc) : NULL;
  job->elements = m->elements->len ? take_elements (m) : NULL;
  g_mutex_unlock (&m->lock);
  if (!job->bin || !job->elements)
    {
      /* Never added to the room (or already stopped): nothing runs. */
      if (job->elements)
        g_ptr_array_unref (job->elements);
      gst_clear_object (&job->bin);
      gst_clear_object (&webrtc);
      stop_job_done (job);
      stop_job_free (job);
      return;
    }
  /* Keep the pipeline's state changes away from elements that are stopping. */
  for (guint i = 0; i < job->elements->len; i++)
    gst_element_set_locked_state (g_ptr_array_index (job->elements, i), TRUE);
  gst_element_call_async (webrtc, stop_job_run, job, NULL);
  gst_object_unref (webrtc);
}

void
vg_participant_media_stop (VgParticipantMedia *m)
{
  /* Called from the room's stopping job (room.c, a GStreamer worker). */
  g_mutex_lock (&m->lock);
  GstBin *bin = g_steal_pointer (&m->bin);
  GPtrArray *elements = bin && m->elements->len ? take_elements (m) : NULL;
  g_mutex_unlock (&m->lock);
  if (!bin)
    return;
  if (elements)
    {
      for (guint i = 0; i < elements->len; i++)
        gst_element_set_locked_state (g_ptr_array_index (elements, i), TRUE);
      stop_elements (elements, bin, m->uses_turn);
    }
  gst_object_unref (bin);
}

char *
vg_participant_media_peer_certificate (VgParticipantMedia *m)
{
  GstWebRTCRTPReceiver *receiver = NULL;
  GstWebRTCDTLSTransport *dtls = NULL;
  char *pem = NULL;
  if (m->transceiver)
    g_object_get (m->transceiver, "receiver", &receiver, NULL);
  if (receiver)
    g_object_get (receiver, "transport", &dtls, NULL);
  if (dtls)
    g_object_get (dtls, "remote-certificate", &pem, NULL);
  g_clear_object (&dtls);
  g_clear_object (&receiver);
  return pem;
}

void
vg_participant_media_clear (VgParticipantMedia *m)
{
  if (!m->elements)
    return;
  g_clear_pointer (&m->elements, g_ptr_array_unref);
  g_clear_object (&m->transceiver);
  g_clear_object (&m->bin);
  g_free (m->prefix);
  g_mutex_clear (&m->lock);
}
