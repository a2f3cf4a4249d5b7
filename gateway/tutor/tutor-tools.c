/* The teaching tools; see tutor-tools.h. Each tool checks its arguments
 * (tutor-args.h), runs its store calls and builds its result; nothing here
 * is shared between calls. */
#include "gateway/tutor/tutor-tools.h"
#include "gateway/tutor/tutor-args.h"
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

/* The schemas repeat the limits the checks below enforce, so a model that
 * follows them is never refused. */
static const char tools_json[]
    = "["
      "{\"type\":\"function\",\"name\":\"check_understanding\","
      "\"description\":\"Record your assessment of the learner's understanding of one concept, "
      "from what they just said or did, and get their running understanding of it across "
      "sessions. Call it whenever the learner shows (or lacks) understanding.\","
      "\"parameters\":{\"type\":\"object\",\"properties\":{"
      "\"concept\":{\"type\":\"string\",\"maxLength\":128,"
      "\"description\":\"The concept, in a few words, e.g. 'common denominators'.\"},"
      "\"level\":{\"type\":\"string\",\"enum\":[\"emerging\",\"developing\",\"proficient\","
      "\"mastered\"],\"description\":\"emerging: first, partial ideas; developing: right with "
      "help or with errors; proficient: right on their own; mastered: right, explained and "
      "applied to new cases.\"},"
      "\"evidence\":{\"type\":\"string\",\"maxLength\":2048,"
      "\"description\":\"What the learner said or did that shows this level.\"}},"
      "\"required\":[\"concept\",\"level\",\"evidence\"],\"additionalProperties\":false}},"
      "{\"type\":\"function\",\"name\":\"provide_example\","
      "\"description\":\"Get a worked example (a problem and its solution) of a concept from "
      "this subtopic's material, to ground your explanation instead of inventing one. An "
      "unknown concept answers with the concepts there are examples of.\","
      "\"parameters\":{\"type\":\"object\",\"properties\":{"
      "\"concept\":{\"type\":\"string\",\"maxLength\":128,"
      "\"description\":\"The concept to illustrate.\"},"
      "\"difficulty\":{\"type\":\"string\",\"enum\":[\"easy\",\"medium\",\"hard\"],"
      "\"description\":\"Optional; the easiest available when left out.\"}},"
      "\"required\":[\"concept\"],\"additionalProperties\":false}},"
      "{\"type\":\"function\",\"name\":\"get_learner_progress\","
      "\"description\":\"Get the learner's understanding of every concept assessed so far, "
      "across all their sessions: the latest level, how many assessments, the mean level.\","
      "\"parameters\":{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}},"
      "{\"type\":\"function\",\"name\":\"switch_subtopic\","
      "\"description\":\"Move this session to another subtopic when the learner asks to learn "
      "something else; returns its description. An unknown subtopic answers with the names "
      "there are.\","
      "\"parameters\":{\"type\":\"object\",\"properties\":{"
      "\"subtopic\":{\"type\":[\"integer\",\"string\"],\"maxLength\":256,"
      "\"description\":\"The subtopic's id or its name, e.g. 'Fractions'.\"}},"
      "\"required\":[\"subtopic\"],\"additionalProperties\":false}},"
      "{\"type\":\"function\",\"name\":\"end_session\","
      "\"description\":\"Store a summary of this session (what was covered, what the learner "
      "understood, what to do next time) when the learner wants to stop; then say goodbye.\","
      "\"parameters\":{\"type\":\"object\",\"properties\":{"
      "\"summary\":{\"type\":\"string\",\"maxLength\":8192,"
      "\"description\":\"The session summary, a few sentences.\"}},"
      "\"required\":[\"summary\"],\"additionalProperties\":false}}"
      "]";

static const char *const tool_names[]
    = { "check_understanding", "provide_example", "get_learner_progress",
        "end_session",         "switch_subtopic", NULL };

const char *
vg_tutor_tools_json (void)
{
  return tools_json;
}

static char *
builder_text (JsonBuilder *b)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static void
add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

/* Two decimals: what a model can read out, and stable in tests. */
static void
add_level_mean (JsonBuilder *b, double mean)
{
  json_builder_set_member_name (b, "mean_level");
  json_builder_add_double_value (b, round (mean * 100) / 100);
}

static char *
error_result (const char *message)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "error", message);
  json_builder_end_object (b);
  return builder_text (b);
}

/* Takes message (may be NULL: a generic one). */
static char *
error_result_take (char *message)
{
  char *result = error_result (message ? message : "the call failed");
  g_free (message);
  return result;
}

static char *
store_error_result (const GError *error)
{
  /* The model needs to know it failed, not the database's words. */
  if (error && error->domain == VG_STORE_ERROR && error->code == VG_STORE_ERROR_INVALID)
    return error_result (error->message);
  g_warning ("tutor: store: %s", error ? error->message : "failed");
  return error_result ("the learner's records are not available right now; go on teaching");
}

/* The learner's conversation in progress (the newest active one), or NULL.
 * On any subtopic: switch_subtopic moves it off the room's. */
static char *
active_conversation (VgStore *store, const char *identity, gint64 subtopic_id)
{
  (void)subtopic_id;
  g_autoptr (GPtrArray) sessions = vg_store_learner_sessions (store, identity, 0, 5, NULL);
  for (guint i = 0; sessions && i < sessions->len; i++)
    {
      VgLearnerSession *s = g_ptr_array_index (sessions, i);
      if (g_strcmp0 (s->status, "active") == 0)
        return g_strdup (s->id);
    }
  return NULL;
}

static char *
check_understanding (VgStore *store, const VgTutorCall *call, JsonObject *args,
                     VgTutorEffects *effects)
{
  static const char *const allowed[] = { "concept", "level", "evidence", NULL };
  char *message = NULL;
  const char *concept_arg, *evidence;
  int level;
  if (!vg_tutor_args_only (args, allowed, &message)
      || !vg_tutor_args_string (args, "concept", TRUE, VG_STORE_CONCEPT_MAX * 4, &concept_arg,
                                &message)
      || !vg_tutor_args_level (args, "level", &level, &message)
      || !vg_tutor_args_string (args, "evidence", TRUE, VG_STORE_EVIDENCE_MAX, &evidence, &message))
    return error_result_take (message);
  g_autoptr (GError) error = NULL;
  g_autofree char *concept = vg_store_concept_normalize (concept_arg, &error);
  if (!concept)
    return error_result (error->message);

  /* The store's reads see a write only once its writer stored it: read the
   * understanding so far, then fold this assessment in. */
  VgUnderstanding before = { 0 };
  if (!vg_store_understanding (store, call->identity, concept, &before, &error))
    return store_error_result (error);
  g_autofree char *conversation = active_conversation (store, call->identity, call->subtopic_id);
  VgAssessment a = { call->identity, conversation, call->subtopic_id, concept, level, evidence };
  if (!vg_store_assessment_add (store, &a, &error))
    {
      vg_understanding_clear (&before);
      return store_error_result (error);
    }
  guint n = before.assessments + 1;
  double mean = (before.mean_level * before.assessments + level) / n;
  vg_understanding_clear (&before);

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "concept", concept);
  add_int (b, "level", level);
  add_string (b, "level_name", vg_store_level_name (level));
  add_int (b, "assessments", n);
  add_level_mean (b, mean);
  json_builder_end_object (b);
  return builder_text (b);
}

static char *
unknown_concept (VgStore *store, gint64 subtopic_id, const char *concept, const char *difficulty)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) known = vg_store_subtopic_concepts (store, subtopic_id, &error);
  if (!known)
    return store_error_result (error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  g_autofree char *message
      = difficulty && g_strv_contains ((const char *const *)known, concept)
            ? g_strdup_printf ("no %s example of \"%s\"; ask without a difficulty", difficulty,
                               concept)
            : g_strdup_printf ("unknown concept \"%s\": this subtopic has examples of "
                               "known_concepts only",
                               concept);
  add_string (b, "error", message);
  json_builder_set_member_name (b, "known_concepts");
  json_builder_begin_array (b);
  for (char **c = known; *c; c++)
    json_builder_add_string_value (b, *c);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return builder_text (b);
}

static char *
provide_example (VgStore *store, const VgTutorCall *call, JsonObject *args, VgTutorEffects *effects)
{
  static const char *const allowed[] = { "concept", "difficulty", NULL };
  static const char *const difficulties[] = { "easy", "medium", "hard", NULL };
  char *message = NULL;
  const char *concept_arg, *difficulty;
  if (!vg_tutor_args_only (args, allowed, &message)
      || !vg_tutor_args_string (args, "concept", TRUE, VG_STORE_CONCEPT_MAX * 4, &concept_arg,
                                &message)
      || !vg_tutor_args_string (args, "difficulty", FALSE, 16, &difficulty, &message))
    return error_result_take (message);
  if (difficulty && !g_strv_contains (difficulties, difficulty))
    return error_result ("\"difficulty\" must be one of \"easy\", \"medium\", \"hard\"");
  if (call->subtopic_id <= 0)
    return error_result ("this session has no subtopic, so no stored examples");
  g_autoptr (GError) error = NULL;
  g_autofree char *concept = vg_store_concept_normalize (concept_arg, &error);
  if (!concept)
    return error_result (error->message);
  g_autoptr (GPtrArray) examples
      = vg_store_subtopic_examples (store, call->subtopic_id, concept, difficulty, &error);
  if (!examples)
    return store_error_result (error);
  if (examples->len == 0)
    return unknown_concept (store, call->subtopic_id, concept, difficulty);

  VgSubtopicExample *e = g_ptr_array_index (examples, 0);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "concept", e->concept);
  add_string (b, "difficulty", e->difficulty);
  add_string (b, "problem", e->problem);
  add_string (b, "solution", e->solution);
  add_int (b, "more_examples", examples->len - 1);
  json_builder_end_object (b);
  return builder_text (b);
}

static char *
get_learner_progress (VgStore *store, const VgTutorCall *call, JsonObject *args,
                      VgTutorEffects *effects)
{
  static const char *const allowed[] = { NULL };
  char *message = NULL;
  if (!vg_tutor_args_only (args, allowed, &message))
    return error_result_take (message);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) progress = vg_store_learner_progress (store, call->identity, 0, &error);
  if (!progress)
    return store_error_result (error);

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "concepts");
  json_builder_begin_array (b);
  for (guint i = 0; i < progress->len; i++)
    {
      VgUnderstanding *u = g_ptr_array_index (progress, i);
      json_builder_begin_object (b);
      add_string (b, "concept", u->concept);
      add_int (b, "level", u->latest_level);
      add_string (b, "level_name", vg_store_level_name (u->latest_level));
      add_int (b, "assessments", u->assessments);
      add_level_mean (b, u->mean_level);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return builder_text (b);
}

static char *
end_session (VgStore *store, const VgTutorCall *call, JsonObject *args, VgTutorEffects *effects)
{
  static const char *const allowed[] = { "summary", NULL };
  char *message = NULL;
  const char *summary;
  if (!vg_tutor_args_only (args, allowed, &message)
      || !vg_tutor_args_string (args, "summary", TRUE, VG_STORE_SUMMARY_MAX, &summary, &message))
    return error_result_take (message);
  g_autofree char *conversation = active_conversation (store, call->identity, call->subtopic_id);
  if (!conversation)
    return error_result ("no session of this learner is being recorded; nothing was stored");
  g_autoptr (GError) error = NULL;
  if (!vg_store_conversation_set_summary (store, conversation, summary, &error))
    return store_error_result (error);
  effects->end_session = TRUE;
  return g_strdup ("{\"ok\":true}");
}

/* The model names a subtopic by id or by name (names are what the learner
 * says); the whole list is small, so match it here rather than per backend. */
static char *
switch_subtopic (VgStore *store, const VgTutorCall *call, JsonObject *args, VgTutorEffects *effects)
{
  static const char *const allowed[] = { "subtopic", NULL };
  char *message = NULL;
  if (!vg_tutor_args_only (args, allowed, &message))
    return error_result_take (message);
  JsonNode *arg = json_object_get_member (args, "subtopic");
  gint64 want_id = 0;
  const char *want_name = NULL;
  if (arg && JSON_NODE_HOLDS_VALUE (arg) && json_node_get_value_type (arg) == G_TYPE_INT64)
    want_id = json_node_get_int (arg);
  else if (arg && JSON_NODE_HOLDS_VALUE (arg) && json_node_get_value_type (arg) == G_TYPE_STRING
           && *json_node_get_string (arg) && strlen (json_node_get_string (arg)) <= 256)
    want_name = json_node_get_string (arg);
  else
    return error_result ("\"subtopic\" is required: a subtopic's id (a number) or its name "
                         "(a string of at most 256 bytes)");

  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) rows = vg_store_query_sync (store, VG_STORE_Q_SUBTOPICS_LIST,
                                                    (const char *[]){ NULL }, 1, NULL, &error);
  if (!rows)
    return store_error_result (error);
  JsonObject *found = NULL;
  /* What a model passes on from speech may differ in case and spacing. */
  g_autofree char *want_trim = g_strstrip (g_strdup (want_name ? want_name : ""));
  g_autofree char *want_fold = g_utf8_casefold (want_trim, -1);
  for (guint i = 0; !found && i < json_array_get_length (rows); i++)
    {
      JsonObject *r = json_array_get_object_element (rows, i);
      const char *name = json_object_get_string_member_with_default (r, "name", "");
      g_autofree char *fold = g_utf8_casefold (name, -1);
      if (want_name ? g_str_equal (g_strstrip (fold), want_fold)
                    : json_object_get_int_member_with_default (r, "id", 0) == want_id)
        found = r;
    }
  if (!found)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      add_string (b, "error", "unknown subtopic; the subtopics are known_subtopics");
      json_builder_set_member_name (b, "known_subtopics");
      json_builder_begin_array (b);
      for (guint i = 0; i < json_array_get_length (rows); i++)
        json_builder_add_string_value (b, json_object_get_string_member_with_default (
                                              json_array_get_object_element (rows, i), "name", ""));
      json_builder_end_array (b);
      json_builder_end_object (b);
      return builder_text (b);
    }
  gint64 id = json_object_get_int_member (found, "id");
  g_autofree char *conversation = active_conversation (store, call->identity, call->subtopic_id);
  if (!conversation)
    return error_result ("no session of this learner is being recorded; the subtopic is unchanged");
  if (!vg_store_conversation_set_subtopic (store, conversation, id, &error))
    return store_error_result (error);
  effects->subtopic_id = id;

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "subtopic");
  json_builder_begin_object (b);
  add_int (b, "id", id);
  add_string (b, "topic", json_object_get_string_member_with_default (found, "topic", ""));
  add_string (b, "name", json_object_get_string_member_with_default (found, "name", ""));
  add_string (b, "description",
              json_object_get_string_member_with_default (found, "description", ""));
  json_builder_end_object (b);
  json_builder_end_object (b);
  return builder_text (b);
}

typedef char *(*ToolFunc) (VgStore *store, const VgTutorCall *call, JsonObject *args,
                           VgTutorEffects *effects);

static ToolFunc
lookup_tool (const char *name)
{
  static const ToolFunc funcs[] = { check_understanding, provide_example, get_learner_progress,
                                    end_session, switch_subtopic };
  for (guint i = 0; name && tool_names[i]; i++)
    if (g_str_equal (name, tool_names[i]))
      return funcs[i];
  return NULL;
}

char *
vg_tutor_tool_run (VgStore *store, const VgTutorCall *call)
{
  VgTutorEffects effects;
  return vg_tutor_tool_run_effects (store, call, &effects);
}

char *
vg_tutor_tool_run_effects (VgStore *store, const VgTutorCall *call, VgTutorEffects *effects)
{
  *effects = (VgTutorEffects){ 0 };
  ToolFunc tool = lookup_tool (call->name);
  if (!tool)
    {
      g_autofree char *list = g_strjoinv (", ", (char **)tool_names);
      return error_result_take (g_strdup_printf ("unknown tool \"%.64s\"; the tools are: %s",
                                                 call->name ? call->name : "", list));
    }
  char *message = NULL;
  g_autoptr (JsonObject) args = vg_tutor_args_parse (call->arguments, &message);
  if (!args)
    return error_result_take (message);
  if (!store)
    return error_result ("the learner's records are not available on this gateway");
  if (!call->identity || !*call->identity)
    return error_result ("no learner is in this session");
  return tool (store, call, args, effects);
}
