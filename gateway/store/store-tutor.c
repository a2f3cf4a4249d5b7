/* The tutor's calls: assessments and the running understanding they give,
 * worked examples, session summaries and a learner's earlier sessions.
 * Writes are validated here and queued like every write (store.c); the
 * typed reads run vg_store_query_sync on the calling thread with a pooled
 * reader connection, and turn its rows into structs the caller owns. */
#include "gateway/store/store-private.h"

#include <string.h>

#define SESSIONS_LIMIT_MAX 100

static const char *const level_names[] = {
  [VG_LEVEL_NONE] = "not yet assessed", [VG_LEVEL_EMERGING] = "emerging",
  [VG_LEVEL_DEVELOPING] = "developing", [VG_LEVEL_PROFICIENT] = "proficient",
  [VG_LEVEL_MASTERED] = "mastered",
};

const char *
vg_store_level_name (int level)
{
  return level >= VG_LEVEL_NONE && level <= VG_LEVEL_MAX ? level_names[level] : NULL;
}

gboolean
vg_store_level_from_name (const char *name, VgUnderstandingLevel *level)
{
  for (int i = VG_LEVEL_NONE; name && i <= VG_LEVEL_MAX; i++)
    if (g_ascii_strcasecmp (name, level_names[i]) == 0)
      {
        *level = i;
        return TRUE;
      }
  return FALSE;
}

static gboolean
invalid (GError **error, const char *message)
{
  g_set_error_literal (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID, message);
  return FALSE;
}

char *
vg_store_concept_normalize (const char *concept, GError **error)
{
  g_autoptr (GString) out = NULL;
  gboolean space = FALSE;

  if (!concept || !g_utf8_validate (concept, -1, NULL))
    {
      invalid (error, "concept must be UTF-8 text");
      return NULL;
    }
  out = g_string_sized_new (strlen (concept));
  for (const char *p = concept; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isspace (c))
        {
          space = out->len > 0;
          continue;
        }
      /* Control and unassigned characters have no place in a concept's name. */
      if (!g_unichar_isprint (c))
        {
          invalid (error, "concept must contain printable characters only");
          return NULL;
        }
      if (space)
        g_string_append_c (out, ' ');
      space = FALSE;
      g_string_append_unichar (out, g_unichar_tolower (c));
    }
  if (out->len == 0 || out->len > VG_STORE_CONCEPT_MAX)
    {
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID,
                   "concept must have 1-%d bytes, not %" G_GSIZE_FORMAT, VG_STORE_CONCEPT_MAX,
                   out->len);
      return NULL;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
check_identity (const char *identity, GError **error)
{
  return vg_store_check_text ("identity", identity, 1, 128, error);
}

static char *
id_text (gint64 id)
{
  return id > 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, id) : NULL;
}

/* ---- writes ---- */

gboolean
vg_store_assessment_add (VgStore *store, const VgAssessment *a, GError **error)
{
  g_autofree char *concept = NULL, *id = NULL, *subtopic = NULL, *level = NULL, *now = NULL;

  if (!store)
    return FALSE;
  if (!check_identity (a->identity, error)
      || (a->conversation_id && !vg_store_check_conversation (a->conversation_id, error))
      || !(concept = vg_store_concept_normalize (a->concept, error))
      || !vg_store_check_text ("evidence", a->evidence, 0, VG_STORE_EVIDENCE_MAX, error))
    return FALSE;
  if (a->level < VG_LEVEL_NONE || a->level > VG_LEVEL_MAX)
    {
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID,
                   "level must be %d (not yet assessed) to %d (mastered), not %d", VG_LEVEL_NONE,
                   VG_LEVEL_MAX, a->level);
      return FALSE;
    }
  id = g_uuid_string_random ();
  subtopic = id_text (a->subtopic_id);
  level = g_strdup_printf ("%d", a->level);
  now = vg_store_time_text (g_get_real_time ());
  {
    const char *params[] = {
      id, a->identity, a->conversation_id, subtopic, concept, level, a->evidence ? a->evidence : "",
      now
    };
    vg_store_push_write (store, VG_STORE_OP_ASSESSMENT, params);
  }
  return TRUE;
}

gboolean
vg_store_conversation_set_summary (VgStore *store, const char *conversation_id, const char *summary,
                                   GError **error)
{
  const char *params[] = { conversation_id, summary };

  if (!store)
    return FALSE;
  if (!vg_store_check_conversation (conversation_id, error)
      || !vg_store_check_text ("summary", summary, 0, VG_STORE_SUMMARY_MAX, error))
    return FALSE;
  vg_store_push_write (store, VG_STORE_OP_CONVERSATION_SUMMARY, params);
  return TRUE;
}

gboolean
vg_store_conversation_set_subtopic (VgStore *store, const char *conversation_id, gint64 subtopic_id,
                                    GError **error)
{
  g_autofree char *subtopic = NULL;

  if (!store)
    return FALSE;
  if (!vg_store_check_conversation (conversation_id, error))
    return FALSE;
  subtopic = id_text (subtopic_id);
  {
    const char *params[] = { conversation_id, subtopic };
    vg_store_push_write (store, VG_STORE_OP_CONVERSATION_SUBTOPIC, params);
  }
  return TRUE;
}

/* ---- reads ---- */

static char *
dup_member (JsonObject *row, const char *name)
{
  JsonNode *n = json_object_get_member (row, name);
  return n && !JSON_NODE_HOLDS_NULL (n) ? g_strdup (json_node_get_string (n)) : NULL;
}

static gint64
int_member (JsonObject *row, const char *name)
{
  JsonNode *n = json_object_get_member (row, name);
  return n && !JSON_NODE_HOLDS_NULL (n) ? json_node_get_int (n) : 0;
}

static void
understanding_from_row (VgUnderstanding *u, JsonObject *row)
{
  JsonNode *mean = json_object_get_member (row, "mean_level");

  u->concept = dup_member (row, "concept");
  u->assessments = int_member (row, "assessments");
  u->latest_level = int_member (row, "latest_level");
  /* SQLite gives an integer for a whole mean, PostgreSQL always a double. */
  u->mean_level = mean && !JSON_NODE_HOLDS_NULL (mean) ? json_node_get_double (mean) : 0;
  u->first_at = dup_member (row, "first_at");
  u->latest_at = dup_member (row, "latest_at");
}

void
vg_understanding_clear (VgUnderstanding *u)
{
  g_clear_pointer (&u->concept, g_free);
  g_clear_pointer (&u->first_at, g_free);
  g_clear_pointer (&u->latest_at, g_free);
}

void
vg_understanding_free (VgUnderstanding *u)
{
  if (!u)
    return;
  vg_understanding_clear (u);
  g_free (u);
}

gboolean
vg_store_understanding (VgStore *store, const char *identity, const char *concept,
                        VgUnderstanding *out, GError **error)
{
  g_autofree char *normal = NULL;
  g_autoptr (JsonArray) rows = NULL;

  memset (out, 0, sizeof *out);
  if (!store)
    return FALSE;
  if (!check_identity (identity, error) || !(normal = vg_store_concept_normalize (concept, error)))
    return FALSE;
  {
    const char *params[] = { identity, normal };
    if (!(rows = vg_store_query_sync (store, VG_STORE_Q_UNDERSTANDING, params, 2, NULL, error)))
      return FALSE;
  }
  if (json_array_get_length (rows) > 0)
    understanding_from_row (out, json_array_get_object_element (rows, 0));
  else
    out->concept = g_steal_pointer (&normal);
  return TRUE;
}

GPtrArray *
vg_store_learner_progress (VgStore *store, const char *identity, gint64 subtopic_id, GError **error)
{
  g_autofree char *subtopic = id_text (subtopic_id);
  g_autoptr (JsonArray) rows = NULL;
  GPtrArray *out;

  if (!store || !check_identity (identity, error))
    return NULL;
  {
    const char *params[] = { identity, subtopic };
    if (!(rows = vg_store_query_sync (store, VG_STORE_Q_LEARNER_PROGRESS, params, 2, NULL, error)))
      return NULL;
  }
  out = g_ptr_array_new_with_free_func ((GDestroyNotify)vg_understanding_free);
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      VgUnderstanding *u = g_new0 (VgUnderstanding, 1);
      understanding_from_row (u, json_array_get_object_element (rows, i));
      g_ptr_array_add (out, u);
    }
  return out;
}

void
vg_subtopic_example_free (VgSubtopicExample *e)
{
  if (!e)
    return;
  g_free (e->concept);
  g_free (e->difficulty);
  g_free (e->problem);
  g_free (e->solution);
  g_free (e);
}

GPtrArray *
vg_store_subtopic_examples (VgStore *store, gint64 subtopic_id, const char *concept,
                            const char *difficulty, GError **error)
{
  g_autofree char *normal = NULL;
  g_autofree char *subtopic = id_text (subtopic_id);
  g_autoptr (JsonArray) rows = NULL;
  GPtrArray *out;

  if (!store || !(normal = vg_store_concept_normalize (concept, error)))
    return NULL;
  if (difficulty && !g_str_equal (difficulty, "easy") && !g_str_equal (difficulty, "medium")
      && !g_str_equal (difficulty, "hard"))
    {
      invalid (error, "difficulty must be easy, medium or hard");
      return NULL;
    }
  out = g_ptr_array_new_with_free_func ((GDestroyNotify)vg_subtopic_example_free);
  if (!subtopic)
    return out; /* no subtopic, no material */
  {
    const char *params[] = { subtopic, normal, difficulty };
    if (!(rows = vg_store_query_sync (store, VG_STORE_Q_SUBTOPIC_EXAMPLES, params, 3, NULL, error)))
      {
        g_ptr_array_unref (out);
        return NULL;
      }
  }
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);
      VgSubtopicExample *e = g_new0 (VgSubtopicExample, 1);

      e->id = int_member (row, "id");
      e->subtopic_id = int_member (row, "subtopic_id");
      e->concept = dup_member (row, "concept");
      e->difficulty = dup_member (row, "difficulty");
      e->problem = dup_member (row, "problem");
      e->solution = dup_member (row, "solution");
      g_ptr_array_add (out, e);
    }
  return out;
}

char **
vg_store_subtopic_concepts (VgStore *store, gint64 subtopic_id, GError **error)
{
  g_autofree char *subtopic = id_text (subtopic_id);
  g_autoptr (JsonArray) rows = NULL;
  GStrvBuilder *out;

  if (!store)
    return NULL;
  if (subtopic)
    {
      const char *params[] = { subtopic };
      if (!(rows
            = vg_store_query_sync (store, VG_STORE_Q_SUBTOPIC_CONCEPTS, params, 1, NULL, error)))
        return NULL;
    }
  out = g_strv_builder_new ();
  for (guint i = 0; rows && i < json_array_get_length (rows); i++)
    g_strv_builder_add (
        out, json_object_get_string_member (json_array_get_object_element (rows, i), "concept"));
  {
    char **strv = g_strv_builder_end (out);
    g_strv_builder_unref (out);
    return strv;
  }
}

void
vg_learner_session_free (VgLearnerSession *s)
{
  if (!s)
    return;
  g_free (s->id);
  g_free (s->status);
  g_free (s->started_at);
  g_free (s->ended_at);
  g_free (s->summary);
  g_free (s);
}

GPtrArray *
vg_store_learner_sessions (VgStore *store, const char *identity, gint64 subtopic_id, guint limit,
                           GError **error)
{
  g_autofree char *subtopic = id_text (subtopic_id);
  g_autofree char *limit_text = g_strdup_printf ("%u", limit);
  g_autoptr (JsonArray) rows = NULL;
  GPtrArray *out;

  if (!store || !check_identity (identity, error))
    return NULL;
  if (limit < 1 || limit > SESSIONS_LIMIT_MAX)
    {
      g_set_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID, "limit must be 1-%d, not %u",
                   SESSIONS_LIMIT_MAX, limit);
      return NULL;
    }
  {
    const char *params[] = { identity, subtopic, limit_text };
    if (!(rows = vg_store_query_sync (store, VG_STORE_Q_LEARNER_SESSIONS, params, 3, NULL, error)))
      return NULL;
  }
  out = g_ptr_array_new_with_free_func ((GDestroyNotify)vg_learner_session_free);
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);
      VgLearnerSession *s = g_new0 (VgLearnerSession, 1);

      s->id = dup_member (row, "id");
      s->status = dup_member (row, "status");
      s->started_at = dup_member (row, "started_at");
      s->ended_at = dup_member (row, "ended_at");
      s->summary = dup_member (row, "summary");
      g_ptr_array_add (out, s);
    }
  return out;
}
