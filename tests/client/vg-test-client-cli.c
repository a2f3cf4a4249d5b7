/* vg-test-client: joins a voxgate room with one or many webrtcbin peers over
 * WHIP (or WHEP), sends a tone, and reports connection times and what each
 * peer heard. One process holds every peer: this is the benchmark's load
 * client.
 *
 *   vg-test-client --url http://127.0.0.1:8080 --room demo --peers 20 \
 *                  --api-key devkey --api-secret secret --tone 440 --duration 10
 *
 * As the benchmark's load client (bench/sessions/run.sh), --preencoded sends
 * every peer the same Opus frames, encoded once, from one pacing thread
 * (vg-load-sender.h), and only the first --measure peers decode all they
 * receive (round trips, tone, reply latencies); the others decode until
 * their first audio and then leave the counting to webrtcbin's statistics.
 * --turns ON:OFF makes every peer speak in turns (for an agent that
 * replies, e.g. tutor.pipeline) and measures the replies.
 *
 * Prints one JSON object on stdout; exits 1 when a peer failed to connect. */
#include "vg-test-client.h"
#include "gateway/core/jwt.h"
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double
percentile (GArray *sorted, double q)
{
  if (sorted->len == 0)
    return -1;
  guint i = (guint)CLAMP (q * (sorted->len - 1) + 0.5, 0, sorted->len - 1);
  return g_array_index (sorted, double, i);
}

/* ,"name":{"n":N,"p50":…,"p95":…,"max":…} over values (sorted here). */
static void
append_summary (GString *out, const char *name, GArray *values, double scale)
{
  g_array_sort (values, compare_doubles);
  g_string_append_printf (out, ",\"%s\":{\"n\":%u,\"p50\":%.4f,\"p95\":%.4f,\"max\":%.4f}", name,
                          values->len, percentile (values, 0.5) * scale,
                          percentile (values, 0.95) * scale, percentile (values, 1.0) * scale);
}

static gboolean
all_round_trips_done (gpointer data)
{
  GPtrArray *armed = data;
  for (guint i = 0; i < armed->len; i++)
    if (vg_test_client_get_round_trip (g_ptr_array_index (armed, i)) < 0)
      return FALSE;
  return TRUE;
}

static char *
mint (const char *key, const char *secret, const char *room, const char *identity, gboolean admin)
{
  VgClaims c = { 0 };
  c.identity = (char *)identity;
  c.expires_at = g_get_real_time () / G_USEC_PER_SEC + 3600;
  c.video.room = (char *)room;
  c.video.room_join = TRUE;
  c.video.room_admin = admin;
  c.video.can_publish = TRUE;
  c.video.can_publish_set = TRUE;
  return vg_jwt_mint (&c, key, secret);
}

int
main (int argc, char **argv)
{
  g_autofree char *url = NULL, *room = NULL, *token = NULL, *key = NULL, *secret = NULL;
  g_autofree char *identity_prefix = NULL;
  int peers = 1, ramp_ms = 50, connect_timeout_s = 20, http_timeout_s = 15;
  double tone = 440, duration = 5;
  gboolean whep = FALSE, no_leave = FALSE, room_per_peer = FALSE;
  int rtt_samples = 0, talk_ms = 0, measure = -1, turn_delay_ms = 2000;
  gboolean preencoded = FALSE;
  g_autofree char *turns = NULL;
  GOptionEntry entries[] = {
    { "url", 0, 0, G_OPTION_ARG_STRING, &url, "gateway base URL", "http://127.0.0.1:8080" },
    { "room", 0, 0, G_OPTION_ARG_STRING, &room, "room name", "NAME" },
    { "token", 0, 0, G_OPTION_ARG_STRING, &token, "bearer token (one peer)", "JWT" },
    { "api-key", 0, 0, G_OPTION_ARG_STRING, &key, "mint a token per peer with this key", "KEY" },
    { "api-secret", 0, 0, G_OPTION_ARG_STRING, &secret, "... and this secret", "SECRET" },
    { "identity", 0, 0, G_OPTION_ARG_STRING, &identity_prefix,
      "participant identity (one peer) or prefix NAME-i (default load-PID)", "NAME" },
    { "peers", 0, 0, G_OPTION_ARG_INT, &peers, "number of peers (default 1)", "N" },
    { "ramp-ms", 0, 0, G_OPTION_ARG_INT, &ramp_ms, "pause between joins (default 50)", "MS" },
    { "tone", 0, 0, G_OPTION_ARG_DOUBLE, &tone, "tone to send in Hz, 0 = silence (440)", "HZ" },
    { "talk-ms", 0, 0, G_OPTION_ARG_INT, &talk_ms,
      "send the tone this long after connecting, then silence: one spoken turn (0 = all along)",
      "MS" },
    { "room-per-peer", 0, 0, G_OPTION_ARG_NONE, &room_per_peer,
      "put peer i in room NAME-i (one session per room)", NULL },
    { "duration", 0, 0, G_OPTION_ARG_DOUBLE, &duration, "seconds to stay (default 5)", "S" },
    { "connect-timeout", 0, 0, G_OPTION_ARG_INT, &connect_timeout_s,
      "seconds, after the last join, for every peer to connect (default 20)", "S" },
    { "http-timeout", 0, 0, G_OPTION_ARG_INT, &http_timeout_s,
      "seconds a WHIP request may take (default 15)", "S" },
    { "whep", 0, 0, G_OPTION_ARG_NONE, &whep, "listen with WHEP instead of publishing", NULL },
    { "no-leave", 0, 0, G_OPTION_ARG_NONE, &no_leave, "vanish without DELETE", NULL },
    { "rtt", 0, 0, G_OPTION_ARG_INT, &rtt_samples,
      "measure N round trips on every peer (needs loopback.pipeline and --room-per-peer or one "
      "peer)",
      "N" },
    { "preencoded", 0, 0, G_OPTION_ARG_NONE, &preencoded,
      "load mode: pre-encoded frames from one pacing thread (tones 440/660/880 Hz only)", NULL },
    { "measure", 0, 0, G_OPTION_ARG_INT, &measure,
      "with --preencoded, peers that decode everything (default 10); the rest decode until "
      "their first audio",
      "N" },
    { "turns", 0, 0, G_OPTION_ARG_STRING, &turns,
      "with --preencoded, after connecting speak the tone for ON ms, then OFF ms of silence, "
      "repeatedly, and time the replies (peers spread over the period)",
      "ON:OFF" },
    { "turn-delay-ms", 0, 0, G_OPTION_ARG_INT, &turn_delay_ms,
      "silence before the first turn, after every peer connected (default 2000)", "MS" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx
      = g_option_context_new ("- voxgate WHIP/WHEP test and load client");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("vg-test-client: %s\n", error->message);
      return 2;
    }
  if (!url || !room || (!token && !(key && secret)) || peers < 1 || (token && peers > 1))
    {
      g_printerr ("vg-test-client: needs --url, --room and --token (one peer) or "
                  "--api-key/--api-secret\n");
      return 2;
    }

  guint turn_on_ms = 0, turn_off_ms = 0;
  if (turns
      && (sscanf (turns, "%u:%u", &turn_on_ms, &turn_off_ms) != 2 || turn_on_ms == 0
          || turn_off_ms == 0 || !preencoded))
    {
      g_printerr ("vg-test-client: --turns needs ON:OFF (ms, both > 0) and --preencoded\n");
      return 2;
    }
  if (preencoded && tone != 0 && tone != 440 && tone != 660 && tone != 880)
    {
      g_printerr ("vg-test-client: --preencoded sends 440, 660 or 880 Hz\n");
      return 2;
    }
  if (measure < 0)
    measure = preencoded ? 10 : peers;
  g_autoptr (GError) sender_error = NULL;
  VgLoadSender *sender = preencoded ? vg_load_sender_new (&sender_error) : NULL;
  if (preencoded && !sender)
    {
      g_printerr ("vg-test-client: %s\n", sender_error->message);
      return 1;
    }
  /* A turn-taking peer starts silent: the agent speaks first (a greeting). */
  double first_tone = turns ? 0 : tone;

  g_autofree char *base
      = g_str_has_suffix (url, "/") ? g_strndup (url, strlen (url) - 1) : g_strdup (url);
  GPtrArray *clients = g_ptr_array_new_with_free_func ((GDestroyNotify)vg_test_client_free);
  for (int i = 0; i < peers; i++)
    {
      g_autofree char *identity = !identity_prefix
                                      ? g_strdup_printf ("load-%d-%d", (int)getpid (), i)
                                  : peers == 1 ? g_strdup (identity_prefix)
                                               : g_strdup_printf ("%s-%d", identity_prefix, i);
      g_autofree char *peer_room
          = room_per_peer ? g_strdup_printf ("%s-%d", room, i) : g_strdup (room);
      g_autofree char *endpoint
          = g_strdup_printf ("%s/api/rooms/%s/%s", base, peer_room, whep ? "whep" : "whip");
      g_autofree char *tok
          = token ? g_strdup (token) : mint (key, secret, peer_room, identity, whep);
      VgTestClientOptions o = { .tone_hz = first_tone,
                                .listen_only = whep,
                                .data_channel = !whep,
                                .sender = sender,
                                .measure = i < measure,
                                .http_timeout_s = (guint)MAX (http_timeout_s, 1) };
      VgTestClient *c = vg_test_client_new (identity, &o);
      vg_test_client_use_http (c, endpoint, tok);
      if (!vg_test_client_start (c, &error))
        {
          g_printerr ("vg-test-client: %s: %s\n", identity, error->message);
          g_clear_error (&error);
        }
      g_ptr_array_add (clients, c);
      vg_test_run_for (ramp_ms);
    }
  /* One deadline for all: with many peers failing, a timeout each would
   * add up to hours. */
  gint64 deadline = g_get_monotonic_time () + (gint64)connect_timeout_s * G_USEC_PER_SEC;
  for (guint i = 0; i < clients->len; i++)
    {
      gint64 left_ms = MAX (0, (deadline - g_get_monotonic_time ()) / 1000);
      vg_test_client_wait_connected (g_ptr_array_index (clients, i), (guint)left_ms);
    }
  /* For a harness sampling the steady state: every peer has joined. */
  guint up = 0;
  for (guint i = 0; i < clients->len; i++)
    up += vg_test_client_is_connected (g_ptr_array_index (clients, i));
  g_printerr ("vg-test-client: joined: %u of %d connected\n", up, peers);
  /* Spread the turns over the period so that the replies do not all come
   * at once. */
  for (guint i = 0; turns && i < clients->len; i++)
    vg_test_client_set_turns (
        g_ptr_array_index (clients, i), turn_on_ms, turn_off_ms,
        turn_delay_ms + (guint)((guint64)i * (turn_on_ms + turn_off_ms) / clients->len));
  if (talk_ms > 0)
    {
      vg_test_run_for ((guint)talk_ms);
      for (guint i = 0; i < clients->len; i++)
        vg_test_client_send_tone (g_ptr_array_index (clients, i), 0);
    }
  vg_test_run_for ((guint)(duration * 1000));

  GArray *times = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *first_audio = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *loss = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *jitter = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *replies = g_array_new (FALSE, FALSE, sizeof (double));
  guint64 total_received = 0, total_lost = 0, total_sent = 0, total_remote_lost = 0;
  guint connected = 0, heard_tone = 0, measured = 0;
  g_autoptr (GString) failures = g_string_new (NULL);
  for (guint i = 0; i < clients->len; i++)
    {
      VgTestClient *c = g_ptr_array_index (clients, i);
      if (!vg_test_client_is_connected (c))
        {
          g_autofree char *why = g_strdup_printf (
              "%s: %u %s", vg_test_client_get_label (c), vg_test_client_get_http_status (c),
              vg_test_client_get_error (c) ? vg_test_client_get_error (c) : "not connected");
          g_autofree char *escaped = g_strescape (why, NULL);
          g_string_append_printf (failures, "%s\"%s\"", failures->len ? "," : "", escaped);
          continue;
        }
      connected++;
      double t = vg_test_client_get_connect_seconds (c);
      g_array_append_val (times, t);
      t = vg_test_client_get_first_audio_seconds (c);
      if (t > 0)
        g_array_append_val (first_audio, t);
      /* After one spoken turn the echo is somewhere in the quiet part; a Hann
       * window over all of it still finds a 1 s tone well above 0.02. */
      guint window_ms = talk_ms > 0 ? (guint)(duration * 1000) : 1000;
      if ((int)i < measure)
        {
          measured++;
          vg_test_client_get_reply_seconds (c, replies);
          /* Turn-taking peers hear the agent's replies, not their tone. */
          if (tone > 0 && !turns && vg_test_client_tone_level (c, tone, window_ms) > 0.02)
            heard_tone++;
        }
      total_sent += vg_test_client_get_frames_sent (c);
      VgTestInboundStats st;
      if (vg_test_client_get_inbound_stats (c, &st))
        {
          double pct = st.packets_received + st.packets_lost
                           ? 100.0 * st.packets_lost / (st.packets_received + st.packets_lost)
                           : 0;
          double ms = st.jitter_seconds * 1000;
          g_array_append_val (loss, pct);
          g_array_append_val (jitter, ms);
          total_received += st.packets_received;
          total_lost += st.packets_lost;
          total_remote_lost += st.remote_lost;
        }
    }

  /* Round trips on every connected peer at once: in rooms of their own
   * (--room-per-peer) they do not hear each other. A round trip is only
   * audible in a silent room, so all fall silent first. */
  GArray *rtts = g_array_new (FALSE, FALSE, sizeof (double));
  for (int r = 0; r < rtt_samples && !whep; r++)
    {
      /* Only the measured peers hear their echo; the others keep talking. */
      guint targets = MIN (clients->len, (guint)measure);
      for (guint i = 0; i < targets; i++)
        vg_test_client_send_tone (g_ptr_array_index (clients, i), 0);
      vg_test_run_for (600);
      GPtrArray *armed = g_ptr_array_new ();
      for (guint i = 0; i < targets; i++)
        {
          VgTestClient *c = g_ptr_array_index (clients, i);
          if (vg_test_client_is_connected (c)
              && vg_test_client_arm_round_trip (c, r % 2 ? 660 : 880))
            g_ptr_array_add (armed, c);
        }
      vg_test_wait_until (all_round_trips_done, armed, 3000);
      for (guint i = 0; i < armed->len; i++)
        {
          double rtt = vg_test_client_get_round_trip (g_ptr_array_index (armed, i));
          if (rtt > 0)
            g_array_append_val (rtts, rtt);
        }
      g_ptr_array_unref (armed);
    }

  g_autoptr (GString) out = g_string_new (NULL);
  g_string_append_printf (out, "{\"peers\":%d,\"connected\":%u,\"heard_tone\":%u", peers, connected,
                          heard_tone);
  g_string_append_printf (out, ",\"measured\":%u,\"heard_audio\":%u", measured, first_audio->len);
  append_summary (out, "connect_seconds", times, 1);
  append_summary (out, "first_audio_seconds", first_audio, 1);
  if (rtt_samples > 0)
    append_summary (out, "round_trip_seconds", rtts, 1);
  if (turns)
    append_summary (out, "reply_seconds", replies, 1);
  append_summary (out, "loss_percent", loss, 1);
  append_summary (out, "jitter_ms", jitter, 1);
  g_string_append_printf (out,
                          ",\"packets_received\":%" G_GUINT64_FORMAT
                          ",\"packets_lost\":%" G_GUINT64_FORMAT ",\"failures\":[%s]}",
                          total_received, total_lost, failures->str);
  if (sender)
    {
      VgLoadSenderStats ps;
      vg_load_sender_get_stats (sender, &ps);
      /* Upstream: frames sent and what the gateway's receiver reports
       * counted lost of them. */
      g_string_truncate (out, out->len - 1);
      g_string_append_printf (
          out,
          ",\"frames_sent\":%" G_GUINT64_FORMAT ",\"upstream_lost\":%" G_GUINT64_FORMAT
          ",\"pacer\":{\"ticks\":%" G_GUINT64_FORMAT ",\"late_ticks\":%" G_GUINT64_FORMAT
          ",\"max_late_ms\":%.1f}}",
          total_sent, total_remote_lost, ps.ticks, ps.late_ticks, ps.max_late_ms);
    }
  printf ("%s\n", out->str);
  fflush (stdout);
  for (guint i = 0; i < clients->len; i++)
    vg_test_client_stop (g_ptr_array_index (clients, i), !no_leave);
  g_array_unref (times);
  g_array_unref (first_audio);
  g_array_unref (loss);
  g_array_unref (jitter);
  g_array_unref (rtts);
  g_array_unref (replies);
  g_ptr_array_unref (clients);
  vg_load_sender_free (sender);
  return connected == (guint)peers ? 0 : 1;
}
