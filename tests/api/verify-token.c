/* Test helper: runs the gateway's one token check (vg_auth_check) on a token
 * and prints the outcome and claims as JSON, so tokens minted elsewhere (the
 * LiveKit server SDK) can be checked against it.
 *   verify-token TOKEN [ROOM]    (credentials from VOXGATE_AUTH_* like the gateway) */
#include "api/auth.h"

#include <stdio.h>

int
main (int argc, char **argv)
{
  g_auto (GStrv) env = g_get_environ ();
  VgConfig *cfg = vg_config_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *header = NULL, *text = NULL;
  const char *code, *message;
  VgClaims c = { 0 };
  VgApp *app;
  guint status;

  if (argc < 2 || !vg_config_load_environ (cfg, (const char *const *) env, &error))
    {
      g_printerr ("usage: verify-token TOKEN [ROOM]\n");
      return 2;
    }
  app = vg_app_new (cfg);
  header = g_strconcat ("Bearer ", argv[1], NULL);
  status = vg_auth_check (app, header, argc > 2 ? VG_GRANT_ROOM_JOIN : VG_GRANT_NONE, argc > 2 ? argv[2] : NULL,
                          &c, &code, &message);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_int_value (b, status);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  if (status == 200)
    {
#define STR(name, value)                                                                                        \
  json_builder_set_member_name (b, name);                                                                       \
  if (value)                                                                                                    \
    json_builder_add_string_value (b, value);                                                                   \
  else                                                                                                          \
    json_builder_add_null_value (b);
#define BOOL(name, value)                                                                                       \
  json_builder_set_member_name (b, name);                                                                       \
  json_builder_add_boolean_value (b, value);
      STR ("iss", c.issuer);
      STR ("sub", c.identity);
      STR ("name", c.name);
      STR ("metadata", c.metadata);
      STR ("room", c.video.room);
      BOOL ("roomJoin", c.video.room_join);
      BOOL ("roomAdmin", c.video.room_admin);
      BOOL ("roomCreate", c.video.room_create);
      BOOL ("roomList", c.video.room_list);
      BOOL ("canPublish", c.video.can_publish);
      BOOL ("canSubscribe", c.video.can_subscribe);
      BOOL ("canPublishData", c.video.can_publish_data);
      BOOL ("hidden", c.video.hidden);
      json_builder_set_member_name (b, "exp");
      json_builder_add_int_value (b, c.expires_at);
      json_builder_set_member_name (b, "attributes");
      json_builder_begin_object (b);
      if (c.attributes)
        {
          GHashTableIter it;
          gpointer k, v;
          g_hash_table_iter_init (&it, c.attributes);
          while (g_hash_table_iter_next (&it, &k, &v))
            {
              STR (k, v);
            }
        }
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  text = json_to_string (root, FALSE);
  printf ("%s\n", text);
  vg_claims_clear (&c);
  vg_app_free (app);
  return 0;
}
