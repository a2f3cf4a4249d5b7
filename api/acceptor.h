/* Accepts TCP (and TLS) connections, reads and checks each request head,
 * lends the connection to a SoupServer for that one request, and keeps it
 * open for the client's next request when both sides allow it (keep-alive).
 *
 * Why not libsoup's own listener and keep-alive: Debian 12's libsoup 3.2.3
 * leaks with them. Its listener leaks the GSocket of every accepted
 * connection (upstream b545d5f0, in 3.4.0); and after a kept-alive
 * response the next SoupServerMessage waits for its request with no
 * completion callback, so a client that closes the idle connection leaves
 * the SoupServerConnection and its fd open for good (upstream d20c660, in
 * 3.3.0; bench/tools/soup-keepalive-leak.c shows both). libsoup serves
 * connections handed to it through soup_server_accept_iostream() without
 * either leak, but closes them after one response (request_finished() in
 * soup-server.c keeps a connection only when the server has a listener). So each request is handed
 * over as a VgLentStream (lent-stream.h) whose close gives the connection back: libsoup never holds
 * an idle connection, and the acceptor reads, checks and times out every
 * request head, the first or the hundredth alike. The connection stays open
 * when the request was read to its end (a known length: a chunked body ends
 * the connection), neither side asked to close, the request was HTTP/1.1
 * and libsoup finished the answer; an idle connection closes after
 * keepalive_timeout. This also sets a real listen backlog.
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

#include "gateway/core/metrics.h"

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _VgAcceptor VgAcceptor;

typedef struct
{
  guint header_timeout_s; /* accept (or the head's first byte) to the head's end */
  guint body_timeout_s;   /* longest pause within a request body */
  guint keepalive_timeout_s; /* longest idle time between requests */
  guint max_per_address;  /* open connections per client address; 0 = no cap */
  GPtrArray *uncapped;    /* GInetAddressMask (trusted proxies); may be NULL */
} VgAcceptorLimits;

/* Counters the acceptor keeps up to date (any may be NULL): */
typedef struct
{
  VgMetric *accepted; /* counter: TCP connections accepted */
  VgMetric *reused;   /* counter: requests served on an already used connection */
  VgMetric *open;     /* gauge: connections open */
} VgAcceptorMetrics;

/* certificate: NULL for plain HTTP. limits is copied (uncapped is reffed). */
VgAcceptor *vg_acceptor_new (SoupServer *soup, GTlsCertificate *certificate,
                             const VgAcceptorLimits *limits, const VgAcceptorMetrics *metrics);
void vg_acceptor_free (VgAcceptor *acceptor);

/* Binds and listens; returns the bound port (useful with port 0), 0 on error. */
guint vg_acceptor_listen (VgAcceptor *acceptor, GSocketAddress *address, GError **error);

/* Connections whose request head has started but is not complete yet:
 * requests a graceful shutdown should wait for. */
guint vg_acceptor_pending (VgAcceptor *acceptor);

/* Closes the listening socket: new connections are refused, accepted ones go on. */
void vg_acceptor_stop (VgAcceptor *acceptor);

G_END_DECLS
