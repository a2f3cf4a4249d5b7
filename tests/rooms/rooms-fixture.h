/* Shared setup of the room tests: a registry on the test's main context with
 * settings for tests, and a signaller that joins a test client straight
 * through vg_room_join (no HTTP). */
#pragma once

#include "gateway/rooms/rooms.h"
#include "vg-test-client.h"

typedef struct
{
  VgRooms *rooms;
  VgMetrics *metrics;
  char *room; /* the room the direct signaller joins */
  VgParticipantKind kind;
  const char *display_name; /* the joining participants' (their token's name); NULL = none */
  guint serial;
  /* The answer reaches the client this much later, as over a slow
   * signalling path: a peer that starts its microphone with the offer (a
   * GStreamer webrtcbin, aiortc) holds that much audio until DTLS is up,
   * then sends it at once. 0: at once. */
  guint answer_delay_ms;
} VgRoomsFixture;

/* pipeline: the default template, e.g. "loopback.pipeline". */
/* pipelines_dir NULL = the project's pipelines/. */
void vg_rooms_fixture_init (VgRoomsFixture *f, const char *pipelines_dir, const char *pipeline,
                            guint disconnect_timeout_ms);
/* The same with the agent's [agent] realtime_url (for openairealtime). */
void vg_rooms_fixture_init_agent (VgRoomsFixture *f, const char *pipeline, const char *agent_url);
void vg_rooms_fixture_clear (VgRoomsFixture *f);
/* Directory of test-only templates (tests/rooms/pipelines). */
char *vg_rooms_fixture_test_pipelines_dir (void);

/* A client signalled into f->room as a publisher (or listener). */
VgTestClient *vg_rooms_fixture_client (VgRoomsFixture *f, const char *label,
                                       const VgTestClientOptions *options);
gboolean vg_rooms_fixture_wait_participants (VgRoomsFixture *f, const char *room, guint n,
                                             guint timeout_ms);
/* TRUE when the plugin with echoagent is available. */
gboolean vg_rooms_fixture_have_echoagent (void);
