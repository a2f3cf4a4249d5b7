/* Shows the libsoup 3.2 server leaks that made voxgate turn keep-alive off
 * (bench/optimisations.md, "HTTP"): a plain SoupServer on its own listener,
 * N clients that each send one keep-alive request, read the answer and close
 * the idle connection. On libsoup 3.2.3 every such connection stays open on
 * the server (fd included: upstream d20c660, fixed in 3.3.0) and, under
 * LeakSanitizer, every accepted GSocket leaks (upstream b545d5f0, 3.4.0).
 *
 *   cc -o /tmp/soup-keepalive-leak bench/tools/soup-keepalive-leak.c \
 *      $(pkg-config --cflags --libs libsoup-3.0)
 *   /tmp/soup-keepalive-leak 200
 * Prints the server's open sockets before and after. */
#include <libsoup/soup.h>
#include <stdlib.h>

static guint
count_socket_fds (void)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;
  guint n = 0;

  while ((name = g_dir_read_name (dir)))
    {
      char *path = g_build_filename ("/proc/self/fd", name, NULL);
      char *target = g_file_read_link (path, NULL);
      n += target && g_str_has_prefix (target, "socket:");
      g_free (target);
      g_free (path);
    }
  g_dir_close (dir);
  return n;
}

static void
answer (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
        gpointer data)
{
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC, "ok", 2);
}

static gboolean
quit (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static void
client_done (GObject *proc, GAsyncResult *result, gpointer loop)
{
  g_subprocess_wait_finish (G_SUBPROCESS (proc), result, NULL);
  g_timeout_add (500, quit, loop); /* let the server see the closes */
}

int
main (int argc, char **argv)
{
  guint n = argc > 1 ? atoi (argv[1]) : 200;
  SoupServer *server = soup_server_new (NULL, NULL);
  GMainLoop *loop = g_main_loop_new (NULL, FALSE);
  GError *error = NULL;
  GSList *uris;
  guint port, before;
  char *script, *count;
  GSubprocess *client;

  soup_server_add_handler (server, NULL, answer, NULL, NULL);
  if (!soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    g_error ("%s", error->message);
  uris = soup_server_get_uris (server);
  port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  before = count_socket_fds ();
  script = g_strdup_printf ("import socket\n"
                            "for i in range(%u):\n"
                            "    s = socket.create_connection(('127.0.0.1', %u))\n"
                            "    s.sendall(b'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')\n"
                            "    s.recv(4096)\n"
                            "    s.close()\n",
                            n, port);
  count = g_strdup_printf ("%u", n);
  client
      = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "/usr/bin/python3", "-c", script, NULL);
  if (!client)
    g_error ("%s", error->message);
  g_subprocess_wait_async (client, NULL, client_done, loop);
  g_main_loop_run (loop);
  g_print ("libsoup %u.%u.%u: server sockets before %u, after %u idle keep-alive connections "
           "closed by their clients: %u\n",
           soup_get_major_version (), soup_get_minor_version (), soup_get_micro_version (), before,
           n, count_socket_fds ());
  g_object_unref (client);
  g_free (script);
  g_free (count);
  soup_server_disconnect (server);
  g_object_unref (server);
  g_main_loop_unref (loop);
  return 0;
}
