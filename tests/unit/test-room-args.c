/* Room creation arguments (api/handlers/room-api.c), the subtopic_id in
 * both shapes, and in a participant token's metadata or attributes: the
 * bodies and the tokens' contents come from any client. */
#include "api/handlers/room-api.h"
#include <gio/gio.h>

static gboolean
parse (const char *json, VgJsonShape shape, gint64 *subtopic, GError **error)
{
  g_autoptr (JsonNode) root = json_from_string (json, NULL);
  VgRoomCreateArgs args;
  gboolean ok;

  g_assert_nonnull (root);
  ok = vg_room_create_args_parse (json_node_get_object (root), shape, &args, error);
  if (ok)
    *subtopic = args.subtopic_id;
  vg_room_create_args_clear (&args);
  return ok;
}

static void
test_accepted (void)
{
  struct
  {
    const char *json;
    VgJsonShape shape;
    gint64 subtopic;
  } cases[] = {
    { "{\"name\":\"r\",\"subtopic_id\":3}", VG_JSON_REST, 3 },
    { "{\"name\":\"r\",\"subtopic_id\":\"4\"}", VG_JSON_REST, 4 },
    { "{\"name\":\"r\",\"subtopic_id\":null}", VG_JSON_REST, 0 },
    { "{\"name\":\"r\"}", VG_JSON_REST, 0 },
    { "{\"name\":\"r\",\"subtopicId\":\"5\"}", VG_JSON_PROTO, 5 },
    { "{\"name\":\"r\",\"subtopic_id\":6}", VG_JSON_PROTO, 6 },
    { "{\"name\":\"r\",\"subtopicId\":null}", VG_JSON_PROTO, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      gint64 subtopic = -1;
      g_assert_true (parse (cases[i].json, cases[i].shape, &subtopic, &error));
      g_assert_no_error (error);
      g_assert_cmpint (subtopic, ==, cases[i].subtopic);
    }
}

static void
test_refused (void)
{
  const char *bodies[] = {
    "{\"name\":\"r\",\"subtopic_id\":\"fractions\"}",
    "{\"name\":\"r\",\"subtopic_id\":0}",
    "{\"name\":\"r\",\"subtopic_id\":-2}",
    "{\"name\":\"r\",\"subtopic_id\":1.5}",
    "{\"name\":\"r\",\"subtopic_id\":[1]}",
    "{\"name\":\"r\",\"subtopic_id\":true}",
    "{\"name\":\"r\",\"subtopic_id\":\"9999999999999999999999\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    for (VgJsonShape shape = VG_JSON_REST; shape <= VG_JSON_PROTO; shape++)
      {
        g_autoptr (GError) error = NULL;
        gint64 subtopic = -1;
        g_assert_false (parse (bodies[i], shape, &subtopic, &error));
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      }
}

static void
test_token (void)
{
  g_autoptr (GHashTable) attrs = g_hash_table_new (g_str_hash, g_str_equal);

  g_assert_cmpint (vg_claims_subtopic_id ("{\"subtopic_id\":3}", NULL), ==, 3);
  g_assert_cmpint (vg_claims_subtopic_id ("{\"subtopic_id\":\"12\",\"x\":1}", NULL), ==, 12);
  /* Metadata the application uses otherwise: no subtopic, no error. */
  g_assert_cmpint (vg_claims_subtopic_id ("likes cats", NULL), ==, 0);
  g_assert_cmpint (vg_claims_subtopic_id ("{\"subtopic_id\":0}", NULL), ==, 0);
  g_assert_cmpint (vg_claims_subtopic_id ("{\"subtopic_id\":-4}", NULL), ==, 0);
  g_assert_cmpint (vg_claims_subtopic_id ("{\"subtopic_id\":\"3 OR 1=1\"}", NULL), ==, 0);
  g_assert_cmpint (vg_claims_subtopic_id ("{\"subtopic_id\":2.5}", NULL), ==, 0);
  g_assert_cmpint (vg_claims_subtopic_id ("{\"subtopic_id\":{}}", NULL), ==, 0);
  g_assert_cmpint (vg_claims_subtopic_id ("{\"subtopic_id\":", NULL), ==, 0);
  g_assert_cmpint (vg_claims_subtopic_id (NULL, NULL), ==, 0);
  /* Attributes when the metadata has none. */
  g_hash_table_insert (attrs, "subtopic_id", "7");
  g_assert_cmpint (vg_claims_subtopic_id (NULL, attrs), ==, 7);
  g_assert_cmpint (vg_claims_subtopic_id ("{\"subtopic_id\":4}", attrs), ==, 4);
  g_hash_table_insert (attrs, "subtopic_id", "seven");
  g_assert_cmpint (vg_claims_subtopic_id ("{}", attrs), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/room-args/subtopic/accepted", test_accepted);
  g_test_add_func ("/room-args/subtopic/refused", test_refused);
  g_test_add_func ("/room-args/subtopic/token", test_token);
  return g_test_run ();
}
