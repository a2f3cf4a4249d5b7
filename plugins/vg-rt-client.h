/* vg-rt-client.h: one Realtime WebSocket connection living on the shared I/O
 * context, with a bounded send queue and capped exponential reconnect. */
#pragma once

#include "vg-io-context.h"
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Frames larger than this are refused by libsoup (the connection closes
 * with 1009 and we reconnect). Appends may carry 15 MiB. */
#define VG_RT_MAX_FRAME_BYTES (16 * 1024 * 1024)

typedef enum
{
  VG_RT_CLOSE_NORMAL,  /* unexpected close or connect failure: will retry */
  VG_RT_CLOSE_FATAL,   /* 401/403 at the handshake: no retry */
  VG_RT_CLOSE_STALLED, /* open but silent while events were expected: will retry */
} VgRtCloseKind;

typedef struct
{
  /* All callbacks run on the I/O thread. */
  void (*connecting) (gpointer user_data, guint attempt);
  void (*opened) (gpointer user_data);
  /* event: the parsed frame (an object with a string "type"). */
  void (*event) (gpointer user_data, const char *type, JsonObject *event);
  /* A frame that is not a JSON object with a type: reason says why. */
  void (*bad_frame) (gpointer user_data, const char *reason);
  void (*closed) (gpointer user_data, VgRtCloseKind kind, guint http_status, const char *reason);
  /* Whether the server owes us events now (a response is under way or
   * asked for): the stall watchdog only counts silence then. */
  gboolean (*expecting) (gpointer user_data);
} VgRtClientCallbacks;

typedef struct _VgRtClient VgRtClient;

VgRtClient *vg_rt_client_new (VgIoContext *io, const VgRtClientCallbacks *callbacks,
                              gpointer user_data, gsize max_queued_audio_bytes);
/* Starts connecting (and keeps reconnecting) until vg_rt_client_stop().
 * stall_timeout_ms: an open connection that sends no event for this long
 * while one is expected (session not configured yet, or the expecting
 * callback says so) is dropped and reconnected; 0 disables. */
void vg_rt_client_start (VgRtClient *client, const char *url, const char *api_key,
                         guint reconnect_max_ms, guint stall_timeout_ms);
/* Closes the socket and stops reconnecting; synchronous, any thread except
 * the I/O thread. After it returns no callback runs any more. */
void vg_rt_client_stop (VgRtClient *client);
void vg_rt_client_free (VgRtClient *client);

/* Queues a text frame (takes ownership of json). Any thread, never blocks.
 * Frames wait until the session is configured (vg_rt_client_set_ready);
 * audio beyond the byte bound drops the oldest audio. A lost connection
 * clears the queue: the element replays the session on reconnect. */
void vg_rt_client_send (VgRtClient *client, char *json, gboolean is_audio);
/* I/O thread only: sends at once, ahead of the queue (session.update and
 * the conversation replay). */
void vg_rt_client_send_now (VgRtClient *client, char *json);
/* I/O thread only: the session is configured, queued frames may go. */
void vg_rt_client_set_ready (VgRtClient *client);

/* Closes the current socket (the closed callback runs, unless the server
 * closed it first) and reconnects after a short backoff (session expiry).
 * backoff_steps > 0 makes the wait longer. */
void vg_rt_client_reconnect (VgRtClient *client, guint backoff_steps);

/* Closes and stops reconnecting, asynchronously (fatal errors seen on the
 * I/O thread). */
void vg_rt_client_halt (VgRtClient *client);

guint64 vg_rt_client_get_dropped_audio_bytes (VgRtClient *client);
gboolean vg_rt_client_is_open (VgRtClient *client);
/* The session is configured: a frame sent now goes to it (or, if the
 * connection dies first, is lost with it). */
gboolean vg_rt_client_is_ready (VgRtClient *client);

G_END_DECLS
