/* The store: conversations, transcripts, tool calls, analytics, profiles and
 * subtopics in PostgreSQL (libpq) or SQLite, chosen by [store] url.
 *
 * Threads. Every query runs on the store's own threads, never on the caller's:
 * one writer thread drains the write queue; reads run on a small pool. Reads
 * call back on the GMainContext that was thread-default when they were issued.
 * All vg_store_* functions may be called from any thread.
 *
 * No lost writes. The write calls below validate their arguments, give the
 * row a client-generated UUID and queue it; they never block on the database.
 * While the database is unreachable writes stay queued and are retried with
 * backoff. Past the in-memory bound, and at close, they are appended to a spool
 * file in the data directory (fsync'd), which is replayed at the next open.
 * Every write is an INSERT ... ON CONFLICT DO NOTHING (or an idempotent
 * UPDATE), so a replay never duplicates a row. Messages of a conversation keep
 * the order of the calls (a per-conversation sequence number).
 *
 * How the room code records a conversation (main context, never blocks;
 * app->store is NULL when no store is open, and every write call below is
 * then a no-op returning FALSE/NULL, so callers need no check):
 *   joined:      id = vg_store_conversation_start (app->store, room, identity, subtopic_id,
 * pipeline, model, NULL); vg_store_profile_touch (app->store, identity, display_name, NULL); final
 * transcript (realtime-transcript with final=true): VgStoreMessage m = { role, text, item_id,
 * audio_start_ms, audio_end_ms, truncated }; vg_store_message_add (app->store, id, &m, NULL); tool
 * call:   vg_store_tool_call_add (app->store, id, name, arguments_json, result_json, NULL); left:
 * vg_store_analytics_write (app->store, &analytics, NULL); vg_store_conversation_end (app->store,
 * id, "completed", NULL); g_free (id);
 *
 * Readiness: the "store" health check is down while the database is
 * unreachable. Metrics: voxgate_store_queue_depth, voxgate_store_spooled_writes,
 * voxgate_store_write_failures_total{kind}, voxgate_store_query_seconds{op}. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include "gateway/core/app.h"

G_BEGIN_DECLS

#define VG_STORE_ERROR (vg_store_error_quark ())
GQuark vg_store_error_quark (void);

typedef enum
{
  VG_STORE_ERROR_URL,         /* [store] url not understood */
  VG_STORE_ERROR_UNAVAILABLE, /* the database cannot be reached (transient) */
  VG_STORE_ERROR_INVALID,  /* an argument or row was refused (too long, wrong type, constraint) */
  VG_STORE_ERROR_CONFLICT, /* a unique key already exists */
  VG_STORE_ERROR_QUERY,    /* any other database error */
  VG_STORE_ERROR_SPOOL,    /* the spool file cannot be written or read */
} VgStoreError;

typedef struct _VgStore VgStore;

/* Limits the write calls enforce (the schema enforces them too). */
#define VG_STORE_TEXT_MAX 65536
#define VG_STORE_NAME_MAX 256
#define VG_STORE_PREFERENCES_MAX 16384

/* url: "sqlite:PATH" (relative to data_dir), "postgresql://..." or "postgres://...",
 * or empty/NULL for sqlite:voxgate.db in data_dir. data_dir holds the spool
 * (store-spool.jsonl). Connects lazily: an unreachable PostgreSQL does not
 * fail the open (writes queue up); a bad URL or unusable data_dir does.
 * app may be NULL (no metrics, no health check), e.g. in tools; with an app
 * the caller sets app->store to the result (the health check looks there)
 * and clears it before vg_store_close. */
VgStore *vg_store_open (VgApp *app, const char *url, const char *data_dir, GError **error);

/* Applies pending migrations (embedded in the binary), synchronously, on a
 * connection of its own; call before serving. *applied (optional) is the
 * number applied now; running it again applies nothing. */
gboolean vg_store_migrate (VgStore *store, guint *applied, GError **error);

/* Stops the threads: tries to write what is queued for up to a couple of
 * seconds while the database answers, then spools the rest. Frees store. */
void vg_store_close (VgStore *store);

const char *vg_store_backend_name (VgStore *store); /* "postgresql" or "sqlite" */
gboolean vg_store_is_up (VgStore *store);
/* Writes not yet in the database: queued in memory + in the spool file. */
guint vg_store_pending (VgStore *store);
/* Waits (blocking the caller; tests and tools only) until nothing is pending
 * or timeout_us passes; TRUE when nothing is pending. */
gboolean vg_store_flush (VgStore *store, gint64 timeout_us);
/* The in-memory bound (default 10000 writes); 0 spools every write at once. */
void vg_store_set_queue_limit (VgStore *store, guint limit);

/* ---- writes (queued; FALSE with VG_STORE_ERROR_INVALID if refused) ---- */

/* A participant joined. Returns the new conversation id (a UUID; free it), or
 * NULL when refused. subtopic_id <= 0 means none; an unknown id is stored as none. */
char *vg_store_conversation_start (VgStore *store, const char *room, const char *identity,
                                   gint64 subtopic_id, const char *pipeline, const char *model,
                                   GError **error);

typedef struct
{
  const char *role;      /* "user", "assistant" or "system" */
  const char *text;      /* final transcript, at most VG_STORE_TEXT_MAX bytes */
  const char *item_id;   /* Realtime item id, may be NULL */
  gint64 audio_start_ms; /* < 0: unknown */
  gint64 audio_end_ms;   /* < 0: unknown */
  gboolean truncated;    /* the assistant was interrupted */
} VgStoreMessage;

gboolean vg_store_message_add (VgStore *store, const char *conversation_id,
                               const VgStoreMessage *message, GError **error);
/* A tool call: stored as a message with role "tool". arguments/result are JSON texts (may be NULL).
 */
gboolean vg_store_tool_call_add (VgStore *store, const char *conversation_id, const char *name,
                                 const char *arguments, const char *result, GError **error);
/* status: "completed", "failed" or "abandoned". */
gboolean vg_store_conversation_end (VgStore *store, const char *conversation_id, const char *status,
                                    GError **error);

/* Names this node to the store ([node] id, or the host name:
 * vg_cluster_node_id_from_config) and recovers from its last run: the
 * conversations this node left 'active' (the process was killed, or crashed,
 * before it could end them) and started before this call are marked
 * 'abandoned', ended at their last message (or their start when they have
 * none); another node's conversations are left alone. Conversations started
 * from now on are stamped with node_id. Call once at start, before any
 * conversation starts. Queued like every write (after the spool's replay);
 * FALSE with VG_STORE_ERROR_INVALID unless node_id is 1-255 bytes of UTF-8. */
gboolean vg_store_recover_node (VgStore *store, const char *node_id, GError **error);

typedef struct
{
  const char *conversation_id; /* may be NULL */
  const char *room;
  const char *identity;
  gint64 connected_at_us; /* g_get_real_time () when the participant connected */
  double duration_seconds;
  guint user_turns, agent_turns, interruptions;
  double response_latency_mean_ms, response_latency_p95_ms; /* < 0: none measured */
  guint64 tokens_in, tokens_out;
  double audio_seconds_in, audio_seconds_out;
  guint64 packets_lost;
  double jitter_ms;
  guint tool_calls;
  double response_latency_p50_ms; /* < 0: none measured */
  /* The store adds understanding_start and understanding_end: the mean level
   * of the learner's assessments in the conversation's subtopic made before
   * connected_at and by the time of the write. */
} VgStoreAnalytics;

gboolean vg_store_analytics_write (VgStore *store, const VgStoreAnalytics *analytics,
                                   GError **error);
/* Creates the profile if needed and sets last_seen_at to now. */
gboolean vg_store_profile_touch (VgStore *store, const char *identity, const char *display_name,
                                 GError **error);

/* ---- the tutor: understanding, worked examples, sessions ---- */

/* The fixed scale of a learner's understanding of a concept. The names are
 * what the model and the learner see (vg_store_level_name). */
typedef enum
{
  VG_LEVEL_NONE = 0, /* not yet assessed */
  VG_LEVEL_EMERGING = 1,
  VG_LEVEL_DEVELOPING = 2,
  VG_LEVEL_PROFICIENT = 3,
  VG_LEVEL_MASTERED = 4,
} VgUnderstandingLevel;
#define VG_LEVEL_MAX VG_LEVEL_MASTERED

/* "not yet assessed", "emerging", "developing", "proficient", "mastered"; NULL out of range. */
const char *vg_store_level_name (int level);
/* The inverse (those names, ASCII case-insensitive); FALSE for any other text. */
gboolean vg_store_level_from_name (const char *name, VgUnderstandingLevel *level);

#define VG_STORE_CONCEPT_MAX 128   /* bytes, after normalizing */
#define VG_STORE_EVIDENCE_MAX 2048 /* bytes */
#define VG_STORE_SUMMARY_MAX 8192  /* bytes */

/* Concepts are compared in one form: surrounding space removed, inner runs of
 * white space made one space, lower case. Returns that form (free it), or NULL
 * with VG_STORE_ERROR_INVALID unless it is 1-VG_STORE_CONCEPT_MAX bytes of
 * printable UTF-8. Every call below taking a concept applies it. */
char *vg_store_concept_normalize (const char *concept, GError **error);

typedef struct
{
  const char *identity;        /* the learner, 1-128 bytes */
  const char *conversation_id; /* NULL: none; an id not in the store is stored as none */
  gint64 subtopic_id;          /* <= 0: none; an unknown id is stored as none */
  const char *concept;
  int level;            /* VgUnderstandingLevel */
  const char *evidence; /* why the tutor judged so; NULL or <= VG_STORE_EVIDENCE_MAX bytes */
} VgAssessment;

/* Records an assessment, stamped now (queued like every write). */
gboolean vg_store_assessment_add (VgStore *store, const VgAssessment *assessment, GError **error);
/* Stores (or replaces) the session summary: NULL clears it; <= VG_STORE_SUMMARY_MAX bytes. */
gboolean vg_store_conversation_set_summary (VgStore *store, const char *conversation_id,
                                            const char *summary, GError **error);
/* Moves the conversation to another subtopic (switch_subtopic); subtopic_id
 * <= 0 or unknown is stored as none. Queued like every write. */
gboolean vg_store_conversation_set_subtopic (VgStore *store, const char *conversation_id,
                                             gint64 subtopic_id, GError **error);

/* The typed reads below block the caller on a connection of the reader pool
 * (the tools' worker threads, tests, tools), so never call them on the main
 * context; the same queries are VG_STORE_Q_UNDERSTANDING etc. for
 * vg_store_query. They see a write only once the writer has stored it
 * (vg_store_flush in tests). Times are texts as vg_store_time_text makes. */

typedef struct
{
  char *concept;     /* normalized */
  int latest_level;  /* VG_LEVEL_NONE when never assessed */
  guint assessments; /* how many */
  double mean_level; /* 0 when never assessed */
  char *first_at;    /* NULL when never assessed */
  char *latest_at;   /* NULL when never assessed */
} VgUnderstanding;

void vg_understanding_clear (VgUnderstanding *u);
void vg_understanding_free (VgUnderstanding *u);

/* The learner's running understanding of a concept, across subtopics and
 * sessions; a concept never assessed is not an error (assessments == 0).
 * out is filled on TRUE (clear it with vg_understanding_clear). */
gboolean vg_store_understanding (VgStore *store, const char *identity, const char *concept,
                                 VgUnderstanding *out, GError **error);
/* The same per concept, sorted by concept, counting only assessments made
 * in subtopic_id (<= 0: in any). Elements are VgUnderstanding *; NULL on error. */
GPtrArray *vg_store_learner_progress (VgStore *store, const char *identity, gint64 subtopic_id,
                                      GError **error);

typedef struct
{
  gint64 id, subtopic_id;
  char *concept;    /* normalized */
  char *difficulty; /* "easy", "medium" or "hard" */
  char *problem, *solution;
} VgSubtopicExample;

void vg_subtopic_example_free (VgSubtopicExample *e);

/* The concepts the subtopic has worked examples of, sorted (what to offer the
 * model when it asks for one it does not have); NULL on error. Free with g_strfreev. */
char **vg_store_subtopic_concepts (VgStore *store, gint64 subtopic_id, GError **error);

/* The subtopic's worked examples of a concept, easiest first (then in the
 * order they were added). difficulty: "easy", "medium", "hard" or NULL for
 * any. An unknown subtopic or concept gives an empty array, not an error.
 * Elements are VgSubtopicExample *; NULL on error. */
GPtrArray *vg_store_subtopic_examples (VgStore *store, gint64 subtopic_id, const char *concept,
                                       const char *difficulty, GError **error);

typedef struct
{
  char *id;     /* conversation id */
  char *status; /* "active", "completed", "failed" or "abandoned" */
  char *started_at;
  char *ended_at; /* NULL while active */
  char *summary;  /* NULL when none was stored */
} VgLearnerSession;

void vg_learner_session_free (VgLearnerSession *s);

/* The learner's conversations on subtopic_id (<= 0: on any), newest first,
 * at most limit (1-100). Includes one still active, e.g. the current one.
 * Elements are VgLearnerSession *; NULL on error. */
GPtrArray *vg_store_learner_sessions (VgStore *store, const char *identity, gint64 subtopic_id,
                                      guint limit, GError **error);

/* ---- recordings (gateway/egress; migration 005) ---- */

/* One recording (an egress): its audio file and WebVTT transcript sidecar.
 * kind: "room_composite" or "track" (identity: the track's publisher; NULL
 * for the room). Returns the recording's id (a UUID; free it), or NULL when
 * refused. Linked to the conversation active in the room (of identity, when
 * given) if there is one; a recording that starts before any conversation is
 * linked when it ends to the one that overlaps it. Queued like every write. */
char *vg_store_recording_start (VgStore *store, const char *egress_id, const char *room,
                                const char *identity, const char *kind, gint64 started_at_us,
                                GError **error);

typedef struct
{
  const char *status;    /* "complete" or "failed" */
  const char *error;     /* why it failed, or NULL; at most 1024 bytes */
  const char *filename;  /* the audio file's name, or NULL when none was written */
  const char *path;      /* where it is (absolute), or NULL */
  const char *mime_type; /* e.g. "audio/ogg", or NULL */
  gint64 size_bytes;     /* < 0: unknown */
  gint64 duration_ms;    /* < 0: unknown */
  const char *transcript_filename, *transcript_path; /* the WebVTT sidecar, or NULL */
  gint64 transcript_size_bytes;                      /* < 0: unknown */
  gint64 ended_at_us;
} VgStoreRecordingEnd;

/* The recording ended (status, files). Queued. */
gboolean vg_store_recording_end (VgStore *store, const char *recording_id,
                                 const VgStoreRecordingEnd *end, GError **error);

/* ---- reads and API writes (run on the pool; result on the caller's context) ---- */

typedef enum
{
  VG_STORE_Q_SUBTOPICS_LIST,  /* topic|NULL */
  VG_STORE_Q_SUBTOPIC_GET,    /* id */
  VG_STORE_Q_SUBTOPIC_CREATE, /* topic, name, description, instructions */
  VG_STORE_Q_SUBTOPIC_UPDATE, /* id, topic|NULL, name|NULL, description|NULL, instructions|NULL */
  VG_STORE_Q_SUBTOPIC_DELETE, /* id */
  VG_STORE_Q_CONVERSATIONS_LIST, /* room|NULL, identity|NULL, from|NULL, to|NULL, cursor_time|NULL,
                                    cursor_id|NULL, limit */
  VG_STORE_Q_CONVERSATION_GET,   /* id */
  VG_STORE_Q_MESSAGES_LIST,      /* conversation id */
  VG_STORE_Q_PROFILE_GET,        /* identity */
  VG_STORE_Q_PROFILE_PUT,        /* identity, display_name|NULL, preferences JSON text */
  VG_STORE_Q_ANALYTICS_LIST,     /* room|NULL, identity|NULL, from|NULL, to|NULL, limit */
  VG_STORE_Q_ANALYTICS_DAILY,    /* room|NULL, from|NULL, to|NULL */
  VG_STORE_Q_MIGRATIONS_LIST,    /* (none) */
  VG_STORE_Q_UNDERSTANDING,      /* identity, normalized concept */
  VG_STORE_Q_LEARNER_PROGRESS,   /* identity, subtopic id|NULL */
  VG_STORE_Q_SUBTOPIC_EXAMPLES,  /* subtopic id, normalized concept, difficulty|NULL */
  VG_STORE_Q_SUBTOPIC_CONCEPTS,  /* subtopic id */
  VG_STORE_Q_LEARNER_SESSIONS,   /* identity, subtopic id|NULL, limit */
  /* Recordings, newest first (no paths): room|NULL, conversation id|NULL,
   * cursor_time|NULL, cursor_id|NULL, limit */
  VG_STORE_Q_RECORDINGS_LIST,
  VG_STORE_Q_RECORDING_GET,    /* id: the row with path and transcript_path */
  VG_STORE_Q_RECORDING_DELETE, /* id (changes: 0 or 1) */
  /* Ended (or started, if never ended) before cutoff, oldest first: cutoff, limit.
   * Columns id, egress_id, status, path, transcript_path. */
  VG_STORE_Q_RECORDINGS_EXPIRED,
  VG_STORE_Q_COUNT
} VgStoreQuery;

/* rows: a JSON array of objects, one per row (column -> value; times as
 * "YYYY-MM-DDTHH:MM:SS.ffffffZ", booleans as booleans), or NULL with error set.
 * For statements without RETURNING, rows is empty and changes counts rows. */
typedef void (*VgStoreResultFunc) (JsonArray *rows, gint64 changes, const GError *error,
                                   gpointer user_data);

/* params: n_params strings (NULL = SQL NULL), copied. */
void vg_store_query (VgStore *store, VgStoreQuery query, const char *const *params, guint n_params,
                     VgStoreResultFunc callback, gpointer user_data);

/* The same, blocking the caller; for tests, tools and the benchmark only. */
JsonArray *vg_store_query_sync (VgStore *store, VgStoreQuery query, const char *const *params,
                                guint n_params, gint64 *changes, GError **error);

/* ---- helpers shared with the data API ---- */

/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC, fixed width: sorts as text). */
char *vg_store_time_text (gint64 unix_us);
/* Parses ISO 8601 (with a zone) or unix seconds into the fixed form above; NULL if invalid. */
char *vg_store_time_parse (const char *text);
/* TRUE for a canonical lower-case UUID text. */
gboolean vg_store_is_uuid (const char *text);

G_END_DECLS
