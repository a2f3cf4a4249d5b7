/* Accepts TCP (and TLS) connections, reads and checks each request head,
 * and hands the connection to a SoupServer.
 *
 * Debian 12's libsoup 3.2.3 leaks with its own listener: the GSocket of every
 * accepted connection (upstream b545d5f0, in 3.4.0) and, with keep-alive,
 * every idle connection the client closes, fd included (upstream d20c660, in
 * 3.3.0). So voxgate accepts itself and hands libsoup a ready stream through
 * the public soup_server_accept_iostream(). libsoup then closes each
 * connection after its response (it keeps alive only on its own listeners):
 * a new TCP connection per request, and no leak. Once libsoup >= 3.4 is the
 * baseline, listening through soup_server_listen_socket() brings keep-alive
 * back. This also sets a real listen backlog.
 *
 * libsoup 3.2 has no timeouts and resets a connection whose head it dislikes
 * without an answer, so before libsoup sees a connection the acceptor:
 * - caps connections per client address (429 beyond it);
 * - reads the request head within header_timeout (else 408) and checks it
 *   (414, 431 or 400, see http-head.h); the bytes read are replayed to
 *   libsoup (replay-stream.h);
 * - ends a request whose body pauses longer than body_timeout;
 * - backs off when accept() fails (out of fds) instead of retrying at once,
 *   and reports such failures at most every 10 s.
 * Main thread only. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _VgAcceptor VgAcceptor;

typedef struct
{
  guint header_timeout_s; /* accept to the end of the request head */
  guint body_timeout_s;   /* longest pause within a request body */
  guint max_per_address;  /* open connections per client address; 0 = no cap */
  GPtrArray *uncapped;    /* GInetAddressMask (trusted proxies); may be NULL */
} VgAcceptorLimits;

/* certificate: NULL for plain HTTP. limits is copied (uncapped is reffed). */
VgAcceptor *vg_acceptor_new (SoupServer *soup, GTlsCertificate *certificate,
                             const VgAcceptorLimits *limits);
void vg_acceptor_free (VgAcceptor *acceptor);

/* Binds and listens; returns the bound port (useful with port 0), 0 on error. */
guint vg_acceptor_listen (VgAcceptor *acceptor, GSocketAddress *address, GError **error);

/* Connections whose request head has started but is not complete yet:
 * requests a graceful shutdown should wait for. */
guint vg_acceptor_pending (VgAcceptor *acceptor);

/* Closes the listening socket: new connections are refused, accepted ones go on. */
void vg_acceptor_stop (VgAcceptor *acceptor);

G_END_DECLS
