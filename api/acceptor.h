/* Accepts TCP (and TLS) connections and hands them to a SoupServer.
 *
 * Debian 12's libsoup 3.2.3 leaks with its own listener: the GSocket of every
 * accepted connection (upstream b545d5f0, in 3.4.0) and, with keep-alive,
 * every idle connection the client closes, fd included (upstream d20c660, in
 * 3.3.0). So voxgate accepts itself and hands libsoup a ready stream through
 * the public soup_server_accept_iostream(). libsoup then closes each
 * connection after its response (it keeps alive only on its own listeners):
 * a new TCP connection per request, and no leak. Once libsoup >= 3.4 is the
 * baseline, listening through soup_server_listen_socket() brings keep-alive
 * back. This also sets a real listen backlog. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _VgAcceptor VgAcceptor;

/* certificate: NULL for plain HTTP. */
VgAcceptor *vg_acceptor_new (SoupServer *soup, GTlsCertificate *certificate);
void vg_acceptor_free (VgAcceptor *acceptor);

/* Binds and listens; returns the bound port (useful with port 0), 0 on error. */
guint vg_acceptor_listen (VgAcceptor *acceptor, GSocketAddress *address, GError **error);

/* Closes the listening socket: new connections are refused, accepted ones go on. */
void vg_acceptor_stop (VgAcceptor *acceptor);

G_END_DECLS
