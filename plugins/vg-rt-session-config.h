/* vg-rt-session-config.h: the element's settings and the session.update
 * event built from them (GA shape, explicit values everywhere). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  VG_RT_TURN_DETECTION_SERVER_VAD,
  VG_RT_TURN_DETECTION_SEMANTIC_VAD,
  VG_RT_TURN_DETECTION_NONE,
} VgRtTurnDetection;

typedef struct
{
  char *instructions;
  char *voice;
  VgRtTurnDetection turn_detection;
  double vad_threshold;
  guint prefix_padding_ms;
  guint silence_duration_ms;
  char *eagerness;
  gboolean interrupt_response;
  char *transcription_model; /* empty: no input transcription */
  char *noise_reduction;     /* near_field, far_field or empty */
  char *tools_json;          /* a JSON array, or NULL */
} VgRtSessionSettings;

/* Returns the session.update text, or NULL with error when tools_json is not
 * a JSON array of objects. */
char *vg_rt_session_update_build (const VgRtSessionSettings *settings, GError **error);

/* Fields of a partial session.update, for changes while the session runs. */
typedef enum
{
  VG_RT_SESSION_INSTRUCTIONS = 1 << 0,
  VG_RT_SESSION_TOOLS = 1 << 1,
} VgRtSessionFields;

/* A session.update carrying only these fields (and the required
 * session.type); tools as [] when tools_json is NULL or empty, so that they
 * are removed. NULL with error when tools_json is invalid. */
char *vg_rt_session_update_build_fields (const VgRtSessionSettings *settings,
                                         VgRtSessionFields fields, GError **error);

/* TRUE when text parses as a JSON array whose elements are objects. */
gboolean vg_rt_tools_validate (const char *text, GError **error);

void vg_rt_session_settings_clear (VgRtSessionSettings *settings);

G_END_DECLS
