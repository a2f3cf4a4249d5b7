/* Migrations: sql/<backend>/NNN_name.sql, compiled into the binary as a
 * GResource. Each pending one runs in its own transaction together with its
 * schema_migrations row, so a failure leaves the schema as it was and a second
 * run applies nothing. */
#include "gateway/store/store-private.h"
#include "vg-sql-resources.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

#define RESOURCE_ROOT "/org/voxgate/sql/"

static const char bootstrap_sql[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                                    "applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)";
static const char bootstrap_pg_sql[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                       "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                                       "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* "001_initial.sql" -> 1 and "initial"; FALSE for any other name. */
static gboolean
parse_name (const char *file, guint *version, char **name)
{
  char *end = NULL;
  guint64 v = g_ascii_strtoull (file, &end, 10);

  if (end != file + 3 || *end != '_' || !g_str_has_suffix (file, ".sql") || v == 0)
    return FALSE;
  *version = v;
  *name = g_strndup (end + 1, strlen (end + 1) - 4);
  return TRUE;
}

static gboolean
applied_versions (const VgStoreBackend *backend, VgStoreConn *conn, GHashTable *applied,
                  GError **error)
{
  g_autoptr (JsonArray) rows
      = backend->query (conn, "SELECT version FROM schema_migrations", NULL, 0, NULL, error);

  if (!rows)
    return FALSE;
  for (guint i = 0; i < json_array_get_length (rows); i++)
    g_hash_table_add (applied, GINT_TO_POINTER (json_object_get_int_member (
                                   json_array_get_object_element (rows, i), "version")));
  return TRUE;
}

static gboolean
apply_one (const VgStoreBackend *backend, VgStoreConn *conn, const char *path, guint version,
           const char *name, gboolean *applied_now, GError **error)
{
  g_autoptr (GBytes) sql = g_resource_lookup_data (vg_sql_get_resource (), path, 0, error);
  g_autoptr (GHashTable) applied = g_hash_table_new (NULL, NULL);
  g_autofree char *version_text = g_strdup_printf ("%u", version);
  g_autofree char *now = vg_store_time_text (g_get_real_time ());
  const char *params[] = { version_text, name, now };
  g_autoptr (JsonArray) done = NULL;

  *applied_now = FALSE;
  if (!sql || !backend->exec_script (conn, backend->begin_sql, error))
    return FALSE;
  /* Under the lock, look again: another node may have just applied it. */
  if ((backend->migration_lock_sql
       && !backend->exec_script (conn, backend->migration_lock_sql, error))
      || !applied_versions (backend, conn, applied, error))
    goto fail;
  if (g_hash_table_contains (applied, GINT_TO_POINTER (version)))
    return backend->exec_script (conn, "ROLLBACK", error);
  if (!backend->exec_script (conn, g_bytes_get_data (sql, NULL), error)
      || !(done = backend->query (
               conn,
               "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
               params, 3, NULL, error))
      || !backend->exec_script (conn, "COMMIT", error))
    goto fail;
  *applied_now = TRUE;
  return TRUE;

fail:
  g_prefix_error (error, "migration %s: ", path + strlen (RESOURCE_ROOT));
  backend->exec_script (conn, "ROLLBACK", NULL);
  return FALSE;
}

gboolean
vg_store_migrate_conn (const VgStoreBackend *backend, VgStoreConn *conn, guint *applied_count,
                       GError **error)
{
  g_autofree char *dir = g_strconcat (
      RESOURCE_ROOT, backend == &vg_store_backend_pg ? "postgres" : "sqlite", "/", NULL);
  g_auto (GStrv) files = g_resource_enumerate_children (vg_sql_get_resource (), dir, 0, error);
  g_autoptr (GHashTable) applied = g_hash_table_new (NULL, NULL);
  guint count = 0;

  if (applied_count)
    *applied_count = 0;
  if (!files)
    return FALSE;
  qsort (files, g_strv_length (files), sizeof (char *), compare_names);
  if (!backend->exec_script (
          conn, backend == &vg_store_backend_pg ? bootstrap_pg_sql : bootstrap_sql, error)
      || !applied_versions (backend, conn, applied, error))
    return FALSE;

  for (guint i = 0; files[i]; i++)
    {
      g_autofree char *name = NULL;
      g_autofree char *path = g_strconcat (dir, files[i], NULL);
      gboolean now = FALSE;
      guint version;

      if (!parse_name (files[i], &version, &name))
        continue;
      if (g_hash_table_contains (applied, GINT_TO_POINTER (version)))
        continue;
      if (!apply_one (backend, conn, path, version, name, &now, error))
        return FALSE;
      if (now)
        {
          g_message ("store: applied migration %03u_%s", version, name);
          count++;
        }
    }
  if (applied_count)
    *applied_count = count;
  return TRUE;
}
