/* vg-churn: sequential join/leave cycles against one voxgate, in one process
 * (a GStreamer init per cycle would cost more than the cycle itself).
 *
 *   vg-churn --url http://127.0.0.1:8080 --api-key devkey --api-secret secret \
 *            --cycles 200 [--audio-ms 300] [--room churn]
 *
 * Cycle i: WHIP POST, wait until connected, send a tone for --audio-ms and
 * check the gateway's echo reached us, then leave: even cycles DELETE the
 * WHIP session, odd ones vanish (the peer stops without a DELETE; the
 * gateway finds out by its own timeouts).
 *
 *   vg-churn ... --never-connect 200
 *
 * instead POSTs 200 offers whose peers are stopped before ICE can connect
 * (the gateway answers each; nobody is there to connect): the gateway must
 * drop them after [webrtc] join_timeout.
 *
 *   vg-churn ... --hold 2 [--leave-on-drain | --linger-ms MS]
 *
 * joins 2 peers that stay, for the SIGTERM drain test (see hold ()).
 *
 * Prints one JSON object on stdout; exits 1 when a cycle failed. Runs on the
 * main thread's default context (the client's wait functions iterate it). */
#include "vg-test-client.h"
#include "gateway/core/jwt.h"
#include <gst/gst.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char *
mint (const char *key, const char *secret, const char *room, const char *identity)
{
  VgClaims c = { 0 };
  c.identity = (char *)identity;
  c.expires_at = g_get_real_time () / G_USEC_PER_SEC + 3600;
  c.video.room = (char *)room;
  c.video.room_join = TRUE;
  c.video.can_publish = TRUE;
  c.video.can_publish_set = TRUE;
  return vg_jwt_mint (&c, key, secret);
}

/* One join/leave cycle; FALSE (with why) when the peer did not connect or
 * heard nothing back. */
static gboolean
run_cycle (const char *endpoint, const char *token, const char *label, guint audio_ms,
           gboolean leave, double *connect_s, GString *why)
{
  VgTestClientOptions o = { .tone_hz = 440, .data_channel = TRUE };
  VgTestClient *c = vg_test_client_new (label, &o);
  g_autoptr (GError) error = NULL;
  gboolean ok = FALSE;

  vg_test_client_use_http (c, endpoint, token);
  if (!vg_test_client_start (c, &error))
    g_string_printf (why, "%s: start: %s", label, error->message);
  else if (!vg_test_client_wait_connected (c, 20000))
    g_string_printf (why, "%s: not connected (%u %s)", label, vg_test_client_get_http_status (c),
                     vg_test_client_get_error (c) ? vg_test_client_get_error (c) : "");
  else
    {
      *connect_s = vg_test_client_get_connect_seconds (c);
      vg_test_run_for (audio_ms);
      /* The echo agent sends our tone back: audio flowed both ways. On a
       * loaded machine the first echo may come later than audio_ms: wait
       * for it up to 2 s more before calling the cycle failed. */
      for (int i = 0; i < 100 && vg_test_client_samples_received (c) == 0; i++)
        vg_test_run_for (20);
      if (vg_test_client_samples_received (c) == 0)
        g_string_printf (why, "%s: no audio back within %u ms", label, audio_ms + 2000);
      else
        ok = TRUE;
    }
  vg_test_client_stop (c, leave);
  vg_test_client_free (c);
  return ok;
}

/* An answered offer from a peer that is gone before the answer: the offer
 * is made, the peer stopped (its ICE ports closed), then the offer POSTed,
 * so the gateway can never connect to it. */
static gboolean
post_and_vanish (SoupSession *session, const char *endpoint, const char *token, const char *label,
                 GString *why)
{
  VgTestClientOptions o = { .tone_hz = 0, .data_channel = TRUE };
  VgTestClient *c = vg_test_client_new (label, &o);
  g_autoptr (GError) error = NULL;
  g_autofree char *offer = vg_test_client_make_offer (c, 5000, &error);
  gboolean ok = FALSE;

  vg_test_client_stop (c, FALSE);
  vg_test_client_free (c);
  if (!offer)
    {
      g_string_printf (why, "%s: offer: %s", label, error->message);
      return FALSE;
    }
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", endpoint);
  g_autoptr (GBytes) body = g_bytes_new (offer, strlen (offer));
  g_autofree char *auth = g_strdup_printf ("Bearer %s", token);
  soup_message_set_request_body_from_bytes (msg, "application/sdp", body);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
  g_autoptr (GBytes) answer = soup_session_send_and_read (session, msg, NULL, &error);
  if (!answer)
    g_string_printf (why, "%s: POST: %s", label, error->message);
  else if (soup_message_get_status (msg) != SOUP_STATUS_CREATED)
    g_string_printf (why, "%s: POST answered %u", label, soup_message_get_status (msg));
  else
    ok = TRUE;
  return ok;
}

/* --hold: n peers join and stay; once all are connected with their events
 * channel open, {"ready":n} is printed; then each waits for the gateway's
 * node_draining event, the result is printed, and the peers stay linger_ms
 * longer, then leave (DELETE) or vanish. */
static int
hold (const char *endpoint, const char *key, const char *secret, const char *room, int n,
      gboolean leave_on_drain, guint linger_ms)
{
  g_autoptr (GPtrArray) clients
      = g_ptr_array_new_with_free_func ((GDestroyNotify)vg_test_client_free);
  guint told = 0;
  int status = 0;
  g_autofree char *first = NULL;

  for (int i = 0; i < n; i++)
    {
      g_autofree char *label = g_strdup_printf ("hold-%d-%d", (int)getpid (), i);
      g_autofree char *token = mint (key, secret, room, label);
      VgTestClientOptions o = { .tone_hz = 440, .data_channel = TRUE };
      VgTestClient *c = vg_test_client_new (label, &o);
      g_autoptr (GError) error = NULL;
      g_ptr_array_add (clients, c);
      vg_test_client_use_http (c, endpoint, token);
      if (!vg_test_client_start (c, &error) || !vg_test_client_wait_connected (c, 20000)
          || !vg_test_client_wait_channel_open (c, 10000))
        {
          g_printerr ("vg-churn: %s did not connect\n", label);
          return 1;
        }
    }
  printf ("{\"ready\":%d}\n", n);
  fflush (stdout);
  for (guint i = 0; i < clients->len; i++)
    {
      g_autofree char *event = vg_test_client_wait_event (g_ptr_array_index (clients, i),
                                                          "node_draining", NULL, NULL, 60000);
      if (event)
        told++;
      if (event && !first)
        first = g_steal_pointer (&event);
    }
  printf ("{\"told\":%u,\"event\":%s}\n", told, first ? first : "null");
  fflush (stdout);
  if (told != clients->len)
    status = 1;
  vg_test_run_for (linger_ms);
  for (guint i = 0; i < clients->len; i++)
    vg_test_client_stop (g_ptr_array_index (clients, i), leave_on_drain);
  return status;
}

int
main (int argc, char **argv)
{
  g_autofree char *url = NULL, *room = NULL, *key = NULL, *secret = NULL;
  int cycles = 0, audio_ms = 300, never_connect = 0, hold_n = 0, linger_ms = 0;
  gboolean leave_on_drain = FALSE;
  GOptionEntry entries[]
      = { { "url", 0, 0, G_OPTION_ARG_STRING, &url, "gateway base URL", "http://127.0.0.1:8080" },
          { "room", 0, 0, G_OPTION_ARG_STRING, &room, "room name (default churn)", "NAME" },
          { "api-key", 0, 0, G_OPTION_ARG_STRING, &key, "mint tokens with this key", "KEY" },
          { "api-secret", 0, 0, G_OPTION_ARG_STRING, &secret, "... and this secret", "SECRET" },
          { "cycles", 0, 0, G_OPTION_ARG_INT, &cycles, "join/leave cycles", "N" },
          { "audio-ms", 0, 0, G_OPTION_ARG_INT, &audio_ms, "tone sent per cycle (default 300)",
            "MS" },
          { "never-connect", 0, 0, G_OPTION_ARG_INT, &never_connect,
            "POST N offers whose peers never connect", "N" },
          { "hold", 0, 0, G_OPTION_ARG_INT, &hold_n,
            "N peers join, stay, and wait for the node_draining event", "N" },
          { "leave-on-drain", 0, 0, G_OPTION_ARG_NONE, &leave_on_drain,
            "with --hold: DELETE once told the node drains", NULL },
          { "linger-ms", 0, 0, G_OPTION_ARG_INT, &linger_ms,
            "with --hold: stay this long after being told, then leave or vanish", "MS" },
          { NULL } };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- voxgate join/leave churn");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("vg-churn: %s\n", error->message);
      return 2;
    }
  if (!url || !key || !secret || (cycles > 0) + (never_connect > 0) + (hold_n > 0) != 1
      || audio_ms < 0 || linger_ms < 0)
    {
      g_printerr ("vg-churn: needs --url, --api-key, --api-secret and one of --cycles, "
                  "--never-connect, --hold\n");
      return 2;
    }
  if (!room)
    room = g_strdup ("churn");
  g_autofree char *base
      = g_str_has_suffix (url, "/") ? g_strndup (url, strlen (url) - 1) : g_strdup (url);
  g_autofree char *endpoint = g_strdup_printf ("%s/api/rooms/%s/whip", base, room);
  if (hold_n > 0)
    return hold (endpoint, key, secret, room, hold_n, leave_on_drain, (guint)linger_ms);
  g_autoptr (GString) why = g_string_new (NULL);
  guint ok = 0, failed = 0, left = 0, vanished = 0;
  double connect_sum = 0, connect_max = 0;
  gint64 t0 = g_get_monotonic_time ();
  int n = cycles > 0 ? cycles : never_connect;
  g_autoptr (SoupSession) session = soup_session_new ();

  for (int i = 0; i < n; i++)
    {
      g_autofree char *label = g_strdup_printf ("churn-%d-%d", (int)getpid (), i);
      g_autofree char *token = mint (key, secret, room, label);
      double connect_s = 0;
      gboolean good;
      g_string_truncate (why, 0);
      if (cycles > 0)
        {
          gboolean leave = i % 2 == 0;
          good = run_cycle (endpoint, token, label, (guint)audio_ms, leave, &connect_s, why);
          if (good)
            {
              connect_sum += connect_s;
              connect_max = MAX (connect_max, connect_s);
              leave ? left++ : vanished++;
            }
        }
      else
        good = post_and_vanish (session, endpoint, token, label, why);
      if (good)
        ok++;
      else
        {
          failed++;
          g_printerr ("vg-churn: %s\n", why->str);
        }
    }
  double seconds = (g_get_monotonic_time () - t0) / 1e6;
  printf ("{\"cycles\":%d,\"ok\":%u,\"failed\":%u,\"deleted\":%u,\"vanished\":%u,"
          "\"connect_seconds_mean\":%.4f,\"connect_seconds_max\":%.4f,\"seconds\":%.2f}\n",
          n, ok, failed, left, vanished, ok && cycles > 0 ? connect_sum / ok : 0, connect_max,
          seconds);
  fflush (stdout);
  return failed ? 1 : 0;
}
