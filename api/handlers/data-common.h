/* Shared by the data API handlers (data-*.c): the store of the request, the
 * admin check, store errors as HTTP errors, query-string validation. */
#pragma once

#include "api/http.h"
#include "gateway/store/store.h"

G_BEGIN_DECLS

#define VG_DATA_LIMIT_DEFAULT 50
#define VG_DATA_LIMIT_MAX 200

/* A catalogue read anyone may make: without an Authorization header *admin
 * is FALSE (the caller withholds private fields); with one it is
 * vg_data_begin's admin check. */
VgStore *vg_data_begin_public (VgRequest *req, gboolean *admin);

/* Checks for an admin token (roomAdmin and roomList, no room claim) and that
 * a store is open; replies and returns NULL otherwise. */
VgStore *vg_data_begin (VgRequest *req);
/* The same for a learner's own data: an admin token, or a participant token
 * (roomJoin) whose subject is identity. identity NULL admits any participant
 * token; then the caller checks the resource's owner against *learner.
 * *learner is the participant's identity, NULL for an admin (caller frees). */
VgStore *vg_data_begin_learner (VgRequest *req, const char *identity, char **learner);

/* Replies with the HTTP form of a store error (400, 409, 503, 500). */
void vg_data_reply_store_error (VgRequest *req, const GError *error);

/* Runs a query for a paused request; on success calls callback (on error
 * replies itself); then drops its reference to req and frees data with
 * destroy (may be NULL). */
typedef void (*VgDataResultFunc) (VgRequest *req, JsonArray *rows, gint64 changes, gpointer data);
void vg_data_query_full (VgRequest *req, VgStore *store, VgStoreQuery query,
                         const char *const *params, guint n, VgDataResultFunc callback,
                         gpointer data, GDestroyNotify destroy);
static inline void
vg_data_query (VgRequest *req, VgStore *store, VgStoreQuery query, const char *const *params,
               guint n, VgDataResultFunc callback)
{
  vg_data_query_full (req, store, query, params, n, callback, NULL, NULL);
}

/* Query-string helpers: on a bad value they reply 400 and return FALSE.
 * *out is NULL when the parameter is absent (caller frees). */
gboolean vg_data_query_text (VgRequest *req, const char *name, gsize max_len, char **out);
/* ?room= and ?identity=: absent, or a name under its rule (else 400
 * invalid_room / invalid_identity). */
gboolean vg_data_query_room (VgRequest *req, char **out);
gboolean vg_data_query_identity (VgRequest *req, char **out);
gboolean vg_data_query_time (VgRequest *req, const char *name, char **out);
gboolean vg_data_query_limit (VgRequest *req, guint *limit);

/* ?<name>=: absent, or a positive integer (else 400). */
gboolean vg_data_query_id (VgRequest *req, const char *name, char **out);
/* A positive integer id from a path parameter; replies 400 otherwise. */
gboolean vg_data_param_id (VgRequest *req, const char *name, char **out);

/* Body members: FALSE (and 400) when present with the wrong type or length. */
gboolean vg_data_body_string (VgRequest *req, JsonObject *body, const char *member, gsize min_chars,
                              gsize max_chars, const char **out);
/* 400 when body has a member not in allowed (NULL-terminated). */
gboolean vg_data_body_only (VgRequest *req, JsonObject *body, const char *const *allowed);

/* Keyset paging on (started_at, id), newest first: a list query fetches
 * limit + 1 rows after the cursor's row; the reply is {"<member>": the first
 * limit rows, "next_cursor": the cursor of the last, or null}. */
gboolean vg_data_cursor_decode (const char *cursor, char **time, char **id);
void vg_data_reply_page (VgRequest *req, const char *member, JsonArray *rows, guint limit);

/* {"<member>": rows} */
void vg_data_reply_rows (VgRequest *req, guint status, const char *member, JsonArray *rows);

/* Each resource's routes (data-subtopics.c, data-conversations.c, data-users.c, data-analytics.c,
 * data-recordings.c).
 */
#include "api/router.h"
void vg_data_subtopics_register (VgRouter *router);
void vg_data_conversations_register (VgRouter *router);
void vg_data_users_register (VgRouter *router);
void vg_data_analytics_register (VgRouter *router);
void vg_data_recordings_register (VgRouter *router);

G_END_DECLS
