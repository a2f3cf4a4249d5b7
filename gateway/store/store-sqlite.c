/* The SQLite backend: WAL journal (readers never wait for the writer), a busy
 * timeout, foreign keys on, statements prepared once per connection and bound
 * by name ($1..$n). A connection belongs to one thread at a time. */
#include "gateway/store/store-private.h"

#include <sqlite3.h>
#include <string.h>

#define BUSY_TIMEOUT_MS 5000

struct _VgStoreConn
{
  sqlite3 *db;
  GHashTable *statements; /* SQL text (static) -> sqlite3_stmt */
  gboolean broken;
};

static void
finalize_statement (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

static void
sqlite_disconnect (VgStoreConn *conn)
{
  if (!conn)
    return;
  g_hash_table_unref (conn->statements);
  sqlite3_close_v2 (conn->db);
  g_free (conn);
}

/* Errors of the file or of locking are worth retrying; the rest are about
 * the statement or its data. */
static int
error_code_of (int rc)
{
  switch (rc & 0xff)
    {
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
      case SQLITE_IOERR:
      case SQLITE_FULL:
      case SQLITE_CANTOPEN:
      case SQLITE_NOMEM:
      case SQLITE_PROTOCOL:
      case SQLITE_READONLY:
        return VG_STORE_ERROR_UNAVAILABLE;
      case SQLITE_CONSTRAINT:
        return (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
                   ? VG_STORE_ERROR_CONFLICT
                   : VG_STORE_ERROR_INVALID;
      case SQLITE_MISMATCH:
      case SQLITE_TOOBIG:
        return VG_STORE_ERROR_INVALID;
      default:
        return VG_STORE_ERROR_QUERY;
    }
}

static gboolean
set_error (VgStoreConn *conn, int rc, GError **error)
{
  int code = error_code_of (rc);

  if (code == VG_STORE_ERROR_UNAVAILABLE && (rc & 0xff) != SQLITE_BUSY
      && (rc & 0xff) != SQLITE_LOCKED)
    conn->broken = TRUE;
  g_set_error (error, VG_STORE_ERROR, code, "SQLite: %s", sqlite3_errmsg (conn->db));
  return FALSE;
}

static gboolean
sqlite_exec_script (VgStoreConn *conn, const char *sql, GError **error)
{
  int rc = sqlite3_exec (conn->db, sql, NULL, NULL, NULL);
  return rc == SQLITE_OK || set_error (conn, rc, error);
}

static VgStoreConn *
sqlite_connect (const char *target, GError **error)
{
  VgStoreConn *conn = g_new0 (VgStoreConn, 1);
  int rc;

  conn->statements = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, finalize_statement);
  rc = sqlite3_open_v2 (target, &conn->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
                            | SQLITE_OPEN_EXRESCODE,
                        NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_UNAVAILABLE, "SQLite: cannot open %s: %s",
                   target, conn->db ? sqlite3_errmsg (conn->db) : sqlite3_errstr (rc));
      sqlite_disconnect (conn);
      return NULL;
    }
  sqlite3_busy_timeout (conn->db, BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes (conn->db, 1);
  if (!sqlite_exec_script (
          conn, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
          error))
    {
      sqlite_disconnect (conn);
      return NULL;
    }
  return conn;
}

static gboolean
sqlite_alive (VgStoreConn *conn)
{
  return !conn->broken;
}

static void
add_column (JsonObject *row, sqlite3_stmt *stmt, int c)
{
  const char *name = sqlite3_column_name (stmt, c);
  const char *decl = sqlite3_column_decltype (stmt, c);

  switch (sqlite3_column_type (stmt, c))
    {
      case SQLITE_NULL:
        json_object_set_null_member (row, name);
        break;
      case SQLITE_INTEGER:
        if (decl && g_ascii_strcasecmp (decl, "BOOLEAN") == 0)
          json_object_set_boolean_member (row, name, sqlite3_column_int64 (stmt, c) != 0);
        else
          json_object_set_int_member (row, name, sqlite3_column_int64 (stmt, c));
        break;
      case SQLITE_FLOAT:
        json_object_set_double_member (row, name, sqlite3_column_double (stmt, c));
        break;
      default:
        json_object_set_string_member (row, name, (const char *)sqlite3_column_text (stmt, c));
    }
}

static sqlite3_stmt *
prepare (VgStoreConn *conn, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (conn->statements, sql);
  int rc;

  if (stmt)
    return stmt;
  rc = sqlite3_prepare_v3 (conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      set_error (conn, rc, error);
      return NULL;
    }
  g_hash_table_insert (conn->statements, (gpointer)sql, stmt);
  return stmt;
}

static JsonArray *
sqlite_query (VgStoreConn *conn, const char *sql, const char *const *params, guint n_params,
              gint64 *changes, GError **error)
{
  sqlite3_stmt *stmt = prepare (conn, sql, error);
  JsonArray *rows;
  int rc;

  if (!stmt)
    return NULL;
  for (guint i = 0; i < n_params; i++)
    {
      char name[16];
      int index;

      g_snprintf (name, sizeof name, "$%u", i + 1);
      if ((index = sqlite3_bind_parameter_index (stmt, name)) == 0)
        continue; /* a parameter the statement does not use */
      rc = params[i] ? sqlite3_bind_text (stmt, index, params[i], -1, SQLITE_TRANSIENT)
                     : sqlite3_bind_null (stmt, index);
      if (rc != SQLITE_OK)
        {
          set_error (conn, rc, error);
          sqlite3_reset (stmt);
          sqlite3_clear_bindings (stmt);
          return NULL;
        }
    }
  rows = json_array_new ();
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      JsonObject *row = json_object_new ();
      for (int c = 0; c < sqlite3_column_count (stmt); c++)
        add_column (row, stmt, c);
      json_array_add_object_element (rows, row);
    }
  if (rc != SQLITE_DONE)
    {
      set_error (conn, rc, error);
      json_array_unref (rows);
      rows = NULL;
    }
  else if (changes)
    *changes = sqlite3_changes64 (conn->db);
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  return rows;
}

const VgStoreBackend vg_store_backend_sqlite = {
  .name = "sqlite",
  /* IMMEDIATE: take the write lock at once, so a busy database waits in
   * BEGIN (busy timeout) rather than failing at the first write. */
  .begin_sql = "BEGIN IMMEDIATE",
  .migration_lock_sql = NULL,
  .connect = sqlite_connect,
  .disconnect = sqlite_disconnect,
  .alive = sqlite_alive,
  .exec_script = sqlite_exec_script,
  .query = sqlite_query,
};
