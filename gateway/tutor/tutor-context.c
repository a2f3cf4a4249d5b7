/* Reading what the session's instructions are composed from. Runs on the
 * caller's (worker) thread: every read below blocks on a pooled reader
 * connection of the store. */
#include "gateway/tutor/tutor-context.h"

#include <string.h>

/* Enough rows to keep VG_TUTOR_SESSIONS_MAX after skipping active ones (the
 * current conversation, and any a crash left open). */
#define SESSIONS_FETCH (VG_TUTOR_SESSIONS_MAX + 5)

static char *
member_text (JsonObject *row, const char *name)
{
  JsonNode *n = json_object_get_member (row, name);
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
             ? g_strdup (json_node_get_string (n))
             : NULL;
}

/* FALSE only on a store error; an unknown subtopic leaves ctx without one. */
static gboolean
load_subtopic (VgStore *store, gint64 subtopic_id, VgTutorContext *ctx, GError **error)
{
  g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, subtopic_id);
  const char *params[] = { id };
  g_autoptr (JsonArray) rows
      = vg_store_query_sync (store, VG_STORE_Q_SUBTOPIC_GET, params, 1, NULL, error);
  JsonObject *row;

  if (!rows)
    return FALSE;
  if (json_array_get_length (rows) == 0)
    return TRUE;
  row = json_array_get_object_element (rows, 0);
  ctx->subtopic_id = subtopic_id;
  ctx->topic = member_text (row, "topic");
  ctx->subtopic_name = member_text (row, "name");
  ctx->subtopic_description = member_text (row, "description");
  ctx->subtopic_instructions = member_text (row, "instructions");
  return (ctx->concepts = vg_store_subtopic_concepts (store, subtopic_id, error)) != NULL;
}

static gboolean
load_display_name (VgStore *store, VgTutorContext *ctx, GError **error)
{
  const char *params[] = { ctx->identity };
  g_autoptr (JsonArray) rows
      = vg_store_query_sync (store, VG_STORE_Q_PROFILE_GET, params, 1, NULL, error);

  if (!rows)
    return FALSE;
  if (json_array_get_length (rows) > 0)
    {
      ctx->display_name = member_text (json_array_get_object_element (rows, 0), "display_name");
      /* The profile stores an unknown name as ''. */
      if (ctx->display_name && !*ctx->display_name)
        g_clear_pointer (&ctx->display_name, g_free);
    }
  return TRUE;
}

static gboolean
load_history (VgStore *store, VgTutorContext *ctx, GError **error)
{
  g_autoptr (GPtrArray) all
      = vg_store_learner_sessions (store, ctx->identity, ctx->subtopic_id, SESSIONS_FETCH, error);

  if (!all)
    return FALSE;
  ctx->sessions = g_ptr_array_new_with_free_func ((GDestroyNotify)vg_learner_session_free);
  for (guint i = 0; i < all->len && ctx->sessions->len < VG_TUTOR_SESSIONS_MAX; i++)
    {
      VgLearnerSession *s = all->pdata[i];
      /* all frees what is left in it; vg_learner_session_free (NULL) is a no-op. */
      if (g_strcmp0 (s->status, "active") != 0)
        g_ptr_array_add (ctx->sessions, g_steal_pointer (&all->pdata[i]));
    }
  ctx->understanding = vg_store_learner_progress (store, ctx->identity, ctx->subtopic_id, error);
  return ctx->understanding != NULL;
}

gboolean
vg_tutor_context_load (VgStore *store, const char *identity, gint64 subtopic_id,
                       const char *base_instructions, VgTutorContext *out, GError **error)
{
  g_return_val_if_fail (out != NULL, FALSE);

  memset (out, 0, sizeof *out);
  out->base_instructions = g_strdup (base_instructions);
  if (!store)
    {
      g_set_error_literal (error, VG_STORE_ERROR, VG_STORE_ERROR_UNAVAILABLE, "no store is open");
      return FALSE;
    }
  if (!identity || !*identity || strlen (identity) > 128 || !g_utf8_validate (identity, -1, NULL))
    {
      g_set_error_literal (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID,
                           "identity must be 1-128 bytes of UTF-8");
      return FALSE;
    }
  out->identity = g_strdup (identity);
  if (!load_display_name (store, out, error))
    return FALSE;
  if (subtopic_id <= 0)
    return TRUE;
  if (!load_subtopic (store, subtopic_id, out, error))
    return FALSE;
  return out->subtopic_id <= 0 || load_history (store, out, error);
}
