/* What every libFuzzer target here shares. */
#pragma once

#include <glib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* The body as the HTTP handlers pass it on: they refuse empty bodies, NUL
 * bytes and invalid UTF-8 before any parser sees them. NULL when the
 * handler would have refused it. */
static inline char *
fuzz_text_body (const guint8 *data, size_t size)
{
  if (size == 0 || memchr (data, '\0', size) || !g_utf8_validate ((const char *)data, size, NULL))
    return NULL;
  return g_strndup ((const char *)data, size);
}

/* GLib's critical warnings are programming errors: abort so that the fuzzer
 * reports them like a crash. */
static inline void
fuzz_fatal_criticals (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
      g_once_init_leave (&once, 1);
    }
}
