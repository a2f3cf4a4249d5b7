/* More than one node on one Redis: the node registry (heartbeats with a
 * TTL), atomic room placement, and the room and session state any node reads
 * to answer for a room it does not own. The scripts that do the work are in
 * gateway/cluster/lua/; the Redis keys are listed in README "More than one
 * node".
 *
 * The cluster knows nothing of rooms' internals: the composition root lends
 * it a VgClusterHost that snapshots the local rooms (names, sessions, and
 * the JSON views the room APIs serve). It never creates or closes a room;
 * the HTTP handlers ask it where a room lives and redirect or forward.
 *
 * Threading: every function here and every callback runs on the main
 * context. Nothing blocks: each call is one asynchronous script on the
 * VgRedis client. When Redis is down, placement answers "local" at once
 * (degraded: the node serves what reaches it) and lookups answer "unknown". */
#pragma once

#include <glib.h>
#include "gateway/cache/redis-client.h"
#include "gateway/core/app.h"

G_BEGIN_DECLS

#define VG_CLUSTER_ERROR (vg_cluster_error_quark ())
GQuark vg_cluster_error_quark (void);

typedef enum
{
  VG_CLUSTER_ERROR_STATE,    /* the room's or session's state in Redis is unreadable */
  VG_CLUSTER_ERROR_DRAINING, /* no live node takes new rooms */
  VG_CLUSTER_ERROR_DOWN,     /* Redis is unreachable (lookups only) */
} VgClusterError;

/* The JSON texts stored with each room, so that any node can serve reads:
 * the room and its participant list, in the REST and in the proto3 shape. */
typedef enum
{
  VG_CLUSTER_VIEW_ROOM_REST,
  VG_CLUSTER_VIEW_ROOM_PROTO,
  VG_CLUSTER_VIEW_PARTICIPANTS_REST,
  VG_CLUSTER_VIEW_PARTICIPANTS_PROTO,
  VG_CLUSTER_N_VIEWS
} VgClusterView;

/* One local room as the host sees it now; all strings owned. */
typedef struct
{
  char *name;
  gint64 created_at; /* unix seconds */
  char *views[VG_CLUSTER_N_VIEWS];
  GPtrArray *session_ids; /* of char *, parallel to identities */
  GPtrArray *identities;  /* of char * */
} VgClusterRoom;

VgClusterRoom *vg_cluster_room_new (const char *name, gint64 created_at);
void vg_cluster_room_free (VgClusterRoom *room);

typedef struct
{
  /* A snapshot of the local rooms (only the named one when only is not
   * NULL): a GPtrArray of VgClusterRoom with vg_cluster_room_free. */
  GPtrArray *(*snapshot) (gpointer data, const char *only);
  guint (*count_sessions) (gpointer data);
  guint (*count_rooms) (gpointer data);
} VgClusterHost;

typedef struct _VgCluster VgCluster;

/* Reads [node] from app->config; the node's URL is app->public_url (set
 * before this is called). The first heartbeat is sent at once, then every
 * [node] heartbeat_interval and again whenever Redis comes back. redis and
 * host must outlive the cluster. */
VgCluster *vg_cluster_new (VgApp *app, VgRedis *redis, const VgClusterHost *host,
                           gpointer host_data);
/* Releases the rooms still owned (best effort: a script sent, not waited
 * for) and stops heartbeating. */
void vg_cluster_free (VgCluster *cluster);

const char *vg_cluster_node_id (VgCluster *cluster);
/* The node id [node] id configures, or the host name when it is empty: what
 * the cluster registers, and what the store stamps on this node's
 * conversations (vg_store_recover_node), with or without a cluster. Owned by
 * config (or GLib). */
const char *vg_cluster_node_id_from_config (VgConfig *config);
/* Is this URL (scheme://host:port) this node's? */
const char *vg_cluster_public_url (VgCluster *cluster);

/* Counts a request answered for a room of another node in
 * voxgate_cluster_routed_total{action}: "redirect", "forward", "view". */
void vg_cluster_count_routed (VgCluster *cluster, const char *action);

/* Drain: no new room is placed here from now on (written to Redis at once);
 * the rooms already here keep being served. */
void vg_cluster_set_draining (VgCluster *cluster);
gboolean vg_cluster_is_draining (VgCluster *cluster);

/* A clean stop: stops heartbeating, releases this node's rooms and removes
 * it from the registry (so they are placeable at once, not after the TTL),
 * then calls done (also when Redis is down). */
void vg_cluster_leave (VgCluster *cluster, GSourceFunc done, gpointer data);

/* Schedules a write of the room's state (coalesced, on an idle); called on
 * room events and after mutations so reads elsewhere see them soon. */
void vg_cluster_room_changed (VgCluster *cluster, const char *room);

typedef struct
{
  const char *owner; /* node id */
  const char *url;   /* the owner's public URL */
  gboolean local;    /* the room is (to be) served here */
  gboolean degraded; /* Redis was unreachable: local without asking */
} VgClusterPlacement;

typedef void (*VgClusterPlaceFunc) (const VgClusterPlacement *placement, const GError *error,
                                    gpointer user_data);

/* Where a room that is not open here lives, placing it (atomically, on this
 * node when it takes new rooms and has room, else on the least loaded live
 * node) when no live node owns it. Errors: VG_CLUSTER_ERROR_STATE,
 * VG_CLUSTER_ERROR_DRAINING. */
void vg_cluster_place (VgCluster *cluster, const char *room, VgClusterPlaceFunc callback,
                       gpointer user_data);

typedef struct
{
  const char *name;     /* room name (room lookups and lists) */
  const char *owner;    /* live owner node id */
  const char *url;      /* its public URL */
  const char *view;     /* the requested stored view (JSON text), NULL if not written yet */
  const char *room;     /* session lookups: the session's room */
  const char *identity; /* session lookups: its participant */
  gboolean local;       /* owner is this node */
} VgClusterInfo;

/* info is NULL when no live node has it; error when Redis is down
 * (VG_CLUSTER_ERROR_DOWN) or its state is unreadable. */
typedef void (*VgClusterLookupFunc) (const VgClusterInfo *info, const GError *error,
                                     gpointer user_data);
void vg_cluster_lookup_room (VgCluster *cluster, const char *room, VgClusterView view,
                             VgClusterLookupFunc callback, gpointer user_data);
void vg_cluster_lookup_session (VgCluster *cluster, const char *session_id,
                                VgClusterLookupFunc callback, gpointer user_data);

/* Every live room with its stored view: infos is an array of VgClusterInfo
 * (borrowed for the call), NULL with error when Redis is down. */
typedef void (*VgClusterListFunc) (GArray *infos, const GError *error, gpointer user_data);
void vg_cluster_list_rooms (VgCluster *cluster, VgClusterView view, VgClusterListFunc callback,
                            gpointer user_data);

G_END_DECLS
