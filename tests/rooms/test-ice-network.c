/* The network settings of [webrtc] as clients see them, over real HTTP: the
 * ICE port range, the 1:1 NAT address (beside the private host candidates
 * or in their place), ICE bound to chosen addresses, a port range too small
 * for the sessions, and the ICE servers announced in Link headers. Each
 * case starts its own gateway (tests/api fixture) and joins with real
 * webrtcbin peers (tests/client) on this thread. */
#include "gateway-fixture.h"
#include "gateway/rooms/rooms.h"
#include "gateway/core/jwt.h"
#include "vg-test-client.h"
#include "vg-build-config.h"
#include <gio/gio.h>
#include <gst/sdp/sdp.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>

/* TEST-NET-3 (RFC 5737): never a local address, so every candidate that
 * carries it came from the mapping. */
#define PUBLIC_ADDRESS "203.0.113.7"
#define RANGE 10

static SoupSession *http;

typedef struct
{
  guint status;
  char *body, *location;
  GStrv links;
} Reply;

static void
reply_clear (Reply *r)
{
  g_free (r->body);
  g_free (r->location);
  g_strfreev (r->links);
}

static char *
publisher_token (const char *room, const char *identity)
{
  VgClaims c = { 0 };
  c.identity = (char *)identity;
  c.expires_at = g_get_real_time () / G_USEC_PER_SEC + 600;
  c.video.room = (char *)room;
  c.video.room_join = TRUE;
  c.video.can_publish = TRUE;
  c.video.can_publish_set = TRUE;
  return vg_jwt_mint (&c, "devkey", "secret");
}

/* A Link field may hold several values separated by commas (RFC 8288), and
 * HTTP libraries join repeated fields that way: split outside <> and "". */
static void
split_link_values (const char *field, GPtrArray *out)
{
  gboolean in_uri = FALSE, in_quotes = FALSE;
  const char *start = field;
  for (const char *c = field;; c++)
    {
      if (*c == '\0' || (*c == ',' && !in_uri && !in_quotes))
        {
          g_autofree char *item = g_strndup (start, c - start);
          if (*g_strstrip (item))
            g_ptr_array_add (out, g_strdup (g_strstrip (item)));
          if (*c == '\0')
            return;
          start = c + 1;
        }
      else if (*c == '<' && !in_quotes)
        in_uri = TRUE;
      else if (*c == '>' && !in_quotes)
        in_uri = FALSE;
      else if (*c == '"' && !in_uri)
        in_quotes = !in_quotes;
    }
}

static Reply
request (VgTestGateway *gw, const char *method, const char *path, const char *bearer,
         const char *body)
{
  g_autofree char *url = vg_test_gateway_url (gw, path);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  SoupMessageHeaders *h = soup_message_get_request_headers (msg);
  if (bearer)
    {
      g_autofree char *auth = g_strdup_printf ("Bearer %s", bearer);
      soup_message_headers_replace (h, "Authorization", auth);
    }
  if (body)
    {
      g_autoptr (GBytes) b = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, "application/sdp", b);
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) out = soup_session_send_and_read (http, msg, NULL, &error);
  g_assert_no_error (error);
  Reply r = { soup_message_get_status (msg) };
  gsize n;
  const char *data = g_bytes_get_data (out, &n);
  r.body = g_strndup (data ? data : "", n);
  SoupMessageHeaders *rh = soup_message_get_response_headers (msg);
  r.location = g_strdup (soup_message_headers_get_one (rh, "Location"));
  GPtrArray *links = g_ptr_array_new_null_terminated (2, g_free, TRUE);
  SoupMessageHeadersIter it;
  const char *name, *value;
  soup_message_headers_iter_init (&it, rh);
  while (soup_message_headers_iter_next (&it, &name, &value))
    if (g_ascii_strcasecmp (name, "Link") == 0)
      split_link_values (value, links);
  r.links = (GStrv)g_ptr_array_free (links, FALSE);
  return r;
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

/* The first of RANGE consecutive UDP ports free on every address right now. */
static guint
free_port_range (void)
{
  for (guint attempt = 0; attempt < 50; attempt++)
    {
      guint base = 20000 + g_random_int_range (0, 30000);
      gboolean free = TRUE;
      for (guint p = base; p < base + RANGE && free; p++)
        {
          g_autoptr (GSocket) s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                                                G_SOCKET_PROTOCOL_UDP, NULL);
          g_autoptr (GInetAddress) any = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
          g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (any, p);
          free = s && g_socket_bind (s, addr, FALSE, NULL);
        }
      if (free)
        return base;
    }
  g_error ("no %u free consecutive UDP ports", RANGE);
}

typedef struct
{
  char *transport, *address, *type;
  guint port;
} Candidate;

static void
candidate_clear (gpointer data)
{
  Candidate *c = data;
  g_free (c->transport);
  g_free (c->address);
  g_free (c->type);
}

/* The a=candidate lines of an SDP text, parsed with GstSDP. */
static GArray *
answer_candidates (const char *sdp_text)
{
  GstSDPMessage *sdp;
  gst_sdp_message_new (&sdp);
  g_assert_cmpint (gst_sdp_message_parse_buffer ((const guint8 *)sdp_text, strlen (sdp_text), sdp),
                   ==, GST_SDP_OK);
  GArray *out = g_array_new (FALSE, TRUE, sizeof (Candidate));
  g_array_set_clear_func (out, candidate_clear);
  for (guint m = 0; m < gst_sdp_message_medias_len (sdp); m++)
    {
      const GstSDPMedia *media = gst_sdp_message_get_media (sdp, m);
      for (guint a = 0; a < gst_sdp_media_attributes_len (media); a++)
        {
          const GstSDPAttribute *attr = gst_sdp_media_get_attribute (media, a);
          if (g_strcmp0 (attr->key, "candidate") != 0)
            continue;
          g_auto (GStrv) f = g_strsplit (attr->value, " ", -1);
          g_assert_cmpuint (g_strv_length (f), >=, 8);
          Candidate c = { g_ascii_strdown (f[2], -1), g_strdup (f[4]), g_strdup (f[7]),
                          (guint)g_ascii_strtoull (f[5], NULL, 10) };
          g_array_append_val (out, c);
        }
    }
  gst_sdp_message_free (sdp);
  return out;
}

typedef struct
{
  guint host_public, host_private, host_private_v4, udp_host;
  gboolean ports_in_range;
} CandidateSummary;

static CandidateSummary
summarize (GArray *cands, guint port_min, guint port_max)
{
  CandidateSummary s = { .ports_in_range = TRUE };
  for (guint i = 0; i < cands->len; i++)
    {
      Candidate *c = &g_array_index (cands, Candidate, i);
      g_test_message ("answer candidate: %s %s %u typ %s", c->transport, c->address, c->port,
                      c->type);
      if (!g_str_equal (c->type, "host"))
        continue;
      if (g_str_equal (c->address, PUBLIC_ADDRESS))
        s.host_public++;
      else
        s.host_private++;
      if (!g_str_equal (c->address, PUBLIC_ADDRESS) && !strchr (c->address, ':'))
        s.host_private_v4++;
      if (g_str_equal (c->transport, "udp"))
        {
          s.udp_host++;
          if (c->port < port_min || c->port > port_max)
            s.ports_in_range = FALSE;
        }
    }
  return s;
}

static void
create_rooms (VgApp *app, gpointer data)
{
  app->rooms = vg_rooms_new (app);
}

static void
free_rooms (VgApp *app, gpointer data)
{
  vg_rooms_free (app->rooms);
  app->rooms = NULL;
}

static VgTestGateway *
start_gateway (guint port_min, guint port_max, const char *const *more)
{
  const char *src = g_getenv ("VOXGATE_SOURCE_DIR");
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_autofree char *dir
      = g_strdup_printf ("agent.pipelines_dir=%s/pipelines", src ? src : VOXGATE_SOURCE_DIR);
  g_autofree char *min = g_strdup_printf ("webrtc.ice_port_min=%u", port_min);
  g_autofree char *max = g_strdup_printf ("webrtc.ice_port_max=%u", port_max);
  g_strv_builder_add (b, dir);
  g_strv_builder_add (b, "agent.pipeline=loopback.pipeline");
  g_strv_builder_add (b, "webrtc.disconnect_timeout=2");
  g_strv_builder_add (b, min);
  g_strv_builder_add (b, max);
  g_strv_builder_addv (b, (const char **)more);
  g_auto (GStrv) overrides = g_strv_builder_end (b);
  VgTestGateway *gw = vg_test_gateway_start ((const char *const *)overrides);
  vg_test_gateway_run (gw, create_rooms, NULL);
  return gw;
}

static void
stop_gateway (VgTestGateway *gw)
{
  vg_test_gateway_run (gw, free_rooms, NULL);
  vg_test_gateway_stop (gw);
}

/* A WHIP session through the gateway: the tone comes back through
 * loopback.pipeline, so ICE, DTLS and media all work. */
static void
assert_session_works (VgTestGateway *gw, const char *room)
{
  g_autofree char *tok = publisher_token (room, "learner");
  VgTestClientOptions o = { .tone_hz = 440 };
  VgTestClient *c = vg_test_client_new ("learner", &o);
  g_autofree char *path = g_strdup_printf ("/api/rooms/%s/whip", room);
  g_autofree char *url = vg_test_gateway_url (gw, path);
  vg_test_client_use_http (c, url, tok);
  g_autoptr (GError) error = NULL;
  g_assert_true (vg_test_client_start (c, &error));
  if (!vg_test_client_wait_connected (c, 10000))
    g_error ("not connected: %u %s", vg_test_client_get_http_status (c),
             vg_test_client_get_error (c));
  /* The tone is expected back within 10 s of connecting: under a loaded
   * machine (or ASan) the first packets may take seconds, not 1.5 s. */
  double freq = 0;
  for (guint waited = 0; waited < 10000 && fabs (freq - 440) > 3; waited += 250)
    {
      vg_test_run_for (250);
      freq = vg_test_client_dominant_frequency (c, 1000);
    }
  g_test_message ("heard %.1f Hz", freq);
  g_assert_cmpfloat (fabs (freq - 440), <=, 3);
  vg_test_client_stop (c, TRUE);
  vg_test_client_free (c);
}

/* An offer answered and the session deleted again; returns the answer. */
static char *
answer_for (VgTestGateway *gw, const char *room)
{
  g_autofree char *tok = publisher_token (room, "probe");
  g_autofree char *offer = real_offer ();
  g_autofree char *path = g_strdup_printf ("/api/rooms/%s/whip", room);
  Reply r = request (gw, "POST", path, tok, offer);
  if (r.status != 201)
    g_error ("expected 201, got %u %s", r.status, r.body);
  char *answer = g_steal_pointer (&r.body);
  Reply gone = request (gw, "DELETE", r.location, tok, NULL);
  g_assert_cmpuint (gone.status, ==, 200);
  reply_clear (&gone);
  reply_clear (&r);
  return answer;
}

/* Janus's keep_private_host = true: every private host candidate (in the
 * port range) is followed by the public address on the same port. */
static void
test_nat_beside_private (void)
{
  guint port = free_port_range ();
  const char *more[] = { "webrtc.nat_1_1_address=" PUBLIC_ADDRESS, NULL };
  VgTestGateway *gw = start_gateway (port, port + RANGE - 1, more);

  g_autofree char *answer = answer_for (gw, "beside");
  g_autoptr (GArray) cands = answer_candidates (answer);
  CandidateSummary s = summarize (cands, port, port + RANGE - 1);
  g_assert_cmpuint (s.udp_host, >, 0);
  g_assert_true (s.ports_in_range);
  g_assert_cmpuint (s.host_private, >, 0);
  /* An IPv4 NAT address maps the IPv4 candidates; IPv6 ones stay as they are. */
  g_assert_cmpuint (s.host_private_v4, >, 0);
  g_assert_cmpuint (s.host_public, ==, s.host_private_v4);
  for (guint i = 0; i < cands->len; i++)
    {
      Candidate *c = &g_array_index (cands, Candidate, i);
      if (!g_str_equal (c->address, PUBLIC_ADDRESS))
        continue;
      Candidate *twin = &g_array_index (cands, Candidate, i - 1);
      g_assert_cmpuint (twin->port, ==, c->port);
      g_assert_cmpstr (twin->transport, ==, c->transport);
    }

  assert_session_works (gw, "beside");
  stop_gateway (gw);
}

/* keep_private_host = false: only the public address is advertised as a
 * host candidate. The session still connects on this machine, where the
 * gateway's checks teach the client a peer-reflexive address: what it
 * proves is that the settings break nothing, not that the NAT forwards. */
static void
test_nat_replaces_private (void)
{
  guint port = free_port_range ();
  const char *more[]
      = { "webrtc.nat_1_1_address=" PUBLIC_ADDRESS, "webrtc.keep_private_host=false", NULL };
  VgTestGateway *gw = start_gateway (port, port + RANGE - 1, more);

  g_autofree char *answer = answer_for (gw, "replaced");
  g_autoptr (GArray) cands = answer_candidates (answer);
  CandidateSummary s = summarize (cands, port, port + RANGE - 1);
  g_assert_cmpuint (s.host_public, >, 0);
  g_assert_cmpuint (s.host_private_v4, ==, 0);
  g_assert_true (s.ports_in_range);

  assert_session_works (gw, "replaced");
  stop_gateway (gw);
}

/* ICE bound to loopback gathers there only (libnice otherwise skips
 * loopback): the answer's host candidates are 127.0.0.1, in the range. */
static void
test_bound_addresses (void)
{
  guint port = free_port_range ();
  const char *more[] = { "webrtc.ice_addresses=127.0.0.1", NULL };
  VgTestGateway *gw = start_gateway (port, port + RANGE - 1, more);

  g_autofree char *answer = answer_for (gw, "bound");
  g_autoptr (GArray) cands = answer_candidates (answer);
  g_assert_cmpuint (cands->len, >, 0);
  for (guint i = 0; i < cands->len; i++)
    {
      Candidate *c = &g_array_index (cands, Candidate, i);
      g_assert_cmpstr (c->address, ==, "127.0.0.1");
      if (g_str_equal (c->transport, "udp"))
        g_assert_cmpuint (c->port, >=, port);
      if (g_str_equal (c->transport, "udp"))
        g_assert_cmpuint (c->port, <=, port + RANGE - 1);
    }
  assert_session_works (gw, "bound");
  stop_gateway (gw);
}

/* One port on one address holds one session; the next join is refused
 * with 503 ice_unavailable instead of an answer no client could use. */
static void
test_range_exhausted (void)
{
  guint port = free_port_range ();
  const char *more[] = { "webrtc.ice_addresses=127.0.0.1", NULL };
  VgTestGateway *gw = start_gateway (port, port, more);

  g_autofree char *tok1 = publisher_token ("tight", "first");
  g_autofree char *offer1 = real_offer ();
  Reply first = request (gw, "POST", "/api/rooms/tight/whip", tok1, offer1);
  g_assert_cmpuint (first.status, ==, 201);

  /* The refusal is logged as a warning, which g_test makes fatal. */
  GLogLevelFlags fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_autofree char *tok2 = publisher_token ("tight", "second");
  g_autofree char *offer2 = real_offer ();
  Reply second = request (gw, "POST", "/api/rooms/tight/whip", tok2, offer2);
  g_test_message ("second join: %u %s", second.status, second.body);
  g_assert_cmpuint (second.status, ==, 503);
  g_assert_nonnull (strstr (second.body, "ice_unavailable"));
  g_log_set_always_fatal (fatal);

  /* The port is free again once the first session leaves. */
  Reply gone = request (gw, "DELETE", first.location, tok1, NULL);
  g_assert_cmpuint (gone.status, ==, 200);
  g_autofree char *tok3 = publisher_token ("tight", "third");
  g_autofree char *offer3 = real_offer ();
  Reply third = request (gw, "POST", "/api/rooms/tight/whip", tok3, offer3);
  g_assert_cmpuint (third.status, ==, 201);
  Reply gone3 = request (gw, "DELETE", third.location, tok3, NULL);

  reply_clear (&first);
  reply_clear (&second);
  reply_clear (&gone);
  reply_clear (&third);
  reply_clear (&gone3);
  stop_gateway (gw);
}

/* The ICE servers reach the client as RFC 9725 Link headers, parsed here
 * as a client would: the URI in <>, rel="ice-server", and the TURN
 * credentials as quoted attributes. */
static void
test_link_headers (void)
{
  guint port = free_port_range ();
  const char *more[] = { "webrtc.stun_server=stun:127.0.0.1:3478",
                         "webrtc.turn_server=turn://alice:p%40ss@127.0.0.1:3479", NULL };
  VgTestGateway *gw = start_gateway (port, port + RANGE - 1, more);
  g_autofree char *tok = publisher_token ("linked", "probe");
  g_autofree char *offer = real_offer ();
  Reply r = request (gw, "POST", "/api/rooms/linked/whip", tok, offer);
  g_assert_cmpuint (r.status, ==, 201);
  g_assert_cmpuint (g_strv_length (r.links), ==, 2);

  g_autoptr (GRegex) link
      = g_regex_new ("^<([^>]+)>((?:\\s*;\\s*[a-z-]+=\"[^\"]*\")*)$", 0, 0, NULL);
  g_autoptr (GRegex) param = g_regex_new ("([a-z-]+)=\"([^\"]*)\"", 0, 0, NULL);
  g_autoptr (GHashTable) seen
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_hash_table_unref);
  for (guint i = 0; r.links[i]; i++)
    {
      g_autoptr (GMatchInfo) mi = NULL;
      if (!g_regex_match (link, r.links[i], 0, &mi))
        g_error ("not a Link value: %s", r.links[i]);
      g_autofree char *uri = g_match_info_fetch (mi, 1);
      g_autofree char *params = g_match_info_fetch (mi, 2);
      GHashTable *attrs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_autoptr (GMatchInfo) pi = NULL;
      g_regex_match (param, params, 0, &pi);
      while (g_match_info_matches (pi))
        {
          g_hash_table_insert (attrs, g_match_info_fetch (pi, 1), g_match_info_fetch (pi, 2));
          g_match_info_next (pi, NULL);
        }
      g_hash_table_insert (seen, g_steal_pointer (&uri), attrs);
    }
  GHashTable *stun = g_hash_table_lookup (seen, "stun:127.0.0.1:3478");
  GHashTable *turn = g_hash_table_lookup (seen, "turn:127.0.0.1:3479");
  g_assert_nonnull (stun);
  g_assert_nonnull (turn);
  g_assert_cmpstr (g_hash_table_lookup (stun, "rel"), ==, "ice-server");
  g_assert_null (g_hash_table_lookup (stun, "username"));
  g_assert_cmpstr (g_hash_table_lookup (turn, "rel"), ==, "ice-server");
  g_assert_cmpstr (g_hash_table_lookup (turn, "username"), ==, "alice");
  g_assert_cmpstr (g_hash_table_lookup (turn, "credential"), ==, "p@ss");

  Reply gone = request (gw, "DELETE", r.location, tok, NULL);
  reply_clear (&gone);

  /* The same before the offer, for clients that gather first (the page). */
  Reply before = request (gw, "OPTIONS", "/api/rooms/linked/whip", tok, NULL);
  g_assert_cmpuint (before.status, ==, 204);
  g_assert_cmpuint (g_strv_length (before.links), ==, 2);
  for (guint i = 0; i < 2; i++)
    g_assert_true (g_strv_contains ((const char *const *)before.links, r.links[i]));
  Reply anonymous = request (gw, "OPTIONS", "/api/rooms/linked/whep", NULL, NULL);
  g_assert_cmpuint (anonymous.status, ==, 401);
  g_assert_cmpuint (g_strv_length (anonymous.links), ==, 0);
  g_autofree char *other = publisher_token ("elsewhere", "probe");
  Reply wrong_room = request (gw, "OPTIONS", "/api/rooms/linked/whep", other, NULL);
  g_assert_cmpuint (wrong_room.status, ==, 403);
  reply_clear (&before);
  reply_clear (&anonymous);
  reply_clear (&wrong_room);
  reply_clear (&r);
  stop_gateway (gw);
}

/* A free local port for a TCP and UDP server (coturn listens on both). */
static guint
free_port (void)
{
  g_autoptr (GSocketListener) l = g_socket_listener_new ();
  guint16 port = g_socket_listener_add_any_inet_port (l, NULL, NULL);
  g_socket_listener_close (l);
  return port;
}

static gboolean
tcp_open (guint port)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn
      = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  return conn != NULL;
}

/* In the child before exec: a test that aborts takes its TURN server along. */
static void
die_with_parent (gpointer unused)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* With a real TURN server (Debian's coturn on loopback) in the settings, the
 * answer carries a relay candidate the server allocated, and a session
 * still connects. ICE gathers on loopback only, where coturn listens. */
static void
test_turn_relay_candidate (void)
{
  g_autofree char *turnserver = g_find_program_in_path ("turnserver");
  if (!turnserver)
    g_error ("turnserver (Debian's coturn, tools/install-deps.sh test) is not installed");
  g_autofree char *dir = g_dir_make_tmp ("vg-turn-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "turndb", NULL);
  guint turn_port = free_port ();
  guint relay_min = free_port_range ();
  g_autofree char *listening = g_strdup_printf ("--listening-port=%u", turn_port);
  g_autofree char *min = g_strdup_printf ("--min-port=%u", relay_min);
  g_autofree char *max = g_strdup_printf ("--max-port=%u", relay_min + RANGE - 1);
  g_autofree char *userdb = g_strdup_printf ("--userdb=%s", db);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  g_autoptr (GSubprocess) turn = g_subprocess_launcher_spawn (
      launcher, &error, turnserver, "-n", "--no-cli", "--no-tls", "--no-dtls",
      "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", listening, min, max, "--lt-cred-mech",
      "--user=vg:s3cret", "--realm=voxgate.test", "--allow-loopback-peers", userdb,
      "--no-stdout-log", NULL);
  g_assert_no_error (error);
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (!tcp_open (turn_port) && g_get_monotonic_time () < deadline)
    g_usleep (50000);
  g_assert_true (tcp_open (turn_port));

  guint port = free_port_range ();
  g_autofree char *stun = g_strdup_printf ("webrtc.stun_server=stun:127.0.0.1:%u", turn_port);
  g_autofree char *turn_url
      = g_strdup_printf ("webrtc.turn_server=turn://vg:s3cret@127.0.0.1:%u", turn_port);
  const char *more[] = { "webrtc.ice_addresses=127.0.0.1", stun, turn_url, NULL };
  VgTestGateway *gw = start_gateway (port, port + RANGE - 1, more);

  g_autofree char *answer = answer_for (gw, "relayed");
  g_autoptr (GArray) cands = answer_candidates (answer);
  guint relays = 0;
  for (guint i = 0; i < cands->len; i++)
    {
      Candidate *c = &g_array_index (cands, Candidate, i);
      g_test_message ("answer candidate: %s %s %u typ %s", c->transport, c->address, c->port,
                      c->type);
      if (g_str_equal (c->type, "relay"))
        {
          g_assert_cmpstr (c->address, ==, "127.0.0.1");
          g_assert_cmpuint (c->port, >=, relay_min);
          g_assert_cmpuint (c->port, <=, relay_min + RANGE - 1);
          relays++;
        }
    }
  g_assert_cmpuint (relays, >=, 1);
  assert_session_works (gw, "relayed");

  /* A participant still in the room when the gateway stops: the room's
   * stopping job releases its allocation too (libnice warns otherwise,
   * which this test makes fatal). */
  g_autofree char *tok = publisher_token ("relayed", "stayer");
  VgTestClient *stayer = vg_test_client_new ("stayer", NULL);
  g_autofree char *url = vg_test_gateway_url (gw, "/api/rooms/relayed/whip");
  vg_test_client_use_http (stayer, url, tok);
  g_assert_true (vg_test_client_start (stayer, &error));
  g_assert_true (vg_test_client_wait_connected (stayer, 10000));
  stop_gateway (gw);
  vg_test_client_stop (stayer, FALSE);
  vg_test_client_free (stayer);

  g_subprocess_send_signal (turn, SIGTERM);
  g_subprocess_wait (turn, NULL, NULL);
  g_unlink (db);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  http = soup_session_new ();
  g_test_add_func ("/rooms/ice-network/nat-beside-private", test_nat_beside_private);
  g_test_add_func ("/rooms/ice-network/nat-replaces-private", test_nat_replaces_private);
  g_test_add_func ("/rooms/ice-network/bound-addresses", test_bound_addresses);
  g_test_add_func ("/rooms/ice-network/range-exhausted", test_range_exhausted);
  g_test_add_func ("/rooms/ice-network/link-headers", test_link_headers);
  g_test_add_func ("/rooms/ice-network/turn-relay-candidate", test_turn_relay_candidate);
  int rc = g_test_run ();
  g_object_unref (http);
  return rc;
}
