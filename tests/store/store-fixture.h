/* Test fixture for the store: a real PostgreSQL started through
 * tests/harness/postgres.sh (once per test program), or SQLite files, and a
 * fresh database per test. Reusable by any test that needs a store. */
#pragma once

#include "gateway/store/store.h"

typedef enum
{
  VG_TEST_SQLITE,
  VG_TEST_POSTGRES,
} VgTestBackend;

/* Starts PostgreSQL when backend is VG_TEST_POSTGRES (in a subprocess of
 * g_test_trap_subprocess, reuses the parent's). Call once in main. */
void vg_test_store_setup (VgTestBackend backend);
/* Stops and removes PostgreSQL and the temporary directory. */
void vg_test_store_teardown (void);

VgTestBackend vg_test_store_backend (void);
const char *vg_test_store_backend_name (void);
/* A store URL of a new, empty database. */
char *vg_test_store_new_url (void);
/* A new temporary directory (removed at teardown). */
char *vg_test_store_new_dir (void);

/* Stops / starts the PostgreSQL server (outage tests). */
void vg_test_store_pg_stop (void);
void vg_test_store_pg_start (void);

/* Runs a statement directly (not through the store), for assertions. */
JsonArray *vg_test_store_sql (const char *url, const char *data_dir, const char *sql,
                              const char *const *params, guint n_params);

/* A new, empty, migrated store on the backend under test; *url and *dir
 * (caller frees) are where it lives. app may be NULL. */
VgStore *vg_test_store_open_new (VgApp *app, char **url, char **dir);
/* The id of a seeded subtopic by name; aborts the test when there is none. */
gint64 vg_test_store_subtopic_id (VgStore *store, const char *name);
