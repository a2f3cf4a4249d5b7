/* Webhook delivery: LiveKit's body shape, the signature, order, retries. */
#include "gateway/core/jwt.h"
#include "gateway/subscribers/webhooks.h"

#include <libsoup/soup.h>
#include <string.h>
#include "soup-listen.h"

typedef struct
{
  GPtrArray *bodies;   /* accepted bodies, in arrival order */
  GPtrArray *auths;
  guint fail_next;     /* answer 500 this many times */
  guint requests;
} Receiver;

static void
on_hook (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer data)
{
  Receiver *r = data;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  r->requests++;
  if (r->fail_next > 0)
    {
      r->fail_next--;
      soup_server_message_set_status (msg, 500, NULL);
      return;
    }
  g_assert_cmpstr (soup_message_headers_get_content_type (soup_server_message_get_request_headers (msg), NULL), ==,
                   "application/webhook+json");
  g_ptr_array_add (r->bodies, g_strndup (body->data, body->length));
  g_ptr_array_add (r->auths, g_strdup (soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                                     "Authorization")));
  soup_server_message_set_status (msg, 200, NULL);
}

static const char *
lookup (const char *key, gpointer data)
{
  return g_str_equal (key, "hook-key") ? "hook-secret" : NULL;
}

static VgEvent
sample_event (VgEventType type, const char *identity)
{
  VgEvent e = { .type = type, .room = "tutor-1", .room_sid = "RM_1", .room_created_at = 1795500000,
                .room_empty_timeout = 300, .room_max_participants = 16, .room_num_participants = identity ? 1 : 0,
                .identity = identity, .participant_sid = identity ? "PA_1" : NULL, .participant_name = "Ann",
                .participant_state = "ACTIVE", .participant_joined_at = 1795500001,
                .participant_is_publisher = TRUE, .track_sid = type == VG_EVENT_TRACK_PUBLISHED ? "TR_1" : NULL };
  return e;
}

static void
test_body (void)
{
  VgEvent e = sample_event (VG_EVENT_TRACK_PUBLISHED, "ann");
  g_autofree char *body = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *o;

  e.time_us = 1795500002LL * G_USEC_PER_SEC;
  body = vg_webhooks_build_body (&e, "EV_1");
  root = json_from_string (body, NULL);
  o = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (o, "event"), ==, "track_published");
  g_assert_cmpstr (json_object_get_string_member (o, "id"), ==, "EV_1");
  g_assert_cmpstr (json_object_get_string_member (o, "createdAt"), ==, "1795500002"); /* int64 as string */
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "room"), "name"), ==, "tutor-1");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "room"), "creationTime"), ==,
                   "1795500000");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "participant"), "identity"), ==,
                   "ann");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "track"), "type"), ==, "AUDIO");
}

static gboolean
wait_for (Receiver *r, guint n, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * 1000;
  while (r->bodies->len < n && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  return r->bodies->len >= n;
}

static void
test_delivery (void)
{
  Receiver r = { g_ptr_array_new_with_free_func (g_free), g_ptr_array_new_with_free_func (g_free), 2, 0 };
  g_autoptr (SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *url = NULL;
  VgConfig *cfg = vg_config_new ();
  VgApp *app;
  VgWebhooks *hooks;
  static const VgEventType order[] = { VG_EVENT_ROOM_STARTED, VG_EVENT_PARTICIPANT_JOINED,
                                       VG_EVENT_TRACK_PUBLISHED, VG_EVENT_PARTICIPANT_LEFT, VG_EVENT_ROOM_FINISHED };

  soup_server_add_handler (server, "/hook", on_hook, &r, NULL);
  guint16 port = vg_test_soup_listen_local (server, 0, &error);
  g_assert_no_error (error);
  url = g_strdup_printf ("http://127.0.0.1:%u/hook", port);

  g_assert_true (vg_config_set (cfg, "webhooks", "urls", url, "test", NULL));
  g_assert_true (vg_config_set (cfg, "auth", "api_key", "hook-key", "test", NULL));
  g_assert_true (vg_config_set (cfg, "auth", "api_secret", "hook-secret", "test", NULL));
  app = vg_app_new (cfg);
  hooks = vg_webhooks_new (app, app->events);
  g_assert_nonnull (hooks);

  /* The receiver fails the first two attempts: the first event is retried,
   * and the rest wait behind it, so the order holds. */
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    {
      VgEvent e = sample_event (order[i], order[i] == VG_EVENT_ROOM_STARTED || order[i] == VG_EVENT_ROOM_FINISHED
                                            ? NULL : "ann");
      vg_events_emit (app->events, &e);
    }
  g_assert_cmpuint (vg_webhooks_pending (hooks), ==, 5);
  g_assert_true (wait_for (&r, 5, 10000));
  g_assert_cmpuint (r.requests, ==, 7);
  {
    gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
    while (vg_webhooks_pending (hooks) > 0 && g_get_monotonic_time () < end)
      g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  }
  g_assert_cmpuint (vg_webhooks_pending (hooks), ==, 0);

  for (guint i = 0; i < r.bodies->len; i++)
    {
      const char *body = g_ptr_array_index (r.bodies, i);
      const char *auth = g_ptr_array_index (r.auths, i);
      g_autoptr (JsonNode) root = json_from_string (body, NULL);
      VgClaims c = { 0 };
      guint8 digest[32];
      gsize len = sizeof digest;
      g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
      g_autofree char *expected = NULL;

      g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "event"), ==,
                       vg_event_type_name (order[i]));
      /* The Authorization header is the bare JWT, as LiveKit sends it. */
      g_assert_cmpint (vg_jwt_verify (auth, strlen (auth), lookup, NULL, g_get_real_time () / G_USEC_PER_SEC, &c), ==,
                       VG_JWT_OK);
      g_checksum_update (sum, (const guchar *) body, -1);
      g_checksum_get_digest (sum, digest, &len);
      expected = g_base64_encode (digest, len);
      g_assert_cmpstr (c.sha256, ==, expected);
      vg_claims_clear (&c);
    }
  g_assert_cmpfloat (vg_metric_get (vg_metrics_register (app->metrics, VG_METRIC_COUNTER,
                                                         "voxgate_webhook_attempts_failed_total", "", NULL, NULL),
                                    NULL), ==, 2);

  /* A receiver that keeps failing: the event is given up after its attempts, counted. */
  r.fail_next = 1000;
  {
    VgEvent e = sample_event (VG_EVENT_ROOM_STARTED, NULL);
    const char *reason[] = { "gave_up", NULL };
    VgMetric *dropped = vg_metrics_register (app->metrics, VG_METRIC_COUNTER, "voxgate_webhooks_dropped_total", "",
                                             (const char *const[]){ "reason", NULL }, NULL);
    gint64 end = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
    vg_events_emit (app->events, &e);
    while (vg_metric_get (dropped, reason) < 1 && g_get_monotonic_time () < end)
      g_main_context_iteration (NULL, FALSE), g_usleep (1000);
    g_assert_cmpfloat (vg_metric_get (dropped, reason), ==, 1);
    g_assert_cmpuint (vg_webhooks_pending (hooks), ==, 0);
  }
  vg_webhooks_free (hooks);
  vg_app_free (app);
  g_ptr_array_unref (r.bodies);
  g_ptr_array_unref (r.auths);
}

static void
test_no_urls (void)
{
  VgApp *app = vg_app_new (vg_config_new ());
  g_assert_null (vg_webhooks_new (app, app->events));
  vg_app_free (app);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Giving up on a receiver is logged as a warning, which this test provokes. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_test_add_func ("/webhooks/body", test_body);
  g_test_add_func ("/webhooks/delivery", test_delivery);
  g_test_add_func ("/webhooks/no-urls", test_no_urls);
  return g_test_run ();
}
