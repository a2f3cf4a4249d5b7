#include "gateway-fixture.h"

#include <string.h>

struct _VgTestGateway
{
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  VgApp *app;
  VgServer *server;
  guint port;
  char **overrides;
  GMutex lock;
  GCond cond;
  gboolean ready;
};

static gpointer
gateway_thread (gpointer data)
{
  VgTestGateway *gw = data;
  VgConfig *cfg = vg_config_new ();
  g_autoptr (GError) error = NULL;

  g_main_context_push_thread_default (gw->context);
  g_assert_true (vg_config_set (cfg, "server", "port", "0", "test", NULL));
  for (guint i = 0; gw->overrides && gw->overrides[i]; i++)
    {
      g_auto (GStrv) kv = g_strsplit (gw->overrides[i], "=", 2);
      g_auto (GStrv) sk = g_strsplit (kv[0], ".", 2);
      g_assert_true (vg_config_set (cfg, sk[0], sk[1], kv[1], "test", &error));
    }
  g_assert_true (vg_config_validate (cfg, &error));
  gw->app = vg_app_new (cfg);
  gw->app->rate_limiter = vg_rate_limiter_new_local (1000);
  gw->server = vg_server_new (gw->app, &error);
  g_assert_no_error (error);
  g_assert_true (vg_server_listen (gw->server, &error));
  g_assert_no_error (error);
  gw->port = vg_server_get_port (gw->server);

  g_mutex_lock (&gw->lock);
  gw->ready = TRUE;
  g_cond_signal (&gw->cond);
  g_mutex_unlock (&gw->lock);

  g_main_loop_run (gw->loop);
  vg_server_free (gw->server);
  vg_app_free (gw->app);
  g_main_context_pop_thread_default (gw->context);
  return NULL;
}

VgTestGateway *
vg_test_gateway_start (const char *const *overrides)
{
  VgTestGateway *gw = g_new0 (VgTestGateway, 1);

  gw->overrides = g_strdupv ((char **) overrides);
  gw->context = g_main_context_new ();
  gw->loop = g_main_loop_new (gw->context, FALSE);
  g_mutex_init (&gw->lock);
  g_cond_init (&gw->cond);
  gw->thread = g_thread_new ("gateway", gateway_thread, gw);
  g_mutex_lock (&gw->lock);
  while (!gw->ready)
    g_cond_wait (&gw->cond, &gw->lock);
  g_mutex_unlock (&gw->lock);
  return gw;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
vg_test_gateway_stop (VgTestGateway *gw)
{
  g_main_context_invoke (gw->context, quit_loop, gw->loop);
  g_thread_join (gw->thread);
  g_main_loop_unref (gw->loop);
  g_main_context_unref (gw->context);
  g_strfreev (gw->overrides);
  g_mutex_clear (&gw->lock);
  g_cond_clear (&gw->cond);
  g_free (gw);
}

guint
vg_test_gateway_port (VgTestGateway *gw)
{
  return gw->port;
}

VgApp *
vg_test_gateway_app (VgTestGateway *gw)
{
  return gw->app;
}

char *
vg_test_gateway_url (VgTestGateway *gw, const char *path)
{
  return g_strdup_printf ("http://127.0.0.1:%u%s", gw->port, path);
}

typedef struct
{
  void (*fn) (VgApp *, gpointer);
  gpointer data;
  VgApp *app;
  GMutex lock;
  GCond cond;
  gboolean done;
} VgRunCall;

static gboolean
run_call (gpointer p)
{
  VgRunCall *c = p;
  c->fn (c->app, c->data);
  g_mutex_lock (&c->lock);
  c->done = TRUE;
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->lock);
  return G_SOURCE_REMOVE;
}

void
vg_test_gateway_run (VgTestGateway *gw, void (*fn) (VgApp *app, gpointer data), gpointer data)
{
  VgRunCall c = { fn, data, gw->app };

  g_mutex_init (&c.lock);
  g_cond_init (&c.cond);
  g_main_context_invoke (gw->context, run_call, &c);
  g_mutex_lock (&c.lock);
  while (!c.done)
    g_cond_wait (&c.cond, &c.lock);
  g_mutex_unlock (&c.lock);
  g_mutex_clear (&c.lock);
  g_cond_clear (&c.cond);
}

char *
vg_test_raw_request (guint port, const char *local_addr, const char *request, gsize len)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  GOutputStream *os;
  GInputStream *is;
  char buf[4096];
  gssize n;

  if (local_addr)
    {
      g_autoptr (GSocketAddress) local = g_inet_socket_address_new_from_string (local_addr, 0);
      g_socket_client_set_local_address (client, local);
    }
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_timeout (g_socket_connection_get_socket (conn), 10);
  os = g_io_stream_get_output_stream (G_IO_STREAM (conn));
  is = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  /* The server may answer (413) and close before the whole body is sent. */
  g_output_stream_write_all (os, request, len, NULL, NULL, NULL);
  while ((n = g_input_stream_read (is, buf, sizeof buf, NULL, NULL)) > 0)
    {
      g_string_append_len (out, buf, n);
      /* Stop once a complete response with Content-Length is in. */
      const char *end = strstr (out->str, "\r\n\r\n");
      const char *cl = end ? strcasestr (out->str, "\r\nContent-Length: ") : NULL;
      if (end && cl && cl < end
          && out->len >= (gsize) (end + 4 - out->str) + g_ascii_strtoull (cl + 18, NULL, 10))
        break;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}
