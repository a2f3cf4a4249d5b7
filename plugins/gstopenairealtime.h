/* gstopenairealtime.h: the OpenAI Realtime agent element. The instance
 * struct is shared by the element glue (gstopenairealtime.c) and the server
 * event dispatcher (gstopenairealtime-events.c). */
#pragma once

#include <gst/gst.h>
#include "vg-io-context.h"
#include "vg-paced-src.h"
#include "vg-playout.h"
#include "vg-rt-client.h"
#include "vg-rt-session-config.h"

G_BEGIN_DECLS

#define GST_TYPE_OPENAI_REALTIME (gst_openai_realtime_get_type ())
G_DECLARE_FINAL_TYPE (GstOpenAiRealtime, gst_openai_realtime, GST, OPENAI_REALTIME, GstElement)

GST_ELEMENT_REGISTER_DECLARE (openairealtime);

#define VG_RT_RATE 24000
#define VG_RT_PERIOD_MS 20
#define VG_RT_MAX_HISTORY 64

typedef struct
{
  char *role; /* user or assistant */
  char *text;
} VgRtHistoryEntry;

struct _GstOpenAiRealtime
{
  GstElement parent;

  GstPad *sinkpad;
  GstPad *srcpad;

  /* properties, guarded by the object lock */
  char *url;
  char *api_key;
  char *model;
  VgRtSessionSettings settings;
  guint append_ms;
  guint max_send_queue_ms;
  guint max_playout_ms;
  guint reconnect_max_ms;
  gint flush_downstream; /* atomic gboolean: read at barge-in, any thread */

  /* runtime objects, created in READY->PAUSED */
  VgIoContext *io;
  VgRtClient *client;
  VgPlayout *playout;
  VgPacedSrc *paced;

  /* input accumulation: sink streaming thread only */
  GByteArray *pending_input;
  guint64 appended_bytes;

  /* conversation state, guarded by state_lock */
  GRecMutex state_lock; /* recursive: bus sync handlers may call action signals */
  gboolean stopped;     /* no more events are handled */
  gboolean fatal;
  guint sessions;              /* sessions created so far */
  gboolean interrupt_response; /* effective server setting */
  gboolean response_active;
  gboolean response_interrupted; /* barge-in or cancel: its audio is not played */
  char *response_id;
  gboolean response_create_pending; /* function results waiting for response.done */
  gboolean response_has_audio;
  char *audio_item_id;     /* assistant item whose audio is queued/playing */
  GHashTable *known_items; /* item ids announced by the server */
  GString *assistant_text; /* transcript so far of the current assistant item */
  GHashTable *user_text;   /* item id -> GString of user transcript deltas */
  GQueue history;          /* VgRtHistoryEntry, replayed on reconnect */
  char *state;             /* last posted realtime-state */
  gint64 speech_end_us;    /* monotonic time of speech_stopped, 0 if none */
  gint64 first_audio_received_us;
  gint64 first_audio_played_us;
  GstStructure *pending_usage; /* posted when both done and first audio played */
  guint64 bad_frames;
};

/* gstopenairealtime-events.c */
void gst_openai_realtime_handle_event (GstOpenAiRealtime *self, const char *type,
                                       JsonObject *event);
void gst_openai_realtime_handle_bad_frame (GstOpenAiRealtime *self, const char *reason);
void gst_openai_realtime_on_played (gpointer user_data, const VgPlayoutPop *pop);
void gst_openai_realtime_set_state (GstOpenAiRealtime *self, const char *state);
void gst_openai_realtime_send (GstOpenAiRealtime *self, char *json);
void gst_openai_realtime_reset_conversation (GstOpenAiRealtime *self);

/* gstopenairealtime-actions.c */
void gst_openai_realtime_send_function_result (GstOpenAiRealtime *self, const char *call_id,
                                               const char *output_json);
void gst_openai_realtime_send_text (GstOpenAiRealtime *self, const char *text);
void gst_openai_realtime_cancel_response (GstOpenAiRealtime *self);

G_END_DECLS
