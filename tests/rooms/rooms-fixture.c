/* See rooms-fixture.h. */
#include "rooms-fixture.h"
#include "vg-build-config.h"
#include <string.h>

static void init_full (VgRoomsFixture *f, const char *pipelines_dir, const char *pipeline,
                       guint disconnect_timeout_ms, const char *agent_url);

void
vg_rooms_fixture_init (VgRoomsFixture *f, const char *pipelines_dir, const char *pipeline,
                       guint disconnect_timeout_ms)
{
  init_full (f, pipelines_dir, pipeline, disconnect_timeout_ms, NULL);
}

void
vg_rooms_fixture_init_agent (VgRoomsFixture *f, const char *pipeline, const char *agent_url)
{
  init_full (f, NULL, pipeline, 15000, agent_url);
}

static void
init_full (VgRoomsFixture *f, const char *pipelines_dir, const char *pipeline,
           guint disconnect_timeout_ms, const char *agent_url)
{
  memset (f, 0, sizeof *f);
  VgRoomsSettings s;
  vg_rooms_settings_init_defaults (&s);
  const char *src = g_getenv ("VOXGATE_SOURCE_DIR");
  g_free (s.pipelines_dir);
  s.pipelines_dir = pipelines_dir
                        ? g_strdup (pipelines_dir)
                        : g_build_filename (src ? src : VOXGATE_SOURCE_DIR, "pipelines", NULL);
  g_free (s.default_pipeline);
  s.default_pipeline = g_strdup (pipeline);
  s.disconnect_timeout_ms = disconnect_timeout_ms;
  s.empty_timeout_s = 60;
  s.stats_interval_s = 1;
  s.agent_url = g_strdup (agent_url);
  f->metrics = vg_metrics_new ();
  f->rooms = vg_rooms_new_with_settings (&s, f->metrics);
  vg_rooms_settings_clear (&s);
  f->kind = VG_PARTICIPANT_PUBLISHER;
}

void
vg_rooms_fixture_clear (VgRoomsFixture *f)
{
  vg_rooms_free (f->rooms);
  vg_metrics_free (f->metrics);
  g_free (f->room);
}

char *
vg_rooms_fixture_test_pipelines_dir (void)
{
  const char *src = g_getenv ("VOXGATE_SOURCE_DIR");
  return g_build_filename (src ? src : VOXGATE_SOURCE_DIR, "tests", "rooms", "pipelines", NULL);
}

typedef struct
{
  VgTestClient *client;
  VgTestAnswerFunc reply;
  guint delay_ms;
  char *answer, *error;
} Pending;

static gboolean
answer_now (gpointer data)
{
  Pending *pending = data;
  pending->reply (pending->client, pending->answer, pending->answer ? 201 : 500, pending->error);
  g_free (pending->answer);
  g_free (pending->error);
  g_free (pending);
  return G_SOURCE_REMOVE;
}

static void
joined (VgParticipant *p, const char *answer, const GError *error, gpointer data)
{
  Pending *pending = data;
  pending->answer = g_strdup (answer);
  pending->error = error ? g_strdup (error->message) : NULL;
  if (pending->delay_ms)
    {
      /* The rooms' context, which the tests iterate. */
      GSource *later = g_timeout_source_new (pending->delay_ms);
      g_source_set_callback (later, answer_now, pending, NULL);
      g_source_attach (later, g_main_context_get_thread_default ());
      g_source_unref (later);
    }
  else
    answer_now (pending);
}

static void
direct_signal (VgTestClient *client, const char *offer, VgTestAnswerFunc reply, gpointer data)
{
  VgRoomsFixture *f = data;
  g_autoptr (GError) error = NULL;
  VgRoom *room = vg_rooms_lookup_or_create (f->rooms, f->room, &error);
  if (!room)
    {
      reply (client, NULL, 404, error->message);
      return;
    }
  Pending *pending = g_new0 (Pending, 1);
  pending->client = client;
  pending->reply = reply;
  pending->delay_ms = f->answer_delay_ms;
  VgJoinRequest req = { .kind = f->kind,
                        .identity = vg_test_client_get_label (client),
                        .name = f->display_name,
                        .offer_sdp = offer };
  if (!vg_room_join (room, &req, joined, pending, &error))
    {
      g_free (pending);
      reply (client, NULL, 400, error->message);
    }
}

VgTestClient *
vg_rooms_fixture_client (VgRoomsFixture *f, const char *label, const VgTestClientOptions *options)
{
  VgTestClient *c = vg_test_client_new (label, options);
  vg_test_client_use_signaller (c, direct_signal, f);
  return c;
}

typedef struct
{
  VgRoomsFixture *f;
  const char *room;
  guint n;
} CountWait;

static gboolean
count_reached (gpointer data)
{
  CountWait *w = data;
  VgRoom *room = vg_rooms_lookup (w->f->rooms, w->room);
  return (room ? vg_room_count_participants (room) : 0) == w->n;
}

gboolean
vg_rooms_fixture_wait_participants (VgRoomsFixture *f, const char *room, guint n, guint timeout_ms)
{
  CountWait w = { f, room, n };
  return vg_test_wait_until (count_reached, &w, timeout_ms);
}

gboolean
vg_rooms_fixture_have_echoagent (void)
{
  GstElementFactory *factory = gst_element_factory_find ("echoagent");
  if (!factory)
    return FALSE;
  gst_object_unref (factory);
  return TRUE;
}
