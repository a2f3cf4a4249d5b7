/* The in-process sliding-window limiter. */
#include "gateway/core/ratelimit.h"

static void
test_eleventh_refused (void)
{
  VgRateLimiter *rl = vg_rate_limiter_new_local (100);
  guint retry = 0;

  for (int i = 0; i < 10; i++)
    g_assert_true (vg_rate_limiter_local_hit (rl, "1.2.3.4", 10, 60, &retry));
  g_assert_false (vg_rate_limiter_local_hit (rl, "1.2.3.4", 10, 60, &retry));
  g_assert_cmpuint (retry, >=, 59);
  g_assert_cmpuint (retry, <=, 60);
  /* Another key has its own budget. */
  g_assert_true (vg_rate_limiter_local_hit (rl, "5.6.7.8", 10, 60, &retry));
  vg_rate_limiter_free (rl);
}

static void
test_window_slides (void)
{
  VgRateLimiter *rl = vg_rate_limiter_new_local (100);
  guint retry = 0;

  g_assert_true (vg_rate_limiter_local_hit (rl, "k", 2, 1, &retry));
  g_assert_true (vg_rate_limiter_local_hit (rl, "k", 2, 1, &retry));
  g_assert_false (vg_rate_limiter_local_hit (rl, "k", 2, 1, &retry));
  g_assert_cmpuint (retry, ==, 1);
  g_usleep (1050 * 1000);
  g_assert_true (vg_rate_limiter_local_hit (rl, "k", 2, 1, &retry));
  vg_rate_limiter_free (rl);
}

static void
test_zero_is_unlimited (void)
{
  VgRateLimiter *rl = vg_rate_limiter_new_local (1);
  guint retry = 0;

  for (int i = 0; i < 1000; i++)
    g_assert_true (vg_rate_limiter_local_hit (rl, "k", 0, 60, &retry));
  vg_rate_limiter_free (rl);
}

static void
test_bounded_keys (void)
{
  VgRateLimiter *rl = vg_rate_limiter_new_local (50);
  guint retry = 0;

  /* Far more distinct keys than the bound: memory stays bounded and the
   * limiter keeps answering (evicting the stalest). */
  for (int i = 0; i < 5000; i++)
    {
      char key[32];
      g_snprintf (key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
      g_assert_true (vg_rate_limiter_local_hit (rl, key, 10, 60, &retry));
    }
  for (int i = 0; i < 10; i++)
    g_assert_true (vg_rate_limiter_local_hit (rl, "last", 10, 60, &retry));
  g_assert_false (vg_rate_limiter_local_hit (rl, "last", 10, 60, &retry));
  vg_rate_limiter_free (rl);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ratelimit/eleventh-refused", test_eleventh_refused);
  g_test_add_func ("/ratelimit/window-slides", test_window_slides);
  g_test_add_func ("/ratelimit/zero-is-unlimited", test_zero_is_unlimited);
  g_test_add_func ("/ratelimit/bounded-keys", test_bounded_keys);
  return g_test_run ();
}
