/* A test's SoupServer listening on loopback through a GSocketService that
 * hands each connection to soup_server_accept_iostream, as the gateway's own
 * acceptor (api/acceptor.c) does, instead of soup_server_listen_local.
 *
 * Why: libsoup 3.2's listener (Debian 12) leaks one GSocket per accepted
 * connection (listen_watch keeps the reference g_socket_accept returned) and
 * its local address (never freed at finalize); LeakSanitizer reports both in
 * every test that serves HTTP (tools/asan-tests.sh). The gateway never uses
 * that listener, so the tests do not either.
 *
 * Threading: connections are accepted on the thread-default main context
 * of the caller. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Listens on 127.0.0.1:port (0: any free port) for server until server is
 * finalized. Returns the port, or 0 with error set. */
guint16 vg_test_soup_listen_local (SoupServer *server, guint16 port, GError **error);

G_END_DECLS
