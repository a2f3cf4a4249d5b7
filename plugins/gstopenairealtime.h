/* gstopenairealtime.h: the OpenAI Realtime agent element, a GstVgAgent. The
 * instance struct is shared by the element glue (gstopenairealtime.c), the
 * server event dispatcher (gstopenairealtime-events.c) and the actions
 * (gstopenairealtime-actions.c). */
#pragma once

#include "gstvgagent.h"
#include "vg-io-context.h"
#include "vg-rt-client.h"
#include "vg-rt-session-config.h"

G_BEGIN_DECLS

#define GST_TYPE_OPENAI_REALTIME (gst_openai_realtime_get_type ())
G_DECLARE_FINAL_TYPE (GstOpenAiRealtime, gst_openai_realtime, GST, OPENAI_REALTIME, GstVgAgent)

GST_ELEMENT_REGISTER_DECLARE (openairealtime);

#define VG_RT_RATE GST_VG_AGENT_RATE
#define VG_RT_MAX_HISTORY 64

/* One item of the conversation as the replay sends it to a new session. */
typedef enum
{
  VG_RT_HISTORY_MESSAGE,         /* role + text */
  VG_RT_HISTORY_FUNCTION_CALL,   /* call_id + name + text (the arguments) */
  VG_RT_HISTORY_FUNCTION_OUTPUT, /* call_id + text (the output JSON) */
} VgRtHistoryKind;

typedef struct
{
  VgRtHistoryKind kind;
  char *item_id; /* a user audio item waiting for its transcript, or NULL */
  char *role;    /* user or assistant (messages) */
  char *call_id;
  char *name;
  char *text;
} VgRtHistoryEntry;

struct _GstOpenAiRealtime
{
  GstVgAgent parent;

  /* properties, guarded by the object lock */
  char *url;
  char *api_key;
  char *model;
  VgRtSessionSettings settings;
  guint append_ms;
  guint max_send_queue_ms;
  guint max_playout_ms;
  guint reconnect_max_ms;
  guint stall_timeout_ms;
  guint64 bad_frames; /* counted on the I/O thread */

  /* the session, created in start() and freed in stop() (state-change
   * thread); client is also guarded by the object lock for the
   * dropped-input-bytes getter */
  VgIoContext *io;
  VgRtClient *client;

  /* input accumulation: sink streaming thread only */
  GByteArray *pending_input;
  guint64 appended_bytes;

  /* conversation state: owned by the I/O thread (the owner context), which
   * runs the client callbacks and, handed over by GstVgAgent, the action
   * signals and played reports; no lock. start() and stop() reset it while
   * nothing of the session runs. */
  gboolean fatal;
  guint sessions;              /* sessions created so far */
  gboolean interrupt_response; /* effective server setting */
  gboolean response_active;
  gboolean response_interrupted; /* barge-in or cancel: its audio is not played */
  char *response_id;
  gboolean response_create_pending; /* function results waiting for response.done */
  gboolean response_requested;      /* we sent response.create, no response.created yet */
  GQueue pending_responds;          /* respond instructions ("" for none) waiting for
                                       the current response's response.done */
  gboolean response_awaited;        /* speech_stopped: server VAD owes us a response */
  guint rate_limit_retries;         /* response.create retries after rate_limit_exceeded */
  GSource *rate_limit_retry;        /* pending retry, on the I/O context */
  GSource *renew;                   /* reconnect ahead of expires_at, on the I/O context */
  char *assistant_item_id;          /* item of assistant_text */
  gboolean response_has_audio;
  char *audio_item_id;     /* assistant item whose audio is queued/playing */
  GHashTable *known_items; /* item ids announced by the server */
  GString *assistant_text; /* transcript so far of the current assistant item */
  GHashTable *user_text;   /* item id -> GString of user transcript deltas */
  GQueue history;          /* VgRtHistoryEntry, replayed on reconnect */
  gint64 speech_end_us;    /* monotonic time of speech_stopped, 0 if none */
  gint64 usage_origin_us;  /* speech_end_us of the response pending_usage describes */
  gint64 first_audio_received_us;
  gint64 first_audio_played_us;
  GstStructure *pending_usage; /* posted when both done and first audio played */
};

/* gstopenairealtime-events.c, I/O thread */
void gst_openai_realtime_handle_event (GstOpenAiRealtime *self, const char *type,
                                       JsonObject *event);
void gst_openai_realtime_handle_bad_frame (GstOpenAiRealtime *self, const char *reason);
void gst_openai_realtime_played (GstVgAgent *agent, const GstVgAgentPlayed *played);
void gst_openai_realtime_send (GstOpenAiRealtime *self, char *json);
void gst_openai_realtime_reset_conversation (GstOpenAiRealtime *self);
void gst_openai_realtime_connection_lost (GstOpenAiRealtime *self);
void gst_openai_realtime_cancel_retry (GstOpenAiRealtime *self);
void gst_openai_realtime_cancel_timers (GstOpenAiRealtime *self);
gboolean gst_openai_realtime_expecting (GstOpenAiRealtime *self);
void gst_openai_realtime_history_add_call (GstOpenAiRealtime *self, VgRtHistoryKind kind,
                                           const char *call_id, const char *name, const char *text);
void gst_openai_realtime_history_add_message (GstOpenAiRealtime *self, const char *role,
                                              const char *text);

/* gstopenairealtime-actions.c: GstVgAgentClass vfuncs, I/O thread */
void gst_openai_realtime_function_result (GstVgAgent *agent, const char *call_id,
                                          const char *output_json);
void gst_openai_realtime_handle_text (GstVgAgent *agent, const char *text);
void gst_openai_realtime_interrupt (GstVgAgent *agent);
void gst_openai_realtime_respond (GstVgAgent *agent, const char *instructions);
void gst_openai_realtime_create_response (GstOpenAiRealtime *self, const char *instructions);
void gst_openai_realtime_next_response (GstOpenAiRealtime *self);

G_END_DECLS
