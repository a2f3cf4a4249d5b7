/* See redis-fixture.h. */
#include "redis-fixture.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

/* In the child: a test that crashes does not leave its server behind. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

guint16
vg_test_free_port (void)
{
  g_autoptr (GSocket) s
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  g_assert_true (g_socket_bind (s, any, FALSE, NULL));
  bound = g_socket_get_local_address (s, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static gboolean
flag_timeout (gpointer data)
{
  *(gboolean *)data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
vg_test_wait_flag (gboolean *flag, guint timeout_ms)
{
  gboolean expired = FALSE;
  guint id = g_timeout_add (timeout_ms, flag_timeout, &expired);

  while (!*flag && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (id);
  return *flag;
}

/* PING over a plain socket until the server answers (startup). */
static gboolean
answers (VgTestRedis *r)
{
  g_autoptr (GSocketClient) c = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = NULL;
  g_autofree char *cmd = NULL;
  char buf[64] = { 0 };

  conn = g_socket_client_connect_to_host (c, "127.0.0.1", r->port, NULL, NULL);
  if (!conn)
    return FALSE;
  cmd = r->password ? g_strdup_printf ("AUTH %s\r\nPING\r\n", r->password) : g_strdup ("PING\r\n");
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  if (!g_output_stream_write_all (out, cmd, strlen (cmd), NULL, NULL, NULL))
    return FALSE;
  gsize got = 0;
  for (int i = 0; i < 20 && !g_strstr_len (buf, got, "PONG"); i++)
    {
      gssize n = g_input_stream_read (in, buf + got, sizeof buf - 1 - got, NULL, NULL);
      if (n <= 0)
        return FALSE;
      got += n;
    }
  return g_strstr_len (buf, got, "PONG") != NULL;
}

static void
spawn (VgTestRedis *r)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *port = g_strdup_printf ("%u", r->port);
  g_autofree char *log = g_build_filename (r->dir, "redis.log", NULL);
  g_autofree char *sock = g_build_filename (r->dir, "redis.sock", NULL);
  GPtrArray *argv = g_ptr_array_new ();

  g_ptr_array_add (argv, "redis-server");
  g_ptr_array_add (argv, "--port");
  g_ptr_array_add (argv, port);
  g_ptr_array_add (argv, "--bind");
  g_ptr_array_add (argv, "127.0.0.1");
  g_ptr_array_add (argv, "--save");
  g_ptr_array_add (argv, "");
  g_ptr_array_add (argv, "--appendonly");
  g_ptr_array_add (argv, "no");
  g_ptr_array_add (argv, "--dir");
  g_ptr_array_add (argv, r->dir);
  g_ptr_array_add (argv, "--unixsocket");
  g_ptr_array_add (argv, sock);
  g_ptr_array_add (argv, "--logfile");
  g_ptr_array_add (argv, log);
  if (r->password)
    {
      g_ptr_array_add (argv, "--requirepass");
      g_ptr_array_add (argv, r->password);
    }
  g_ptr_array_add (argv, NULL);
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  r->proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, &error);
  g_ptr_array_unref (argv);
  if (!r->proc)
    g_error ("cannot start redis-server (tools/install-deps.sh test): %s", error->message);
  for (int i = 0; i < 200; i++)
    {
      if (answers (r))
        return;
      g_usleep (25000);
    }
  g_error ("redis-server on port %u did not answer (see %s)", r->port, log);
}

VgTestRedis *
vg_test_redis_start (const char *password)
{
  VgTestRedis *r = g_new0 (VgTestRedis, 1);
  g_autoptr (GError) error = NULL;

  r->dir = g_dir_make_tmp ("vg-redis-XXXXXX", &error);
  g_assert_no_error (error);
  r->port = vg_test_free_port ();
  r->password = g_strdup (password);
  r->url = password ? g_strdup_printf ("redis://:%s@127.0.0.1:%u/0", password, r->port)
                    : g_strdup_printf ("redis://127.0.0.1:%u/0", r->port);
  spawn (r);
  return r;
}

void
vg_test_redis_stop (VgTestRedis *r)
{
  if (!r->proc)
    return;
  vg_test_redis_pause (r, FALSE);
  g_subprocess_send_signal (r->proc, SIGTERM);
  g_subprocess_wait (r->proc, NULL, NULL);
  g_clear_object (&r->proc);
}

void
vg_test_redis_restart (VgTestRedis *r)
{
  vg_test_redis_stop (r);
  spawn (r);
}

/* The state letter of /proc/PID/stat ('T' when stopped). */
static char
proc_state (const char *pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat", pid);
  g_autofree char *stat = NULL;
  const char *close_paren;

  if (!g_file_get_contents (path, &stat, NULL, NULL) || !(close_paren = strrchr (stat, ')')))
    return '?';
  return close_paren[1] == ' ' ? close_paren[2] : '?';
}

void
vg_test_redis_pause (VgTestRedis *r, gboolean paused)
{
  const char *pid;

  if (!r->proc)
    return;
  pid = g_subprocess_get_identifier (r->proc);
  g_subprocess_send_signal (r->proc, paused ? SIGSTOP : SIGCONT);
  /* The signal takes effect asynchronously: wait until it has. */
  for (int i = 0; i < 500 && (proc_state (pid) == 'T') != paused; i++)
    g_usleep (1000);
}

void
vg_test_redis_free (VgTestRedis *r)
{
  if (!r)
    return;
  vg_test_redis_stop (r);
  g_autofree char *log = g_build_filename (r->dir, "redis.log", NULL);
  g_autofree char *sock = g_build_filename (r->dir, "redis.sock", NULL);
  g_unlink (log);
  g_unlink (sock);
  g_rmdir (r->dir);
  g_free (r->dir);
  g_free (r->password);
  g_free (r->url);
  g_free (r);
}
