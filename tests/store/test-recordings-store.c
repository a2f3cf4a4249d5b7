/* Recording rows (migration 005, gateway/store/store-recordings.c) on a real
 * SQLite or PostgreSQL: a recording is linked to the conversation it
 * records, its end fills in its files, and the API's reads (list with
 * paging, get, expired, delete) see it. Backend: "sqlite" or "postgres". */
#include "store-fixture.h"

#define FLUSH_US (20 * G_USEC_PER_SEC)

typedef struct
{
  char *url, *dir;
  VgStore *store;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->store = vg_test_store_open_new (NULL, &f->url, &f->dir);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  vg_store_close (f->store);
  g_free (f->url);
  g_free (f->dir);
}

static JsonArray *
query_ok (Fixture *f, VgStoreQuery q, const char *const *params, guint n, gint64 *changes)
{
  g_autoptr (GError) error = NULL;
  JsonArray *rows = vg_store_query_sync (f->store, q, params, n, changes, &error);
  g_assert_no_error (error);
  g_assert_nonnull (rows);
  return rows;
}

static JsonObject *
get (Fixture *f, const char *id)
{
  g_autoptr (JsonArray) rows
      = query_ok (f, VG_STORE_Q_RECORDING_GET, (const char *const[]){ id }, 1, NULL);
  g_assert_cmpuint (json_array_get_length (rows), ==, 1);
  return json_object_ref (json_array_get_object_element (rows, 0));
}

static void
flush (Fixture *f)
{
  g_assert_true (vg_store_flush (f->store, FLUSH_US));
}

/* A recording started while a learner's conversation is active belongs to
 * it; its end records the files; a track recording belongs to its
 * publisher's conversation, not another learner's in the same room. */
static void
test_lifecycle (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 t0 = g_get_real_time ();
  g_autofree char *ada
      = vg_store_conversation_start (f->store, "rec-room", "ada", 0, "echo", "", &error);
  g_autofree char *bob
      = vg_store_conversation_start (f->store, "rec-room", "bob", 0, "echo", "", &error);
  g_autofree char *rec = NULL, *track = NULL;
  g_autoptr (JsonObject) row = NULL, trow = NULL;
  VgStoreRecordingEnd end = {
    .status = "complete",
    .filename = "rec-room-1.ogg",
    .path = "/var/rec/rec-room-1.ogg",
    .mime_type = "audio/ogg",
    .size_bytes = 123456,
    .duration_ms = 61234,
    .transcript_filename = "rec-room-1.vtt",
    .transcript_path = "/var/rec/rec-room-1.vtt",
    .transcript_size_bytes = 789,
    .ended_at_us = t0 + 61 * G_USEC_PER_SEC,
  };

  g_assert_no_error (error);
  flush (f);
  track = vg_store_recording_start (f->store, "EG_track1", "rec-room", "ada", "track", t0 + 1000,
                                    &error);
  g_assert_no_error (error);
  rec = vg_store_recording_start (f->store, "EG_room1", "rec-room", NULL, "room_composite", t0,
                                  &error);
  g_assert_no_error (error);
  g_assert_true (vg_store_is_uuid (rec));
  flush (f);

  row = get (f, rec);
  g_assert_cmpstr (json_object_get_string_member (row, "status"), ==, "active");
  g_assert_cmpstr (json_object_get_string_member (row, "egress_id"), ==, "EG_room1");
  g_assert_cmpstr (json_object_get_string_member (row, "kind"), ==, "room_composite");
  g_assert_true (json_object_get_null_member (row, "ended_at"));
  g_assert_true (json_object_get_null_member (row, "path"));
  /* The room's latest active conversation. */
  g_assert_cmpstr (json_object_get_string_member (row, "conversation_id"), ==, bob);
  trow = get (f, track);
  g_assert_cmpstr (json_object_get_string_member (trow, "conversation_id"), ==, ada);
  g_assert_cmpstr (json_object_get_string_member (trow, "identity"), ==, "ada");

  g_assert_true (vg_store_recording_end (f->store, rec, &end, &error));
  g_assert_no_error (error);
  flush (f);
  g_clear_pointer (&row, json_object_unref);
  row = get (f, rec);
  g_assert_cmpstr (json_object_get_string_member (row, "status"), ==, "complete");
  g_assert_cmpstr (json_object_get_string_member (row, "filename"), ==, "rec-room-1.ogg");
  g_assert_cmpstr (json_object_get_string_member (row, "path"), ==, "/var/rec/rec-room-1.ogg");
  g_assert_cmpstr (json_object_get_string_member (row, "mime_type"), ==, "audio/ogg");
  g_assert_cmpint (json_object_get_int_member (row, "size_bytes"), ==, 123456);
  g_assert_cmpint (json_object_get_int_member (row, "duration_ms"), ==, 61234);
  g_assert_cmpstr (json_object_get_string_member (row, "transcript_filename"), ==,
                   "rec-room-1.vtt");
  g_assert_cmpint (json_object_get_int_member (row, "transcript_size_bytes"), ==, 789);
  g_assert_true (json_object_get_null_member (row, "error"));
  g_assert_false (json_object_get_null_member (row, "ended_at"));
}

/* A room recording that starts before anyone joins is linked, when it
 * ends, to the conversation that overlapped it; a failed one keeps its
 * error and no file. */
static void
test_late_link_and_failure (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 t0 = g_get_real_time ();
  g_autofree char *rec = vg_store_recording_start (f->store, "EG_early", "early-room", NULL,
                                                   "room_composite", t0 - G_USEC_PER_SEC, &error);
  g_autofree char *conv = NULL, *failed = NULL;
  g_autoptr (JsonObject) row = NULL, frow = NULL;
  VgStoreRecordingEnd end = { .status = "complete",
                              .filename = "e.ogg",
                              .path = "/r/e.ogg",
                              .size_bytes = 10,
                              .duration_ms = 20,
                              .transcript_size_bytes = -1,
                              .ended_at_us = t0 + 5 * G_USEC_PER_SEC };
  VgStoreRecordingEnd fail = { .status = "failed",
                               .error = "No space left on device",
                               .size_bytes = -1,
                               .duration_ms = -1,
                               .transcript_size_bytes = -1,
                               .ended_at_us = t0 + 2 * G_USEC_PER_SEC };

  g_assert_no_error (error);
  flush (f);
  row = get (f, rec);
  g_assert_true (json_object_get_null_member (row, "conversation_id"));
  g_clear_pointer (&row, json_object_unref);
  conv = vg_store_conversation_start (f->store, "early-room", "cy", 0, "echo", "", &error);
  g_assert_true (vg_store_conversation_end (f->store, conv, "completed", &error));
  g_assert_true (vg_store_recording_end (f->store, rec, &end, &error));
  failed = vg_store_recording_start (f->store, "EG_fail", "early-room", NULL, "room_composite", t0,
                                     &error);
  g_assert_true (vg_store_recording_end (f->store, failed, &fail, &error));
  g_assert_no_error (error);
  flush (f);
  row = get (f, rec);
  g_assert_cmpstr (json_object_get_string_member (row, "conversation_id"), ==, conv);
  g_assert_true (json_object_get_null_member (row, "transcript_filename"));
  frow = get (f, failed);
  g_assert_cmpstr (json_object_get_string_member (frow, "status"), ==, "failed");
  g_assert_cmpstr (json_object_get_string_member (frow, "error"), ==, "No space left on device");
  g_assert_true (json_object_get_null_member (frow, "filename"));
  g_assert_true (json_object_get_null_member (frow, "size_bytes"));
}

/* The list is newest first, filtered by room and conversation, paged by
 * (started_at, id); expired lists what ended before a cutoff, oldest first;
 * delete removes one row once. */
static void
test_list_expire_delete (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 t0 = g_get_real_time () - 10 * G_USEC_PER_SEC;
  char *ids[5] = { 0 };
  g_autofree char *cutoff = NULL, *after_time = NULL, *after_id = NULL;
  g_autoptr (JsonArray) page = NULL, rest = NULL, other = NULL, expired = NULL, again = NULL;
  gint64 changes = -1;

  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *egress = g_strdup_printf ("EG_list%u", i);
      VgStoreRecordingEnd end = { .status = "complete",
                                  .filename = "x.ogg",
                                  .path = "/r/x.ogg",
                                  .size_bytes = i,
                                  .duration_ms = i,
                                  .transcript_size_bytes = -1,
                                  .ended_at_us = t0 + i * G_USEC_PER_SEC + 500000 };
      ids[i] = vg_store_recording_start (f->store, egress, i < 4 ? "list-room" : "other-room", NULL,
                                         "room_composite", t0 + i * G_USEC_PER_SEC, &error);
      g_assert_no_error (error);
      g_assert_true (vg_store_recording_end (f->store, ids[i], &end, &error));
    }
  flush (f);
  page = query_ok (f, VG_STORE_Q_RECORDINGS_LIST,
                   (const char *const[]){ "list-room", NULL, NULL, NULL, "3" }, 5, NULL);
  g_assert_cmpuint (json_array_get_length (page), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (page, 0), "id"),
                   ==, ids[3]);
  g_assert_false (json_object_has_member (json_array_get_object_element (page, 0), "path"));
  after_time = g_strdup (
      json_object_get_string_member (json_array_get_object_element (page, 1), "started_at"));
  after_id
      = g_strdup (json_object_get_string_member (json_array_get_object_element (page, 1), "id"));
  rest = query_ok (f, VG_STORE_Q_RECORDINGS_LIST,
                   (const char *const[]){ "list-room", NULL, after_time, after_id, "10" }, 5, NULL);
  g_assert_cmpuint (json_array_get_length (rest), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rest, 0), "id"),
                   ==, ids[1]);
  other = query_ok (f, VG_STORE_Q_RECORDINGS_LIST,
                    (const char *const[]){ "other-room", NULL, NULL, NULL, "10" }, 5, NULL);
  g_assert_cmpuint (json_array_get_length (other), ==, 1);

  /* Ended before t0 + 2 s: the first two. */
  cutoff = vg_store_time_text (t0 + 2 * G_USEC_PER_SEC);
  expired = query_ok (f, VG_STORE_Q_RECORDINGS_EXPIRED, (const char *const[]){ cutoff, "100" }, 2,
                      NULL);
  g_assert_cmpuint (json_array_get_length (expired), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (expired, 0), "id"),
                   ==, ids[0]);
  g_assert_cmpstr (
      json_object_get_string_member (json_array_get_object_element (expired, 0), "path"), ==,
      "/r/x.ogg");

  g_clear_pointer (&again, json_array_unref);
  again = query_ok (f, VG_STORE_Q_RECORDING_DELETE, (const char *const[]){ ids[0] }, 1, &changes);
  g_assert_cmpint (changes, ==, 1);
  g_clear_pointer (&again, json_array_unref);
  again = query_ok (f, VG_STORE_Q_RECORDING_DELETE, (const char *const[]){ ids[0] }, 1, &changes);
  g_assert_cmpint (changes, ==, 0);
  g_clear_pointer (&again, json_array_unref);
  again = query_ok (f, VG_STORE_Q_RECORDING_GET, (const char *const[]){ ids[0] }, 1, NULL);
  g_assert_cmpuint (json_array_get_length (again), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    g_free (ids[i]);
}

/* What the schema would refuse is refused at the call. */
static void
test_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *long_name = g_strnfill (256, 'a');
  VgStoreRecordingEnd end = { .status = "done",
                              .size_bytes = -1,
                              .duration_ms = -1,
                              .transcript_size_bytes = -1,
                              .ended_at_us = g_get_real_time () };
  char *id;

  g_assert_null ((id = vg_store_recording_start (f->store, "EG_x", "r", NULL, "video",
                                                 g_get_real_time (), &error)));
  g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null ((id = vg_store_recording_start (f->store, "", "r", NULL, "track",
                                                 g_get_real_time (), &error)));
  g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (vg_store_recording_end (f->store, "not-a-uuid", &end, &error));
  g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
  g_clear_error (&error);
  id = vg_store_recording_start (f->store, "EG_ok", "r", NULL, "track", g_get_real_time (), &error);
  g_assert_false (vg_store_recording_end (f->store, id, &end, &error));
  g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
  g_clear_error (&error);
  end.status = "complete";
  end.filename = long_name;
  g_assert_false (vg_store_recording_end (f->store, id, &end, &error));
  g_assert_error (error, VG_STORE_ERROR, VG_STORE_ERROR_INVALID);
  g_free (id);
}

int
main (int argc, char **argv)
{
  const char *backend;
  int status;

  g_test_init (&argc, &argv, NULL);
  backend = argc > 1 ? argv[1] : "sqlite";
  vg_test_store_setup (g_str_equal (backend, "postgres") ? VG_TEST_POSTGRES : VG_TEST_SQLITE);
#define ADD(name, fn)                                                                              \
  do                                                                                               \
    {                                                                                              \
      g_autofree char *p                                                                           \
          = g_strdup_printf ("/recordings/%s/%s", vg_test_store_backend_name (), name);            \
      g_test_add (p, Fixture, NULL, setup, fn, teardown);                                          \
    }                                                                                              \
  while (0)
  ADD ("lifecycle", test_lifecycle);
  ADD ("late-link-and-failure", test_late_link_and_failure);
  ADD ("list-expire-delete", test_list_expire_delete);
  ADD ("refused", test_refused);
  status = g_test_run ();
  vg_test_store_teardown ();
  return status;
}
