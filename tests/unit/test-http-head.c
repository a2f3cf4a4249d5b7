/* The request head checker (api/http-head.c): sizes and Content-Length. */
#include "api/http-head.h"

#include <string.h>

static VgHttpHeadResult
check (const char *head, VgHttpHeadRefusal *r)
{
  VgHttpHeadScan scan = { 0 };

  return vg_http_head_check (&scan, head, strlen (head), r);
}

static void
test_accepts (void)
{
  static const char *const good[] = {
    "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST /api/token HTTP/1.1\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}",
    "POST /x HTTP/1.1\r\ncontent-length:  0 \r\n\r\n",
    "POST /x HTTP/1.1\nTransfer-Encoding: chunked\n\n",
    "GET / HTTP/1.0\r\n\r\n",
    "GET /a%20b%C3%a9?q=%2F HTTP/1.1\r\n\r\n",
  };
  VgHttpHeadRefusal r;

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_cmpint (check (good[i], &r), ==, VG_HTTP_HEAD_OK);
}

static void
test_incomplete (void)
{
  VgHttpHeadRefusal r;

  g_assert_cmpint (check ("", &r), ==, VG_HTTP_HEAD_INCOMPLETE);
  g_assert_cmpint (check ("GET / HT", &r), ==, VG_HTTP_HEAD_INCOMPLETE);
  g_assert_cmpint (check ("GET / HTTP/1.1\r\nHost: x\r\n", &r), ==, VG_HTTP_HEAD_INCOMPLETE);
  g_assert_cmpint (check ("GET / HTTP/1.1\r\nHost: x\r\n\r", &r), ==, VG_HTTP_HEAD_INCOMPLETE);
}

static void
expect (const char *head, guint status, const char *code)
{
  VgHttpHeadRefusal r = { 0 };

  if (check (head, &r) != VG_HTTP_HEAD_REFUSED)
    g_error ("not refused: %.80s", head);
  g_assert_cmpuint (r.status, ==, status);
  g_assert_cmpstr (r.code, ==, code);
  g_assert_nonnull (r.message);
}

static void
test_sizes (void)
{
  g_autofree char *long_target = g_strnfill (64 * 1024, 'a');
  g_autofree char *line = g_strdup_printf ("GET /%s HTTP/1.1\r\n\r\n", long_target);
  g_autofree char *partial_line = g_strdup_printf ("GET /%s", long_target);
  g_autofree char *big_header
      = g_strdup_printf ("GET / HTTP/1.1\r\nX-Big: %s\r\n\r\n", long_target);
  g_autofree char *partial_header = g_strdup_printf ("GET / HTTP/1.1\r\nX-Big: %s", long_target);
  g_autofree char *auth = g_strnfill (100 * 1024, 'e');
  g_autofree char *big_auth
      = g_strdup_printf ("GET / HTTP/1.1\r\nAuthorization: Bearer %s\r\n\r\n", auth);
  GString *many = g_string_new ("GET / HTTP/1.1\r\n");
  g_autofree char *fits = g_strnfill (VG_HTTP_MAX_REQUEST_LINE - 20, 'a');
  g_autofree char *fits_line = g_strdup_printf ("GET /%s HTTP/1.1\r\n\r\n", fits);
  VgHttpHeadRefusal r;

  expect (line, 414, "uri_too_long");
  expect (partial_line, 414, "uri_too_long");
  expect (big_header, 431, "headers_too_large");
  expect (partial_header, 431, "headers_too_large");
  expect (big_auth, 431, "headers_too_large");
  /* Many headers that are each small but 40 KB together. */
  for (guint i = 0; i < 1000; i++)
    g_string_append_printf (many, "X-H%u: %032u\r\n", i, i);
  g_string_append (many, "\r\n");
  expect (many->str, 431, "headers_too_large");
  g_string_free (many, TRUE);
  g_assert_cmpint (check (fits_line, &r), ==, VG_HTTP_HEAD_OK);
}

static void
test_content_length (void)
{
  expect ("POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400, "bad_content_length");
  expect ("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400,
          "bad_content_length");
  expect ("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400,
          "bad_content_length");
  expect ("POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 3\r\n\r\n{}", 400,
          "bad_content_length");
  expect ("POST / HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\n{}", 400, "bad_content_length");
  expect ("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", 400, "bad_content_length");
  expect ("POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400, "bad_content_length");
  expect ("POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
          "bad_content_length");
}

static void
test_malformed_lines (void)
{
  expect ("POST / HTTP/1.1\r\nContent-Length : 2\r\n\r\n{}", 400, "bad_request");
  expect ("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, "bad_request");
  expect ("GET / HTTP/1.1\r\nno colon\r\n\r\n", 400, "bad_request");
  expect ("GET / HTTP/1.1\r\n: empty name\r\n\r\n", 400, "bad_request");
  expect ("GET /healthz?x=%4 HTTP/1.1\r\n\r\n", 400, "bad_request");
  expect ("GET /a%zz HTTP/1.1\r\n\r\n", 400, "bad_request");
  expect ("GET /a% HTTP/1.1\r\n\r\n", 400, "bad_request");
  g_assert_cmpint (vg_http_head_check (&(VgHttpHeadScan){ 0 }, "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n",
                                       26, &(VgHttpHeadRefusal){ 0 }),
                   ==, VG_HTTP_HEAD_REFUSED);
}

static void
test_error_response (void)
{
  g_autofree char *text = vg_http_error_response (431, "headers_too_large", "too large");

  g_assert_true (g_str_has_prefix (text, "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
  g_assert_nonnull (strstr (text, "Connection: close\r\n"));
  g_assert_nonnull (strstr (text, "Content-Type: application/json\r\n"));
  g_assert_true (g_str_has_suffix (
      text, "\r\n\r\n{\"error\":{\"code\":\"headers_too_large\",\"message\":\"too large\"}}"));
}

/* A head sent a byte at a time gets the same verdict, at the byte that
 * decides it, and each line is scanned once (not once per byte). */
static void
test_incremental (void)
{
  static const struct
  {
    const char *head;
    VgHttpHeadResult result;
    guint status;
  } cases[] = {
    { "POST /api/token HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", VG_HTTP_HEAD_OK, 0 },
    { "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", VG_HTTP_HEAD_REFUSED,
      400 },
    { "GET /%zz HTTP/1.1\r\n\r\n", VG_HTTP_HEAD_REFUSED, 400 },
  };
  g_autofree char *filler = g_strnfill (40 * 1024, 'a');
  g_autofree char *slow
      = g_strdup_printf ("GET / HTTP/1.1\r\nX-A: %.8000s\r\nX-B: %.8000s\r\nX-C: %.8000s\r\n"
                         "X-D: %.8000s\r\nX-E: %s",
                         filler, filler, filler, filler, filler);
  VgHttpHeadScan scan = { 0 };
  VgHttpHeadRefusal r;
  VgHttpHeadResult res = VG_HTTP_HEAD_INCOMPLETE;
  gsize n;
  gint64 start;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize len = strlen (cases[i].head);
      memset (&scan, 0, sizeof scan);
      for (n = 1; n <= len; n++)
        if ((res = vg_http_head_check (&scan, cases[i].head, n, &r)) != VG_HTTP_HEAD_INCOMPLETE)
          break;
      g_assert_cmpint (res, ==, cases[i].result);
      if (res == VG_HTTP_HEAD_REFUSED)
        g_assert_cmpuint (r.status, ==, cases[i].status);
    }
  /* 32 KiB one byte at a time: linear, not quadratic. */
  memset (&scan, 0, sizeof scan);
  start = g_get_monotonic_time ();
  /* The length once: strlen in the loop made the test itself quadratic
   * (a 32 KiB scan per byte), which the 200 ms bound caught under ASan. */
  gsize slow_len = strlen (slow);
  for (n = 1; n <= slow_len; n++)
    if ((res = vg_http_head_check (&scan, slow, n, &r)) != VG_HTTP_HEAD_INCOMPLETE)
      break;
  g_assert_cmpint (res, ==, VG_HTTP_HEAD_REFUSED);
  g_assert_cmpuint (r.status, ==, 431);
  g_assert_cmpuint (n, <=, VG_HTTP_MAX_HEAD + 1);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 200000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/http-head/accepts", test_accepts);
  g_test_add_func ("/http-head/incomplete", test_incomplete);
  g_test_add_func ("/http-head/sizes", test_sizes);
  g_test_add_func ("/http-head/content-length", test_content_length);
  g_test_add_func ("/http-head/malformed-lines", test_malformed_lines);
  g_test_add_func ("/http-head/error-response", test_error_response);
  g_test_add_func ("/http-head/incremental", test_incremental);
  return g_test_run ();
}
