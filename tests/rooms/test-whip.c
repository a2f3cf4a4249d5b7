/* WHIP, WHEP and the session resource over real HTTP: a gateway server on
 * its own thread (tests/api fixture) with a room registry, test clients with
 * webrtcbin on this thread. */
#include "gateway-fixture.h"
#include "gateway/rooms/rooms.h"
#include "gateway/core/jwt.h"
#include "api/handlers/whip.h"
#include "vg-test-client.h"
#include "vg-build-config.h"
#include <math.h>
#include <string.h>

/* The gateway's cap on m-sections per offer (gateway/sdp-offer.h), spelled
 * out so that a change of the limit is a deliberate change of this test. */
#define VG_TEST_MAX_MEDIA 4

static VgTestGateway *gw;
static SoupSession *http;

static void
create_rooms (VgApp *app, gpointer data)
{
  app->rooms = vg_rooms_new (app);
  VgRoomOptions small = { .max_participants = 1, .empty_timeout_s = -1 };
  g_assert_nonnull (vg_rooms_create (app->rooms, "small", &small, NULL));
}

static void
free_rooms (VgApp *app, gpointer data)
{
  vg_rooms_free (app->rooms);
  app->rooms = NULL;
}

typedef struct
{
  const char *room;
  guint count;
} CountQuery;

static void
count_participants (VgApp *app, gpointer data)
{
  CountQuery *q = data;
  VgRoom *room = vg_rooms_lookup (app->rooms, q->room);
  q->count = room ? vg_room_count_participants (room) : 0;
}

static guint
participants_in (const char *room)
{
  CountQuery q = { room, 0 };
  vg_test_gateway_run (gw, count_participants, &q);
  return q.count;
}

typedef struct
{
  const char *room, *identity;
  gboolean can_publish, admin, hidden;
  gint64 ttl;
  const char *secret;
} TokenSpec;

static char *
token (const TokenSpec *spec)
{
  VgClaims c = { 0 };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  c.identity = (char *)spec->identity;
  c.expires_at = now + (spec->ttl ? spec->ttl : 600);
  c.video.room = (char *)spec->room;
  c.video.room_join = !spec->admin;
  c.video.room_admin = spec->admin;
  c.video.hidden = spec->hidden;
  c.video.can_publish = spec->can_publish;
  c.video.can_publish_set = TRUE;
  return vg_jwt_mint (&c, "devkey", spec->secret ? spec->secret : "secret");
}

static char *
publisher_token (const char *room, const char *identity)
{
  TokenSpec s = { .room = room, .identity = identity, .can_publish = TRUE };
  return token (&s);
}

typedef struct
{
  guint status;
  char *body;
  char *etag, *location, *link;
} Reply;

static void
reply_clear (Reply *r)
{
  g_free (r->body);
  g_free (r->etag);
  g_free (r->location);
  g_free (r->link);
}

static Reply
request (const char *method, const char *path, const char *bearer, const char *content_type,
         const char *body, gsize len, const char *if_match)
{
  g_autofree char *url = vg_test_gateway_url (gw, path);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  SoupMessageHeaders *h = soup_message_get_request_headers (msg);
  if (bearer)
    {
      g_autofree char *auth = g_strdup_printf ("Bearer %s", bearer);
      soup_message_headers_replace (h, "Authorization", auth);
    }
  if (if_match)
    soup_message_headers_replace (h, "If-Match", if_match);
  if (body)
    {
      g_autoptr (GBytes) b = g_bytes_new (body, len == 0 ? strlen (body) : len);
      soup_message_set_request_body_from_bytes (msg, content_type, b);
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) out = soup_session_send_and_read (http, msg, NULL, &error);
  g_assert_no_error (error);
  Reply r = { soup_message_get_status (msg) };
  gsize n;
  const char *data = g_bytes_get_data (out, &n);
  r.body = g_strndup (data ? data : "", n);
  SoupMessageHeaders *rh = soup_message_get_response_headers (msg);
  r.etag = g_strdup (soup_message_headers_get_one (rh, "ETag"));
  r.location = g_strdup (soup_message_headers_get_one (rh, "Location"));
  r.link = g_strdup (soup_message_headers_get_list (rh, "Link"));
  return r;
}

static VgTestClient *
http_client (const char *label, const char *room, const char *tok, double tone_hz,
             gboolean listen_only)
{
  VgTestClientOptions o = { .tone_hz = tone_hz, .listen_only = listen_only };
  VgTestClient *c = vg_test_client_new (label, &o);
  g_autofree char *path = g_strdup_printf ("/api/rooms/%s/%s", room, listen_only ? "whep" : "whip");
  g_autofree char *url = vg_test_gateway_url (gw, path);
  vg_test_client_use_http (c, url, tok);
  g_autoptr (GError) error = NULL;
  g_assert_true (vg_test_client_start (c, &error));
  return c;
}

static char *
real_offer (void)
{
  VgTestClient *c = vg_test_client_new ("offerer", NULL);
  g_autoptr (GError) error = NULL;
  char *offer = vg_test_client_make_offer (c, 5000, &error);
  g_assert_no_error (error);
  vg_test_client_free (c);
  return offer;
}

static char *
replace_all (const char *text, const char *from, const char *to)
{
  g_auto (GStrv) parts = g_strsplit (text, from, -1);
  return g_strjoinv (to, parts);
}

static void
assert_error (const Reply *r, guint status, const char *code)
{
  if (r->status != status || !strstr (r->body, code))
    g_error ("expected %u %s, got %u %s", status, code, r->status, r->body);
}

/* A publisher joins over WHIP, hears its tone back through loopback.pipeline,
 * trickles a candidate, and leaves with DELETE. */
static void
test_whip_publish (void)
{
  g_autofree char *tok = publisher_token ("web", "alice");
  VgTestClient *c = http_client ("alice", "web", tok, 440, FALSE);
  if (!vg_test_client_wait_connected (c, 10000))
    g_error ("not connected: %u %s", vg_test_client_get_http_status (c),
             vg_test_client_get_error (c));
  g_assert_cmpuint (vg_test_client_get_http_status (c), ==, 201);
  const char *location = vg_test_client_get_location (c);
  g_assert_true (g_str_has_prefix (location, "/api/sessions/"));
  g_assert_nonnull (vg_test_client_get_etag (c));
  g_assert_cmpuint (participants_in ("web"), ==, 1);

  vg_test_run_for (1500);
  double freq = vg_test_client_dominant_frequency (c, 1000);
  g_test_message ("heard %.1f Hz", freq);
  g_assert_cmpfloat (fabs (freq - 440), <=, 3);

  const char *frag = "a=ice-ufrag:nope\r\na=ice-pwd:nopenopenopenopenopenope\r\nm=audio 9 "
                     "UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
                     "a=candidate:1 1 UDP 2122260223 192.0.2.77 50000 typ host\r\n";
  Reply r = request ("PATCH", location, tok, "application/trickle-ice-sdpfrag", frag, 0,
                     "\"not-the-etag\"");
  assert_error (&r, 412, "etag_mismatch");
  reply_clear (&r);
  r = request ("PATCH", location, tok, "text/plain", frag, 0, NULL);
  assert_error (&r, 415, "unsupported_media_type");
  reply_clear (&r);
  /* An empty fragment once crashed the server (NULL body data). */
  r = request ("PATCH", location, tok, "application/trickle-ice-sdpfrag", "", 0, NULL);
  assert_error (&r, 400, "bad_sdpfrag");
  reply_clear (&r);
  /* A candidate for the current ICE session (no ufrag line = the current one). */
  const char *good = "a=candidate:1 1 UDP 2122260223 192.0.2.77 50000 typ host\r\n";
  r = request ("PATCH", location, tok, "application/trickle-ice-sdpfrag", good, 0,
               vg_test_client_get_etag (c));
  g_assert_cmpuint (r.status, ==, 204);
  reply_clear (&r);
  /* Media types are case-insensitive and may carry parameters. */
  r = request ("PATCH", location, tok, "Application/Trickle-ICE-Sdpfrag; charset=utf-8", good, 0,
               NULL);
  g_assert_cmpuint (r.status, ==, 204);
  reply_clear (&r);
  /* Another participant's token may not end this session. */
  g_autofree char *mallory = publisher_token ("web", "mallory");
  r = request ("DELETE", location, mallory, NULL, NULL, 0, NULL);
  assert_error (&r, 403, "permission_denied");
  reply_clear (&r);

  r = request ("DELETE", location, tok, NULL, NULL, 0, NULL);
  g_assert_cmpuint (r.status, ==, 200);
  reply_clear (&r);
  g_assert_cmpuint (participants_in ("web"), ==, 0);
  r = request ("DELETE", location, tok, NULL, NULL, 0, NULL);
  assert_error (&r, 404, "not_found");
  reply_clear (&r);
  r = request ("PATCH", location, tok, "application/trickle-ice-sdpfrag", good, 0, NULL);
  assert_error (&r, 404, "not_found");
  reply_clear (&r);

  r = request ("GET", "/metrics", NULL, NULL, NULL, 0, NULL);
  g_assert_nonnull (strstr (r.body, "voxgate_webrtc_connect_seconds_count 1"));
  g_assert_nonnull (strstr (r.body, "voxgate_participants 0"));
  reply_clear (&r);
  vg_test_client_free (c);
}

/* Every refusal of the WHIP endpoint, each with its JSON error. */
static void
test_whip_refusals (void)
{
  g_autofree char *offer = real_offer ();
  g_autofree char *tok = publisher_token ("refusals", "bob");
  const char *path = "/api/rooms/refusals/whip";

  Reply r = request ("POST", path, tok, "application/sdp", "hello, not an SDP", 0, NULL);
  assert_error (&r, 400, "bad_sdp");
  reply_clear (&r);

  g_autofree char *video = replace_all (offer, "m=audio", "m=video");
  r = request ("POST", path, tok, "application/sdp", video, 0, NULL);
  assert_error (&r, 400, "no_audio");
  reply_clear (&r);

  g_autofree char *pcmu = replace_all (offer, "OPUS/48000", "PCMU/8000");
  g_autofree char *pcmu2 = replace_all (pcmu, "opus/48000", "PCMU/8000");
  r = request ("POST", path, tok, "application/sdp", pcmu2, 0, NULL);
  assert_error (&r, 400, "no_opus");
  reply_clear (&r);

  r = request ("POST", path, tok, "text/plain", offer, 0, NULL);
  assert_error (&r, 415, "unsupported_media_type");
  reply_clear (&r);
  /* Application/SDP is application/sdp: read as an offer, not refused with 415. */
  r = request ("POST", path, tok, "Application/SDP; charset=utf-8", "hello, not an SDP", 0, NULL);
  assert_error (&r, 400, "bad_sdp");
  reply_clear (&r);

  g_autofree char *huge = g_strnfill (70 * 1024, 'a');
  memcpy (huge, "v=0\r\n", 5);
  r = request ("POST", path, tok, "application/sdp", huge, 0, NULL);
  g_assert_cmpuint (r.status, ==, 413);
  reply_clear (&r);

  r = request ("POST", path, NULL, "application/sdp", offer, 0, NULL);
  g_assert_cmpuint (r.status, ==, 401);
  reply_clear (&r);
  TokenSpec forged
      = { .room = "refusals", .identity = "bob", .can_publish = TRUE, .secret = "not-the-secret" };
  g_autofree char *bad = token (&forged);
  r = request ("POST", path, bad, "application/sdp", offer, 0, NULL);
  g_assert_cmpuint (r.status, ==, 401);
  reply_clear (&r);
  TokenSpec old = { .room = "refusals", .identity = "bob", .can_publish = TRUE, .ttl = -3600 };
  g_autofree char *expired = token (&old);
  r = request ("POST", path, expired, "application/sdp", offer, 0, NULL);
  assert_error (&r, 401, "expired");
  reply_clear (&r);

  g_autofree char *other_room = publisher_token ("elsewhere", "bob");
  r = request ("POST", path, other_room, "application/sdp", offer, 0, NULL);
  assert_error (&r, 403, "wrong_room");
  reply_clear (&r);
  TokenSpec mute = { .room = "refusals", .identity = "bob", .can_publish = FALSE };
  g_autofree char *no_publish = token (&mute);
  r = request ("POST", path, no_publish, "application/sdp", offer, 0, NULL);
  g_assert_cmpuint (r.status, ==, 403);
  reply_clear (&r);

  /* "small" holds one participant. */
  g_autofree char *first_tok = publisher_token ("small", "first");
  VgTestClient *first = http_client ("first", "small", first_tok, 0, FALSE);
  g_assert_true (vg_test_client_wait_connected (first, 10000));
  g_autofree char *second_tok = publisher_token ("small", "second");
  r = request ("POST", "/api/rooms/small/whip", second_tok, "application/sdp", offer, 0, NULL);
  assert_error (&r, 409, "room_full");
  reply_clear (&r);
  vg_test_client_free (first);

  r = request ("DELETE", "/api/sessions/no-such-session", tok, NULL, NULL, 0, NULL);
  assert_error (&r, 404, "not_found");
  reply_clear (&r);
  g_assert_cmpuint (participants_in ("refusals"), ==, 0);
}

/* The offer's text with its first line matching prefix replaced by line. */
static char *
replace_line (const char *offer, const char *prefix, const char *line)
{
  g_auto (GStrv) lines = g_strsplit (offer, "\r\n", -1);
  for (char **l = lines; *l; l++)
    if (g_str_has_prefix (*l, prefix))
      {
        g_free (*l);
        *l = g_strdup (line);
        break;
      }
  return g_strjoinv ("\r\n", lines);
}

/* n copies of the offer's audio section, each its own transport (no BUNDLE). */
static char *
unbundled_audio_sections (const char *offer, guint n)
{
  const char *audio = strstr (offer, "m=audio");
  const char *end = strstr (audio + 1, "\r\nm=");
  g_autofree char *head = g_strndup (offer, audio - offer);
  g_autofree char *section = end ? g_strndup (audio, end + 2 - audio) : g_strdup (audio);
  GString *out = g_string_new (NULL);
  g_auto (GStrv) head_lines = g_strsplit (head, "\r\n", -1);
  for (char **l = head_lines; *l; l++)
    if (**l && !g_str_has_prefix (*l, "a=group:BUNDLE"))
      g_string_append_printf (out, "%s\r\n", *l);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *mid = g_strdup_printf ("a=mid:audio%u", i);
      g_autofree char *copy = replace_line (section, "a=mid:", mid);
      g_string_append (out, copy);
    }
  return g_string_free (out, FALSE);
}

static void
assert_refused (const char *path, const char *tok, const char *offer, guint status,
                const char *code, const char *what)
{
  Reply r = request ("POST", path, tok, "application/sdp", offer, 0, NULL);
  if (r.status != status || !strstr (r.body, code))
    g_error ("%s: expected %u %s, got %u %s", what, status, code, r.status, r.body);
  g_test_message ("%s: %u %s", what, r.status, r.body);
  reply_clear (&r);
}

/* Offers that webrtcbin would take but must not: forged fingerprints, an
 * Opus rtpmap for a format the m= line does not list, and dozens of
 * unbundled sections, each of which would cost an ICE stream, sockets and
 * threads. WHIP and WHEP share the checks. */
static void
test_whip_offer_checks (void)
{
  g_autofree char *offer = real_offer ();
  g_autofree char *tok = publisher_token ("checks", "carol");
  TokenSpec admin = { .room = "checks", .identity = "monitor", .admin = TRUE };
  g_autofree char *admin_tok = token (&admin);
  const struct
  {
    const char *path, *tok;
  } endpoints[] = { { "/api/rooms/checks/whip", tok }, { "/api/rooms/checks/whep", admin_tok } };

  g_autofree char *nothex
      = replace_line (offer, "a=fingerprint:", "a=fingerprint:sha-256 ZZ:nothex");
  const char *fp = strstr (offer, "a=fingerprint:sha-256 ");
  g_assert_nonnull (fp);
  g_autofree char *digest = g_strndup (fp + 22, strcspn (fp + 22, "\r\n"));
  g_autofree char *md2_line = g_strdup_printf ("a=fingerprint:md2 %s", digest);
  g_autofree char *md2 = replace_line (offer, "a=fingerprint:", md2_line);
  g_autofree char *short_line = g_strdup_printf ("a=fingerprint:sha-256 %.47s", digest);
  g_autofree char *truncated = replace_line (offer, "a=fingerprint:", short_line);
  g_autofree char *no_fp_session = replace_all (offer, "a=fingerprint:", "a=x-fingerprint:");
  /* The m= line offers PCMU only; the Opus rtpmap describes nothing. */
  g_autofree char *unlisted = replace_line (offer, "m=audio ", "m=audio 9 UDP/TLS/RTP/SAVPF 0");
  g_autofree char *fifty = unbundled_audio_sections (offer, 50);
  g_autofree char *five = unbundled_audio_sections (offer, VG_TEST_MAX_MEDIA + 1);
  g_autofree char *bad_group = replace_line (offer, "a=group:BUNDLE", "a=group:BUNDLE nosuchmid");

  for (guint e = 0; e < G_N_ELEMENTS (endpoints); e++)
    {
      const char *path = endpoints[e].path, *t = endpoints[e].tok;
      assert_refused (path, t, nothex, 400, "bad_sdp", "fingerprint ZZ:nothex");
      assert_refused (path, t, md2, 400, "bad_sdp", "fingerprint md2");
      assert_refused (path, t, truncated, 400, "bad_sdp", "fingerprint one byte short");
      assert_refused (path, t, no_fp_session, 400, "bad_sdp", "no fingerprint");
      assert_refused (path, t, unlisted, 400, "no_opus", "opus rtpmap for an unlisted format");
      assert_refused (path, t, fifty, 400, "bad_sdp", "50 unbundled audio sections");
      assert_refused (path, t, five, 400, "bad_sdp", "one section over the cap");
      assert_refused (path, t, bad_group, 400, "bad_sdp", "BUNDLE naming no section");
    }
  g_assert_cmpuint (participants_in ("checks"), ==, 0);

  /* At the cap, unbundled sections are still accepted. */
  g_autofree char *at_cap = unbundled_audio_sections (offer, VG_TEST_MAX_MEDIA);
  Reply r = request ("POST", endpoints[0].path, tok, "application/sdp", at_cap, 0, NULL);
  g_assert_cmpuint (r.status, ==, 201);
  Reply d = request ("DELETE", r.location, tok, NULL, NULL, 0, NULL);
  g_assert_cmpuint (d.status, ==, 200);
  reply_clear (&d);
  reply_clear (&r);
}

/* WHEP: a monitor hears the room; a participant token may not listen. */
static void
test_whep_listen (void)
{
  g_autofree char *tok = publisher_token ("monitored", "speaker");
  VgTestClient *speaker = http_client ("speaker", "monitored", tok, 520, FALSE);
  g_assert_true (vg_test_client_wait_connected (speaker, 10000));

  g_autofree char *offer = real_offer ();
  Reply r = request ("POST", "/api/rooms/monitored/whep", tok, "application/sdp", offer, 0, NULL);
  assert_error (&r, 403, "permission_denied");
  reply_clear (&r);

  TokenSpec admin = { .room = "monitored", .identity = "monitor", .admin = TRUE };
  g_autofree char *admin_tok = token (&admin);
  VgTestClient *monitor = http_client ("monitor", "monitored", admin_tok, 0, TRUE);
  g_assert_true (vg_test_client_wait_connected (monitor, 10000));
  g_assert_cmpuint (participants_in ("monitored"), ==, 2);
  vg_test_run_for (1500);
  double freq = vg_test_client_dominant_frequency (monitor, 1000);
  g_test_message ("monitor heard %.1f Hz", freq);
  g_assert_cmpfloat (fabs (freq - 520), <=, 3);
  vg_test_client_stop (monitor, TRUE);
  vg_test_client_stop (speaker, TRUE);
  g_assert_cmpuint (participants_in ("monitored"), ==, 0);
  vg_test_client_free (monitor);
  vg_test_client_free (speaker);
}

/* The Link headers that announce ICE servers, TURN credentials included. */
static void
test_ice_server_links (void)
{
  VgRoomsSettings s;
  vg_rooms_settings_init_defaults (&s);
  g_autoptr (GPtrArray) none = vg_whip_ice_server_links (&s);
  g_assert_cmpuint (none->len, ==, 0);
  s.stun_server = g_strdup ("stun://stun.example.org:3478");
  s.turn_server = g_strdup ("turn://alice:s%40cret@turn.example.org:3479");
  g_autoptr (GPtrArray) links = vg_whip_ice_server_links (&s);
  g_assert_cmpuint (links->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (links, 0), ==,
                   "<stun:stun.example.org:3478>; rel=\"ice-server\"");
  g_assert_cmpstr (g_ptr_array_index (links, 1), ==,
                   "<turn:turn.example.org:3479>; rel=\"ice-server\"; username=\"alice\"; "
                   "credential=\"s@cret\"; credential-type=\"password\"");
  vg_rooms_settings_clear (&s);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  const char *src = g_getenv ("VOXGATE_SOURCE_DIR");
  g_autofree char *dir_override
      = g_strdup_printf ("agent.pipelines_dir=%s/pipelines", src ? src : VOXGATE_SOURCE_DIR);
  const char *overrides[]
      = { "agent.pipeline=loopback.pipeline", dir_override, "webrtc.disconnect_timeout=2", NULL };
  gw = vg_test_gateway_start (overrides);
  vg_test_gateway_run (gw, create_rooms, NULL);
  http = soup_session_new ();

  g_test_add_func ("/rooms/whip/publish-patch-delete", test_whip_publish);
  g_test_add_func ("/rooms/whip/refusals", test_whip_refusals);
  g_test_add_func ("/rooms/whip/offer-checks", test_whip_offer_checks);
  g_test_add_func ("/rooms/whep/listen", test_whep_listen);
  g_test_add_func ("/rooms/whip/ice-server-links", test_ice_server_links);
  int rc = g_test_run ();

  g_object_unref (http);
  vg_test_gateway_run (gw, free_rooms, NULL);
  vg_test_gateway_stop (gw);
  return rc;
}
