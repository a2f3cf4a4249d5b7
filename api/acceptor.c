#include "api/acceptor.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

/* GSocket's default is 10: a burst of new connections would see dropped SYNs
 * and one-second client stalls. */
#define LISTEN_BACKLOG 1024

struct _VgAcceptor
{
  SoupServer *soup;
  GTlsCertificate *certificate;
  GSocketService *service;
};

static gboolean
on_incoming (GSocketService *service, GSocketConnection *connection, GObject *source, gpointer user_data)
{
  VgAcceptor *self = user_data;
  GSocket *socket = g_socket_connection_get_socket (connection);
  g_autoptr (GSocketAddress) local = g_socket_connection_get_local_address (connection, NULL);
  g_autoptr (GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
  g_autoptr (GIOStream) stream = NULL;
  g_autoptr (GError) error = NULL;

  if (!local || !remote)
    return TRUE; /* the peer is already gone */
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  if (self->certificate)
    {
      stream = g_tls_server_connection_new (G_IO_STREAM (connection), self->certificate, &error);
      if (!stream)
        {
          g_warning ("TLS is unavailable for a new connection: %s", error->message);
          return TRUE;
        }
      g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (stream), FALSE);
    }
  else
    stream = g_object_ref (G_IO_STREAM (connection));

  if (!soup_server_accept_iostream (self->soup, stream, local, remote, &error))
    g_warning ("cannot serve a new connection: %s", error->message);
  return TRUE;
}

VgAcceptor *
vg_acceptor_new (SoupServer *soup, GTlsCertificate *certificate)
{
  VgAcceptor *self = g_new0 (VgAcceptor, 1);

  self->soup = g_object_ref (soup);
  self->certificate = certificate ? g_object_ref (certificate) : NULL;
  self->service = g_socket_service_new ();
  g_signal_connect (self->service, "incoming", G_CALLBACK (on_incoming), self);
  return self;
}

guint
vg_acceptor_listen (VgAcceptor *self, GSocketAddress *address, GError **error)
{
  g_autoptr (GSocket) sock = NULL;
  g_autoptr (GSocketAddress) bound = NULL;

  sock = g_socket_new (g_socket_address_get_family (address), G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (!sock)
    return 0;
  g_socket_set_listen_backlog (sock, LISTEN_BACKLOG);
  if (!g_socket_bind (sock, address, TRUE, error) || !g_socket_listen (sock, error)
      || !g_socket_listener_add_socket (G_SOCKET_LISTENER (self->service), sock, NULL, error))
    return 0;
  bound = g_socket_get_local_address (sock, error);
  if (!bound)
    return 0;
  g_socket_service_start (self->service);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

void
vg_acceptor_stop (VgAcceptor *self)
{
  g_socket_service_stop (self->service);
  g_socket_listener_close (G_SOCKET_LISTENER (self->service));
}

void
vg_acceptor_free (VgAcceptor *self)
{
  if (!self)
    return;
  vg_acceptor_stop (self);
  g_signal_handlers_disconnect_by_data (self->service, self);
  g_object_unref (self->service);
  g_clear_object (&self->certificate);
  g_object_unref (self->soup);
  g_free (self);
}
