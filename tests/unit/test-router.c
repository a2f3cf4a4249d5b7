/* Routing by method and template. */
#include "api/router.h"

static void
h1 (VgRequest *r, gpointer d)
{
}

static void
h2 (VgRequest *r, gpointer d)
{
}

static void
test_match (void)
{
  VgRouter *router = vg_router_new ();
  VgRouteMatch m;

  vg_router_add (router, "GET", "/api/rooms", h1, NULL);
  vg_router_add (router, "GET", "/api/rooms/{room}", h1, NULL);
  vg_router_add (router, "DELETE", "/api/rooms/{room}", h2, NULL);
  vg_router_add (router, "GET", "/api/rooms/special", h2, NULL);
  vg_router_add (router, "DELETE", "/api/rooms/{room}/participants/{identity}", h2, NULL);

  g_assert_cmpint (vg_router_match (router, "GET", "/api/rooms", &m), ==, VG_ROUTE_FOUND);
  g_assert_cmpstr (m.route, ==, "/api/rooms");
  g_clear_pointer (&m.params, g_hash_table_unref);

  g_assert_cmpint (vg_router_match (router, "GET", "/api/rooms/abc/", &m), ==, VG_ROUTE_FOUND);
  g_assert_cmpstr (m.route, ==, "/api/rooms/{room}");
  g_assert_cmpstr (g_hash_table_lookup (m.params, "room"), ==, "abc");
  g_clear_pointer (&m.params, g_hash_table_unref);

  /* Literal beats parameter. */
  g_assert_cmpint (vg_router_match (router, "GET", "/api/rooms/special", &m), ==, VG_ROUTE_FOUND);
  g_assert_true (m.handler == h2);
  g_clear_pointer (&m.params, g_hash_table_unref);

  g_assert_cmpint (vg_router_match (router, "DELETE", "/api/rooms/a%20b/participants/u%C3%A9", &m), ==,
                   VG_ROUTE_FOUND);
  g_assert_cmpstr (g_hash_table_lookup (m.params, "room"), ==, "a b");
  g_assert_cmpstr (g_hash_table_lookup (m.params, "identity"), ==, "u\xc3\xa9");
  g_clear_pointer (&m.params, g_hash_table_unref);

  g_assert_cmpint (vg_router_match (router, "POST", "/api/rooms/abc", &m), ==, VG_ROUTE_METHOD_NOT_ALLOWED);
  g_assert_cmpstr (m.allowed_methods, ==, "GET, DELETE");
  g_free (m.allowed_methods);

  g_assert_cmpint (vg_router_match (router, "GET", "/api/rooms/a/b", &m), ==, VG_ROUTE_NOT_FOUND);
  g_assert_cmpint (vg_router_match (router, "GET", "/api//rooms", &m), ==, VG_ROUTE_NOT_FOUND);
  /* An encoded slash cannot smuggle a second segment into a parameter. */
  g_assert_cmpint (vg_router_match (router, "GET", "/api/rooms/a%2Fb", &m), ==, VG_ROUTE_NOT_FOUND);
  vg_router_free (router);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/router/match", test_match);
  return g_test_run ();
}
