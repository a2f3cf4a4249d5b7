/* Every statement the store runs, written once in PostgreSQL's dialect with
 * $n parameters and explicit casts; SQLite gets the same text without the
 * casts (it binds $n by name), or its own text where the dialects differ.
 * Also: queued writes and their spool lines, and time texts. */
#include "gateway/store/store-private.h"

#include <string.h>

#define SUBTOPIC_COLUMNS "id, topic, name, description, instructions, created_at, updated_at"
#define CONVERSATION_COLUMNS                                                                       \
  "c.id, c.room, c.identity, c.subtopic_id, c.pipeline, c.model, c.status, c.started_at, "         \
  "c.ended_at, c.summary, "                                                                        \
  "(SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) AS message_count"
/* Running understanding. The latest level breaks ties in time by id, so
 * every read gives the same; SUBTOPIC_FILTER limits it like the aggregates. */
#define UNDERSTANDING_COLUMNS                                                                      \
  "a.concept, count(*) AS assessments, avg(a.level)::float8 AS mean_level, "                       \
  "min(a.created_at) AS first_at, max(a.created_at) AS latest_at, "                                \
  "(SELECT b.level FROM assessments b WHERE b.identity = a.identity AND b.concept = a.concept "
#define LATEST_LEVEL_END " ORDER BY b.created_at DESC, b.id DESC LIMIT 1) AS latest_level "
#define SUBTOPIC_FILTER(t) "($2::bigint IS NULL OR " t ".subtopic_id = $2::bigint)"
#define PROFILE_COLUMNS                                                                            \
  "identity, display_name, preferences::text AS preferences, created_at, updated_at, last_seen_at"
#define ANALYTICS_COLUMNS                                                                          \
  "id, conversation_id, room, identity, connected_at, duration_seconds, user_turns, agent_turns, " \
  "interruptions, response_latency_mean_ms, response_latency_p95_ms, tokens_in, tokens_out, "      \
  "audio_seconds_in, audio_seconds_out, packets_lost, jitter_ms, created_at, tool_calls, "         \
  "response_latency_p50_ms, understanding_start, understanding_end"
#define ANALYTICS_FILTER                                                                           \
  "($1::text IS NULL OR room = $1::text) AND ($2::text IS NULL OR identity = $2::text) "           \
  "AND ($3::timestamptz IS NULL OR connected_at >= $3::timestamptz) "                              \
  "AND ($4::timestamptz IS NULL OR connected_at < $4::timestamptz)"
#define DAILY_AGGREGATES                                                                           \
  "count(*) AS sessions, sum(duration_seconds) AS duration_seconds, "                              \
  "avg(duration_seconds) AS mean_duration_seconds, sum(user_turns)::bigint AS user_turns, "        \
  "sum(agent_turns)::bigint AS agent_turns, sum(interruptions)::bigint AS interruptions, "         \
  "avg(response_latency_mean_ms) AS response_latency_mean_ms, "                                    \
  "max(response_latency_p95_ms) AS response_latency_p95_max_ms, sum(tokens_in)::bigint AS "        \
  "tokens_in, "                                                                                    \
  "sum(tokens_out)::bigint AS tokens_out, sum(audio_seconds_in) AS audio_seconds_in, "             \
  "sum(audio_seconds_out) AS audio_seconds_out, sum(packets_lost)::bigint AS packets_lost, "       \
  "sum(tool_calls)::bigint AS tool_calls "                                                         \
  "FROM session_analytics WHERE ($1::text IS NULL OR room = $1::text) "                            \
  "AND ($2::timestamptz IS NULL OR connected_at >= $2::timestamptz) "                              \
  "AND ($3::timestamptz IS NULL OR connected_at < $3::timestamptz) GROUP BY 1 ORDER BY 1"

#define RECORDING_COLUMNS                                                                          \
  "id, egress_id, room, identity, conversation_id, kind, status, error, filename, mime_type, "     \
  "size_bytes, duration_ms, transcript_filename, transcript_size_bytes, started_at, ended_at"

typedef struct
{
  const char *pg;
  const char *sqlite; /* NULL: the same as pg; ::casts are dropped either way */
} VgStatement;

static const VgStatement queries[VG_STORE_Q_COUNT] = {
  [VG_STORE_Q_SUBTOPICS_LIST]
  = { "SELECT " SUBTOPIC_COLUMNS " FROM subtopics "
      "WHERE ($1::text IS NULL OR topic = $1::text) ORDER BY topic, name, id" },
  [VG_STORE_Q_SUBTOPIC_GET]
  = { "SELECT " SUBTOPIC_COLUMNS " FROM subtopics WHERE id = $1::bigint" },
  [VG_STORE_Q_SUBTOPIC_CREATE]
  = { "INSERT INTO subtopics (topic, name, description, instructions) "
      "VALUES ($1::text, $2::text, $3::text, $4::text) RETURNING " SUBTOPIC_COLUMNS },
  [VG_STORE_Q_SUBTOPIC_UPDATE]
  = { "UPDATE subtopics SET topic = COALESCE($2::text, topic), "
      "name = COALESCE($3::text, name), "
      "description = COALESCE($4::text, description), "
      "instructions = COALESCE($5::text, instructions), updated_at = $6::timestamptz "
      "WHERE id = $1::bigint RETURNING " SUBTOPIC_COLUMNS },
  [VG_STORE_Q_SUBTOPIC_DELETE] = { "DELETE FROM subtopics WHERE id = $1::bigint" },
  [VG_STORE_Q_CONVERSATIONS_LIST]
  = { "SELECT " CONVERSATION_COLUMNS " FROM conversations c "
      "WHERE ($1::text IS NULL OR c.room = $1::text) AND ($2::text IS NULL OR c.identity = "
      "$2::text) "
      "AND ($3::timestamptz IS NULL OR c.started_at >= $3::timestamptz) "
      "AND ($4::timestamptz IS NULL OR c.started_at < $4::timestamptz) "
      "AND ($5::timestamptz IS NULL OR (c.started_at, c.id) < ($5::timestamptz, $6::uuid)) "
      "ORDER BY c.started_at DESC, c.id DESC LIMIT CAST($7 AS integer)" },
  [VG_STORE_Q_CONVERSATION_GET]
  = { "SELECT " CONVERSATION_COLUMNS " FROM conversations c WHERE c.id = $1::uuid" },
  [VG_STORE_Q_MESSAGES_LIST]
  = { "SELECT id, seq, role, text, item_id, audio_start_ms, audio_end_ms, truncated, "
      "tool_name, tool_arguments, tool_result, created_at FROM messages "
      "WHERE conversation_id = $1::uuid ORDER BY seq" },
  [VG_STORE_Q_PROFILE_GET]
  = { "SELECT " PROFILE_COLUMNS " FROM user_profiles WHERE identity = $1::text" },
  [VG_STORE_Q_PROFILE_PUT]
  = { "INSERT INTO user_profiles (identity, display_name, preferences, updated_at) "
      "VALUES ($1::text, COALESCE($2::text, ''), $3::jsonb, $4::timestamptz) "
      "ON CONFLICT (identity) DO UPDATE SET display_name = COALESCE($2::text, "
      "user_profiles.display_name), "
      "preferences = excluded.preferences, updated_at = excluded.updated_at "
      "RETURNING " PROFILE_COLUMNS,
      "INSERT INTO user_profiles (identity, display_name, preferences, updated_at) "
      "VALUES ($1, COALESCE($2, ''), json($3), $4) "
      "ON CONFLICT (identity) DO UPDATE SET display_name = COALESCE($2, "
      "user_profiles.display_name), "
      "preferences = excluded.preferences, updated_at = excluded.updated_at "
      "RETURNING identity, display_name, preferences, created_at, updated_at, last_seen_at" },
  [VG_STORE_Q_ANALYTICS_LIST]
  = { "SELECT " ANALYTICS_COLUMNS " FROM session_analytics WHERE " ANALYTICS_FILTER
      " ORDER BY connected_at DESC, id DESC LIMIT CAST($5 AS integer)" },
  [VG_STORE_Q_ANALYTICS_DAILY]
  = { "SELECT ((connected_at AT TIME ZONE 'UTC')::date)::text AS day, " DAILY_AGGREGATES,
      "SELECT substr(connected_at, 1, 10) AS day, " DAILY_AGGREGATES },
  [VG_STORE_Q_MIGRATIONS_LIST]
  = { "SELECT version, name, applied_at FROM schema_migrations ORDER BY version" },
  [VG_STORE_Q_UNDERSTANDING]
  = { "SELECT " UNDERSTANDING_COLUMNS LATEST_LEVEL_END "FROM assessments a "
      "WHERE a.identity = $1::text AND a.concept = $2::text GROUP BY a.identity, a.concept" },
  [VG_STORE_Q_LEARNER_PROGRESS]
  = { "SELECT " UNDERSTANDING_COLUMNS "AND " SUBTOPIC_FILTER ("b") LATEST_LEVEL_END
      "FROM assessments a WHERE a.identity = $1::text AND " SUBTOPIC_FILTER (
          "a") " GROUP BY a.identity, a.concept ORDER BY a.concept" },
  [VG_STORE_Q_SUBTOPIC_EXAMPLES]
  = { "SELECT id, subtopic_id, concept, difficulty, problem, solution FROM subtopic_examples "
      "WHERE subtopic_id = $1::bigint AND concept = $2::text "
      "AND ($3::text IS NULL OR difficulty = $3::text) "
      "ORDER BY CASE difficulty WHEN 'easy' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, id" },
  [VG_STORE_Q_SUBTOPIC_CONCEPTS]
  = { "SELECT DISTINCT concept FROM subtopic_examples WHERE subtopic_id = $1::bigint "
      "ORDER BY concept" },
  [VG_STORE_Q_LEARNER_SESSIONS]
  = { "SELECT id::text AS id, status, started_at, ended_at, summary FROM conversations "
      "WHERE identity = $1::text AND ($2::bigint IS NULL OR subtopic_id = $2::bigint) "
      "ORDER BY started_at DESC, id DESC LIMIT CAST($3 AS integer)" },
  [VG_STORE_Q_RECORDINGS_LIST]
  = { "SELECT " RECORDING_COLUMNS " FROM recordings "
      "WHERE ($1::text IS NULL OR room = $1::text) "
      "AND ($2::uuid IS NULL OR conversation_id = $2::uuid) "
      "AND ($3::timestamptz IS NULL OR (started_at, id) < ($3::timestamptz, $4::uuid)) "
      "ORDER BY started_at DESC, id DESC LIMIT CAST($5 AS integer)" },
  [VG_STORE_Q_RECORDING_GET]
  = { "SELECT " RECORDING_COLUMNS ", path, transcript_path FROM recordings WHERE id = $1::uuid" },
  [VG_STORE_Q_RECORDING_DELETE] = { "DELETE FROM recordings WHERE id = $1::uuid" },
  [VG_STORE_Q_RECORDINGS_EXPIRED]
  = { "SELECT id, egress_id, status, path, transcript_path FROM recordings "
      "WHERE COALESCE(ended_at, started_at) < $1::timestamptz "
      "ORDER BY COALESCE(ended_at, started_at), id LIMIT CAST($2 AS integer)" },
};

typedef struct
{
  const char *name;
  guint n_params;
  VgStatement sql;
} VgOpInfo;

static const VgOpInfo ops[VG_STORE_OP_COUNT] = {
  [VG_STORE_OP_CONVERSATION_START]
  = { "conversation_start",
      7,
      { "INSERT INTO conversations (id, room, identity, subtopic_id, pipeline, model, status, "
        "started_at) "
        "VALUES ($1::uuid, $2::text, $3::text, (SELECT id FROM subtopics WHERE id = $4::bigint), "
        "$5::text, "
        "$6::text, 'active', $7::timestamptz) ON CONFLICT DO NOTHING" } },
  [VG_STORE_OP_MESSAGE]
  = { "message",
      13,
      { "INSERT INTO messages (id, conversation_id, seq, role, text, item_id, audio_start_ms, "
        "audio_end_ms, "
        "truncated, tool_name, tool_arguments, tool_result, created_at) VALUES ($1::uuid, "
        "$2::uuid, "
        "CAST($3 AS bigint), $4::text, $5::text, $6::text, CAST($7 AS bigint), CAST($8 AS bigint), "
        "CAST($9 AS integer) <> 0, $10::text, $11::text, $12::text, $13::timestamptz) ON CONFLICT "
        "DO NOTHING",
        "INSERT INTO messages (id, conversation_id, seq, role, text, item_id, audio_start_ms, "
        "audio_end_ms, "
        "truncated, tool_name, tool_arguments, tool_result, created_at) VALUES ($1, $2, CAST($3 AS "
        "integer), "
        "$4, $5, $6, CAST($7 AS integer), CAST($8 AS integer), CAST($9 AS integer) <> 0, $10, $11, "
        "$12, $13) "
        "ON CONFLICT DO NOTHING" } },
  [VG_STORE_OP_CONVERSATION_END] = { "conversation_end",
                                     3,
                                     { "UPDATE conversations SET status = $2::text, ended_at = "
                                       "$3::timestamptz WHERE id = $1::uuid" } },
  [VG_STORE_OP_ANALYTICS]
  = { "analytics",
      18,
      { "INSERT INTO session_analytics (id, conversation_id, room, identity, connected_at, "
        "duration_seconds, "
        "user_turns, agent_turns, interruptions, response_latency_mean_ms, "
        "response_latency_p95_ms, tokens_in, "
        "tokens_out, audio_seconds_in, audio_seconds_out, packets_lost, jitter_ms, created_at) "
        "VALUES "
        "($1::uuid, (SELECT id FROM conversations WHERE id = $2::uuid), $3::text, $4::text, "
        "$5::timestamptz, "
        "CAST($6 AS double precision), CAST($7 AS integer), CAST($8 AS integer), CAST($9 AS "
        "integer), "
        "CAST($10 AS double precision), CAST($11 AS double precision), CAST($12 AS bigint), "
        "CAST($13 AS bigint), CAST($14 AS double precision), CAST($15 AS double precision), "
        "CAST($16 AS bigint), CAST($17 AS double precision), $18::timestamptz) ON CONFLICT DO "
        "NOTHING",
        "INSERT INTO session_analytics (id, conversation_id, room, identity, connected_at, "
        "duration_seconds, "
        "user_turns, agent_turns, interruptions, response_latency_mean_ms, "
        "response_latency_p95_ms, tokens_in, "
        "tokens_out, audio_seconds_in, audio_seconds_out, packets_lost, jitter_ms, created_at) "
        "VALUES "
        "($1, (SELECT id FROM conversations WHERE id = $2), $3, $4, $5, CAST($6 AS real), "
        "CAST($7 AS integer), CAST($8 AS integer), CAST($9 AS integer), CAST($10 AS real), "
        "CAST($11 AS real), "
        "CAST($12 AS integer), CAST($13 AS integer), CAST($14 AS real), CAST($15 AS real), "
        "CAST($16 AS integer), CAST($17 AS real), $18) ON CONFLICT DO NOTHING" } },
  [VG_STORE_OP_PROFILE_TOUCH]
  = { "profile_touch",
      3,
      { "INSERT INTO user_profiles (identity, display_name, last_seen_at, created_at, updated_at) "
        "VALUES ($1::text, COALESCE($2::text, ''), $3::timestamptz, $3::timestamptz, "
        "$3::timestamptz) "
        "ON CONFLICT (identity) DO UPDATE SET "
        "last_seen_at = CASE WHEN user_profiles.last_seen_at IS NULL "
        "OR excluded.last_seen_at > user_profiles.last_seen_at "
        "THEN excluded.last_seen_at ELSE user_profiles.last_seen_at END, "
        "display_name = CASE WHEN excluded.display_name <> '' THEN excluded.display_name "
        "ELSE user_profiles.display_name END" } },
  [VG_STORE_OP_ASSESSMENT]
  = { "assessment",
      8,
      { "INSERT INTO assessments (id, identity, conversation_id, subtopic_id, concept, level, "
        "evidence, created_at) VALUES ($1::uuid, $2::text, "
        "(SELECT id FROM conversations WHERE id = $3::uuid), "
        "(SELECT id FROM subtopics WHERE id = $4::bigint), $5::text, CAST($6 AS smallint), "
        "$7::text, $8::timestamptz) ON CONFLICT DO NOTHING",
        "INSERT INTO assessments (id, identity, conversation_id, subtopic_id, concept, level, "
        "evidence, created_at) VALUES ($1, $2, (SELECT id FROM conversations WHERE id = $3), "
        "(SELECT id FROM subtopics WHERE id = $4), $5, CAST($6 AS integer), $7, $8) "
        "ON CONFLICT DO NOTHING" } },
  [VG_STORE_OP_CONVERSATION_SUMMARY]
  = { "conversation_summary",
      2,
      { "UPDATE conversations SET summary = $2::text WHERE id = $1::uuid" } },
  /* An unknown subtopic is stored as none, as vg_store_conversation_start does. */
  [VG_STORE_OP_CONVERSATION_SUBTOPIC]
  = { "conversation_subtopic",
      2,
      { "UPDATE conversations SET subtopic_id = (SELECT id FROM subtopics WHERE id = "
        "CAST($2 AS bigint)) WHERE id = $1::uuid" } },
  /* "analytics" stays for writes spooled before migration 004. The
   * understanding is the mean level of the learner's assessments in the
   * conversation's subtopic (the last it switched to) made before the
   * learner connected, and made by now (the end). */
  [VG_STORE_OP_SESSION_ANALYTICS]
  = { "session_analytics",
      20,
      { "INSERT INTO session_analytics (id, conversation_id, room, identity, connected_at, "
        "duration_seconds, user_turns, agent_turns, interruptions, response_latency_mean_ms, "
        "response_latency_p95_ms, tokens_in, tokens_out, audio_seconds_in, audio_seconds_out, "
        "packets_lost, jitter_ms, created_at, tool_calls, response_latency_p50_ms, "
        "understanding_start, understanding_end) "
        "VALUES ($1::uuid, (SELECT id FROM conversations WHERE id = $2::uuid), $3::text, "
        "$4::text, $5::timestamptz, CAST($6 AS double precision), CAST($7 AS integer), "
        "CAST($8 AS integer), CAST($9 AS integer), CAST($10 AS double precision), "
        "CAST($11 AS double precision), CAST($12 AS bigint), CAST($13 AS bigint), "
        "CAST($14 AS double precision), CAST($15 AS double precision), CAST($16 AS bigint), "
        "CAST($17 AS double precision), $18::timestamptz, CAST($19 AS integer), "
        "CAST($20 AS double precision), "
        "(SELECT CAST(avg(x.level) AS double precision) FROM assessments x "
        "WHERE x.identity = $4::text AND x.created_at < $5::timestamptz "
        "AND x.subtopic_id = (SELECT subtopic_id FROM conversations WHERE id = $2::uuid)), "
        "(SELECT CAST(avg(x.level) AS double precision) FROM assessments x "
        "WHERE x.identity = $4::text AND x.created_at <= $18::timestamptz "
        "AND x.subtopic_id = (SELECT subtopic_id FROM conversations WHERE id = $2::uuid))) "
        "ON CONFLICT DO NOTHING",
        "INSERT INTO session_analytics (id, conversation_id, room, identity, connected_at, "
        "duration_seconds, user_turns, agent_turns, interruptions, response_latency_mean_ms, "
        "response_latency_p95_ms, tokens_in, tokens_out, audio_seconds_in, audio_seconds_out, "
        "packets_lost, jitter_ms, created_at, tool_calls, response_latency_p50_ms, "
        "understanding_start, understanding_end) "
        "VALUES ($1, (SELECT id FROM conversations WHERE id = $2), $3, $4, $5, CAST($6 AS real), "
        "CAST($7 AS integer), CAST($8 AS integer), CAST($9 AS integer), CAST($10 AS real), "
        "CAST($11 AS real), CAST($12 AS integer), CAST($13 AS integer), CAST($14 AS real), "
        "CAST($15 AS real), CAST($16 AS integer), CAST($17 AS real), $18, CAST($19 AS integer), "
        "CAST($20 AS real), "
        "(SELECT avg(x.level) FROM assessments x WHERE x.identity = $4 AND x.created_at < $5 "
        "AND x.subtopic_id = (SELECT subtopic_id FROM conversations WHERE id = $2)), "
        "(SELECT avg(x.level) FROM assessments x WHERE x.identity = $4 AND x.created_at <= $18 "
        "AND x.subtopic_id = (SELECT subtopic_id FROM conversations WHERE id = $2))) "
        "ON CONFLICT DO NOTHING" } },
  /* Linked to the conversation active in the room (the publisher's, for a
   * track) when the recording starts, if there is one. */
  [VG_STORE_OP_RECORDING_START]
  = { "recording_start",
      6,
      { "INSERT INTO recordings (id, egress_id, room, identity, kind, status, started_at, "
        "conversation_id) VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::text, 'active', "
        "$6::timestamptz, (SELECT c.id FROM conversations c WHERE c.room = $3::text "
        "AND ($4::text IS NULL OR c.identity = $4::text) AND c.ended_at IS NULL "
        "ORDER BY c.started_at DESC, c.id DESC LIMIT 1)) ON CONFLICT DO NOTHING" } },
  /* A recording that started before any conversation is linked now to the
   * latest one that overlaps it. */
  [VG_STORE_OP_RECORDING_END]
  = { "recording_end",
      12,
      { "UPDATE recordings SET status = $2::text, error = $3::text, filename = $4::text, "
        "path = $5::text, mime_type = $6::text, size_bytes = CAST($7 AS bigint), "
        "duration_ms = CAST($8 AS bigint), transcript_filename = $9::text, "
        "transcript_path = $10::text, transcript_size_bytes = CAST($11 AS bigint), "
        "ended_at = $12::timestamptz, conversation_id = COALESCE(conversation_id, "
        "(SELECT c.id FROM conversations c WHERE c.room = recordings.room "
        "AND (recordings.identity IS NULL OR c.identity = recordings.identity) "
        "AND c.started_at <= $12::timestamptz "
        "AND (c.ended_at IS NULL OR c.ended_at >= recordings.started_at) "
        "ORDER BY c.started_at DESC, c.id DESC LIMIT 1)) WHERE id = $1::uuid" } },
  /* conversation_start with the node that holds it (migration 006);
   * "conversation_start" stays for writes spooled before. */
  [VG_STORE_OP_CONVERSATION_START_NODE]
  = { "conversation_start_node",
      8,
      { "INSERT INTO conversations (id, room, identity, subtopic_id, pipeline, model, status, "
        "started_at, node_id) "
        "VALUES ($1::uuid, $2::text, $3::text, (SELECT id FROM subtopics WHERE id = $4::bigint), "
        "$5::text, $6::text, 'active', $7::timestamptz, $8::text) ON CONFLICT DO NOTHING" } },
  /* The conversations node $1 left active, started before $2 (the node's
   * start): it was killed before it could end them. They end at their last
   * message, or at their start when they have none. On SQLite (one node per
   * file) those from before migration 006, without a node, are this node's
   * too; on PostgreSQL their node is unknown and they are left alone. */
  [VG_STORE_OP_ABANDON_NODE]
  = { "abandon_node",
      2,
      { "UPDATE conversations c SET status = 'abandoned', ended_at = "
        "COALESCE((SELECT max(m.created_at) FROM messages m WHERE m.conversation_id = c.id), "
        "c.started_at) "
        "WHERE c.status = 'active' AND c.node_id = $1::text AND c.started_at < $2::timestamptz",
        "UPDATE conversations SET status = 'abandoned', ended_at = "
        "COALESCE((SELECT max(m.created_at) FROM messages m "
        "WHERE m.conversation_id = conversations.id), conversations.started_at) "
        "WHERE status = 'active' AND (node_id = $1 OR node_id IS NULL) AND started_at < $2" } },
};

/* SQLite texts are derived once and kept for the life of the process. */
static const char *sqlite_queries[VG_STORE_Q_COUNT];
static const char *sqlite_ops[VG_STORE_OP_COUNT];

static void
derive_sqlite_texts (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      for (guint i = 0; i < VG_STORE_Q_COUNT; i++)
        sqlite_queries[i]
            = vg_store_sql_to_sqlite (queries[i].sqlite ? queries[i].sqlite : queries[i].pg);
      for (guint i = 0; i < VG_STORE_OP_COUNT; i++)
        sqlite_ops[i]
            = vg_store_sql_to_sqlite (ops[i].sql.sqlite ? ops[i].sql.sqlite : ops[i].sql.pg);
      g_once_init_leave (&done, 1);
    }
}

const char *
vg_store_sql_query (const VgStoreBackend *backend, VgStoreQuery query)
{
  g_return_val_if_fail (query < VG_STORE_Q_COUNT, NULL);
  if (backend == &vg_store_backend_pg)
    return queries[query].pg;
  derive_sqlite_texts ();
  return sqlite_queries[query];
}

const char *
vg_store_sql_op (const VgStoreBackend *backend, VgStoreOp op)
{
  g_return_val_if_fail (op < VG_STORE_OP_COUNT, NULL);
  if (backend == &vg_store_backend_pg)
    return ops[op].sql.pg;
  derive_sqlite_texts ();
  return sqlite_ops[op];
}

const char *
vg_store_op_name (VgStoreOp op)
{
  return op < VG_STORE_OP_COUNT ? ops[op].name : "unknown";
}

gboolean
vg_store_op_from_name (const char *name, VgStoreOp *op)
{
  for (guint i = 0; i < VG_STORE_OP_COUNT; i++)
    if (g_strcmp0 (name, ops[i].name) == 0)
      {
        *op = i;
        return TRUE;
      }
  return FALSE;
}

guint
vg_store_op_n_params (VgStoreOp op)
{
  return op < VG_STORE_OP_COUNT ? ops[op].n_params : 0;
}

char *
vg_store_sql_to_sqlite (const char *pg_sql)
{
  GString *out = g_string_sized_new (strlen (pg_sql));

  for (const char *p = pg_sql; *p;)
    {
      if (p[0] == ':' && p[1] == ':')
        {
          p += 2;
          while (g_ascii_isalnum (*p) || *p == '_')
            p++;
          continue;
        }
      g_string_append_c (out, *p++);
    }
  return g_string_free (out, FALSE);
}

VgStoreWrite *
vg_store_write_new (VgStoreOp op, const char *const *params)
{
  VgStoreWrite *w = g_new0 (VgStoreWrite, 1);
  guint n = vg_store_op_n_params (op);

  w->op = op;
  w->params = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    w->params[i] = g_strdup (params[i]);
  return w;
}

void
vg_store_write_free (VgStoreWrite *w)
{
  if (!w)
    return;
  for (guint i = 0; i < vg_store_op_n_params (w->op); i++)
    g_free (w->params[i]);
  g_free (w->params);
  g_free (w);
}

char *
vg_store_write_to_line (const VgStoreWrite *w)
{
  g_autoptr (JsonArray) a = json_array_new ();
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_ARRAY);

  json_array_add_string_element (a, vg_store_op_name (w->op));
  for (guint i = 0; i < vg_store_op_n_params (w->op); i++)
    if (w->params[i])
      json_array_add_string_element (a, w->params[i]);
    else
      json_array_add_null_element (a);
  json_node_set_array (root, a);
  return json_to_string (root, FALSE);
}

VgStoreWrite *
vg_store_write_from_line (const char *line, GError **error)
{
  g_autoptr (JsonNode) root = json_from_string (line, error);
  JsonArray *a;
  VgStoreOp op;
  const char *params[32] = { 0 };
  guint n;

  if (!root)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (root) || json_array_get_length (a = json_node_get_array (root)) < 1
      || !vg_store_op_from_name (json_array_get_string_element (a, 0), &op)
      || json_array_get_length (a) != (n = vg_store_op_n_params (op)) + 1)
    {
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_SPOOL, "not a spooled write");
      return NULL;
    }
  for (guint i = 0; i < n; i++)
    {
      JsonNode *e = json_array_get_element (a, i + 1);
      if (JSON_NODE_HOLDS_NULL (e))
        continue;
      if (!JSON_NODE_HOLDS_VALUE (e) || json_node_get_value_type (e) != G_TYPE_STRING)
        {
          g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_SPOOL, "not a spooled write");
          return NULL;
        }
      params[i] = json_node_get_string (e);
    }
  return vg_store_write_new (op, params);
}

char *
vg_store_time_text (gint64 unix_us)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (unix_us / G_USEC_PER_SEC);

  if (!dt)
    return NULL;
  return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", g_date_time_get_year (dt),
                          g_date_time_get_month (dt), g_date_time_get_day_of_month (dt),
                          g_date_time_get_hour (dt), g_date_time_get_minute (dt),
                          g_date_time_get_second (dt), (int)(unix_us % G_USEC_PER_SEC));
}

static char *
time_text_of (GDateTime *dt)
{
  return vg_store_time_text (g_date_time_to_unix (dt) * G_USEC_PER_SEC
                             + g_date_time_get_microsecond (dt));
}

char *
vg_store_time_parse (const char *text)
{
  g_autoptr (GDateTime) dt = NULL;
  char *end = NULL;
  gint64 seconds;

  if (!text || !*text || strlen (text) > 64)
    return NULL;
  seconds = g_ascii_strtoll (text, &end, 10);
  if (end && *end == '\0' && g_ascii_isdigit (text[0]))
    return seconds >= 0 && seconds < G_GINT64_CONSTANT (253402300799)
               ? vg_store_time_text (seconds * G_USEC_PER_SEC)
               : NULL;
  dt = g_date_time_new_from_iso8601 (text, NULL); /* NULL: a zone is required */
  return dt ? time_text_of (dt) : NULL;
}

char *
vg_store_time_normalize (const char *text)
{
  g_autofree char *iso = g_strdup (text);
  g_autoptr (GDateTime) dt = NULL;
  char *space = strchr (iso, ' ');

  if (space)
    *space = 'T';
  dt = g_date_time_new_from_iso8601 (iso, NULL);
  return dt ? time_text_of (dt) : NULL;
}

gboolean
vg_store_is_uuid (const char *text)
{
  if (!text || strlen (text) != 36)
    return FALSE;
  for (guint i = 0; i < 36; i++)
    {
      gboolean dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash ? text[i] != '-'
               : !(g_ascii_isdigit (text[i]) || (text[i] >= 'a' && text[i] <= 'f')))
        return FALSE;
    }
  return TRUE;
}
