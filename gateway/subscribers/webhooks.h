/* Webhooks in LiveKit's format: each room and participant event (see
 * gateway/events.h) is posted as application/webhook+json to every
 * configured URL, signed as LiveKit signs them: the Authorization header is a
 * JWT from the API key and secret whose sha256 claim is the body's digest.
 *
 * Delivery runs on the main context from a bounded queue per URL, one request
 * in flight per URL so receivers see events in order, with retries and
 * backoff; nothing on a media or request path waits for it. */
#pragma once

#include "gateway/core/app.h"
#include "gateway/core/events.h"

G_BEGIN_DECLS

typedef struct _VgWebhooks VgWebhooks;

/* Reads [webhooks] urls; subscribes to events. Returns NULL when no URL is configured. */
VgWebhooks *vg_webhooks_new (VgApp *app, VgEvents *events);
void vg_webhooks_free (VgWebhooks *webhooks);

/* Events queued or in flight, over all URLs. */
guint vg_webhooks_pending (VgWebhooks *webhooks);

/* The JSON body LiveKit would send for event (for tests). */
char *vg_webhooks_build_body (const VgEvent *event, const char *event_id);

G_END_DECLS
