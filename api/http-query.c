#include "api/http-query.h"

#include <string.h>

/* One www-form component decoded: '+' is a space. NULL for a bad %-escape,
 * %00 (C strings cannot carry it) or bytes that are not UTF-8. */
static char *
form_decode (const char *s, gsize len)
{
  g_autoptr (GString) out = g_string_sized_new (len);

  for (gsize i = 0; i < len; i++)
    {
      int hi, lo;
      if (s[i] == '+')
        g_string_append_c (out, ' ');
      else if (s[i] != '%')
        g_string_append_c (out, s[i]);
      else if (i + 2 < len)
        {
          hi = g_ascii_xdigit_value (s[i + 1]);
          lo = g_ascii_xdigit_value (s[i + 2]);
          if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return NULL;
          g_string_append_c (out, (char)(hi * 16 + lo));
          i += 2;
        }
      else
        return NULL;
    }
  if (!g_utf8_validate (out->str, out->len, NULL))
    return NULL;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

gboolean
vg_http_query_parse (const char *q, GHashTable *into)
{
  for (const char *p = q; p && *p;)
    {
      const char *amp = strchr (p, '&');
      gsize len = amp ? (gsize)(amp - p) : strlen (p);
      const char *eq = memchr (p, '=', len);
      gsize name_len = eq ? (gsize)(eq - p) : len;
      char *name = form_decode (p, name_len);
      char *value = eq ? form_decode (eq + 1, len - name_len - 1) : g_strdup ("");

      if (!name || !value)
        {
          g_free (name);
          g_free (value);
          g_hash_table_remove_all (into);
          return FALSE;
        }
      if (*name)
        g_hash_table_replace (into, name, value);
      else
        {
          g_free (name);
          g_free (value);
        }
      p += len + (amp ? 1 : 0);
    }
  return TRUE;
}
