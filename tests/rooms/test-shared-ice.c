/* webrtcbins on a shared libnice agent (gateway/rooms/shared-ice.c), against
 * real webrtcbin offerers on their own agents, over loopback: each answerer
 * gets its own candidates (none twice, m-line 0), connects, and leaves no
 * socket or ICE thread behind; past VG_SHARED_ICE_PEERS answerers a new
 * agent starts and the retired one goes with its last peer. */
#define GST_USE_UNSTABLE_API
#include "gateway/rooms/shared-ice.h"
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>
#include <string.h>

#define PAIRS_PER_ROUND 10
#define ROUNDS 7 /* 70 answerers: more than one shared agent's worth */

typedef struct
{
  GstElement *offerer, *answerer;
  GMutex lock;
  GPtrArray *answerer_candidates; /* char * */
  guint wrong_mline;
} Pair;

static char *loopback_only[] = { "127.0.0.1", NULL };

static void
on_offerer_candidate (GstElement *offerer, guint mline, char *candidate, Pair *p)
{
  g_signal_emit_by_name (p->answerer, "add-ice-candidate", mline, candidate);
}

static void
on_answerer_candidate (GstElement *answerer, guint mline, char *candidate, Pair *p)
{
  g_mutex_lock (&p->lock);
  if (mline != 0)
    p->wrong_mline++;
  g_ptr_array_add (p->answerer_candidates, g_strdup (candidate));
  g_mutex_unlock (&p->lock);
  g_signal_emit_by_name (p->offerer, "add-ice-candidate", mline, candidate);
}

/* A streaming thread of the answerer: the offerer's audio goes nowhere. */
static void
on_answerer_pad (GstElement *answerer, GstPad *pad, GstElement *pipeline)
{
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  gst_bin_add (GST_BIN (pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");
  g_assert_cmpint (gst_pad_link (pad, sinkpad), ==, GST_PAD_LINK_OK);
  gst_object_unref (sinkpad);
}

static GstWebRTCSessionDescription *
take_description (GstPromise *promise, const char *field)
{
  g_assert_cmpint (gst_promise_wait (promise), ==, GST_PROMISE_RESULT_REPLIED);
  GstWebRTCSessionDescription *desc = NULL;
  gst_structure_get (gst_promise_get_reply (promise), field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
                     &desc, NULL);
  gst_promise_unref (promise);
  g_assert_nonnull (desc);
  return desc;
}

static void
set_description (GstElement *webrtc, const char *signal, GstWebRTCSessionDescription *desc)
{
  GstPromise *promise = gst_promise_new ();
  g_signal_emit_by_name (webrtc, signal, desc, promise);
  g_assert_cmpint (gst_promise_wait (promise), ==, GST_PROMISE_RESULT_REPLIED);
  gst_promise_unref (promise);
}

static void
build_pair (Pair *p, GstElement *pipeline, const VgRoomsSettings *settings, guint index)
{
  g_mutex_init (&p->lock);
  p->answerer_candidates = g_ptr_array_new_with_free_func (g_free);

  g_autofree char *src_desc = g_strdup_printf (
      "audiotestsrc is-live=true wave=silence ! opusenc ! rtpopuspay pt=96 ! "
      "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=96 ! "
      "webrtcbin name=offer%u bundle-policy=max-bundle",
      index);
  GError *error = NULL;
  GstElement *bin = gst_parse_bin_from_description (src_desc, FALSE, &error);
  g_assert_no_error (error);
  gst_bin_add (GST_BIN (pipeline), bin);
  g_autofree char *offer_name = g_strdup_printf ("offer%u", index);
  p->offerer = gst_bin_get_by_name (GST_BIN (bin), offer_name);

  /* The offerer's own agent gathers on loopback too, without UPnP (as the
   * gateway's). */
  GObject *ice = NULL, *agent = NULL;
  g_object_get (p->offerer, "ice-agent", &ice, NULL);
  g_object_get (ice, "agent", &agent, NULL);
  g_object_set (agent, "upnp", FALSE, NULL);
  NiceAddress addr;
  nice_address_init (&addr);
  g_assert_true (nice_address_set_from_string (&addr, "127.0.0.1"));
  g_assert_true (nice_agent_add_local_address (NICE_AGENT (agent), &addr));
  g_object_unref (agent);
  g_object_unref (ice);

  g_autofree char *answer_name = g_strdup_printf ("answer%u", index);
  p->answerer = gst_element_factory_make_full ("webrtcbin", "name", answer_name, "ice-agent",
                                               vg_shared_ice_new (settings), "bundle-policy",
                                               GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, NULL);
  g_assert_nonnull (p->answerer);
  gst_bin_add (GST_BIN (pipeline), gst_object_ref (p->answerer));
  g_signal_connect (p->offerer, "on-ice-candidate", G_CALLBACK (on_offerer_candidate), p);
  g_signal_connect (p->answerer, "on-ice-candidate", G_CALLBACK (on_answerer_candidate), p);
  g_signal_connect (p->answerer, "pad-added", G_CALLBACK (on_answerer_pad), pipeline);
}

static void
negotiate (Pair *p)
{
  GstPromise *promise = gst_promise_new ();
  g_signal_emit_by_name (p->offerer, "create-offer", NULL, promise);
  GstWebRTCSessionDescription *offer = take_description (promise, "offer");
  set_description (p->offerer, "set-local-description", offer);
  set_description (p->answerer, "set-remote-description", offer);
  gst_webrtc_session_description_free (offer);

  promise = gst_promise_new ();
  g_signal_emit_by_name (p->answerer, "create-answer", NULL, promise);
  GstWebRTCSessionDescription *answer = take_description (promise, "answer");
  set_description (p->answerer, "set-local-description", answer);
  set_description (p->offerer, "set-remote-description", answer);
  gst_webrtc_session_description_free (answer);
}

static gboolean
connected (GstElement *webrtc)
{
  GstWebRTCICEConnectionState state;
  g_object_get (webrtc, "ice-connection-state", &state, NULL);
  return state == GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED
         || state == GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED;
}

static guint
count_fds (void)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;
  while (dir && g_dir_read_name (dir))
    n++;
  if (dir)
    g_dir_close (dir);
  return n;
}

/* Threads whose name starts with prefix (libnice agents' main loops). */
static guint
count_threads (const char *prefix)
{
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *tid;
  guint n = 0;
  while (dir && (tid = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_strdup_printf ("/proc/self/task/%s/comm", tid);
      g_autofree char *comm = NULL;
      if (g_file_get_contents (path, &comm, NULL, NULL) && g_str_has_prefix (comm, prefix))
        n++;
    }
  if (dir)
    g_dir_close (dir);
  return n;
}

static void
test_pairs_connect_and_leave (void)
{
  VgRoomsSettings settings = { .ice_addresses = loopback_only };
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint fds_before = 0;

  for (guint round = 0; round < ROUNDS; round++)
    {
      GstElement *pipeline = gst_pipeline_new (NULL);
      Pair pairs[PAIRS_PER_ROUND] = { 0 };
      for (guint i = 0; i < PAIRS_PER_ROUND; i++)
        build_pair (&pairs[i], pipeline, &settings, i);
      g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
                       GST_STATE_CHANGE_FAILURE);
      for (guint i = 0; i < PAIRS_PER_ROUND; i++)
        negotiate (&pairs[i]);

      gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
      guint up = 0;
      while (g_get_monotonic_time () < deadline)
        {
          up = 0;
          for (guint i = 0; i < PAIRS_PER_ROUND; i++)
            up += connected (pairs[i].answerer) && connected (pairs[i].offerer);
          if (up == PAIRS_PER_ROUND)
            break;
          g_usleep (20000);
        }
      g_assert_cmpuint (up, ==, PAIRS_PER_ROUND);
      /* One shared agent at a time, beside each offerer's own. */
      g_assert_cmpuint (count_threads ("vg-ice-"), <=, 2);

      gst_element_set_state (pipeline, GST_STATE_NULL);
      for (guint i = 0; i < PAIRS_PER_ROUND; i++)
        {
          Pair *p = &pairs[i];
          /* Every answerer heard its own candidates, and only its own: UDP
           * host candidates have a port each (active TCP ones all say 9). */
          guint udp = 0;
          g_assert_cmpuint (p->wrong_mline, ==, 0);
          for (guint c = 0; c < p->answerer_candidates->len; c++)
            {
              const char *cand = g_ptr_array_index (p->answerer_candidates, c);
              if (!strstr (cand, " UDP ") && !strstr (cand, " udp "))
                continue;
              udp++;
              g_assert_false (g_hash_table_contains (seen, cand));
              g_hash_table_add (seen, g_strdup (cand));
            }
          g_assert_cmpuint (udp, >, 0);
          gst_object_unref (p->offerer);
          gst_object_unref (p->answerer);
          g_ptr_array_unref (p->answerer_candidates);
          g_mutex_clear (&p->lock);
        }
      gst_object_unref (pipeline);
      if (round == 0)
        fds_before = count_fds ();
    }
  g_test_message ("%u distinct UDP answerer candidates", g_hash_table_size (seen));
  /* The answerers' sockets went with them (a leak would be 10+ per round). */
  g_assert_cmpuint (count_fds (), <=, fds_before + 4);
  g_assert_cmpuint (count_threads ("vg-ice-"), ==, 1);
  /* The last webrtcbins may still be finishing on their own threads (their
   * operations thread holds them until its queued work is done). */
  vg_shared_ice_release ();
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (count_threads ("vg-ice-") > 0 && g_get_monotonic_time () < deadline)
    g_usleep (20000);
  g_assert_cmpuint (count_threads ("vg-ice-"), ==, 0);
  g_hash_table_unref (seen);
}

/* The ICE role is agent-wide: no peer may make the shared agent controlling
 * (webrtcbin asks when the offerer is ice-lite). */
static void
test_role_stays_controlled (void)
{
  VgRoomsSettings settings = { .ice_addresses = loopback_only };
  GstWebRTCICE *ice = vg_shared_ice_new (&settings);
  gst_webrtc_ice_set_is_controller (ice, FALSE);
  g_assert_false (gst_webrtc_ice_get_is_controller (ice));
  gst_webrtc_ice_set_is_controller (ice, TRUE);
  g_assert_false (gst_webrtc_ice_get_is_controller (ice));
  gst_object_unref (ice);
  vg_shared_ice_release ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  g_test_add_func ("/rooms/shared-ice/pairs-connect-and-leave", test_pairs_connect_and_leave);
  g_test_add_func ("/rooms/shared-ice/role-stays-controlled", test_role_stays_controlled);
  return g_test_run ();
}
