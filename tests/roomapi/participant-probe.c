/* A participant for the room API tests: joins a room through WHIP with the
 * "events" data channel, says "connected", prints every event it receives as
 * "event <json>" lines, and leaves (DELETE) when stdin closes or after
 * --duration seconds.
 *   participant-probe --url URL --room ROOM --token JWT [--duration S] */
#include "vg-test-client.h"

#include <gio/gunixinputstream.h>
#include <gst/gst.h>
#include <stdio.h>

static gboolean stdin_closed;

static void
on_stdin (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GBytes) bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, NULL);
  if (!bytes || g_bytes_get_size (bytes) == 0)
    stdin_closed = TRUE;
  else
    g_input_stream_read_bytes_async (G_INPUT_STREAM (source), 256, G_PRIORITY_DEFAULT, NULL, on_stdin, NULL);
}

int
main (int argc, char **argv)
{
  g_autofree char *url = NULL, *room = NULL, *token = NULL;
  double duration = 30;
  GOptionEntry entries[] = {
    { "url", 0, 0, G_OPTION_ARG_STRING, &url, "gateway base URL", "URL" },
    { "room", 0, 0, G_OPTION_ARG_STRING, &room, "room", "ROOM" },
    { "token", 0, 0, G_OPTION_ARG_STRING, &token, "participant token", "JWT" },
    { "duration", 0, 0, G_OPTION_ARG_DOUBLE, &duration, "longest stay in seconds", "S" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- a probing participant");
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) in = g_unix_input_stream_new (0, FALSE);
  VgTestClientOptions options = { .data_channel = TRUE, .tone_hz = 440 };
  VgTestClient *client;
  g_autofree char *endpoint = NULL;
  gint64 deadline;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || !url || !room || !token)
    {
      g_printerr ("participant-probe: needs --url, --room and --token\n");
      return 2;
    }
  endpoint = g_strdup_printf ("%s/api/rooms/%s/whip", url, room);
  client = vg_test_client_new ("probe", &options);
  vg_test_client_use_http (client, endpoint, token);
  if (!vg_test_client_start (client, &error) || !vg_test_client_wait_connected (client, 20000)
      || !vg_test_client_wait_channel_open (client, 10000))
    {
      g_printerr ("participant-probe: could not join: %s\n",
                  error ? error->message : vg_test_client_get_error (client));
      vg_test_client_free (client);
      return 1;
    }
  printf ("connected\n");
  fflush (stdout);

  g_input_stream_read_bytes_async (in, 256, G_PRIORITY_DEFAULT, NULL, on_stdin, NULL);
  deadline = g_get_monotonic_time () + (gint64) (duration * G_USEC_PER_SEC);
  while (!stdin_closed && g_get_monotonic_time () < deadline)
    {
      g_autofree char *event = vg_test_client_wait_event (client, "data", NULL, NULL, 100);
      if (event)
        {
          printf ("event %s\n", event);
          fflush (stdout);
        }
    }
  vg_test_client_stop (client, TRUE);
  vg_test_client_free (client);
  return 0;
}
