/* libFuzzer target: an HTTP/1.x request head as the acceptor reads it
 * (api/http-head.c), in one piece and in the pieces a slow client sends,
 * and the query string of a head that passes (api/http-query.c).
 *
 * The first byte sets the piece size. Below every size limit, where the
 * verdict cannot depend on how the bytes arrived, both ways must agree. */
#include "fuzz-common.h"
#include "api/http-head.h"
#include "api/http-query.h"

static VgHttpHeadResult
check_in_pieces (const char *data, gsize len, gsize piece, VgHttpHeadRefusal *refusal)
{
  VgHttpHeadScan scan = { 0 };
  for (gsize have = MIN (piece, len);; have = MIN (have + piece, len))
    {
      VgHttpHeadResult r = vg_http_head_check (&scan, data, have, refusal);
      if (r != VG_HTTP_HEAD_INCOMPLETE || have == len)
        return r;
    }
}

static void
parse_query (const char *head, gsize len)
{
  const char *eol = memchr (head, '\n', len);
  g_autofree char *line = g_strndup (head, eol ? (gsize)(eol - head) : len);
  char *q = strchr (line, '?');
  if (!q)
    return;
  char *end = strchr (q, ' ');
  if (end)
    *end = '\0';
  g_autoptr (GHashTable) query = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (!vg_http_query_parse (q + 1, query))
    g_assert (g_hash_table_size (query) == 0);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  fuzz_fatal_criticals ();
  if (size < 1)
    return 0;
  gsize piece = data[0] % 16 + 1;
  const char *head = (const char *)data + 1;
  gsize len = size - 1;
  VgHttpHeadScan scan = { 0 };
  VgHttpHeadRefusal whole_refusal = { 0 }, pieces_refusal = { 0 };

  VgHttpHeadResult whole = vg_http_head_check (&scan, head, len, &whole_refusal);
  VgHttpHeadResult pieces = check_in_pieces (head, len, piece, &pieces_refusal);
  if (whole == VG_HTTP_HEAD_REFUSED)
    g_assert (whole_refusal.status == 400 || whole_refusal.status == 414
              || whole_refusal.status == 431);
  if (len < VG_HTTP_MAX_REQUEST_LINE)
    {
      g_assert_cmpint (whole, ==, pieces);
      g_assert_cmpuint (whole_refusal.status, ==, pieces_refusal.status);
    }
  if (whole == VG_HTTP_HEAD_OK)
    parse_query (head, scan.pos);
  return 0;
}
