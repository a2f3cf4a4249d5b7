/* The PostgreSQL backend (libpq): text parameters through PQexecParams only,
 * results converted to JSON by column type. A connection belongs to one
 * thread at a time (the writer, or a reader of the pool). */
#include "gateway/store/store-private.h"

#include <libpq-fe.h>
#include <string.h>

/* Type OIDs from pg_type.h (stable across versions). */
#define BOOLOID 16
#define INT8OID 20
#define INT2OID 21
#define INT4OID 23
#define FLOAT4OID 700
#define FLOAT8OID 701
#define NUMERICOID 1700
#define TIMESTAMPOID 1114
#define TIMESTAMPTZOID 1184

struct _VgStoreConn
{
  PGconn *pg;
  GHashTable *prepared; /* SQL text -> statement name, prepared on this connection */
};

static void
pg_disconnect (VgStoreConn *conn)
{
  if (!conn)
    return;
  PQfinish (conn->pg);
  g_clear_pointer (&conn->prepared, g_hash_table_unref);
  g_free (conn);
}

/* libpq messages end with a newline; the server's name none of our secrets. */
static char *
clean_message (const char *msg)
{
  return g_strstrip (g_strdup (msg && *msg ? msg : "unknown error"));
}

static void
ignore_notice (void *arg, const char *message)
{
}

static VgStoreConn *
pg_connect (const char *target, GError **error)
{
  /* Defaults first: what the URL says (expanded from "dbname", last) wins.
   * Keepalives notice a peer that vanished without closing the connection. */
  const char *keys[] = { "connect_timeout",
                         "application_name",
                         "keepalives_idle",
                         "keepalives_interval",
                         "keepalives_count",
                         "dbname",
                         NULL };
  const char *values[] = { "5", "voxgate", "15", "5", "3", target, NULL };
  VgStoreConn *conn = g_new0 (VgStoreConn, 1);

  conn->prepared = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  conn->pg = PQconnectdbParams (keys, values, 1);
  if (!conn->pg || PQstatus (conn->pg) != CONNECTION_OK)
    {
      g_autofree char *msg = clean_message (conn->pg ? PQerrorMessage (conn->pg) : "out of memory");
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_UNAVAILABLE, "PostgreSQL unreachable: %s",
                   msg);
      pg_disconnect (conn);
      return NULL;
    }
  /* Notices such as "relation already exists, skipping" are not for the log. */
  PQsetNoticeProcessor (conn->pg, ignore_notice, NULL);
  return conn;
}

static gboolean
pg_alive (VgStoreConn *conn)
{
  return PQstatus (conn->pg) == CONNECTION_OK;
}

/* Connection loss, shutdown, resource exhaustion and serialization failures
 * are worth retrying; anything else is about the statement or its data. */
static int
error_code_of (VgStoreConn *conn, PGresult *res)
{
  const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;

  if (PQstatus (conn->pg) != CONNECTION_OK || !state)
    return VG_STORE_ERROR_UNAVAILABLE;
  if (g_str_has_prefix (state, "08") || g_str_has_prefix (state, "53")
      || g_str_has_prefix (state, "57P") || g_str_equal (state, "40001")
      || g_str_equal (state, "40P01"))
    return VG_STORE_ERROR_UNAVAILABLE;
  if (g_str_equal (state, "23505"))
    return VG_STORE_ERROR_CONFLICT;
  if (g_str_has_prefix (state, "22") || g_str_has_prefix (state, "23"))
    return VG_STORE_ERROR_INVALID;
  return VG_STORE_ERROR_QUERY;
}

static gboolean
set_result_error (VgStoreConn *conn, PGresult *res, GError **error)
{
  const char *primary = res ? PQresultErrorField (res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  g_autofree char *msg = clean_message (primary ? primary
                                        : res   ? PQresultErrorMessage (res)
                                                : PQerrorMessage (conn->pg));
  g_set_error (error, VG_STORE_ERROR, error_code_of (conn, res), "%s", msg);
  return FALSE;
}

static gboolean
pg_exec_script (VgStoreConn *conn, const char *sql, GError **error)
{
  PGresult *res = PQexec (conn->pg, sql);
  ExecStatusType st = PQresultStatus (res);
  gboolean ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY;

  if (!ok)
    set_result_error (conn, res, error);
  PQclear (res);
  return ok;
}

static void
add_value (JsonObject *row, const char *name, Oid type, const char *text)
{
  switch (type)
    {
      case BOOLOID:
        json_object_set_boolean_member (row, name, text[0] == 't');
        break;
      case INT2OID:
      case INT4OID:
      case INT8OID:
        json_object_set_int_member (row, name, g_ascii_strtoll (text, NULL, 10));
        break;
      case FLOAT4OID:
      case FLOAT8OID:
      case NUMERICOID:
        json_object_set_double_member (row, name, g_ascii_strtod (text, NULL));
        break;
      case TIMESTAMPOID:
      case TIMESTAMPTZOID:
        {
          char *t = vg_store_time_normalize (text);
          json_object_set_string_member (row, name, t ? t : text);
          g_free (t);
          break;
        }
      default:
        json_object_set_string_member (row, name, text);
    }
}

/* Statements are parsed and planned once per connection: they are few and fixed. */
static const char *
prepared_name (VgStoreConn *conn, const char *sql, guint n_params, GError **error)
{
  const char *name = g_hash_table_lookup (conn->prepared, sql);
  char *new_name;
  PGresult *res;

  if (name)
    return name;
  new_name = g_strdup_printf ("vg%u", g_hash_table_size (conn->prepared));
  res = PQprepare (conn->pg, new_name, sql, n_params, NULL);
  if (PQresultStatus (res) != PGRES_COMMAND_OK)
    {
      set_result_error (conn, res, error);
      PQclear (res);
      g_free (new_name);
      return NULL;
    }
  PQclear (res);
  g_hash_table_insert (conn->prepared, g_strdup (sql), new_name);
  return new_name;
}

static JsonArray *
pg_query (VgStoreConn *conn, const char *sql, const char *const *params, guint n_params,
          gint64 *changes, GError **error)
{
  const char *name = prepared_name (conn, sql, n_params, error);
  PGresult *res;
  ExecStatusType st;
  JsonArray *rows;

  if (!name)
    return NULL;
  res = PQexecPrepared (conn->pg, name, n_params, (const char *const *)params, NULL, NULL, 0);
  st = PQresultStatus (res);

  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    {
      set_result_error (conn, res, error);
      PQclear (res);
      return NULL;
    }
  rows = json_array_sized_new (PQntuples (res));
  for (int r = 0; r < PQntuples (res); r++)
    {
      JsonObject *row = json_object_new ();
      for (int c = 0; c < PQnfields (res); c++)
        if (PQgetisnull (res, r, c))
          json_object_set_null_member (row, PQfname (res, c));
        else
          add_value (row, PQfname (res, c), PQftype (res, c), PQgetvalue (res, r, c));
      json_array_add_object_element (rows, row);
    }
  if (changes)
    *changes = g_ascii_strtoll (PQcmdTuples (res), NULL, 10);
  PQclear (res);
  return rows;
}

/* The whole batch in one transaction and one round trip (libpq pipeline
 * mode). On any error nothing is committed and the first error is returned. */
static gboolean
pg_exec_batch (VgStoreConn *conn, const char *const *sqls, char **const *params,
               const guint *n_params, guint n, GError **error)
{
  g_autofree const char **names = g_new0 (const char *, n);
  GError *first = NULL;
  gboolean synced = FALSE;
  PGresult *res;

  for (guint i = 0; i < n; i++)
    if (!(names[i] = prepared_name (conn, sqls[i], n_params[i], error)))
      return FALSE;
  if (!PQenterPipelineMode (conn->pg))
    {
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_UNAVAILABLE,
                   "PostgreSQL: cannot enter pipeline mode");
      return FALSE;
    }
  gboolean sent = PQsendQueryParams (conn->pg, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
  for (guint i = 0; sent && i < n; i++)
    sent = PQsendQueryPrepared (conn->pg, names[i], n_params[i], (const char *const *)params[i],
                                NULL, NULL, 0);
  sent = sent && PQsendQueryParams (conn->pg, "COMMIT", 0, NULL, NULL, NULL, NULL, 0);
  sent = sent && PQpipelineSync (conn->pg);
  if (!sent)
    set_result_error (conn, NULL, &first);
  /* Every result up to the sync, even after a failure. */
  while (sent && !synced)
    {
      if (!(res = PQgetResult (conn->pg)))
        {
          if (PQstatus (conn->pg) != CONNECTION_OK)
            {
              if (!first)
                set_result_error (conn, NULL, &first);
              break;
            }
          continue; /* end of one statement's results */
        }
      switch (PQresultStatus (res))
        {
          case PGRES_PIPELINE_SYNC:
            synced = TRUE;
            break;
          case PGRES_COMMAND_OK:
          case PGRES_TUPLES_OK:
          case PGRES_PIPELINE_ABORTED:
            break;
          default:
            if (!first)
              set_result_error (conn, res, &first);
        }
      PQclear (res);
    }
  if (PQstatus (conn->pg) == CONNECTION_OK)
    {
      PQexitPipelineMode (conn->pg);
      /* A failed statement leaves the explicit transaction aborted. */
      if (PQtransactionStatus (conn->pg) == PQTRANS_INERROR)
        PQclear (PQexec (conn->pg, "ROLLBACK"));
    }
  if (first)
    {
      g_propagate_error (error, first);
      return FALSE;
    }
  return TRUE;
}

const VgStoreBackend vg_store_backend_pg = {
  .name = "postgresql",
  .begin_sql = "BEGIN",
  /* One migrator at a time across every node sharing the database. */
  .migration_lock_sql = "SELECT pg_advisory_xact_lock(7368817)",
  .connect = pg_connect,
  .disconnect = pg_disconnect,
  .alive = pg_alive,
  .exec_script = pg_exec_script,
  .query = pg_query,
  .exec_batch = pg_exec_batch,
};
