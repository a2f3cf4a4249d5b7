/* See soup-listen.h. */
#include "soup-listen.h"
#include <netinet/in.h>
#include <netinet/tcp.h>

static gboolean
on_incoming (GSocketService *service, GSocketConnection *conn, GObject *source, gpointer data)
{
  SoupServer *server = data; /* outlives the service: the service is its data */
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) local = g_socket_connection_get_local_address (conn, NULL);
  g_autoptr (GSocketAddress) remote = g_socket_connection_get_remote_address (conn, NULL);

  if (!local || !remote)
    return TRUE; /* the peer is gone already */
  /* As the gateway's own acceptor and any real server: without it each
   * short message (a Realtime event, a webhook answer) waits for the ACK of
   * the one before, up to 40 ms, and every latency measured through these
   * servers would include it. */
  g_socket_set_option (g_socket_connection_get_socket (conn), IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  if (!soup_server_accept_iostream (server, G_IO_STREAM (conn), local, remote, &error))
    g_warning ("test server: cannot serve a connection: %s", error->message);
  return TRUE;
}

static void
service_free (gpointer data)
{
  GSocketService *service = data;
  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  g_object_unref (service);
}

guint16
vg_test_soup_listen_local (SoupServer *server, guint16 port, GError **error)
{
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, port);
  g_autoptr (GSocketAddress) bound = NULL;
  GSocketService *service = g_socket_service_new ();

  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), addr, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &bound, error))
    {
      g_object_unref (service);
      return 0;
    }
  g_signal_connect (service, "incoming", G_CALLBACK (on_incoming), server);
  g_object_set_data_full (G_OBJECT (server), "vg-test-soup-listener", service, service_free);
  g_socket_service_start (service);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}
