/* A real redis-server for tests, started on a free loopback port in a
 * temporary directory, stopped (and its directory removed) when freed.
 * Everything here runs on the test's thread. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  GSubprocess *proc;
  char *dir;
  guint16 port;
  char *password; /* NULL: no AUTH */
  char *url;      /* redis://[:password@]127.0.0.1:port/0 */
} VgTestRedis;

/* Starts redis-server (password may be NULL) and waits until it answers.
 * Fails the test (g_error) when it cannot be started. */
VgTestRedis *vg_test_redis_start (const char *password);

/* Stops the server and waits for it to exit; vg_test_redis_restart starts it
 * again on the same port. */
void vg_test_redis_stop (VgTestRedis *r);
void vg_test_redis_restart (VgTestRedis *r);

/* SIGSTOP / SIGCONT: a server that hangs without closing its connections. */
void vg_test_redis_pause (VgTestRedis *r, gboolean paused);

void vg_test_redis_free (VgTestRedis *r);

/* A free loopback TCP port (bound and released). */
guint16 vg_test_free_port (void);

/* Runs the default main context until *flag is set or timeout_ms passes;
 * returns *flag. */
gboolean vg_test_wait_flag (gboolean *flag, guint timeout_ms);

G_END_DECLS
