#include "gateway/core/validate.h"

#include <string.h>

gboolean
vg_validate_room_name (const char *room)
{
  gsize len;

  if (!room)
    return FALSE;
  len = strlen (room);
  if (len == 0 || len > VG_ROOM_NAME_MAX || !g_ascii_isalnum (room[0]))
    return FALSE;
  for (const char *p = room; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

/* Characters that print as themselves: a name must not reshape the line it is
 * shown in (newlines, bidi overrides) nor hide characters (zero-width ones). */
static gboolean
text_char_allowed (gunichar c)
{
  switch (g_unichar_type (c))
    {
      case G_UNICODE_CONTROL:
      case G_UNICODE_FORMAT:
      case G_UNICODE_UNASSIGNED:
      case G_UNICODE_SURROGATE:
      case G_UNICODE_PRIVATE_USE:
      case G_UNICODE_LINE_SEPARATOR:
      case G_UNICODE_PARAGRAPH_SEPARATOR:
        return FALSE;
      case G_UNICODE_SPACE_SEPARATOR:
        return c == ' ';
      default:
        return TRUE;
    }
}

static gboolean
printable_text (const char *s, glong min_chars, glong max_chars, gboolean trimmed)
{
  glong n = 0;

  if (!s || !g_utf8_validate (s, -1, NULL))
    return FALSE;
  for (const char *p = s; *p; p = g_utf8_next_char (p))
    if (!text_char_allowed (g_utf8_get_char (p)) || ++n > max_chars)
      return FALSE;
  if (trimmed && n > 0 && (s[0] == ' ' || s[strlen (s) - 1] == ' '))
    return FALSE;
  return n >= min_chars;
}

gboolean
vg_validate_identity (const char *identity)
{
  return printable_text (identity, 1, VG_IDENTITY_MAX, TRUE);
}

gboolean
vg_validate_display_name (const char *name)
{
  return printable_text (name, 0, VG_DISPLAY_NAME_MAX, FALSE);
}

gboolean
vg_validate_attribute_key (const char *key)
{
  return printable_text (key, 1, VG_ATTRIBUTE_KEY_MAX, TRUE);
}

char *
vg_random_id (const char *prefix)
{
  return g_strdup_printf ("%s-%08x", prefix, g_random_int ());
}
