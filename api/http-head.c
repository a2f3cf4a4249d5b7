/* The request head checker. See http-head.h. */
#include "api/http-head.h"

#include <string.h>

static VgHttpHeadResult
refuse (VgHttpHeadRefusal *r, guint status, const char *code, const char *message)
{
  r->status = status;
  r->code = code;
  r->message = message;
  return VG_HTTP_HEAD_REFUSED;
}

static gboolean
name_is (const char *line, gsize name_len, const char *name)
{
  return name_len == strlen (name) && g_ascii_strncasecmp (line, name, name_len) == 0;
}

/* 1 to 18 digits between optional blanks: anything else (a sign, a list,
 * a number beyond 2^63) is refused rather than guessed at. */
static gboolean
content_length_ok (const char *v, gsize len)
{
  gsize i = 0, digits = 0;

  while (i < len && (v[i] == ' ' || v[i] == '\t'))
    i++;
  while (i < len && g_ascii_isdigit (v[i]))
    i++, digits++;
  while (i < len && (v[i] == ' ' || v[i] == '\t'))
    i++;
  return i == len && digits >= 1 && digits <= 18;
}

/* Whether a comma-separated header value lists token (case-insensitive). */
static gboolean
lists_token (const char *v, gsize len, const char *token)
{
  gsize tlen = strlen (token);

  for (gsize i = 0; i < len;)
    {
      gsize start, end;
      while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
        i++;
      start = i;
      while (i < len && v[i] != ',')
        i++;
      end = i;
      while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
        end--;
      if (end - start == tlen && g_ascii_strncasecmp (v + start, token, tlen) == 0)
        return TRUE;
    }
  return FALSE;
}

/* Every '%' is followed by two hex digits. */
static gboolean
escapes_ok (const char *line, gsize len)
{
  for (const char *p = memchr (line, '%', len); p; p = memchr (p + 1, '%', line + len - p - 1))
    if (line + len - p < 3 || !g_ascii_isxdigit (p[1]) || !g_ascii_isxdigit (p[2]))
      return FALSE;
  return TRUE;
}

VgHttpHeadResult
vg_http_head_check (VgHttpHeadScan *scan, const char *data, gsize len, VgHttpHeadRefusal *r)
{
  for (;; scan->line_no++)
    {
      gsize pos = scan->pos;
      gsize from = pos + scan->searched;
      const char *nl = memchr (data + from, '\n', len - from);
      gsize line_len;

      if (!nl)
        {
          gsize partial = len - pos;
          scan->searched = partial;
          if (scan->line_no == 0 && partial > VG_HTTP_MAX_REQUEST_LINE)
            return refuse (r, 414, "uri_too_long", "the request line is longer than 8192 bytes");
          if (partial > VG_HTTP_MAX_HEADER_LINE || len > VG_HTTP_MAX_HEAD)
            return refuse (r, 431, "headers_too_large",
                           "a header is longer than 8192 bytes or all are longer than 32768");
          return VG_HTTP_HEAD_INCOMPLETE;
        }
      scan->pos = nl + 1 - data;
      scan->searched = 0;
      line_len = nl - (data + pos);
      if (line_len > 0 && data[pos + line_len - 1] == '\r')
        line_len--;
      if (scan->pos > VG_HTTP_MAX_HEAD + 2)
        return scan->line_no == 0
                   ? refuse (r, 414, "uri_too_long", "the request line is longer than 8192 bytes")
                   : refuse (r, 431, "headers_too_large",
                             "a header is longer than 8192 bytes or all are longer than 32768");
      if (memchr (data + pos, '\0', line_len))
        return refuse (r, 400, "bad_request", "the request head contains a NUL byte");
      if (scan->line_no == 0)
        {
          if (line_len > VG_HTTP_MAX_REQUEST_LINE)
            return refuse (r, 414, "uri_too_long", "the request line is longer than 8192 bytes");
          /* libsoup would refuse these too, but with an empty 400. */
          if (!escapes_ok (data + pos, line_len))
            return refuse (r, 400, "bad_request", "the request target has an invalid %-escape");
          scan->http10 = line_len >= 9 && memcmp (data + pos + line_len - 9, " HTTP/1.0", 9) == 0;
          continue;
        }
      if (line_len == 0)
        {
          scan->head_len = scan->pos;
          break; /* the end of the head */
        }
      if (line_len > VG_HTTP_MAX_HEADER_LINE)
        return refuse (r, 431, "headers_too_large",
                       "a header is longer than 8192 bytes or all are longer than 32768");

      const char *line = data + pos;
      const char *colon = memchr (line, ':', line_len);
      gsize name_len = colon ? (gsize)(colon - line) : 0;
      /* Folded lines and blanks before the colon are how requests get
       * smuggled past one parser and not another (RFC 9112 5.1, 5.2). */
      if (!colon || name_len == 0 || line[0] == ' ' || line[0] == '\t' || line[name_len - 1] == ' '
          || line[name_len - 1] == '\t')
        return refuse (r, 400, "bad_request", "a header line is malformed");
      if (name_is (line, name_len, "Content-Length"))
        {
          if (++scan->content_lengths > 1)
            return refuse (r, 400, "bad_content_length", "Content-Length is given more than once");
          if (!content_length_ok (colon + 1, line_len - name_len - 1))
            return refuse (r, 400, "bad_content_length",
                           "Content-Length is not a non-negative integer below 10^18");
          scan->content_length = g_ascii_strtoull (colon + 1, NULL, 10);
        }
      else if (name_is (line, name_len, "Connection"))
        scan->connection_close |= lists_token (colon + 1, line_len - name_len - 1, "close");
      else if (name_is (line, name_len, "Transfer-Encoding"))
        scan->chunked = TRUE;
    }
  if (scan->content_lengths && scan->chunked)
    return refuse (r, 400, "bad_content_length",
                   "Content-Length and Transfer-Encoding are both given");
  return VG_HTTP_HEAD_OK;
}

static const char *
reason_phrase (guint status)
{
  switch (status)
    {
      case 400:
        return "Bad Request";
      case 408:
        return "Request Timeout";
      case 414:
        return "URI Too Long";
      case 429:
        return "Too Many Requests";
      case 431:
        return "Request Header Fields Too Large";
      default:
        return "Error";
    }
}

char *
vg_http_error_response (guint status, const char *code, const char *message)
{
  g_autofree char *body
      = g_strdup_printf ("{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code, message);

  return g_strdup_printf (
      "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
      "Connection: close\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n%s",
      status, reason_phrase (status), strlen (body), body);
}
