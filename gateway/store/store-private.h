/* Internals of the store shared by its files: the backend interface, the
 * queued write, the SQL of every statement. Not for other subsystems. */
#pragma once

#include "gateway/store/store.h"

G_BEGIN_DECLS

/* ---- a database connection, one per thread at a time ---- */

typedef struct _VgStoreConn VgStoreConn;

typedef struct
{
  const char *name;               /* "postgresql", "sqlite" */
  const char *begin_sql;          /* opens a write transaction */
  const char *migration_lock_sql; /* run inside the migration transaction, or NULL */
  /* target: the libpq conninfo URL, or the SQLite file path. */
  VgStoreConn *(*connect) (const char *target, GError **error);
  void (*disconnect) (VgStoreConn *conn);
  /* FALSE once the connection is known broken (reconnect). */
  gboolean (*alive) (VgStoreConn *conn);
  /* Several statements, no parameters (migrations). */
  gboolean (*exec_script) (VgStoreConn *conn, const char *sql, GError **error);
  /* One statement in this backend's dialect with text parameters ($1..$n).
   * Returns the rows (empty array when none) or NULL with error; the error
   * code is VG_STORE_ERROR_UNAVAILABLE for anything worth retrying. */
  JsonArray *(*query) (VgStoreConn *conn, const char *sql, const char *const *params,
                       guint n_params, gint64 *changes, GError **error);
  /* Optional: statements i = 0..n-1 in one transaction, all or nothing
   * (PostgreSQL pipelines them in one round trip). */
  gboolean (*exec_batch) (VgStoreConn *conn, const char *const *sqls, char **const *params,
                          const guint *n_params, guint n, GError **error);
} VgStoreBackend;

extern const VgStoreBackend vg_store_backend_pg;
extern const VgStoreBackend vg_store_backend_sqlite;

/* ---- statements ---- */

/* The SQL of a query (VgStoreQuery) or a write op for a backend. */
const char *vg_store_sql_query (const VgStoreBackend *backend, VgStoreQuery query);

typedef enum
{
  VG_STORE_OP_CONVERSATION_START,
  VG_STORE_OP_MESSAGE,
  VG_STORE_OP_CONVERSATION_END,
  VG_STORE_OP_ANALYTICS,
  VG_STORE_OP_PROFILE_TOUCH,
  VG_STORE_OP_ASSESSMENT,
  VG_STORE_OP_CONVERSATION_SUMMARY,
  VG_STORE_OP_SESSION_ANALYTICS,
  VG_STORE_OP_CONVERSATION_SUBTOPIC,
  VG_STORE_OP_RECORDING_START,
  VG_STORE_OP_RECORDING_END,
  VG_STORE_OP_CONVERSATION_START_NODE,
  VG_STORE_OP_ABANDON_NODE,
  VG_STORE_OP_COUNT
} VgStoreOp;

const char *vg_store_op_name (VgStoreOp op);
gboolean vg_store_op_from_name (const char *name, VgStoreOp *op);
guint vg_store_op_n_params (VgStoreOp op);
const char *vg_store_sql_op (const VgStoreBackend *backend, VgStoreOp op);

/* Rewrites PostgreSQL-dialect SQL for SQLite: drops the ::type casts. */
char *vg_store_sql_to_sqlite (const char *pg_sql);

/* ---- a queued write ---- */

typedef struct
{
  VgStoreOp op;
  char **params; /* vg_store_op_n_params (op) strings, NULL = SQL NULL */
} VgStoreWrite;

VgStoreWrite *vg_store_write_new (VgStoreOp op, const char *const *params);
void vg_store_write_free (VgStoreWrite *w);
/* One spool line: a JSON array ["op", p1, ...] without a newline. */
char *vg_store_write_to_line (const VgStoreWrite *w);
/* NULL (with error) for a line that is not a write (e.g. a torn last line). */
VgStoreWrite *vg_store_write_from_line (const char *line, GError **error);

/* ---- the write queue (store-queue.c) ---- */

typedef struct _VgStoreQueue VgStoreQueue;

typedef struct
{
  const VgStoreBackend *backend;
  const char *target;
  VgMetric *depth, *spooled, *failures, *latency;
  void (*set_up) (gpointer user_data, gboolean up);
  gpointer user_data;
} VgStoreQueueConfig;

VgStoreQueue *vg_store_queue_new (const VgStoreQueueConfig *config, const char *spool_path,
                                  GError **error);
void vg_store_queue_push (VgStoreQueue *q, VgStoreWrite *w /* transfer full */);
guint vg_store_queue_pending (VgStoreQueue *q);
gboolean vg_store_queue_flush (VgStoreQueue *q, gint64 timeout_us);
void vg_store_queue_set_limit (VgStoreQueue *q, guint limit);
/* Asks the writer to check the database now (a read failed). */
void vg_store_queue_check (VgStoreQueue *q);
/* Drains for up to drain_us while the database answers, spools the rest, frees. */
void vg_store_queue_close (VgStoreQueue *q, gint64 drain_us);

/* ---- the front (store.c), for the calls in other files ---- */

/* FALSE with VG_STORE_ERROR_INVALID unless value (NULL counts as "") is UTF-8 of min-max bytes. */
gboolean vg_store_check_text (const char *what, const char *value, gsize min, gsize max,
                              GError **error);
gboolean vg_store_check_conversation (const char *id, GError **error);
/* Queues a write (params: vg_store_op_n_params (op) strings, copied). */
void vg_store_push_write (VgStore *store, VgStoreOp op, const char *const *params);

/* ---- migrations (store-migrate.c) ---- */

gboolean vg_store_migrate_conn (const VgStoreBackend *backend, VgStoreConn *conn, guint *applied,
                                GError **error);

/* ---- rows ---- */

/* Converts a PostgreSQL timestamptz text ("2026-01-02 03:04:05.6+00") to the
 * fixed form of vg_store_time_text; NULL if it is not one. */
char *vg_store_time_normalize (const char *text);

G_END_DECLS
