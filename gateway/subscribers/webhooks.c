/* Webhook delivery. See webhooks.h. */
#include "gateway/subscribers/webhooks.h"
#include "gateway/core/jwt.h"
#include "gateway/core/json-members.h"

#include <libsoup/soup.h>

#define QUEUE_LIMIT 1000
#define MAX_ATTEMPTS 5
#define FIRST_BACKOFF_MS 250
#define REQUEST_TIMEOUT_S 5
#define TOKEN_TTL_S 300

typedef struct
{
  char *body;
  char *event; /* event name, for metrics */
  guint attempts;
} VgDelivery;

typedef struct _VgWebhooks VgWebhooks;

typedef struct
{
  VgWebhooks *owner;
  char *url;
  GQueue queue; /* VgDelivery, oldest first */
  gboolean in_flight;
  guint retry_source;
  GCancellable *cancellable;
} VgEndpoint;

struct _VgWebhooks
{
  VgApp *app;
  VgEvents *events;
  SoupSession *session;
  GPtrArray *endpoints;
  guint64 next_id;
  VgMetric *sent;
  VgMetric *failed;
  VgMetric *dropped;
  VgMetric *depth;
};

static void endpoint_send_next (VgEndpoint *ep);

static void
delivery_free (VgDelivery *d)
{
  g_free (d->body);
  g_free (d->event);
  g_free (d);
}

static void
update_depth (VgWebhooks *self)
{
  vg_metric_set (self->depth, NULL, vg_webhooks_pending (self));
}

guint
vg_webhooks_pending (VgWebhooks *self)
{
  guint n = 0;

  if (!self)
    return 0;
  for (guint i = 0; i < self->endpoints->len; i++)
    n += g_queue_get_length (&((VgEndpoint *)g_ptr_array_index (self->endpoints, i))->queue);
  return n;
}

static void
add_uint (JsonBuilder *b, const char *name, guint value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

char *
vg_webhooks_build_body (const VgEvent *e, const char *event_id)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  vg_json_add_member_string (b, "event", vg_event_type_name (e->type));
  if (e->egress_info_json)
    {
      /* LiveKit's egress webhooks carry the EgressInfo and no room. */
      JsonNode *info = json_from_string (e->egress_info_json, NULL);
      if (info)
        {
          json_builder_set_member_name (b, "egressInfo");
          json_builder_add_value (b, info);
        }
      vg_json_add_member_string (b, "id", event_id);
      vg_json_add_member_int64_string (b, "createdAt", e->time_us / G_USEC_PER_SEC);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      return json_to_string (root, FALSE);
    }
  json_builder_set_member_name (b, "room");
  json_builder_begin_object (b);
  vg_json_add_member_string (b, "sid", e->room_sid);
  vg_json_add_member_string (b, "name", e->room);
  add_uint (b, "emptyTimeout", e->room_empty_timeout);
  add_uint (b, "maxParticipants", e->room_max_participants);
  vg_json_add_member_int64_string (b, "creationTime", e->room_created_at);
  vg_json_add_member_string (b, "metadata", e->room_metadata);
  add_uint (b, "numParticipants", e->room_num_participants);
  json_builder_end_object (b);
  if (e->identity)
    {
      json_builder_set_member_name (b, "participant");
      json_builder_begin_object (b);
      vg_json_add_member_string (b, "sid", e->participant_sid);
      vg_json_add_member_string (b, "identity", e->identity);
      vg_json_add_member_string (b, "name", e->participant_name);
      vg_json_add_member_string (b, "state",
                                 e->participant_state ? e->participant_state : "ACTIVE");
      vg_json_add_member_int64_string (b, "joinedAt", e->participant_joined_at);
      json_builder_set_member_name (b, "isPublisher");
      json_builder_add_boolean_value (b, e->participant_is_publisher);
      json_builder_end_object (b);
    }
  if (e->track_sid)
    {
      json_builder_set_member_name (b, "track");
      json_builder_begin_object (b);
      vg_json_add_member_string (b, "sid", e->track_sid);
      vg_json_add_member_string (b, "type", "AUDIO");
      vg_json_add_member_string (b, "source", "MICROPHONE");
      vg_json_add_member_string (b, "name", "microphone");
      vg_json_add_member_string (b, "mimeType", "audio/opus");
      json_builder_set_member_name (b, "muted");
      json_builder_add_boolean_value (b, e->track_muted);
      json_builder_end_object (b);
    }
  vg_json_add_member_string (b, "id", event_id);
  vg_json_add_member_int64_string (b, "createdAt", e->time_us / G_USEC_PER_SEC);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

static char *
sign_body (VgWebhooks *self, const char *body)
{
  g_auto (VgClaims) c = { 0 };
  return vg_jwt_mint_body_token (&c, body, TOKEN_TTL_S,
                                 vg_config_get_string (self->app->config, "auth", "api_key"),
                                 vg_config_get_string (self->app->config, "auth", "api_secret"));
}

static gboolean
retry_now (gpointer data)
{
  VgEndpoint *ep = data;
  ep->retry_source = 0;
  endpoint_send_next (ep);
  return G_SOURCE_REMOVE;
}

static void
on_response (GObject *source, GAsyncResult *result, gpointer data)
{
  VgEndpoint *ep = data;
  VgWebhooks *self = ep->owner;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) reply
      = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  VgDelivery *d;
  guint status;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* shutting down: ep is being freed */
  ep->in_flight = FALSE;
  d = g_queue_peek_head (&ep->queue);
  status = msg ? soup_message_get_status (msg) : 0;
  if (!error && SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      const char *labels[] = { d->event, NULL };
      vg_metric_add (self->sent, labels, 1);
      delivery_free (g_queue_pop_head (&ep->queue));
      update_depth (self);
      endpoint_send_next (ep);
      return;
    }

  vg_metric_add (self->failed, NULL, 1);
  if (++d->attempts >= MAX_ATTEMPTS)
    {
      const char *labels[] = { "gave_up", NULL };
      g_warning ("webhook %s to %s failed %u times (%s); dropping it", d->event, ep->url,
                 d->attempts, error ? error->message : soup_status_get_phrase (status));
      vg_metric_add (self->dropped, labels, 1);
      delivery_free (g_queue_pop_head (&ep->queue));
      update_depth (self);
      endpoint_send_next (ep);
      return;
    }
  ep->retry_source = g_timeout_add (FIRST_BACKOFF_MS << (d->attempts - 1), retry_now, ep);
}

static void
endpoint_send_next (VgEndpoint *ep)
{
  VgWebhooks *self = ep->owner;
  VgDelivery *d = g_queue_peek_head (&ep->queue);
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autofree char *token = NULL;

  if (!d || ep->in_flight || ep->retry_source)
    return;
  msg = soup_message_new ("POST", ep->url);
  if (!msg)
    {
      const char *labels[] = { "bad_url", NULL };
      vg_metric_add (self->dropped, labels, 1);
      delivery_free (g_queue_pop_head (&ep->queue));
      return;
    }
  token = sign_body (self, d->body);
  body = g_bytes_new (d->body, strlen (d->body));
  soup_message_set_request_body_from_bytes (msg, "application/webhook+json", body);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", token);
  ep->in_flight = TRUE;
  soup_session_send_and_read_async (self->session, msg, G_PRIORITY_DEFAULT, ep->cancellable,
                                    on_response, ep);
}

static void
on_event (const VgEvent *event, gpointer user_data)
{
  VgWebhooks *self = user_data;
  g_autofree char *id = NULL;
  g_autofree char *body = NULL;

  if (!vg_event_type_is_lifecycle (event->type))
    return;
  id = g_strdup_printf ("EV_%08x%08" G_GINT64_MODIFIER "x", g_random_int (), self->next_id++);
  body = vg_webhooks_build_body (event, id);

  for (guint i = 0; i < self->endpoints->len; i++)
    {
      VgEndpoint *ep = g_ptr_array_index (self->endpoints, i);
      VgDelivery *d;

      if (g_queue_get_length (&ep->queue) >= QUEUE_LIMIT)
        {
          const char *labels[] = { "queue_full", NULL };
          vg_metric_add (self->dropped, labels, 1);
          continue;
        }
      d = g_new0 (VgDelivery, 1);
      d->body = g_strdup (body);
      d->event = g_strdup (vg_event_type_name (event->type));
      g_queue_push_tail (&ep->queue, d);
      endpoint_send_next (ep);
    }
  update_depth (self);
}

static void
endpoint_free (gpointer data)
{
  VgEndpoint *ep = data;

  g_cancellable_cancel (ep->cancellable);
  g_clear_handle_id (&ep->retry_source, g_source_remove);
  g_queue_clear_full (&ep->queue, (GDestroyNotify)delivery_free);
  g_object_unref (ep->cancellable);
  g_free (ep->url);
  g_free (ep);
}

VgWebhooks *
vg_webhooks_new (VgApp *app, VgEvents *events)
{
  g_auto (GStrv) urls = vg_config_get_list (app->config, "webhooks", "urls");
  VgWebhooks *self;
  static const char *const event_label[] = { "event", NULL };
  static const char *const reason_label[] = { "reason", NULL };

  if (!urls[0])
    return NULL;
  self = g_new0 (VgWebhooks, 1);
  self->app = app;
  self->events = events;
  self->session = soup_session_new_with_options ("timeout", REQUEST_TIMEOUT_S, "user-agent",
                                                 "voxgate-webhooks", NULL);
  self->endpoints = g_ptr_array_new_with_free_func (endpoint_free);
  for (guint i = 0; urls[i]; i++)
    {
      VgEndpoint *ep = g_new0 (VgEndpoint, 1);
      ep->owner = self;
      ep->url = g_strdup (urls[i]);
      ep->cancellable = g_cancellable_new ();
      g_queue_init (&ep->queue);
      g_ptr_array_add (self->endpoints, ep);
    }
  self->sent = vg_metrics_register (app->metrics, VG_METRIC_COUNTER, "voxgate_webhooks_sent_total",
                                    "Webhooks delivered, by event", event_label, NULL);
  self->failed = vg_metrics_register (
      app->metrics, VG_METRIC_COUNTER, "voxgate_webhook_attempts_failed_total",
      "Webhook delivery attempts that failed (retried)", NULL, NULL);
  self->dropped
      = vg_metrics_register (app->metrics, VG_METRIC_COUNTER, "voxgate_webhooks_dropped_total",
                             "Webhooks dropped, by reason", reason_label, NULL);
  self->depth = vg_metrics_register (app->metrics, VG_METRIC_GAUGE, "voxgate_webhooks_queued",
                                     "Webhooks waiting for delivery", NULL, NULL);
  vg_events_subscribe (events, on_event, self);
  return self;
}

void
vg_webhooks_free (VgWebhooks *self)
{
  if (!self)
    return;
  vg_events_unsubscribe (self->events, on_event, self);
  g_ptr_array_unref (self->endpoints);
  g_object_unref (self->session);
  g_free (self);
}
