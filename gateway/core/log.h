/* Structured logging: one GLib log writer for the whole process, human
 * readable or JSON lines, with a minimum level. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  VG_LOG_TEXT,
  VG_LOG_JSON,
} VgLogFormat;

/* level: "error", "warning", "info" or "debug". */
void vg_log_setup (VgLogFormat format, const char *level);

/* Whether a message at level would be written: lets hot paths skip
 * formatting a message nobody reads. */
gboolean vg_log_enabled (GLogLevelFlags level);

/* Logs at info level with a REQUEST_ID field (when request_id is non-NULL). */
#define vg_log_request(request_id, ...)                                                            \
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "REQUEST_ID", (request_id), "MESSAGE",         \
                    __VA_ARGS__)

G_END_DECLS
