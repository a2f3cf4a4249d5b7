/* Names from outside: one rule per kind (gateway/validate.h). */
#include "gateway/core/validate.h"

static void
test_rooms (void)
{
  g_autofree char *max = g_strnfill (VG_ROOM_NAME_MAX, 'a');
  g_autofree char *over = g_strnfill (VG_ROOM_NAME_MAX + 1, 'a');
  const char *valid[] = { "a", "0", "Room_1-b", "lesson.2024-05-01", "a..b", "x_", "y-", max };
  const char *invalid[]
      = { "",    "a b",           "../x",  ".",    "..",          ".hidden", "-rf",   "_x",
          "a:b", "a/b",           "a%2Fb", "a\\b", "caf\xc3\xa9", "a\x01",   "a\x7f", "a\xc2\x85",
          "a\n", "a\xe2\x80\xae", "\xff",  over };

  for (guint i = 0; i < G_N_ELEMENTS (valid); i++)
    g_assert_true (vg_validate_room_name (valid[i]));
  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_test_message ("room %s", invalid[i]);
      g_assert_false (vg_validate_room_name (invalid[i]));
    }
  g_assert_false (vg_validate_room_name (NULL));
}

static void
test_identities (void)
{
  GString *long_id = g_string_new (NULL);
  g_autofree char *five_thousand = g_strnfill (5000, 'a');
  const char *valid[] = { "alice", "Zoë Ünal", "a b", "user@example.org", "😀", "名前" };
  /* C0, DEL, C1 (NEL), bidi override and isolate, zero-width space, BOM,
   * line and paragraph separators, no-break space, private use, surrogate
   * and non-UTF-8 bytes, edge spaces. */
  const char *invalid[] = { "",
                            "a\nb",
                            "a\tb",
                            "a\x01",
                            "a\x7f",
                            "a\xc2\x85",
                            "a\xe2\x80\xae",
                            "a\xe2\x81\xa6",
                            "a\xe2\x80\x8b",
                            "\xef\xbb\xbf"
                            "a",
                            "a\xe2\x80\xa8",
                            "a\xe2\x80\xa9",
                            "a\xc2\xa0"
                            "b",
                            "a\xee\x80\x80",
                            "a\xed\xa0\x80",
                            "\xff\xfe",
                            " alice",
                            "alice ",
                            five_thousand };

  for (guint i = 0; i < G_N_ELEMENTS (valid); i++)
    g_assert_true (vg_validate_identity (valid[i]));
  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_test_message ("identity #%u", i);
      g_assert_false (vg_validate_identity (invalid[i]));
      g_assert_false (vg_validate_attribute_key (invalid[i]));
    }
  g_assert_false (vg_validate_identity (NULL));
  for (int i = 0; i < 128; i++)
    g_string_append (long_id, "é");
  g_assert_true (vg_validate_identity (long_id->str)); /* 128 characters, 256 bytes */
  g_string_append (long_id, "x");
  g_assert_false (vg_validate_identity (long_id->str));
  g_string_free (long_id, TRUE);
}

static void
test_display_names (void)
{
  g_assert_true (vg_validate_display_name (""));
  g_assert_true (vg_validate_display_name (" Alice "));
  g_assert_false (vg_validate_display_name ("tab\there"));
  g_assert_false (vg_validate_display_name ("a\xe2\x80\xae"));
  g_assert_false (vg_validate_display_name ("a\xc2\x85"));
  g_assert_false (vg_validate_display_name (NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/validate/rooms", test_rooms);
  g_test_add_func ("/validate/identities", test_identities);
  g_test_add_func ("/validate/display-names", test_display_names);
  return g_test_run ();
}
