/* plugin-test-util.h: helpers shared by the plugin tests: test audio, a
 * harness wired to the fake Realtime server, and bus message waiting. */
#pragma once

#include <gst/check/gstharness.h>
#include "vg-rt-server.h"

G_BEGIN_DECLS

#define VG_TEST_CAPS "audio/x-raw,format=S16LE,layout=interleaved,rate=24000,channels=1"

/* ms of a 440 Hz tone (amplitude 0.3) or of silence, as one buffer. */
GstBuffer *vg_test_tone (guint ms);
GstBuffer *vg_test_silence (guint ms);
/* Pushes ms of audio in 20 ms buffers. */
void vg_test_push_tone (GstHarness *h, guint ms);
void vg_test_push_silence (GstHarness *h, guint ms);

typedef struct
{
  GstHarness *h;
  GstBus *bus;
  GPtrArray *messages; /* every element/error message seen so far */
} VgTestAgent;

/* A harness around element_name with a bus and the system clock, playing.
 * For openairealtime pass the server; properties are set before playing. */
VgTestAgent *vg_test_agent_new (const char *element_name, VgRtServer *server,
                                const char *first_property, ...);
void vg_test_agent_free (VgTestAgent *agent);

/* Waits for a message whose structure is named name (and, when field is
 * not NULL, whose string field equals value). Returns it (owned by agent)
 * or NULL after timeout_ms. Messages seen earlier count too when
 * from_start is TRUE. */
const GstStructure *vg_test_agent_wait (VgTestAgent *agent, const char *name, const char *field,
                                        const char *value, guint timeout_ms, gboolean from_start);
/* Number of GST_MESSAGE_ERROR seen. */
guint vg_test_agent_errors (VgTestAgent *agent);
/* Drains the bus into agent->messages. */
void vg_test_agent_poll (VgTestAgent *agent);
/* Waits up to timeout_ms until the realtime-state messages posted since
 * the start contain @states (NULL-terminated) in this order, others
 * allowed between. An agent posts some states from its own thread, after
 * the buffer that caused them was pushed: a test must wait, not poll. */
gboolean vg_test_agent_wait_states (VgTestAgent *agent, const char *const *states,
                                    guint timeout_ms);

/* Pulls output buffers until audio_ms of non-silent audio were pulled or
 * timeout_ms passed; returns the audio ms pulled. */
guint vg_test_pull_audio (GstHarness *h, guint audio_ms, guint timeout_ms, gint64 *first_us,
                          gint64 *last_us);

/* Drops the output pulled so far. */
void vg_test_drain_output (GstHarness *h);

/* Adds the flush-start, flush-stop and segment events pulled so far. */
void vg_test_count_events (GstHarness *h, guint *flush_start, guint *flush_stop, guint *segment);

/* Runs func (data) on a new thread and waits for it at most timeout_ms.
 * FALSE when it did not return in time: it waits for a lock the caller
 * holds, for instance (the thread is then left behind). */
gboolean vg_test_run_elsewhere (GFunc func, gpointer data, guint timeout_ms);

/* A test's fake Realtime server and the agent under test (freed by the
 * teardown when set). The setup starts a server with seed 42; a test that
 * wants other options calls vg_rt_fixture_server itself. */
typedef struct
{
  VgRtServer *server;
  VgTestAgent *agent;
} VgRtFixture;

void vg_rt_fixture_server (VgRtFixture *f, const VgRtServerOptions *opt);
void vg_rt_fixture_setup (VgRtFixture *f, gconstpointer data);
void vg_rt_fixture_teardown (VgRtFixture *f, gconstpointer data);

/* TRUE when the server logged the nth event of this type within timeout_ms. */
gboolean vg_rt_logged (VgRtServer *server, const char *type, guint nth, guint timeout_ms);

/* One learner's turn: VG_TEST_TURN_SPEECH_MS of tone, then enough silence
 * for a short silence-duration-ms to end it. */
#define VG_TEST_TURN_SPEECH_MS 600
#define VG_TEST_TURN_SILENCE_MS 300
void vg_rt_fixture_push_turn (VgRtFixture *f);

G_END_DECLS
