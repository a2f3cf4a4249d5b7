/* The room registry and the pure parts of rooms: names, templates, offers,
 * trickle fragments, agent events. Real pipelines, no network peers. */
#include "gateway/rooms/rooms.h"
#include "gateway/rooms/agent-binding.h"
#include "gateway/rooms/sdp-offer.h"
#include "gateway/core/validate.h"
#include "vg-build-config.h"
#include <glib/gstdio.h>
#include <string.h>

/* A browser-like offer: audio with Opus and PCMU, and a data channel. */
static const char *offer_text
    = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
      "a=group:BUNDLE 0 1\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\n"
      "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
      "a=fingerprint:sha-256 "
      "12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:"
      "DE:F0\r\n"
      "a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n"
      "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
      "a=rtpmap:0 PCMU/8000\r\na=ssrc:1 cname:test\r\n"
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
      "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
      "a=fingerprint:sha-256 "
      "12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC:"
      "DE:F0\r\n"
      "a=setup:actpass\r\na=mid:1\r\na=sctp-port:5000\r\n";

static VgRooms *
new_rooms (gboolean auto_create)
{
  VgRoomsSettings s;
  vg_rooms_settings_init_defaults (&s);
  g_free (s.pipelines_dir);
  const char *src = g_getenv ("VOXGATE_SOURCE_DIR");
  s.pipelines_dir = g_build_filename (src ? src : VOXGATE_SOURCE_DIR, "pipelines", NULL);
  g_free (s.default_pipeline);
  s.default_pipeline = g_strdup ("loopback.pipeline");
  s.auto_create = auto_create;
  VgRooms *rooms = vg_rooms_new_with_settings (&s, NULL);
  vg_rooms_settings_clear (&s);
  return rooms;
}

static void
test_create_list_delete (void)
{
  VgRooms *rooms = new_rooms (TRUE);
  g_autoptr (GError) error = NULL;
  VgRoomOptions o = { .max_participants = 3, .empty_timeout_s = 30, .metadata = "m" };
  VgRoom *b = vg_rooms_create (rooms, "beta", &o, &error);
  g_assert_no_error (error);
  g_assert_nonnull (vg_rooms_create (rooms, "alpha", NULL, &error));
  g_assert_cmpuint (vg_room_get_max_participants (b), ==, 3);
  g_assert_cmpuint (vg_room_get_empty_timeout (b), ==, 30);
  g_assert_cmpstr (vg_room_get_metadata (b), ==, "m");
  g_assert_cmpstr (vg_room_get_template (b), ==, "loopback.pipeline");
  g_assert_nonnull (vg_room_get_pipeline (b));
  g_assert_null (vg_room_get_agent (b)); /* loopback has no "agent" element */

  g_assert_null (vg_rooms_create (rooms, "beta", NULL, &error));
  g_assert_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_EXISTS);
  g_clear_error (&error);

  GPtrArray *list = vg_rooms_list (rooms);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (vg_room_get_name (g_ptr_array_index (list, 0)), ==, "alpha");
  g_ptr_array_unref (list);
  g_assert_true (vg_rooms_lookup (rooms, "beta") == b);
  g_assert_true (vg_rooms_lookup_or_create (rooms, "beta", NULL) == b);
  g_assert_nonnull (vg_rooms_lookup_or_create (rooms, "gamma", NULL));
  g_assert_cmpuint (vg_rooms_count (rooms), ==, 3);

  g_assert_true (vg_rooms_delete (rooms, "beta", &error));
  g_assert_null (vg_rooms_lookup (rooms, "beta"));
  g_assert_false (vg_rooms_delete (rooms, "beta", &error));
  g_assert_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_NOT_FOUND);
  vg_rooms_free (rooms);
}

static gboolean
room_gone (gpointer data)
{
  return vg_rooms_lookup (data, "brief") == NULL;
}

/* A room nobody joins closes after its empty_timeout. */
static void
test_empty_timeout (void)
{
  VgRooms *rooms = new_rooms (TRUE);
  VgRoomOptions o = { .empty_timeout_s = 1 };
  g_assert_nonnull (vg_rooms_create (rooms, "brief", &o, NULL));
  gint64 t0 = g_get_monotonic_time ();
  while (!room_gone (rooms) && g_get_monotonic_time () - t0 < 3 * G_USEC_PER_SEC)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (vg_rooms_lookup (rooms, "brief"));
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 900000);
  vg_rooms_free (rooms);
}

static void
test_refusals (void)
{
  VgRooms *rooms = new_rooms (FALSE);
  g_autoptr (GError) error = NULL;
  g_assert_null (vg_rooms_lookup_or_create (rooms, "nope", &error));
  g_assert_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_autofree char *long_name = g_strnfill (VG_ROOM_NAME_MAX + 1, 'a');
  const char *bad_names[] = { "", "a b", "../x", "x/y", "é", "a:b", ".hidden", long_name, NULL };
  for (guint i = 0; bad_names[i]; i++)
    {
      g_assert_null (vg_rooms_create (rooms, bad_names[i], NULL, &error));
      g_assert_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_INVALID);
      g_clear_error (&error);
    }

  /* Templates come from the directory only, by a plain name. */
  const char *bad_templates[] = {
    "../../etc/passwd.pipeline", "/tmp/x.pipeline", "x.txt", ".pipeline", "missing.pipeline", NULL
  };
  for (guint i = 0; bad_templates[i]; i++)
    {
      VgRoomOptions o = { .template_name = bad_templates[i], .empty_timeout_s = -1 };
      g_assert_null (vg_rooms_create (rooms, "t", &o, &error));
      g_assert_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_INVALID);
      g_clear_error (&error);
    }
  g_assert_cmpuint (vg_rooms_count (rooms), ==, 0);
  vg_rooms_free (rooms);
}

static void
ignore_answer (VgParticipant *p, const char *answer, const GError *error, gpointer data)
{
  *(guint *)data += 1;
}

/* Joining with an identity already present replaces that participant; a
 * full room refuses a new identity. (Offers only: no peer answers them.) */
static void
test_replace_and_full (void)
{
  VgRooms *rooms = new_rooms (TRUE);
  VgRoomOptions o = { .max_participants = 1, .empty_timeout_s = -1 };
  VgRoom *room = vg_rooms_create (rooms, "one", &o, NULL);
  g_assert_nonnull (room);
  guint answers = 0;
  g_autoptr (GError) error = NULL;
  VgJoinRequest req
      = { .kind = VG_PARTICIPANT_PUBLISHER, .identity = "ann", .offer_sdp = offer_text };
  VgParticipant *first = vg_room_join (room, &req, ignore_answer, &answers, &error);
  g_assert_no_error (error);
  g_autofree char *first_session = g_strdup (vg_participant_get_session_id (first));
  g_assert_true (vg_rooms_lookup_session (rooms, first_session) == first);
  g_assert_cmpint (vg_participant_get_state (first), ==, VG_PARTICIPANT_JOINING);

  VgParticipant *again = vg_room_join (room, &req, ignore_answer, &answers, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (vg_room_count_participants (room), ==, 1);
  g_assert_null (vg_rooms_lookup_session (rooms, first_session));
  g_assert_true (vg_room_lookup_participant (room, "ann") == again);

  VgJoinRequest other
      = { .kind = VG_PARTICIPANT_PUBLISHER, .identity = "bob", .offer_sdp = offer_text };
  g_assert_null (vg_room_join (room, &other, ignore_answer, &answers, &error));
  g_assert_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_FULL);
  g_clear_error (&error);

  g_assert_true (vg_room_remove_participant (room, "ann", &error));
  g_assert_cmpuint (vg_room_count_participants (room), ==, 0);
  g_assert_false (vg_room_remove_participant (room, "ann", &error));
  g_assert_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_NOT_FOUND);
  vg_rooms_free (rooms);
}

static void
test_offers (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (vg_rooms_check_offer (offer_text, &error));
  g_assert_no_error (error);

  g_assert_false (vg_rooms_check_offer ("hello", &error));
  g_assert_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_BAD_SDP);
  g_clear_error (&error);

  g_auto (GStrv) parts = g_strsplit (offer_text, "m=audio 9", -1);
  g_autofree char *video = g_strjoinv ("m=video 9", parts);
  g_assert_false (vg_rooms_check_offer (video, &error));
  g_assert_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_NO_AUDIO);
  g_clear_error (&error);

  g_auto (GStrv) p2 = g_strsplit (offer_text, "opus/48000/2", -1);
  g_autofree char *no_opus = g_strjoinv ("G722/8000", p2);
  g_assert_false (vg_rooms_check_offer (no_opus, &error));
  g_assert_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_NO_OPUS);
  g_clear_error (&error);

  /* A rejected (port 0) audio m-line does not count. */
  g_auto (GStrv) p3 = g_strsplit (offer_text, "m=audio 9", -1);
  g_autofree char *disabled = g_strjoinv ("m=audio 0", p3);
  g_assert_false (vg_rooms_check_offer (disabled, &error));
  g_assert_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_NO_AUDIO);
}

static void
test_sdpfrag (void)
{
  VgSdpFrag frag;
  g_autoptr (GError) error = NULL;
  g_assert_true (vg_sdp_parse_frag ("a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
                                    "m=audio 9 RTP/AVP 0\r\na=mid:0\r\n"
                                    "a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ "
                                    "host generation 0\r\na=end-of-candidates\r\n",
                                    &frag, &error));
  g_assert_cmpstr (frag.ufrag, ==, "EsAw");
  g_assert_cmpuint (frag.candidates->len, ==, 1);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (frag.candidates, 0), "candidate:1387637174"));
  g_assert_true (frag.end_of_candidates);
  vg_sdp_frag_clear (&frag);
  g_assert_false (vg_sdp_parse_frag ("not a fragment", &frag, &error));
  g_assert_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_BAD_SDP);
}

static void
test_agent_events (void)
{
  const char *state = NULL;
  GstStructure *s = gst_structure_new ("realtime-state", "state", G_TYPE_STRING, "thinking", NULL);
  g_autofree char *e1 = vg_agent_event_from_message (s, &state);
  g_assert_cmpstr (e1, ==, "{\"type\":\"agent_state\",\"state\":\"thinking\"}");
  g_assert_cmpstr (state, ==, "thinking");
  gst_structure_free (s);

  s = gst_structure_new ("realtime-state", "state", G_TYPE_STRING, "<script>", NULL);
  g_assert_null (vg_agent_event_from_message (s, &state));
  gst_structure_free (s);

  s = gst_structure_new ("realtime-transcript", "role", G_TYPE_STRING, "user", "item-id",
                         G_TYPE_STRING, "it1", "text", G_TYPE_STRING, "say \"hi\"", "final",
                         G_TYPE_BOOLEAN, TRUE, NULL);
  g_autofree char *e2 = vg_agent_event_from_message (s, NULL);
  g_assert_cmpstr (e2, ==,
                   "{\"type\":\"transcript\",\"role\":\"user\",\"item_id\":\"it1\",\"text\":\"say "
                   "\\\"hi\\\"\",\"final\":true}");
  gst_structure_free (s);

  s = gst_structure_new ("realtime-error", "code", G_TYPE_STRING, "rate_limited", "message",
                         G_TYPE_STRING, "slow down", NULL);
  g_autofree char *e3 = vg_agent_event_from_message (s, NULL);
  g_assert_cmpstr (e3, ==,
                   "{\"type\":\"error\",\"code\":\"rate_limited\",\"message\":\"slow down\"}");
  gst_structure_free (s);

  s = gst_structure_new ("realtime-usage", "total-tokens", G_TYPE_INT, 3, NULL);
  g_assert_null (vg_agent_event_from_message (s, NULL));
  gst_structure_free (s);

  const char *code = NULL;
  g_assert_false (vg_agent_apply_client_event (NULL, "{", &code, NULL));
  g_assert_cmpstr (code, ==, "bad_json");
  g_assert_false (
      vg_agent_apply_client_event (NULL, "{\"type\":\"text\",\"text\":3}", &code, NULL));
  g_assert_cmpstr (code, ==, "bad_json");
  g_assert_false (vg_agent_apply_client_event (NULL, "{\"type\":\"dance\"}", &code, NULL));
  g_assert_cmpstr (code, ==, "unknown_type");
  g_assert_false (
      vg_agent_apply_client_event (NULL, "{\"type\":\"text\",\"text\":\"x\"}", &code, NULL));
  g_assert_cmpstr (code, ==, "no_agent");
  /* A type that is not a string: {"type":5} crashed the gateway
   * (tests/fuzz/corpus/events-message/crash-*). */
  g_assert_false (vg_agent_apply_client_event (NULL, "{\"type\":5}", &code, NULL));
  g_assert_cmpstr (code, ==, "unknown_type");
  g_assert_false (vg_agent_apply_client_event (NULL, "{\"type\":[\"text\"]}", &code, NULL));
  g_assert_cmpstr (code, ==, "unknown_type");
  /* json-glib alone took the first value and leaked the second
   * (tests/fuzz/corpus/events-message). */
  g_assert_false (
      vg_agent_apply_client_event (NULL, "{\"type\":\"dance\"}{\"type\":\"text\"}", &code, NULL));
  g_assert_cmpstr (code, ==, "bad_json");
  g_autofree char *big = g_strnfill (20000, 'a');
  g_assert_false (vg_agent_apply_client_event (NULL, big, &code, NULL));
  g_assert_cmpstr (code, ==, "too_large");
}

/* A template must leave one input and one output: a source-only text fails. */
static void
test_template_convention (void)
{
  g_autofree char *dir = g_dir_make_tmp ("vg-templates-XXXXXX", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.pipeline", NULL);
  g_assert_true (g_file_set_contents (bad, "# no input\naudiotestsrc ! fakesink\n", -1, NULL));
  g_autoptr (GError) error = NULL;
  GstElement *bin = vg_agent_bin_load (dir, "bad.pipeline", &error);
  g_assert_null (bin);
  g_assert_error (error, VG_ROOMS_ERROR, VG_ROOMS_ERROR_PIPELINE);
  g_clear_error (&error);
  g_autofree char *good = g_build_filename (dir, "good.pipeline", NULL);
  g_assert_true (g_file_set_contents (good, "# comment\naudioconvert name=agent\n", -1, NULL));
  bin = vg_agent_bin_load (dir, "good.pipeline", &error);
  g_assert_no_error (error);
  GstElement *agent = vg_agent_bin_get_agent (bin);
  g_assert_nonnull (agent);
  gst_object_unref (agent);
  gst_object_unref (bin);
  g_unlink (bad);
  g_unlink (good);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rooms/registry/create-list-delete", test_create_list_delete);
  g_test_add_func ("/rooms/registry/refusals", test_refusals);
  g_test_add_func ("/rooms/registry/empty-timeout", test_empty_timeout);
  g_test_add_func ("/rooms/registry/replace-and-full", test_replace_and_full);
  g_test_add_func ("/rooms/registry/offers", test_offers);
  g_test_add_func ("/rooms/registry/sdpfrag", test_sdpfrag);
  g_test_add_func ("/rooms/registry/agent-events", test_agent_events);
  g_test_add_func ("/rooms/registry/template-convention", test_template_convention);
  return g_test_run ();
}
