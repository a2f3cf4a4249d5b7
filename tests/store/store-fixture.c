#include "store-fixture.h"
#include "gateway/store/store-private.h"
#include "vg-build-config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static VgTestBackend backend;
static char *root;   /* temporary directory of this test program */
static char *pg_dir; /* PostgreSQL's directory under root */
static char *pg_url; /* ".../voxgate" */
static guint counter;

static char *
harness (const char *cmd)
{
  const char *src = g_getenv ("VOXGATE_SOURCE_DIR");
  g_autofree char *script
      = g_build_filename (src ? src : VOXGATE_SOURCE_DIR, "tests", "harness", "postgres.sh", NULL);
  const char *argv[] = { script, cmd, pg_dir, NULL };
  g_autoptr (GError) error = NULL;
  char *out = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status,
                &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("postgres.sh %s failed: %s", cmd, error->message);
  return g_strstrip (out);
}

void
vg_test_store_setup (VgTestBackend b)
{
  const char *env_root = g_getenv ("VG_TEST_STORE_ROOT");

  backend = b;
  if (g_test_subprocess () && env_root)
    {
      /* The parent's server and directory. */
      root = g_strdup (env_root);
      pg_dir = g_build_filename (root, "pg", NULL);
      if (backend == VG_TEST_POSTGRES)
        pg_url = harness ("url");
      return;
    }
  root = g_dir_make_tmp ("vg-store-XXXXXX", NULL);
  g_assert_nonnull (root);
  g_chmod (root, 0755); /* the postgres user must reach its directory */
  g_setenv ("VG_TEST_STORE_ROOT", root, TRUE);
  pg_dir = g_build_filename (root, "pg", NULL);
  if (backend == VG_TEST_POSTGRES)
    pg_url = harness ("start");
}

static void
remove_tree (const char *path)
{
  const char *argv[] = { "rm", "-rf", path, NULL };
  g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
}

void
vg_test_store_teardown (void)
{
  if (!g_test_subprocess ())
    {
      if (backend == VG_TEST_POSTGRES)
        g_free (harness ("destroy"));
      remove_tree (root);
    }
  g_clear_pointer (&root, g_free);
  g_clear_pointer (&pg_dir, g_free);
  g_clear_pointer (&pg_url, g_free);
}

VgTestBackend
vg_test_store_backend (void)
{
  return backend;
}

const char *
vg_test_store_backend_name (void)
{
  return backend == VG_TEST_POSTGRES ? "postgresql" : "sqlite";
}

char *
vg_test_store_new_dir (void)
{
  char *dir = g_strdup_printf ("%s/d%u-%d", root, ++counter, (int)getpid ());
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  return dir;
}

char *
vg_test_store_new_url (void)
{
  g_autofree char *name = g_strdup_printf ("t%u_%d", ++counter, (int)getpid ());

  if (backend == VG_TEST_SQLITE)
    return g_strdup_printf ("sqlite:%s/%s.db", root, name);
  {
    g_autoptr (GError) error = NULL;
    g_autofree char *sql = g_strdup_printf ("CREATE DATABASE %s", name);
    VgStoreConn *conn = vg_store_backend_pg.connect (pg_url, &error);
    g_autofree char *base = NULL;

    g_assert_no_error (error);
    g_assert_true (vg_store_backend_pg.exec_script (conn, sql, &error));
    g_assert_no_error (error);
    vg_store_backend_pg.disconnect (conn);
    base = g_strndup (pg_url, strrchr (pg_url, '/') - pg_url);
    return g_strdup_printf ("%s/%s", base, name);
  }
}

void
vg_test_store_pg_stop (void)
{
  g_free (harness ("stop"));
}

void
vg_test_store_pg_start (void)
{
  g_free (harness ("start"));
}

JsonArray *
vg_test_store_sql (const char *url, const char *data_dir, const char *sql,
                   const char *const *params, guint n_params)
{
  g_autoptr (GError) error = NULL;
  gboolean pg = g_str_has_prefix (url, "postgres");
  const VgStoreBackend *b = pg ? &vg_store_backend_pg : &vg_store_backend_sqlite;
  const char *target = pg ? url : url + strlen ("sqlite:");
  g_autofree char *text = pg ? g_strdup (sql) : vg_store_sql_to_sqlite (sql);
  VgStoreConn *conn = b->connect (target, &error);
  JsonArray *rows;

  g_assert_no_error (error);
  rows = b->query (conn, text, params, n_params, NULL, &error);
  g_assert_no_error (error);
  b->disconnect (conn);
  return rows;
}

VgStore *
vg_test_store_open_new (VgApp *app, char **url, char **dir)
{
  g_autoptr (GError) error = NULL;
  *url = vg_test_store_new_url ();
  *dir = vg_test_store_new_dir ();
  VgStore *store = vg_store_open (app, *url, *dir, &error);
  g_assert_no_error (error);
  g_assert_true (vg_store_migrate (store, NULL, &error));
  g_assert_no_error (error);
  return store;
}

gint64
vg_test_store_subtopic_id (VgStore *store, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) rows = vg_store_query_sync (store, VG_STORE_Q_SUBTOPICS_LIST,
                                                    (const char *[]){ NULL }, 1, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *r = json_array_get_object_element (rows, i);
      if (g_str_equal (json_object_get_string_member (r, "name"), name))
        return json_object_get_int_member (r, "id");
    }
  g_error ("no subtopic %s", name);
}
