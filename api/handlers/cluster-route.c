/* Redirects, forwarding and stored views for rooms of other nodes
 * (cluster-route.h), and the snapshot of local rooms the heartbeat writes. */
#include "api/handlers/cluster-route.h"
#include "api/handlers/room-json.h"

#include <string.h>

/* Forwarded calls are room API calls answered by the owner at once; the
 * bound only matters when the owner hangs. */
#define FORWARD_TIMEOUT_S 10

typedef struct
{
  VgRequest *req;
  VgGate gate;
  gboolean redirect; /* a join or a session: 307 to the owner (see wants_redirect) */
  VgGateList list;
} VgGateCall;

static VgCluster *
cluster_of (VgRequest *req)
{
  VgApp *app = vg_request_app (req);
  if (!app->cluster || !app->rooms)
    return NULL;
  /* A request a node sent us on a client's behalf is ours to serve. */
  if (vg_request_header (req, VG_CLUSTER_FORWARDED_HEADER))
    return NULL;
  return app->cluster;
}

static VgGateCall *
call_new (VgRequest *req, const VgGate *gate)
{
  VgGateCall *call = g_new0 (VgGateCall, 1);
  call->req = vg_request_ref (req);
  if (gate)
    call->gate = *gate;
  vg_request_pause (req);
  return call;
}

static void
call_done (VgGateCall *call)
{
  if (call->gate.free)
    call->gate.free (call->gate.data);
  vg_request_unref (call->req);
  g_free (call);
}

static void
run_local (VgGateCall *call)
{
  call->gate.local (call->req, call->gate.data);
  call_done (call);
}

static void
gate_error (VgGateCall *call, guint status, const char *code, const char *twirp_code,
            const char *message)
{
  if (!call->gate.twirp)
    {
      vg_reply_error (call->req, status, code, "%s", message);
      return;
    }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, twirp_code);
  json_builder_set_member_name (b, "msg");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  vg_reply_json (call->req, status, json_builder_get_root (b));
}

/* base (a node's public URL) + this request's path and query. */
static char *
same_url_on (VgRequest *req, const char *base)
{
  GUri *uri = soup_server_message_get_uri (vg_request_message (req));
  const char *query = g_uri_get_query (uri);
  gsize len = strlen (base);
  while (len > 0 && base[len - 1] == '/')
    len--;
  return g_strdup_printf ("%.*s%s%s%s", (int)len, base, g_uri_get_path (uri), query ? "?" : "",
                          query ? query : "");
}

char *
vg_cluster_local_url (VgRequest *req, const char *path)
{
  VgApp *app = vg_request_app (req);
  if (!app->cluster)
    return g_strdup (path);
  const char *base = vg_cluster_public_url (app->cluster);
  gsize len = strlen (base);
  while (len > 0 && base[len - 1] == '/')
    len--;
  return g_strdup_printf ("%.*s%s", (int)len, base, path);
}

static void
redirect (VgGateCall *call, const char *base)
{
  g_autofree char *url = same_url_on (call->req, base);
  /* RFC 9725 §4.5: a WHIP/WHEP endpoint may redirect the POST with 307,
   * which keeps the method and the body. */
  vg_reply_header (call->req, "Location", url);
  vg_reply_empty (call->req, SOUP_STATUS_TEMPORARY_REDIRECT);
  vg_cluster_count_routed (vg_request_app (call->req)->cluster, "redirect");
}

/* A join or a session request reaching a node that does not own the room:
 * RFC 9725 lets the POST be redirected (307), which WHIP clients follow.
 * Browsers cannot: fetch() drops Authorization when it follows a redirect
 * to another origin, and a page is served by one node. A request with an
 * Origin header (every fetch() POST, PATCH and DELETE has one) is therefore
 * relayed to the owner instead, as LiveKit relays signalling between its
 * nodes; only signalling takes the extra hop, media goes to the owner's
 * candidates in the answer. */
static gboolean
wants_redirect (VgGateCall *call)
{
  return call->redirect && !vg_request_header (call->req, "Origin");
}

/* --- forwarding to the owner ------------------------------------------------- */

static SoupSession *
forward_session (void)
{
  /* One for the process (main context), so connections to the other nodes
   * are reused; it lives as long as the process. */
  static SoupSession *session;
  if (!session)
    session = soup_session_new_with_options ("timeout", FORWARD_TIMEOUT_S, "user-agent",
                                             "voxgate-cluster", NULL);
  return session;
}

/* A relayed join's or session's answer keeps what a WHIP/WHEP client reads
 * besides the body. Location becomes a path on this node, so the page's
 * later PATCH and DELETE come back here (same origin) and are relayed too. */
static void
copy_session_headers (VgRequest *req, SoupMessageHeaders *h)
{
  const char *location = soup_message_headers_get_one (h, "Location");
  if (location)
    {
      g_autoptr (GUri) uri = g_uri_parse (location, G_URI_FLAGS_NONE, NULL);
      if (uri)
        {
          const char *query = g_uri_get_query (uri);
          g_autofree char *path = g_strdup_printf ("%s%s%s", g_uri_get_path (uri), query ? "?" : "",
                                                   query ? query : "");
          vg_reply_header (req, "Location", path);
        }
      else if (location[0] == '/')
        vg_reply_header (req, "Location", location);
    }
  const char *single[] = { "ETag", "Accept-Patch" };
  for (guint i = 0; i < G_N_ELEMENTS (single); i++)
    {
      const char *v = soup_message_headers_get_one (h, single[i]);
      if (v)
        vg_reply_header (req, single[i], v);
    }
  /* One Link per ICE server: soup joins repeated headers with ", ", which a
   * Link parser reads back as the same list. */
  const char *links = soup_message_headers_get_list (h, "Link");
  if (links)
    vg_reply_header (req, "Link", links);
}

static void
forwarded (GObject *source, GAsyncResult *result, gpointer data)
{
  VgGateCall *call = data;
  g_autoptr (GError) error = NULL;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr (GBytes) body
      = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (!body)
    {
      g_warning ("cluster: forwarding %s %s to the room's owner failed: %s",
                 vg_request_method (call->req), vg_request_path (call->req), error->message);
      gate_error (call, SOUP_STATUS_BAD_GATEWAY, "owner_unreachable", "unavailable",
                  "the node that owns the room did not answer");
      call_done (call);
      return;
    }
  SoupMessageHeaders *h = soup_message_get_response_headers (msg);
  if (call->redirect)
    copy_session_headers (call->req, h);
  const char *ct = soup_message_headers_get_content_type (h, NULL);
  vg_reply_bytes (call->req, soup_message_get_status (msg), ct ? ct : "application/json", body);
  call_done (call);
}

static void
forward (VgGateCall *call, VgCluster *cluster, const char *base)
{
  VgRequest *req = call->req;
  g_autofree char *url = same_url_on (req, base);
  SoupMessage *msg = soup_message_new (vg_request_method (req), url);
  if (!msg)
    {
      gate_error (call, SOUP_STATUS_BAD_GATEWAY, "owner_unreachable", "unavailable",
                  "the owner's URL in Redis is not a URL");
      call_done (call);
      return;
    }
  SoupMessageHeaders *h = soup_message_get_request_headers (msg);
  const char *copied[] = { "Authorization", "X-Request-Id", "If-Match" };
  for (guint i = 0; i < G_N_ELEMENTS (copied); i++)
    if (vg_request_header (req, copied[i]))
      soup_message_headers_replace (h, copied[i], vg_request_header (req, copied[i]));
  soup_message_headers_replace (h, VG_CLUSTER_FORWARDED_HEADER, vg_cluster_node_id (cluster));
  g_autoptr (GBytes) body = vg_request_body (req);
  if (g_bytes_get_size (body) > 0 || vg_request_content_type (req))
    soup_message_set_request_body_from_bytes (msg, vg_request_content_type (req), body);
  soup_message_set_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  vg_cluster_count_routed (cluster, "forward");
  soup_session_send_and_read_async (forward_session (), msg, G_PRIORITY_DEFAULT, NULL, forwarded,
                                    call);
  g_object_unref (msg);
}

/* --- gates ----------------------------------------------------------------- */

static void
gate_placed (const VgClusterPlacement *p, const GError *error, gpointer data)
{
  VgGateCall *call = data;
  VgCluster *cluster = vg_request_app (call->req)->cluster;
  if (error)
    {
      gboolean draining = g_error_matches (error, VG_CLUSTER_ERROR, VG_CLUSTER_ERROR_DRAINING);
      g_warning ("cluster: placing room for %s failed: %s", vg_request_path (call->req),
                 error->message);
      gate_error (call, SOUP_STATUS_SERVICE_UNAVAILABLE, draining ? "draining" : "cluster_state",
                  "unavailable",
                  draining ? "no node takes new rooms now (draining)"
                           : "the room's state in Redis is unreadable");
      call_done (call);
    }
  else if (p->local)
    run_local (call);
  else if (wants_redirect (call))
    {
      redirect (call, p->url);
      call_done (call);
    }
  else
    forward (call, cluster, p->url);
}

static void
gate_looked_up (const VgClusterInfo *info, const GError *error, gpointer data)
{
  VgGateCall *call = data;
  VgCluster *cluster = vg_request_app (call->req)->cluster;
  if (error && !g_error_matches (error, VG_CLUSTER_ERROR, VG_CLUSTER_ERROR_DOWN))
    {
      g_warning ("cluster: looking up %s: %s", vg_request_path (call->req), error->message);
      gate_error (call, SOUP_STATUS_SERVICE_UNAVAILABLE, "cluster_state", "unavailable",
                  "the room's state in Redis is unreadable");
      call_done (call);
      return;
    }
  /* Unknown, ours, or Redis away: what this node knows is the answer. */
  if (!info || info->local)
    {
      run_local (call);
      return;
    }
  if (wants_redirect (call))
    {
      redirect (call, info->url);
      call_done (call);
      return;
    }
  if (call->gate.mode == VG_GATE_VIEW && info->view)
    {
      g_autoptr (JsonParser) parser = json_parser_new_immutable ();
      if (json_parser_load_from_data (parser, info->view, -1, NULL)
          && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        {
          vg_reply_json_text (call->req, SOUP_STATUS_OK, info->view, -1);
          vg_cluster_count_routed (cluster, "view");
          call_done (call);
          return;
        }
      g_warning ("cluster: the stored view of %s is not JSON; asking its owner",
                 vg_request_path (call->req));
    }
  forward (call, cluster, info->url);
}

gboolean
vg_cluster_gate (VgRequest *req, const char *room, const VgGate *gate)
{
  VgCluster *cluster = cluster_of (req);
  if (!cluster || !room || vg_rooms_lookup (vg_request_app (req)->rooms, room))
    return FALSE;
  VgGateCall *call = call_new (req, gate);
  if (gate->mode == VG_GATE_PLACE)
    vg_cluster_place (cluster, room, gate_placed, call);
  else
    vg_cluster_lookup_room (cluster, room,
                            gate->mode == VG_GATE_VIEW ? gate->view : VG_CLUSTER_VIEW_ROOM_REST,
                            gate_looked_up, call);
  return TRUE;
}

gboolean
vg_cluster_gate_join (VgRequest *req, const char *room, VgGateLocal local, gpointer data,
                      GDestroyNotify free)
{
  VgCluster *cluster = cluster_of (req);
  if (!cluster || vg_rooms_lookup (vg_request_app (req)->rooms, room))
    return FALSE;
  VgGate gate = { .mode = VG_GATE_PLACE, .local = local, .data = data, .free = free };
  VgGateCall *call = call_new (req, &gate);
  call->redirect = TRUE;
  vg_cluster_place (cluster, room, gate_placed, call);
  return TRUE;
}

gboolean
vg_cluster_gate_session (VgRequest *req, const char *session_id, VgGateLocal local)
{
  VgCluster *cluster = cluster_of (req);
  if (!cluster || vg_rooms_lookup_session (vg_request_app (req)->rooms, session_id))
    return FALSE;
  VgGate gate = { .mode = VG_GATE_FORWARD, .local = local };
  VgGateCall *call = call_new (req, &gate);
  call->redirect = TRUE;
  vg_cluster_lookup_session (cluster, session_id, gate_looked_up, call);
  return TRUE;
}

static void
gate_listed (GArray *infos, const GError *error, gpointer data)
{
  VgGateCall *call = data;
  VgRooms *rooms = vg_request_app (call->req)->rooms;
  g_autoptr (JsonArray) remote = NULL;
  if (error)
    g_warning ("cluster: listing rooms of other nodes: %s; listing this node's", error->message);
  else
    {
      remote = json_array_new ();
      for (guint i = 0; i < infos->len; i++)
        {
          VgClusterInfo *info = &g_array_index (infos, VgClusterInfo, i);
          if (info->local || vg_rooms_lookup (rooms, info->name))
            continue;
          g_autoptr (JsonParser) parser = json_parser_new ();
          if (json_parser_load_from_data (parser, info->view, -1, NULL)
              && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
            json_array_add_element (remote, json_node_copy (json_parser_get_root (parser)));
          else
            g_warning ("cluster: the stored view of room %s is not JSON; left out", info->name);
        }
    }
  call->list (call->req, remote, call->gate.data);
  call_done (call);
}

gboolean
vg_cluster_gate_list (VgRequest *req, VgClusterView view, VgGateList list, gpointer data,
                      GDestroyNotify free)
{
  VgCluster *cluster = cluster_of (req);
  if (!cluster)
    return FALSE;
  VgGate gate = { .data = data, .free = free };
  VgGateCall *call = call_new (req, &gate);
  call->list = list;
  vg_cluster_list_rooms (cluster, view, gate_listed, call);
  return TRUE;
}

/* --- the heartbeat's snapshot of local rooms ----------------------------------- */

static char *
node_text (JsonNode *node /* transfer full */)
{
  char *text = json_to_string (node, FALSE);
  json_node_unref (node);
  return text;
}

static char *
room_text (VgRoom *room, VgJsonShape shape)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  vg_room_json (b, room, shape);
  return node_text (json_builder_get_root (b));
}

static GPtrArray *
snapshot (gpointer data, const char *only)
{
  VgRooms *rooms = data;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)vg_cluster_room_free);
  g_autoptr (GPtrArray) list = vg_rooms_list (rooms);
  for (guint i = 0; i < list->len; i++)
    {
      VgRoom *room = g_ptr_array_index (list, i);
      if (only && g_strcmp0 (only, vg_room_get_name (room)) != 0)
        continue;
      VgClusterRoom *r
          = vg_cluster_room_new (vg_room_get_name (room), vg_room_get_created_at (room));
      g_autoptr (GPtrArray) ps = vg_room_list_participants (room);
      r->views[VG_CLUSTER_VIEW_ROOM_REST] = room_text (room, VG_JSON_REST);
      r->views[VG_CLUSTER_VIEW_ROOM_PROTO] = room_text (room, VG_JSON_PROTO);
      r->views[VG_CLUSTER_VIEW_PARTICIPANTS_REST]
          = node_text (vg_participants_list_json (ps, VG_JSON_REST));
      r->views[VG_CLUSTER_VIEW_PARTICIPANTS_PROTO]
          = node_text (vg_participants_list_json (ps, VG_JSON_PROTO));
      for (guint j = 0; j < ps->len; j++)
        {
          VgParticipant *p = g_ptr_array_index (ps, j);
          g_ptr_array_add (r->session_ids, g_strdup (vg_participant_get_session_id (p)));
          g_ptr_array_add (r->identities, g_strdup (vg_participant_get_identity (p)));
        }
      g_ptr_array_add (out, r);
    }
  return out;
}

static guint
count_sessions (gpointer data)
{
  g_autoptr (GPtrArray) list = vg_rooms_list (data);
  guint n = 0;
  for (guint i = 0; i < list->len; i++)
    n += vg_room_count_participants (g_ptr_array_index (list, i));
  return n;
}

static guint
count_rooms (gpointer data)
{
  return vg_rooms_count (data);
}

const VgClusterHost vg_cluster_rooms_host = { snapshot, count_sessions, count_rooms };
