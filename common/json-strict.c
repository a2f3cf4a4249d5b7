/* The strict JSON scanner. See json-strict.h. */
#include "common/json-strict.h"

#include <string.h>

G_DEFINE_QUARK (vg - json - strict - error - quark, vg_json_strict_error)

typedef struct
{
  const char *start, *p, *end;
  GError **error;
} Scan;

static gboolean
fail (Scan *s, VgJsonStrictError code, const char *what)
{
  g_set_error (s->error, VG_JSON_STRICT_ERROR, code, "%s at offset %" G_GSIZE_FORMAT, what,
               (gsize)(s->p - s->start));
  return FALSE;
}

static void
skip_ws (Scan *s)
{
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
    s->p++;
}

static int
hex4 (const char *p)
{
  int v = 0;

  for (int i = 0; i < 4; i++)
    {
      int d = g_ascii_xdigit_value (p[i]);
      if (d < 0)
        return -1;
      v = v * 16 + d;
    }
  return v;
}

/* s->p is at the opening quote. UTF-8 was validated beforehand. */
static gboolean
scan_string (Scan *s)
{
  s->p++;
  while (s->p < s->end)
    {
      guchar c = *s->p;
      if (c == '"')
        {
          s->p++;
          return TRUE;
        }
      if (c < 0x20)
        return fail (s, VG_JSON_STRICT_ERROR_INVALID, "unescaped control character in a string");
      if (c != '\\')
        {
          s->p++;
          continue;
        }
      if (s->end - s->p < 2)
        break;
      if (strchr ("\"\\/bfnrt", s->p[1]) && s->p[1])
        {
          s->p += 2;
          continue;
        }
      if (s->p[1] != 'u')
        return fail (s, VG_JSON_STRICT_ERROR_INVALID, "invalid escape in a string");
      int u = s->end - s->p >= 6 ? hex4 (s->p + 2) : -1;
      if (u < 0)
        return fail (s, VG_JSON_STRICT_ERROR_INVALID, "invalid \\u escape in a string");
      if (u == 0)
        return fail (s, VG_JSON_STRICT_ERROR_NUL, "\\u0000 is not allowed in a string");
      if (u >= 0xDC00 && u <= 0xDFFF)
        return fail (s, VG_JSON_STRICT_ERROR_INVALID, "unpaired surrogate in a string");
      s->p += 6;
      if (u >= 0xD800 && u <= 0xDBFF)
        {
          int low = s->end - s->p >= 6 && s->p[0] == '\\' && s->p[1] == 'u' ? hex4 (s->p + 2) : -1;
          if (low < 0xDC00 || low > 0xDFFF)
            return fail (s, VG_JSON_STRICT_ERROR_INVALID, "unpaired surrogate in a string");
          s->p += 6;
        }
    }
  return fail (s, VG_JSON_STRICT_ERROR_INVALID, "unterminated string");
}

static gboolean
scan_digits (Scan *s)
{
  const char *from = s->p;

  while (s->p < s->end && g_ascii_isdigit (*s->p))
    s->p++;
  return s->p > from;
}

static gboolean
scan_number (Scan *s)
{
  if (*s->p == '-')
    s->p++;
  if (s->p < s->end && *s->p == '0')
    s->p++;
  else if (!scan_digits (s))
    return fail (s, VG_JSON_STRICT_ERROR_INVALID, "invalid number");
  if (s->p < s->end && *s->p == '.')
    {
      s->p++;
      if (!scan_digits (s))
        return fail (s, VG_JSON_STRICT_ERROR_INVALID, "invalid number");
    }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E'))
    {
      s->p++;
      if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
        s->p++;
      if (!scan_digits (s))
        return fail (s, VG_JSON_STRICT_ERROR_INVALID, "invalid number");
    }
  return TRUE;
}

static gboolean
scan_scalar (Scan *s)
{
  static const char *const literals[] = { "true", "false", "null" };

  if (*s->p == '"')
    return scan_string (s);
  if (*s->p == '-' || g_ascii_isdigit (*s->p))
    return scan_number (s);
  for (guint i = 0; i < G_N_ELEMENTS (literals); i++)
    {
      gsize n = strlen (literals[i]);
      if ((gsize)(s->end - s->p) >= n && memcmp (s->p, literals[i], n) == 0)
        {
          s->p += n;
          return TRUE;
        }
    }
  return fail (s, VG_JSON_STRICT_ERROR_INVALID, "unexpected character");
}

gboolean
vg_json_strict_check (const char *data, gsize len, guint max_depth, GError **error)
{
  /* One byte per open container: '{' or '['. */
  g_autofree char *stack = g_malloc (max_depth + 1);
  guint depth = 0;
  /* NULL + 0 is undefined behaviour too (UBSan). */
  Scan s = { data, data, data ? data + len : data, error };
  enum
  {
    VALUE,
    KEY,
    AFTER
  } state
      = VALUE;

  if (!data || !g_utf8_validate (data, len, NULL))
    return fail (&s, VG_JSON_STRICT_ERROR_INVALID, "not UTF-8 text");
  for (;;)
    {
      skip_ws (&s);
      if (state == AFTER && depth == 0)
        return s.p == s.end || fail (&s, VG_JSON_STRICT_ERROR_INVALID, "text after the JSON value");
      if (s.p == s.end)
        return fail (&s, VG_JSON_STRICT_ERROR_INVALID, "unexpected end of the text");
      switch (state)
        {
          case VALUE:
            if (*s.p == '{' || *s.p == '[')
              {
                if (depth == max_depth)
                  return fail (&s, VG_JSON_STRICT_ERROR_TOO_DEEP, "nesting is too deep");
                stack[depth++] = *s.p++;
                skip_ws (&s);
                if (s.p < s.end && *s.p == (stack[depth - 1] == '{' ? '}' : ']'))
                  {
                    s.p++;
                    depth--;
                    state = AFTER;
                  }
                else
                  state = stack[depth - 1] == '{' ? KEY : VALUE;
                continue;
              }
            if (!scan_scalar (&s))
              return FALSE;
            state = AFTER;
            break;
          case KEY:
            if (*s.p != '"')
              return fail (&s, VG_JSON_STRICT_ERROR_INVALID,
                           "expected a member name in double quotes");
            if (!scan_string (&s))
              return FALSE;
            skip_ws (&s);
            if (s.p == s.end || *s.p != ':')
              return fail (&s, VG_JSON_STRICT_ERROR_INVALID, "expected ':' after a member name");
            s.p++;
            state = VALUE;
            break;
          case AFTER:
            if (*s.p == ',')
              {
                s.p++;
                state = stack[depth - 1] == '{' ? KEY : VALUE;
              }
            else if (*s.p == (stack[depth - 1] == '{' ? '}' : ']'))
              {
                s.p++;
                depth--;
              }
            else
              return fail (&s, VG_JSON_STRICT_ERROR_INVALID,
                           "expected ',' or the end of the container");
            break;
        }
    }
}

JsonNode *
vg_json_strict_parse (const char *data, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonNode *root;

  if (!vg_json_strict_check (data, len, VG_JSON_MAX_DEPTH, error))
    return NULL;
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, len, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (!root)
    {
      g_set_error_literal (error, VG_JSON_STRICT_ERROR, VG_JSON_STRICT_ERROR_INVALID, "empty text");
      return NULL;
    }
  return json_node_ref (root);
}
