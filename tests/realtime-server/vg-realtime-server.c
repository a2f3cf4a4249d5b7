/* vg-realtime-server: the fake Realtime API as a program, for gst-launch
 * examples and other test suites (the browser tests run the tutor against
 * it). Prints its URL on stdout. --script FILE scripts every connection's
 * responses (function calls); --log FILE appends one JSON line per client
 * event, audio appends left out. */
#include "vg-rt-server.h"

#include <glib-unix.h>
#include <errno.h>
#include <stdio.h>

/* Server thread: one line per client event, written whole and flushed, so a
 * test can read the file while the server runs. */
static void
log_client_event (const VgRtLogEntry *entry, gpointer data)
{
  FILE *out = data;
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *line = NULL;

  if (!entry->from_client || entry->event == NULL)
    return;
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "connection");
  json_builder_add_int_value (b, entry->connection);
  json_builder_set_member_name (b, "event");
  json_builder_add_value (b, json_node_init_object (json_node_alloc (), entry->event));
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  line = json_to_string (root, FALSE);
  fprintf (out, "%s\n", line);
  fflush (out);
}

static gboolean
on_signal (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  VgRtServerOptions opt = { 0 };
  gint port = 8765, response_ms = 1000, delta_ms = 100, interval_ms = 5, expiry_ms = 0;
  gint seed = 0;
  double vad = 0.02;
  g_autofree char *api_key = NULL, *script_file = NULL, *log_file = NULL;
  g_autofree char *script = NULL;
  FILE *log = NULL;
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "TCP port on 127.0.0.1 (0: any)", "N" },
    { "api-key", 'k', 0, G_OPTION_ARG_STRING, &api_key,
      "Required Bearer key (default: any non-empty key)", "KEY" },
    { "response-ms", 0, 0, G_OPTION_ARG_INT, &response_ms, "Audio per response in ms", "MS" },
    { "delta-ms", 0, 0, G_OPTION_ARG_INT, &delta_ms, "Audio per delta in ms", "MS" },
    { "burst-interval-ms", 0, 0, G_OPTION_ARG_INT, &interval_ms,
      "Wall time between deltas in ms (smaller = faster than real time)", "MS" },
    { "session-expiry-ms", 0, 0, G_OPTION_ARG_INT, &expiry_ms,
      "Session length before session_expired (default 60 min)", "MS" },
    { "vad-threshold", 0, 0, G_OPTION_ARG_DOUBLE, &vad, "Energy VAD RMS threshold (0..1)", "X" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Random seed for event interleaving", "N" },
    { "script", 0, 0, G_OPTION_ARG_FILENAME, &script_file,
      "Scripted responses of every connection (a JSON array, see vg-rt-server.h)", "FILE" },
    { "log", 0, 0, G_OPTION_ARG_FILENAME, &log_file,
      "Append one JSON line per client event (audio appends left out)", "FILE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Do not keep a log of audio events", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- fake OpenAI Realtime API server");
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autofree char *url = NULL;
  VgRtServer *server;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (port < 0 || port > 65535 || response_ms <= 0 || delta_ms <= 0 || interval_ms <= 0
      || expiry_ms < 0)
    {
      g_printerr ("invalid option value\n");
      return 2;
    }
  if (script_file && !g_file_get_contents (script_file, &script, NULL, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (log_file && !(log = fopen (log_file, "a")))
    {
      g_printerr ("cannot open %s: %s\n", log_file, g_strerror (errno));
      return 2;
    }
  opt.port = port;
  opt.api_key = api_key;
  opt.response_audio_ms = response_ms;
  opt.delta_ms = delta_ms;
  opt.burst_interval_ms = interval_ms;
  opt.session_expiry_ms = expiry_ms;
  opt.vad_rms_threshold = vad;
  opt.seed = seed;
  /* A long-running program must not keep an unbounded log of audio. */
  opt.quiet = TRUE;
  (void)quiet;
  opt.on_log = log ? log_client_event : NULL;
  opt.on_log_data = log;
  server = vg_rt_server_new (&opt, &error);
  if (server == NULL)
    {
      g_printerr ("cannot listen: %s\n", error->message);
      return 1;
    }
  if (script && !vg_rt_server_set_script (server, script, &error))
    {
      g_printerr ("%s: %s\n", script_file, error->message);
      vg_rt_server_free (server);
      return 2;
    }
  url = vg_rt_server_get_url (server);
  printf ("%s\n", url);
  fflush (stdout);
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_main_loop_run (loop);
  vg_rt_server_free (server);
  if (log)
    fclose (log);
  return 0;
}
