#include "gateway/validate.h"

#include <string.h>

gboolean
vg_validate_room_name (const char *room)
{
  gsize len;

  if (!room)
    return FALSE;
  len = strlen (room);
  if (len == 0 || len > VG_ROOM_NAME_MAX)
    return FALSE;
  for (const char *p = room; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

static gboolean
printable_utf8 (const char *s, glong max_chars, gboolean allow_empty)
{
  glong n = 0;

  if (!s || !g_utf8_validate (s, -1, NULL))
    return FALSE;
  for (const char *p = s; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      if (!g_unichar_isprint (c) && c != ' ')
        return FALSE;
      if (++n > max_chars)
        return FALSE;
    }
  return allow_empty || n > 0;
}

gboolean
vg_validate_identity (const char *identity)
{
  return printable_utf8 (identity, VG_IDENTITY_MAX, FALSE);
}

gboolean
vg_validate_display_name (const char *name)
{
  return printable_utf8 (name, VG_DISPLAY_NAME_MAX, TRUE);
}

char *
vg_random_id (const char *prefix)
{
  return g_strdup_printf ("%s-%08x", prefix, g_random_int ());
}
