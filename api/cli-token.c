/* `voxgate token`: mints an access token from the command line. */
#include "api/cli.h"
#include "api/auth.h"
#include "gateway/core/config-schema.h"
#include "gateway/core/validate.h"

#include <stdio.h>

int
vg_cli_token (VgConfig *cfg, const char *room, const char *identity, const char *name, gboolean admin,
              gint64 ttl)
{
  g_auto (VgClaims) c = { 0 };
  g_autofree char *token = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (room && !vg_validate_room_name (room))
    {
      g_printerr ("voxgate token: --room: " VG_ROOM_NAME_RULE "\n");
      return 2;
    }
  if (!room && !admin)
    {
      g_printerr ("voxgate token: --room is required (or --admin for a room-less admin token)\n");
      return 2;
    }
  if (identity && !vg_validate_identity (identity))
    {
      g_printerr ("voxgate token: --identity: " VG_IDENTITY_RULE "\n");
      return 2;
    }
  if (name && !vg_validate_display_name (name))
    {
      g_printerr ("voxgate token: --name must be at most 128 printable characters\n");
      return 2;
    }
  /* The same bounds as [auth] token_ttl: now + ttl must not overflow. */
  const VgConfigKey *ttl_key = vg_config_schema_lookup ("auth", "token_ttl");
  if (ttl < 0 || ttl > ttl_key->max)
    {
      g_printerr ("voxgate token: --ttl must be 1 to %" G_GINT64_FORMAT
                  " seconds (0 or absent = [auth] token_ttl)\n",
                  ttl_key->max);
      return 2;
    }
  if (ttl == 0)
    ttl = vg_config_get_int (cfg, "auth", "token_ttl");

  c.identity = identity ? g_strdup (identity) : vg_random_id (admin ? "admin" : "user");
  c.name = g_strdup (name);
  c.not_before = now;
  c.expires_at = now + ttl;
  c.video.room = g_strdup (room);
  c.video.room_join = room != NULL;
  c.video.can_publish = c.video.can_subscribe = c.video.can_publish_data = TRUE;
  if (admin)
    c.video.room_create = c.video.room_list = c.video.room_admin = c.video.room_record = TRUE;
  token = vg_jwt_mint (&c, vg_config_get_string (cfg, "auth", "api_key"),
                       vg_config_get_string (cfg, "auth", "api_secret"));
  printf ("%s\n", token);
  return 0;
}
