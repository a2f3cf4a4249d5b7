/* The tutor's worker pool; see tutor.h. A Job is owned by the pool while
 * its tool runs, then by the idle source that delivers its answer. */
#include "gateway/tutor/tutor.h"
#include "gateway/tutor/tutor-context.h"
#include "gateway/tutor/tutor-http-tools.h"

/* Two workers: a tool's time is the store's, whose reader pool is small;
 * more would only queue there. */
#define TUTOR_WORKERS 2

struct _VgTutor
{
  VgStore *store;               /* borrowed */
  VgTutorHttpTools *http_tools; /* borrowed, NULL: none; set before the first call */
  GThreadPool *pool;
};

typedef struct
{
  VgTutor *tutor; /* read on the worker only: the answer may come after vg_tutor_free */
  char *identity, *name, *arguments, *room;
  gint64 subtopic_id;
  VgTutorAnswerFunc answer;
  /* A greeting instead of a tool (name NULL): its second output. */
  VgTutorGreetFunc greet;
  char *response;
  /* The learner's name from the token (over the profile's) and the tutor's
   * instructions, for composing: a greeting, or a switch_subtopic's. */
  char *display_name, *base_instructions;
  gpointer user_data;
  GDestroyNotify notify;
  GMainContext *context;
  gint64 queued_us;
  char *output;
  VgTutorEffects effects;
  char *instructions; /* recomposed after a switch_subtopic */
} Job;

static void
job_free (gpointer data)
{
  Job *job = data;
  if (job->notify)
    job->notify (job->user_data);
  g_free (job->identity);
  g_free (job->name);
  g_free (job->arguments);
  g_free (job->room);
  g_free (job->output);
  g_free (job->instructions);
  g_free (job->display_name);
  g_free (job->base_instructions);
  g_free (job->response);
  g_main_context_unref (job->context);
  g_free (job);
}

/* On the caller's context. */
static gboolean
deliver (gpointer data)
{
  Job *job = data;
  if (job->greet)
    {
      job->greet (job->output, job->response, job->user_data);
      g_debug ("tutor: greeting composed in %.1f ms",
               (g_get_monotonic_time () - job->queued_us) / 1000.0);
      return G_SOURCE_REMOVE;
    }
  VgTutorOutcome outcome
      = { job->output, job->instructions, job->effects.subtopic_id, job->effects.end_session };
  job->answer (&outcome, job->user_data);
  g_debug ("tutor: tool %s answered in %.1f ms", job->name,
           (g_get_monotonic_time () - job->queued_us) / 1000.0);
  return G_SOURCE_REMOVE;
}

/* The token's name, when it has one, is how the learner introduced
 * themself to this session: it wins over the stored profile's. */
static void
use_token_name (VgTutorContext *ctx, const Job *job)
{
  if (job->display_name && *job->display_name)
    {
      g_free (ctx->display_name);
      ctx->display_name = g_strdup (job->display_name);
    }
}

/* On a worker thread: blocks on the store's reads. */
static void
compose_greeting (Job *job)
{
  VgTutorContext ctx = { 0 };
  g_autoptr (GError) error = NULL;
  if (job->tutor->store
      && !vg_tutor_context_load (job->tutor->store, job->identity, job->subtopic_id,
                                 job->base_instructions, &ctx, &error))
    g_warning ("tutor: greeting %s with what loaded (no history): %s", job->identity,
               error ? error->message : "?");
  /* Without a store (or a load that stopped early) greet from what there is. */
  if (!ctx.base_instructions)
    ctx.base_instructions = g_strdup (job->base_instructions);
  if (!ctx.identity)
    ctx.identity = g_strdup (job->identity);
  use_token_name (&ctx, job);
  job->output = vg_tutor_compose_instructions (&ctx);
  g_autofree char *greeting = vg_tutor_compose_greeting (&ctx);
  job->response = g_strconcat (job->output, "\n\n", greeting, NULL);
  vg_tutor_context_clear (&ctx);
}

/* On a worker thread: the session's instructions for the subtopic
 * switch_subtopic moved it to, composed as the greeting's are (a load that
 * fails composes from what it got). */
static void
recompose (Job *job)
{
  VgTutorContext ctx = { 0 };
  g_autoptr (GError) error = NULL;
  if (!vg_tutor_context_load (job->tutor->store, job->identity, job->effects.subtopic_id,
                              job->base_instructions, &ctx, &error))
    g_warning ("tutor: recomposing %s with what loaded: %s", job->identity,
               error ? error->message : "?");
  if (!ctx.base_instructions)
    ctx.base_instructions = g_strdup (job->base_instructions);
  use_token_name (&ctx, job);
  job->instructions = vg_tutor_compose_instructions (&ctx);
  vg_tutor_context_clear (&ctx);
}

/* On a worker thread. */
static void
run_job (gpointer data, gpointer pool_data)
{
  Job *job = data;
  if (job->greet)
    compose_greeting (job);
  else
    {
      VgTutorCall call = { .identity = job->identity,
                           .subtopic_id = job->subtopic_id,
                           .name = job->name,
                           .arguments = job->arguments,
                           .room = job->room };
      /* An operator's tool waits on its server for up to its timeout,
       * holding this worker; the pool's bound keeps that bounded too. */
      if (vg_tutor_http_tools_has (job->tutor->http_tools, call.name))
        job->output = vg_tutor_http_tools_run (job->tutor->http_tools, &call);
      else
        {
          job->output = vg_tutor_tool_run_effects (job->tutor->store, &call, &job->effects);
          if (job->effects.subtopic_id > 0)
            recompose (job);
        }
    }
  GSource *source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, deliver, job, job_free);
  g_source_attach (source, job->context);
  g_source_unref (source);
}

VgTutor *
vg_tutor_new_with_store (VgStore *store)
{
  VgTutor *tutor = g_new0 (VgTutor, 1);
  tutor->store = store;
  tutor->pool = g_thread_pool_new (run_job, tutor, TUTOR_WORKERS, FALSE, NULL);
  return tutor;
}

VgTutor *
vg_tutor_new (VgApp *app)
{
  return vg_tutor_new_with_store (app->store);
}

void
vg_tutor_set_http_tools (VgTutor *tutor, VgTutorHttpTools *tools)
{
  tutor->http_tools = tools;
}

void
vg_tutor_free (VgTutor *tutor)
{
  if (!tutor)
    return;
  g_thread_pool_free (tutor->pool, FALSE, TRUE);
  g_free (tutor);
}

void
vg_tutor_call (VgTutor *tutor, const VgTutorCall *call, VgTutorAnswerFunc answer,
               gpointer user_data, GDestroyNotify notify)
{
  Job *job = g_new0 (Job, 1);
  job->tutor = tutor;
  job->identity = g_strdup (call->identity);
  job->subtopic_id = call->subtopic_id;
  job->name = g_strdup (call->name);
  job->arguments = g_strdup (call->arguments);
  job->base_instructions = g_strdup (call->base_instructions);
  job->room = g_strdup (call->room);
  job->display_name = g_strdup (call->display_name);
  job->answer = answer;
  job->user_data = user_data;
  job->notify = notify;
  job->context = g_main_context_ref_thread_default ();
  job->queued_us = g_get_monotonic_time ();
  g_thread_pool_push (tutor->pool, job, NULL);
}

void
vg_tutor_greet (VgTutor *tutor, const VgTutorGreeting *greeting, VgTutorGreetFunc answer,
                gpointer user_data, GDestroyNotify notify)
{
  Job *job = g_new0 (Job, 1);
  job->tutor = tutor;
  job->identity = g_strdup (greeting->identity);
  job->subtopic_id = greeting->subtopic_id;
  job->display_name = g_strdup (greeting->display_name);
  job->base_instructions = g_strdup (greeting->base_instructions);
  job->greet = answer;
  job->user_data = user_data;
  job->notify = notify;
  job->context = g_main_context_ref_thread_default ();
  job->queued_us = g_get_monotonic_time ();
  g_thread_pool_push (tutor->pool, job, NULL);
}
