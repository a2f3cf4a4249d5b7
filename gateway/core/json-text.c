#include "gateway/core/json-text.h"

void
vg_json_append_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    {
      switch (*p)
        {
          case '"':
            g_string_append (out, "\\\"");
            break;
          case '\\':
            g_string_append (out, "\\\\");
            break;
          case '\n':
            g_string_append (out, "\\n");
            break;
          case '\r':
            g_string_append (out, "\\r");
            break;
          case '\t':
            g_string_append (out, "\\t");
            break;
          default:
            if (*p < 0x20)
              g_string_append_printf (out, "\\u%04x", *p);
            else
              g_string_append_c (out, *p);
        }
    }
  g_string_append_c (out, '"');
}

void
vg_json_append_int (GString *out, gint64 v)
{
  char buf[24];
  char *p = buf + sizeof buf;
  /* Negated as unsigned: G_MININT64 has no positive counterpart. */
  guint64 u = v < 0 ? -(guint64)v : (guint64)v;

  do
    *--p = '0' + u % 10;
  while ((u /= 10) > 0);
  if (v < 0)
    *--p = '-';
  g_string_append_len (out, p, buf + sizeof buf - p);
}
