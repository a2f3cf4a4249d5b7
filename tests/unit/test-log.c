/* The log writer prints one line per message whatever the message holds:
 * names from outside (identities, rooms) reach log messages, and a newline in
 * one must not forge a line of its own. */
#include "gateway/core/log.h"

#include <string.h>

/* "a\nFAKE…" as an identity would arrive from a token, with a tab, a bidi
 * override, a C1 control, a stray byte and a backslash. */
#define HOSTILE                                                                                    \
  "alice\n2026-01-01T00:00:00Z info    voxgate: FAKE\tx\xe2\x80\xae"                               \
  "y\xc2\x85z\xff\\n"

static void
log_hostile (VgLogFormat format)
{
  vg_log_setup (format, "info");
  g_message ("joined %s", HOSTILE);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "REQUEST_ID", "r\nq", "MESSAGE", "m");
}

static void
test_text_escapes (void)
{
  if (g_test_subprocess ())
    {
      log_hostile (VG_LOG_TEXT);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*voxgate: joined alice\\n2026-01-01T00:00:00Z info    voxgate: "
                             "FAKE\\tx\\u202ey\\u0085z\\xff\\\\n\n*");
  g_test_trap_assert_stderr ("*: m [r\\nq]\n*");
  g_test_trap_assert_stderr_unmatched ("*\nFAKE*");
  g_test_trap_assert_stderr_unmatched ("*\n2026-01-01T00:00:00Z*");
}

static void
test_json_escapes (void)
{
  if (g_test_subprocess ())
    {
      log_hostile (VG_LOG_JSON);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  /* Controls escaped by JSON itself; the stray byte becomes U+FFFD so the line stays JSON. */
  g_test_trap_assert_stderr ("*\"message\":\"joined alice\\n2026-01-01T00:00:00Z info    voxgate: "
                             "FAKE\\tx\xe2\x80\xaey\xc2\x85z\xef\xbf\xbd\\\\n\"}\n*");
  g_test_trap_assert_stderr ("*\"request_id\":\"r\\nq\"}\n*");
  g_test_trap_assert_stderr_unmatched ("*\nFAKE*");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/log/text-escapes", test_text_escapes);
  g_test_add_func ("/log/json-escapes", test_json_escapes);
  return g_test_run ();
}
