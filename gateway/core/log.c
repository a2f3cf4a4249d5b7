/* The process's log writer. Text: "TIME LEVEL domain: message [request_id]".
 * JSON: one object per line with time, level, domain, message and any
 * request_id. Fields are never expanded beyond these, so a caller cannot log
 * a secret by accident through an unexpected field. Either format writes
 * exactly one line per message, whatever the message holds: messages carry
 * names that came from outside, and a newline in one must not forge a line. */
#include "gateway/core/log.h"
#include "gateway/core/json-text.h"

#include <stdio.h>
#include <string.h>

static VgLogFormat log_format = VG_LOG_TEXT;
static GLogLevelFlags log_threshold = G_LOG_LEVEL_INFO;
static GMutex log_lock;

/* Text lines escape what could break or reshape the line (newlines and other
 * C0 controls, DEL, C1 controls, Unicode format characters such as the bidi
 * override U+202E, line and paragraph separators) and bytes that are not
 * UTF-8; a backslash is doubled, so no input can pass for one of these escapes. */
static void
append_text_escaped (GString *line, const char *s)
{
  const char *p = s;

  while (*p)
    {
      gunichar c = g_utf8_get_char_validated (p, -1);
      if (c == (gunichar)-1 || c == (gunichar)-2)
        {
          g_string_append_printf (line, "\\x%02x", (guchar)*p);
          p++;
          continue;
        }
      const char *next = g_utf8_next_char (p);
      if (c == '\\')
        g_string_append (line, "\\\\");
      else if (c == '\n')
        g_string_append (line, "\\n");
      else if (c == '\r')
        g_string_append (line, "\\r");
      else if (c == '\t')
        g_string_append (line, "\\t");
      else if (c < 0x20 || c == 0x7f)
        g_string_append_printf (line, "\\x%02x", c);
      else if ((c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029
               || g_unichar_type (c) == G_UNICODE_FORMAT)
        g_string_append_printf (line, "\\u%04x", c);
      else
        g_string_append_len (line, p, next - p);
      p = next;
    }
}

/* JSON strings escape controls already; bytes that are not UTF-8 would make
 * the line invalid JSON, so they become U+FFFD. */
static void
append_json_string (GString *line, const char *s)
{
  if (g_utf8_validate (s, -1, NULL))
    vg_json_append_string (line, s);
  else
    {
      g_autofree char *valid = g_utf8_make_valid (s, -1);
      vg_json_append_string (line, valid);
    }
}

static const char *
level_name (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "error";
  if (level & G_LOG_LEVEL_CRITICAL)
    return "critical";
  if (level & G_LOG_LEVEL_WARNING)
    return "warning";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "message";
  if (level & G_LOG_LEVEL_INFO)
    return "info";
  return "debug";
}

/* Lower is more severe, matching GLogLevelFlags bit order. */
gboolean
vg_log_enabled (GLogLevelFlags level)
{
  return (level & G_LOG_LEVEL_MASK) <= log_threshold;
}

static GLogWriterOutput
vg_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  const char *message = "", *domain = "voxgate", *request_id = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *time = g_date_time_format_iso8601 (now);
  g_autoptr (GString) line = g_string_sized_new (256);

  if (!vg_log_enabled (level))
    return G_LOG_WRITER_HANDLED;
  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
      else if (g_str_equal (fields[i].key, "GLIB_DOMAIN") && fields[i].value)
        domain = fields[i].value;
      else if (g_str_equal (fields[i].key, "REQUEST_ID") && fields[i].length < 0)
        request_id = fields[i].value;
    }

  if (log_format == VG_LOG_JSON)
    {
      g_string_append (line, "{\"time\":");
      vg_json_append_string (line, time);
      g_string_append_printf (line, ",\"level\":\"%s\",\"domain\":", level_name (level));
      append_json_string (line, domain);
      g_string_append (line, ",\"message\":");
      append_json_string (line, message);
      if (request_id)
        {
          g_string_append (line, ",\"request_id\":");
          append_json_string (line, request_id);
        }
      g_string_append (line, "}\n");
    }
  else
    {
      g_string_append_printf (line, "%s %-7s ", time, level_name (level));
      append_text_escaped (line, domain);
      g_string_append (line, ": ");
      append_text_escaped (line, message);
      if (request_id)
        {
          g_string_append (line, " [");
          append_text_escaped (line, request_id);
          g_string_append_c (line, ']');
        }
      g_string_append_c (line, '\n');
    }

  g_mutex_lock (&log_lock);
  fwrite (line->str, 1, line->len, stderr);
  fflush (stderr);
  g_mutex_unlock (&log_lock);
  return G_LOG_WRITER_HANDLED;
}

void
vg_log_setup (VgLogFormat format, const char *level)
{
  log_format = format;
  if (g_strcmp0 (level, "error") == 0)
    log_threshold = G_LOG_LEVEL_CRITICAL;
  else if (g_strcmp0 (level, "warning") == 0)
    log_threshold = G_LOG_LEVEL_WARNING;
  else if (g_strcmp0 (level, "debug") == 0)
    log_threshold = G_LOG_LEVEL_DEBUG;
  else
    log_threshold = G_LOG_LEVEL_INFO;
  /* GLib drops info and debug messages before any writer sees them unless
   * told otherwise; this writer applies the configured level itself. */
  g_log_set_debug_enabled (TRUE);
  g_log_set_writer_func (vg_log_writer, NULL, NULL);
}
