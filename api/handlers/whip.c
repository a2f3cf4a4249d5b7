/* WHIP (RFC 9725): POST /api/rooms/{room}/whip with an SDP offer creates a
 * publishing participant; the answer comes back once ICE gathering is done
 * (bounded by the registry's ice_gather_timeout_ms). */
#include "api/handlers/handlers.h"
#include "api/handlers/whip.h"
#include "api/handlers/room-api.h"
#include "api/handlers/cluster-route.h"
#include "api/auth.h"
#include <string.h>

VgRooms *
vg_whip_rooms_or_reply (VgRequest *req)
{
  VgRooms *rooms = vg_request_app (req)->rooms;
  if (!rooms)
    vg_reply_error (req, SOUP_STATUS_SERVICE_UNAVAILABLE, "rooms_unavailable",
                    "this gateway runs without rooms");
  return rooms;
}

/* Link header values (RFC 9725 §4.6) for the configured STUN and TURN servers. */
GPtrArray *
vg_whip_ice_server_links (const VgRoomsSettings *settings)
{
  GPtrArray *links = g_ptr_array_new_with_free_func (g_free);
  const char *urls[] = { settings->stun_server, settings->turn_server };
  for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
    {
      if (!urls[i] || !*urls[i])
        continue;
      g_autoptr (GUri) uri = g_uri_parse (urls[i], G_URI_FLAGS_HAS_PASSWORD, NULL);
      if (!uri || !g_uri_get_host (uri))
        continue;
      GString *link = g_string_new ("<");
      g_string_append_printf (link, "%s:%s", g_uri_get_scheme (uri), g_uri_get_host (uri));
      if (g_uri_get_port (uri) > 0)
        g_string_append_printf (link, ":%d", g_uri_get_port (uri));
      g_string_append (link, ">; rel=\"ice-server\"");
      if (g_uri_get_user (uri))
        {
          g_autofree char *user = g_uri_unescape_string (g_uri_get_user (uri), NULL);
          g_autofree char *pass = g_uri_get_password (uri)
                                      ? g_uri_unescape_string (g_uri_get_password (uri), NULL)
                                      : g_strdup ("");
          /* Quotes would end the parameter early; such credentials are skipped. */
          if (user && pass && !strchr (user, '"') && !strchr (pass, '"'))
            g_string_append_printf (link,
                                    "; username=\"%s\"; credential=\"%s\"; "
                                    "credential-type=\"password\"",
                                    user, pass);
        }
      g_ptr_array_add (links, g_string_free (link, FALSE));
    }
  return links;
}

static void
add_ice_server_links (VgRequest *req, const VgRoomsSettings *settings)
{
  g_autoptr (GPtrArray) links = vg_whip_ice_server_links (settings);
  for (guint i = 0; i < links->len; i++)
    vg_reply_header_append (req, "Link", g_ptr_array_index (links, i));
}

static void
answered (VgParticipant *participant, const char *answer_sdp, const GError *error,
          gpointer user_data)
{
  VgRequest *req = user_data;
  if (!answer_sdp)
    vg_room_api_reply_error (req, error);
  else
    {
      g_autofree char *path
          = g_strdup_printf ("/api/sessions/%s", vg_participant_get_session_id (participant));
      /* Absolute in a cluster: the client may have been redirected here, and
       * the session lives on this node whatever URL it first asked. */
      g_autofree char *location = vg_cluster_local_url (req, path);
      vg_reply_header (req, "Location", location);
      vg_reply_header (req, "ETag", vg_participant_get_etag (participant));
      add_ice_server_links (req, vg_rooms_get_settings (vg_request_app (req)->rooms));
      g_autoptr (GBytes) body = g_bytes_new (answer_sdp, strlen (answer_sdp));
      vg_reply_bytes (req, SOUP_STATUS_CREATED, "application/sdp", body);
    }
  vg_request_unref (req);
}

/* What a join needs once the room is known to be served here. */
typedef struct
{
  VgParticipantKind kind;
  char *room, *identity, *name, *offer;
  gint64 started_us, subtopic_id;
} VgJoinArgs;

static void
join_args_free (VgJoinArgs *args)
{
  g_free (args->room);
  g_free (args->identity);
  g_free (args->name);
  g_free (args->offer);
  g_free (args);
}

static void
join_here (VgRequest *req, gpointer data)
{
  VgJoinArgs *args = data;
  g_autoptr (GError) error = NULL;
  VgRoom *room = vg_rooms_lookup_or_create (vg_request_app (req)->rooms, args->room, &error);
  if (!room)
    {
      vg_room_api_reply_error (req, error);
      return;
    }
  VgJoinRequest join = { .kind = args->kind,
                         .identity = args->identity,
                         .name = args->name,
                         .offer_sdp = args->offer,
                         .request_time_us = args->started_us,
                         .subtopic_id = args->subtopic_id };
  vg_request_pause (req);
  vg_request_ref (req);
  if (!vg_room_join (room, &join, answered, req, &error))
    {
      vg_room_api_reply_error (req, error);
      vg_request_unref (req);
    }
}

void
vg_whip_answer_offer (VgRequest *req, VgParticipantKind kind, const char *room_name,
                      const VgClaims *claims)
{
  gint64 started = g_get_monotonic_time ();
  VgRooms *rooms = vg_whip_rooms_or_reply (req);
  if (!rooms)
    return;
  if (vg_request_app (req)->draining)
    {
      /* The node stops soon: a session started now would be cut. */
      vg_reply_header (req, "Retry-After", "5");
      vg_reply_error (req, SOUP_STATUS_SERVICE_UNAVAILABLE, "draining",
                      "this gateway is shutting down and takes no new sessions");
      return;
    }
  if (g_strcmp0 (vg_request_content_type (req), "application/sdp") != 0)
    {
      vg_reply_error (req, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                      "the offer must be sent as application/sdp");
      return;
    }
  g_autoptr (GBytes) body = vg_request_body (req); /* transfer full */
  gsize len = body ? g_bytes_get_size (body) : 0;
  if (len > VG_WHIP_MAX_OFFER_BYTES)
    {
      vg_reply_error (req, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too_large",
                      "offers are at most %u bytes", VG_WHIP_MAX_OFFER_BYTES);
      return;
    }
  const char *data = body ? g_bytes_get_data (body, NULL) : NULL;
  if (len == 0 || memchr (data, '\0', len) || !g_utf8_validate (data, len, NULL))
    {
      vg_reply_error (req, SOUP_STATUS_BAD_REQUEST, "bad_sdp", "the offer is not an SDP text");
      return;
    }
  g_autofree char *offer = g_strndup (data, len);

  g_autoptr (GError) error = NULL;
  if (!vg_rooms_check_offer (offer, &error))
    {
      vg_room_api_reply_error (req, error);
      return;
    }
  VgJoinArgs *args = g_new0 (VgJoinArgs, 1);
  args->kind = kind;
  args->room = g_strdup (room_name);
  g_autofree char *uuid = g_uuid_string_random ();
  args->identity = claims->identity && *claims->identity ? g_strdup (claims->identity)
                                                         : g_strdup_printf ("listener-%.8s", uuid);
  args->name = g_strdup (claims->name);
  args->offer = g_steal_pointer (&offer);
  args->started_us = started;
  args->subtopic_id = vg_claims_subtopic_id (claims->metadata, claims->attributes);
  /* A room open elsewhere, or placed elsewhere now, is a 307 to that node. */
  if (!vg_cluster_gate_join (req, room_name, join_here, args, (GDestroyNotify)join_args_free))
    {
      join_here (req, args);
      join_args_free (args);
    }
}

static void
handle_whip (VgRequest *req, gpointer user_data)
{
  const char *room = vg_request_param (req, "room");
  VgClaims claims;
  if (!vg_room_api_check_name (req, room))
    return;
  if (!vg_auth_require (req, VG_GRANT_ROOM_JOIN | VG_GRANT_CAN_PUBLISH, room, &claims))
    return;
  if (!claims.identity || !*claims.identity)
    vg_reply_error (req, SOUP_STATUS_FORBIDDEN, "identity_missing",
                    "a participant token needs an identity (sub)");
  else
    vg_whip_answer_offer (req, VG_PARTICIPANT_PUBLISHER, room, &claims);
  vg_claims_clear (&claims);
}

/* OPTIONS on a WHIP/WHEP endpoint: the ICE servers before the offer (as
 * earlier WHIP drafts and MediaMTX do), so a client that gathers before
 * posting, as the web page does, can use TURN. Any token for the room will
 * do: it is what the POST would be answered with. */
static void
handle_ice_servers (VgRequest *req, gpointer user_data)
{
  const char *room = vg_request_param (req, "room");
  VgClaims claims;
  VgRooms *rooms;
  if (!vg_room_api_check_name (req, room))
    return;
  if (!vg_auth_require (req, VG_GRANT_NONE, room, &claims))
    return;
  vg_claims_clear (&claims);
  if (!(rooms = vg_whip_rooms_or_reply (req)))
    return;
  add_ice_server_links (req, vg_rooms_get_settings (rooms));
  vg_reply_empty (req, SOUP_STATUS_NO_CONTENT);
}

void
vg_rooms_routes_register (VgRouter *router, VgApp *app)
{
  vg_router_add (router, "POST", "/api/rooms/{room}/whip", handle_whip, NULL);
  vg_router_add (router, "POST", "/api/rooms/{room}/whep", vg_whep_handle_post, NULL);
  vg_router_add (router, "OPTIONS", "/api/rooms/{room}/whip", handle_ice_servers, NULL);
  vg_router_add (router, "OPTIONS", "/api/rooms/{room}/whep", handle_ice_servers, NULL);
  vg_router_add (router, "PATCH", "/api/sessions/{id}", vg_sessions_handle_patch, NULL);
  vg_router_add (router, "DELETE", "/api/sessions/{id}", vg_sessions_handle_delete, NULL);
}
