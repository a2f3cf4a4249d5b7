/* Accepts TCP (and TLS) connections and hands them to a SoupServer.
 *
 * libsoup 3.2's own listener leaks the GSocket of every accepted connection
 * (fixed upstream after 3.2.3, "soup-listener: Plug a leak"), so voxgate
 * accepts itself and gives libsoup a ready stream through the public
 * soup_server_accept_iostream(). This also sets a real listen backlog. */
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
