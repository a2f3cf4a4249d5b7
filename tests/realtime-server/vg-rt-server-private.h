/* vg-rt-server-private.h: shared between the server core (handshake,
 * thread, log, scripting) and the per-connection protocol logic. */
#pragma once

#include "vg-rt-server.h"
#include "vg-energy-vad.h"

#include <libsoup/soup.h>

#define VG_RT_SERVER_RATE 24000

typedef struct _VgRtConn VgRtConn;

/* One step of a script (vg_rt_server_set_script): the function call a
 * response makes when it is the connection's response number `response`
 * or, user_says set (case-folded), when the user's last typed message
 * contains it. */
typedef struct
{
  guint response;
  char *user_says;
  char *name;
  char *arguments;
} VgRtScriptStep;

typedef struct
{
  char *id;
  char *role;     /* user, assistant, system, or NULL for function items */
  char *type;     /* message, function_call, function_call_output */
  guint audio_ms; /* assistant audio sent so far */
} Item;

struct _VgRtConn
{
  VgRtServer *server;
  SoupWebsocketConnection *ws;
  guint number;
  guint seq;
  JsonObject *session; /* effective configuration */
  GHashTable *items;   /* id -> Item */
  GHashTable *calls;   /* call ids issued */
  char *last_item_id;

  /* input */
  VgEnergyVad vad;
  gboolean vad_enabled;
  gboolean create_response;
  gboolean interrupt_response;
  guint64 uncommitted_samples;
  guint64 total_samples;
  char *speech_item; /* user item id of the current speech */
  char *pending_transcript_item;
  char *pending_transcript;

  /* response */
  gboolean active;
  char *response_id;
  Item *response_item;
  guint chunks_total;
  guint chunks_sent;
  guint transcript_at; /* chunk index at which the user transcript goes out */
  gboolean close_mid;
  gboolean stall_mid;
  gboolean stalled; /* silent from now on: sends nothing, answers nothing */
  GString *transcript;
  char **say;    /* words of response.instructions, spoken as the transcript */
  guint say_pos; /* next word of say */
  GSource *burst;
  double phase;

  guint responses; /* responses started on this connection */
  char *user_text; /* the user's typed message not yet answered by a response */
  GSource *expiry;
  GSource *transcript_timer;
  GSource *cancel_timer; /* a delayed response.cancel (cancel_delay_ms) */
  char *cancel_response_id;
};

struct _VgRtServer
{
  VgRtServerOptions opt;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *soup;
  guint port;
  GList *conns; /* VgRtConn, server thread only */

  GMutex lock; /* guards everything below */
  GCond cond;
  GPtrArray *log;
  guint handshakes;
  guint sessions;
  guint connection_seq;
  guint64 appended_bytes;
  guint errors;
  guint response_audio_ms;
  GQueue scripted_calls;            /* char *name, char *arguments pairs */
  GPtrArray *response_instructions; /* per started response: its instructions, "" if none */
  GPtrArray *script;                /* VgRtScriptStep, or NULL */
  gboolean close_mid_response;
  gboolean stall_mid_response;
  guint rate_limit_count;
  guint rate_limit_retry_ms;
  guint refuse_status;
  guint refuse_count;
  guint refuse_retry_after_s; /* 0: no Retry-After header */
  GRand *rand;
};

/* vg-rt-server.c */
void vg_rt_server_log_event (VgRtServer *server, guint connection, gboolean from_client,
                             const char *type, JsonObject *event);

/* vg-rt-server-script.c */
void vg_rt_script_step_free (gpointer step);
/* A GPtrArray of VgRtScriptStep, or NULL with error set. */
GPtrArray *vg_rt_script_parse (const char *json, GError **error);
/* The first step matching the connection's response number `response`, or
 * the user's unanswered typed text (may be NULL); NULL when none does. */
const VgRtScriptStep *vg_rt_script_match (GPtrArray *script, guint response, const char *user_text);

/* vg-rt-server-session.c */
VgRtConn *vg_rt_conn_new (VgRtServer *server, SoupWebsocketConnection *ws, guint number);
void vg_rt_conn_close (VgRtConn *conn, gushort code);
void vg_rt_conn_send_raw (VgRtConn *conn, const char *frame);
void vg_rt_conn_free (VgRtConn *conn);

/* vg-rt-server-session.c: helpers for the other connection files */
char *vg_rt_conn_next_id (VgRtConn *conn, const char *prefix);
Item *vg_rt_conn_add_item (VgRtConn *conn, const char *id, const char *type, const char *role);
JsonObject *vg_rt_event_new (const char *type);
/* Sends (and logs) a server event; consumes it. */
void vg_rt_conn_send_event (VgRtConn *conn, JsonObject *event);
void vg_rt_conn_send_error (VgRtConn *conn, const char *code, const char *message,
                            const char *param, const char *client_event_id);
JsonObject *vg_rt_item_json (Item *it, const char *status);
void vg_rt_conn_send_item_added (VgRtConn *conn, Item *it, const char *previous);
void vg_rt_conn_send_user_transcript (VgRtConn *conn);

/* vg-rt-server-config.c */
JsonObject *vg_rt_session_default (VgRtConn *conn);
void vg_rt_conn_apply_turn_detection (VgRtConn *conn);
void vg_rt_conn_on_session_update (VgRtConn *conn, JsonObject *event, const char *event_id);

/* vg-rt-server-response.c */
/* instructions: response.instructions of the response.create, or NULL. */
void vg_rt_conn_start_response (VgRtConn *conn, const char *instructions);
void vg_rt_conn_finish_response (VgRtConn *conn, const char *status);
