/* The strict JSON scanner (api/json-strict.c): RFC 8259 only, bounded depth,
 * no \u0000, and no recursion whatever the input. */
#include "common/json-strict.h"

#include <string.h>

static gboolean
check (const char *text, GError **error)
{
  return vg_json_strict_check (text, strlen (text), VG_JSON_MAX_DEPTH, error);
}

static void
test_accepts_json (void)
{
  static const char *const good[] = {
    "{}",
    "[]",
    " {\"a\" : [1, -0, 0.5, 1e9, -2.5E-3, true, false, null, \"x\"]}\r\n\t",
    "\"text\"",
    "12",
    "{\"a\":{\"b\":{}},\"c\":[[],[{}]]}",
    "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"",
    "{\"zoë\":\"é\"}",
    "{\"a\":\"\\u0001\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      if (!check (good[i], &error))
        g_error ("refused %s: %s", good[i], error->message);
    }
}

static void
test_refuses_lenient_json (void)
{
  /* What json-glib accepts (or might) and RFC 8259 does not. */
  static const char *const bad[] = {
    "{'room_name':'r'}",
    "{\"a\":'r'}",
    "{room_name:\"r\"}",
    "{\"a\":1,}",
    "[1,]",
    "[,1]",
    "{,}",
    "{\"a\":1 /* c */}",
    "// c\n{}",
    "# c\n{}",
    "{\"a\":NaN}",
    "{\"a\":Infinity}",
    "{\"a\":01}",
    "{\"a\":+1}",
    "{\"a\":.5}",
    "{\"a\":1.}",
    "{\"a\":0x10}",
    "{\"a\":1e}",
    "{\"a\":-}",
    "{\"a\":tru}",
    "{\"a\":True}",
    "{\"a\" 1}",
    "{\"a\":1}{}",
    "{\"a\":1} x",
    "",
    "   ",
    "\xef\xbb\xbf{}",
    "{\"a\":\"\t\"}",
    "{\"a\":\"\n\"}",
    "{\"a\":\"\\x41\"}",
    "{\"a\":\"\\u12\"}",
    "{\"a\":\"\\uD800\"}",
    "{\"a\":\"\\uDC00\"}",
    "{\"a\":\"\\uD800\\u0041\"}",
    "{\"a\":\"open",
    "[1 2]",
    "{\"a\":[}",
    "{\"a\":1]",
    "[1}",
    "{\"a\":\"\xff\"}",
    "{\"a\":\"\\\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      if (check (bad[i], &error))
        g_error ("accepted %s", bad[i]);
      g_assert_error (error, VG_JSON_STRICT_ERROR, VG_JSON_STRICT_ERROR_INVALID);
      g_assert_null (vg_json_strict_parse (bad[i], strlen (bad[i]), NULL));
    }
}

static void
test_refuses_nul (void)
{
  static const char *const bad[] = {
    "{\"room_name\":\"r\\u0000../x\"}",
    "{\"a\\u0000b\":1}",
    "[\"\\u0000\"]",
  };
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_clear_error (&error);
      g_assert_false (check (bad[i], &error));
      g_assert_error (error, VG_JSON_STRICT_ERROR, VG_JSON_STRICT_ERROR_NUL);
    }
  /* A raw NUL byte is not UTF-8 text either. */
  g_clear_error (&error);
  g_assert_false (vg_json_strict_check ("{\"a\":\"x\0y\"}", 11, VG_JSON_MAX_DEPTH, &error));
  g_assert_error (error, VG_JSON_STRICT_ERROR, VG_JSON_STRICT_ERROR_INVALID);
}

static char *
nested (guint depth, const char *open, const char *inner, const char *close)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < depth; i++)
    g_string_append (s, open);
  g_string_append (s, inner);
  for (guint i = 0; i < depth; i++)
    g_string_append (s, close);
  return g_string_free (s, FALSE);
}

static void
test_depth_limit (void)
{
  g_autofree char *at_limit = nested (VG_JSON_MAX_DEPTH, "[", "1", "]");
  g_autofree char *over = nested (VG_JSON_MAX_DEPTH + 1, "[", "1", "]");
  g_autofree char *objects = nested (VG_JSON_MAX_DEPTH + 1, "{\"a\":", "1", "}");
  g_autofree char *huge = nested (100000, "[", "", "]");
  g_autofree char *unclosed = g_strnfill (1000000, '[');
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = NULL;

  g_assert_true (check (at_limit, NULL));
  root = vg_json_strict_parse (at_limit, strlen (at_limit), &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  g_assert_false (check (over, &error));
  g_assert_error (error, VG_JSON_STRICT_ERROR, VG_JSON_STRICT_ERROR_TOO_DEEP);
  g_clear_error (&error);
  g_assert_false (check (objects, &error));
  g_assert_error (error, VG_JSON_STRICT_ERROR, VG_JSON_STRICT_ERROR_TOO_DEEP);
  g_clear_error (&error);
  /* What overflowed json-glib's stack: refused before it recurses. */
  g_assert_null (vg_json_strict_parse (huge, strlen (huge), &error));
  g_assert_error (error, VG_JSON_STRICT_ERROR, VG_JSON_STRICT_ERROR_TOO_DEEP);
  g_clear_error (&error);
  g_assert_false (check (unclosed, &error));
  g_assert_error (error, VG_JSON_STRICT_ERROR, VG_JSON_STRICT_ERROR_TOO_DEEP);
  g_clear_error (&error);
  g_assert_true (vg_json_strict_check ("[[1]]", 5, 2, NULL));
  g_assert_false (vg_json_strict_check ("[[1]]", 5, 1, NULL));
}

static void
test_parse_builds_tree (void)
{
  const char *text = "{\"room_name\":\"tutor-1\",\"n\":[1,2]}";
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = vg_json_strict_parse (text, strlen (text), &error);

  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "room_name"), ==,
                   "tutor-1");
  g_assert_null (vg_json_strict_parse (NULL, 0, &error));
  g_assert_error (error, VG_JSON_STRICT_ERROR, VG_JSON_STRICT_ERROR_INVALID);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json-strict/accepts-json", test_accepts_json);
  g_test_add_func ("/json-strict/refuses-lenient-json", test_refuses_lenient_json);
  g_test_add_func ("/json-strict/refuses-nul", test_refuses_nul);
  g_test_add_func ("/json-strict/depth-limit", test_depth_limit);
  g_test_add_func ("/json-strict/parse-builds-tree", test_parse_builds_tree);
  return g_test_run ();
}
