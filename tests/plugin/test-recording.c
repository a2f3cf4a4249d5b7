/* test-recording.c: an agent's output recorded to WAV (wavenc) and to
 * Ogg/Opus (opusenc ! oggmux) across two barge-ins is a valid file that
 * holds every reply as it was heard: two cut short, the last one whole.
 * Barge-in drops the agent's queued audio but must not flush downstream,
 * which resets wavenc's byte segment and breaks its header (issue 14).
 * The files are checked by readers that are not GStreamer: Python's wave
 * module (wav-bursts.py), opusinfo and opusdec. */
#include "plugin-test-util.h"

#include <gst/app/gstappsrc.h>
#include <json-glib/json-glib.h>
#include <glib/gstdio.h>
#include <string.h>

typedef struct
{
  GstElement *pipeline;
  GstElement *appsrc;
  GstBus *bus;
  GPtrArray *messages; /* element, warning and error messages */
  gint recording;      /* atomic: a buffer reached the file */
  char *dir;
  char *path;
} Recorder;

typedef struct
{
  const char *agent; /* element and its properties */
  const char *mux;   /* wav or ogg */
  VgRtServer *server;
} RecordParams;

/* Streaming thread of the file sink. */
static GstPadProbeReturn
on_file_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Recorder *rec = data;

  g_atomic_int_set (&rec->recording, 1);
  return GST_PAD_PROBE_REMOVE;
}

static Recorder *
recorder_new (const RecordParams *p)
{
  Recorder *rec = g_new0 (Recorder, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *url = p->server ? vg_rt_server_get_url (p->server) : NULL;
  g_autofree char *agent = p->server
                               ? g_strdup_printf ("%s url=\"%s\" api-key=sk-test", p->agent, url)
                               : g_strdup (p->agent);
  g_autofree char *desc = NULL;

  rec->dir = g_dir_make_tmp ("vg-recording-XXXXXX", &error);
  g_assert_no_error (error);
  rec->path
      = g_build_filename (rec->dir, strcmp (p->mux, "wav") == 0 ? "out.wav" : "out.ogg", NULL);
  desc = g_strdup_printf (
      "appsrc name=in is-live=true format=time do-timestamp=true caps=\"%s\" ! %s name=agent "
      "! audioconvert ! %s ! filesink name=file location=\"%s\"",
      VG_TEST_CAPS, agent,
      strcmp (p->mux, "wav") == 0 ? "wavenc" : "audioresample ! opusenc ! oggmux", rec->path);
  rec->pipeline = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  rec->appsrc = gst_bin_get_by_name (GST_BIN (rec->pipeline), "in");
  GstElement *file = gst_bin_get_by_name (GST_BIN (rec->pipeline), "file");
  GstPad *pad = gst_element_get_static_pad (file, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_file_buffer, rec, NULL);
  gst_object_unref (pad);
  gst_object_unref (file);
  rec->bus = gst_element_get_bus (rec->pipeline);
  rec->messages = g_ptr_array_new_with_free_func ((GDestroyNotify)gst_message_unref);
  g_assert_cmpint (gst_element_set_state (rec->pipeline, GST_STATE_PLAYING), !=,
                   GST_STATE_CHANGE_FAILURE);
  /* The user speaks only once the file is being written: on a loaded
   * machine the first reply could otherwise play before it is. */
  for (guint i = 0; i < 500 && !g_atomic_int_get (&rec->recording); i++)
    g_usleep (10000);
  g_assert_true (g_atomic_int_get (&rec->recording));
  return rec;
}

static void
recorder_free (Recorder *rec)
{
  gst_element_set_state (rec->pipeline, GST_STATE_NULL);
  gst_object_unref (rec->appsrc);
  gst_object_unref (rec->bus);
  gst_object_unref (rec->pipeline);
  g_ptr_array_unref (rec->messages);
  g_unlink (rec->path);
  g_rmdir (rec->dir);
  g_free (rec->path);
  g_free (rec->dir);
  g_free (rec);
}

static void
push (Recorder *rec, guint ms, gboolean tone)
{
  guint t;

  for (t = 0; t < ms; t += 20)
    g_assert_cmpint (gst_app_src_push_buffer (GST_APP_SRC (rec->appsrc),
                                              tone ? vg_test_tone (20) : vg_test_silence (20)),
                     ==, GST_FLOW_OK);
}

static guint
count_states (Recorder *rec, const char *state)
{
  guint i, n = 0;

  for (i = 0; i < rec->messages->len; i++)
    {
      const GstStructure *s = gst_message_get_structure (g_ptr_array_index (rec->messages, i));

      if (s && gst_structure_has_name (s, "realtime-state")
          && g_strcmp0 (gst_structure_get_string (s, "state"), state) == 0)
        n++;
    }
  return n;
}

/* Waits until the agent posted its nth realtime-state state. */
static gboolean
wait_state (Recorder *rec, const char *state, guint nth, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;

  while (count_states (rec, state) < nth)
    {
      gint64 left = deadline - g_get_monotonic_time ();
      GstMessage *msg;

      if (left <= 0)
        return FALSE;
      msg = gst_bus_timed_pop_filtered (rec->bus, left * GST_USECOND,
                                        GST_MESSAGE_ELEMENT | GST_MESSAGE_WARNING
                                            | GST_MESSAGE_ERROR);
      if (msg == NULL)
        return FALSE;
      g_ptr_array_add (rec->messages, msg);
    }
  return TRUE;
}

static void
assert_no_problems (Recorder *rec)
{
  GstMessage *msg;
  guint i;

  while ((msg = gst_bus_pop_filtered (rec->bus, GST_MESSAGE_ELEMENT | GST_MESSAGE_WARNING
                                                    | GST_MESSAGE_ERROR)))
    g_ptr_array_add (rec->messages, msg);
  for (i = 0; i < rec->messages->len; i++)
    {
      GstMessage *m = g_ptr_array_index (rec->messages, i);

      if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_WARNING || GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR)
        {
          g_autoptr (GError) err = NULL;
          g_autofree char *debug = NULL;

          if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_WARNING)
            gst_message_parse_warning (m, &err, &debug);
          else
            gst_message_parse_error (m, &err, &debug);
          g_error ("%s from %s: %s (%s)", GST_MESSAGE_TYPE_NAME (m), GST_MESSAGE_SRC_NAME (m),
                   err->message, debug);
        }
    }
}

/* Ends the recording as gst-launch-1.0 -e does (EOS to the pipeline, which
 * the agent passes on to its output) and waits until the muxer finished
 * the file. */
static void
recorder_finish (Recorder *rec)
{
  GstMessage *msg;

  g_assert_true (gst_element_send_event (rec->pipeline, gst_event_new_eos ()));
  msg = gst_bus_timed_pop_filtered (rec->bus, 5 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_message_unref (msg);
  assert_no_problems (rec);
  gst_element_set_state (rec->pipeline, GST_STATE_NULL);
}

static char *
run (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  gint status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("%s failed: %s\n%s%s", argv[0], error->message, out, err);
  return out;
}

/* The bursts of sound in the recording, read by Python's wave module; an
 * Ogg file must first pass opusinfo and is decoded by opusdec. */
static JsonArray *
read_bursts (Recorder *rec, JsonParser **parser_out)
{
  const char *srcdir = g_getenv ("VOXGATE_SOURCE_DIR");
  g_autofree char *script = NULL, *wav = NULL, *out = NULL;
  g_autoptr (GError) error = NULL;
  JsonParser *parser = json_parser_new ();
  JsonObject *o;

  g_assert_nonnull (srcdir);
  script = g_build_filename (srcdir, "tests", "plugin", "wav-bursts.py", NULL);
  if (g_str_has_suffix (rec->path, ".ogg"))
    {
      const char *info[] = { "opusinfo", rec->path, NULL };
      g_autofree char *report = run (info);

      wav = g_build_filename (rec->dir, "decoded.wav", NULL);
      const char *dec[] = { "opusdec", "--quiet", rec->path, wav, NULL };
      g_free (run (dec));
      g_test_message ("opusinfo: %s", strstr (report, "Playback length") ?: "?");
      g_assert_nonnull (strstr (report, "Playback length"));
      g_assert_null (strstr (report, "WARNING"));
      g_assert_null (strstr (report, "ERROR"));
    }
  const char *py[] = { "/usr/bin/python3", script, wav ? wav : rec->path, NULL };
  out = run (py);
  if (wav)
    g_unlink (wav);
  g_test_message ("%s: %s", rec->path, out);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  g_assert_no_error (error);
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member (o, "channels"), ==, 1);
  *parser_out = parser;
  return json_object_get_array_member (o, "bursts");
}

static gint64
burst_ms (JsonArray *bursts, guint i, guint field)
{
  return json_array_get_int_element (json_array_get_array_element (bursts, i), field);
}

/* Three user turns of turnN_ms of tone: replies 1 and 2 are cut by the
 * next turn, reply 3 (last_ms of sound) plays whole. set_last_reply, when
 * given, runs before turn 3. */
static void
record_two_barge_ins (const RecordParams *p, void (*set_last_reply) (const RecordParams *p),
                      guint turn1_ms, guint turn2_ms, guint turn3_ms, guint last_ms)
{
  Recorder *rec = recorder_new (p);
  g_autoptr (JsonParser) parser = NULL;
  JsonArray *bursts;
  guint i;

  g_assert_true (wait_state (rec, "listening", 1, 5000));
  push (rec, 200, FALSE);
  push (rec, turn1_ms, TRUE);
  push (rec, 300, FALSE);
  g_assert_true (wait_state (rec, "speaking", 1, 5000));
  g_usleep (400000);
  /* Barge-in 1: the user's next turn starts over the reply, and is still
   * going on (the reply must stay silent) when the turn ends 300 ms later. */
  push (rec, turn2_ms, TRUE);
  g_usleep (300000);
  push (rec, 300, FALSE);
  g_assert_true (wait_state (rec, "speaking", 2, 5000));
  g_usleep (400000);
  /* Barge-in 2; the answer to this turn plays to its end. */
  if (set_last_reply)
    set_last_reply (p);
  push (rec, turn3_ms, TRUE);
  g_usleep (300000);
  push (rec, 300, FALSE);
  g_assert_true (wait_state (rec, "speaking", 3, 5000));
  g_assert_true (wait_state (rec, "listening", count_states (rec, "listening") + 1, 5000));
  g_usleep (200000);
  recorder_finish (rec);

  bursts = read_bursts (rec, &parser);
  g_assert_cmpuint (json_array_get_length (bursts), ==, 3);
  /* The interrupted replies were heard for about the 400 ms waited (plus
   * the agents' reaction, longer on a loaded machine), much less than their
   * full length (2.5 s and more), and stayed silent while the user spoke. */
  for (i = 0; i < 2; i++)
    {
      g_assert_cmpint (burst_ms (bursts, i, 1), >=, 200);
      g_assert_cmpint (burst_ms (bursts, i, 1), <, 2000);
      g_assert_cmpint (
          burst_ms (bursts, i + 1, 0) - burst_ms (bursts, i, 0) - burst_ms (bursts, i, 1), >=, 100);
    }
  g_assert_cmpint (burst_ms (bursts, 2, 1), >=, last_ms - 40);
  g_assert_cmpint (burst_ms (bursts, 2, 1), <=, last_ms + 60);
  recorder_free (rec);
}

static void
test_echoagent (gconstpointer data)
{
  RecordParams p = { .agent = "echoagent silence-ms=200", .mux = data };

  /* echoagent answers each turn with the turn itself. */
  record_two_barge_ins (&p, NULL, 2500, 2500, 600, 600);
}

static void
set_short_reply (const RecordParams *p)
{
  vg_rt_server_set_response_audio_ms (p->server, 800);
}

static void
test_openairealtime (gconstpointer data)
{
  VgRtServerOptions opt = { .seed = 42 };
  g_autoptr (GError) error = NULL;
  RecordParams p = { .agent = "openairealtime silence-duration-ms=200 append-ms=50", .mux = data };

  p.server = vg_rt_server_new (&opt, &error);
  g_assert_no_error (error);
  vg_rt_server_set_response_audio_ms (p.server, 3000);
  record_two_barge_ins (&p, set_short_reply, 600, 600, 600, 800);
  g_assert_cmpuint (vg_rt_server_count (p.server, "conversation.item.truncate"), ==, 2);
  g_assert_cmpuint (vg_rt_server_get_errors (p.server), ==, 0);
  vg_rt_server_free (p.server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_debug_enabled (FALSE); /* keep TAP logs readable */
  gst_init (&argc, &argv);
  g_test_add_data_func ("/recording/echoagent/wav", "wav", test_echoagent);
  g_test_add_data_func ("/recording/echoagent/ogg", "ogg", test_echoagent);
  g_test_add_data_func ("/recording/openairealtime/wav", "wav", test_openairealtime);
  g_test_add_data_func ("/recording/openairealtime/ogg", "ogg", test_openairealtime);
  return g_test_run ();
}
