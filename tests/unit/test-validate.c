/* Names from outside. */
#include "gateway/validate.h"

static void
test_rooms (void)
{
  g_assert_true (vg_validate_room_name ("a"));
  g_assert_true (vg_validate_room_name ("Room_1-b"));
  g_assert_true (vg_validate_room_name ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 64 */
  g_assert_false (vg_validate_room_name ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
  g_assert_false (vg_validate_room_name (""));
  g_assert_false (vg_validate_room_name (NULL));
  g_assert_false (vg_validate_room_name ("a b"));
  g_assert_false (vg_validate_room_name ("../x"));
  g_assert_false (vg_validate_room_name ("caf\xc3\xa9"));
}

static void
test_identities (void)
{
  GString *long_id = g_string_new (NULL);

  g_assert_true (vg_validate_identity ("alice"));
  g_assert_true (vg_validate_identity ("Zoë Ünal"));
  g_assert_false (vg_validate_identity (""));
  g_assert_false (vg_validate_identity ("a\nb"));
  g_assert_false (vg_validate_identity ("a\x01"));
  g_assert_false (vg_validate_identity ("\xff\xfe"));
  for (int i = 0; i < 128; i++)
    g_string_append (long_id, "é");
  g_assert_true (vg_validate_identity (long_id->str)); /* 128 characters, 256 bytes */
  g_string_append (long_id, "x");
  g_assert_false (vg_validate_identity (long_id->str));
  g_string_free (long_id, TRUE);
  g_assert_true (vg_validate_display_name (""));
  g_assert_false (vg_validate_display_name ("tab\there"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/validate/rooms", test_rooms);
  g_test_add_func ("/validate/identities", test_identities);
  return g_test_run ();
}
