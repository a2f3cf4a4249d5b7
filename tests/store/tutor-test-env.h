/* What a tutor room test (or the tool benchmark) runs on: a new migrated
 * store on the backend under test (store-fixture.h), the fake Realtime
 * server, and an app whose rooms run tutor.pipeline against that server.
 * The rooms, the tutor and its binding are the caller's: tests differ in
 * what they attach (recorder, HTTP tools, signalling). */
#pragma once

#include "gateway/core/app.h"
#include "gateway/store/store.h"
#include "vg-rt-server.h"

G_BEGIN_DECLS

typedef struct
{
  char *url, *dir;  /* where the store lives */
  VgStore *store;   /* also app->store */
  gint64 fractions; /* the seeded "Fractions" subtopic */
  VgRtServer *server;
  VgApp *app;
} VgTutorTestEnv;

/* instructions: the agent's base instructions ([agent] instructions). The
 * API key the server expects is set in OPENAI_API_KEY. */
void vg_tutor_test_env_init (VgTutorTestEnv *env, const VgRtServerOptions *server_options,
                             const char *instructions);
void vg_tutor_test_env_clear (VgTutorTestEnv *env);

G_END_DECLS
