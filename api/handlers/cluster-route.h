/* How the HTTP handlers answer for a room another node owns (with
 * [cache] url): redirect (WHIP/WHEP, sessions), forward the request to the
 * owner and relay its reply (room mutations), or serve the owner's stored
 * view (room reads). Without a cluster every function here is a no-op that
 * returns FALSE, so handlers read the same either way.
 *
 * Threading: main context; replies are asynchronous (the request is paused
 * and referenced until answered). */
#pragma once

#include "api/http.h"
#include "gateway/cluster/cluster.h"
#include "gateway/rooms/rooms.h"

G_BEGIN_DECLS

/* A request sent by another node on behalf of a client carries this header
 * (its value: that node's id); it is always served here, never sent on, so a
 * request crosses at most one hop. */
#define VG_CLUSTER_FORWARDED_HEADER "X-Voxgate-Forwarded"

typedef enum
{
  VG_GATE_FORWARD, /* a mutation: the owner runs it */
  VG_GATE_PLACE,   /* a creation: placed first, then run by the owner */
  VG_GATE_VIEW,    /* a read: the owner's stored view is the reply */
} VgGateMode;

/* Runs the handler's local part (the room may or may not be open here). */
typedef void (*VgGateLocal) (VgRequest *req, gpointer data);

typedef struct
{
  VgGateMode mode;
  VgClusterView view;  /* VG_GATE_VIEW */
  gboolean twirp;      /* errors in Twirp's shape */
  VgGateLocal local;   /* called when this node serves it */
  gpointer data;       /* passed to local */
  GDestroyNotify free; /* frees data after local ran or the request was answered */
} VgGate;

/* TRUE when the request was taken (answered later, from elsewhere or by
 * gate->local); FALSE when the caller should serve it now: no cluster, the
 * room is open here, or the request was forwarded to us. gate->data is
 * freed with gate->free either way only when TRUE is returned. */
gboolean vg_cluster_gate (VgRequest *req, const char *room, const VgGate *gate);

/* For a POST whose room is not open here: places it; calls local when this
 * node is to serve it, else replies 307 to the owner's same URL. TRUE when
 * taken, as vg_cluster_gate. */
gboolean vg_cluster_gate_join (VgRequest *req, const char *room, VgGateLocal local, gpointer data,
                               GDestroyNotify free);

/* For a session URL that is not open here: 307 to the node that holds it,
 * else local (which answers 404). */
gboolean vg_cluster_gate_session (VgRequest *req, const char *session_id, VgGateLocal local);

/* The absolute URL of a path on this node (with a cluster), else the path. */
char *vg_cluster_local_url (VgRequest *req, const char *path);

/* ListRooms on any node: the rooms open here (as JSON object nodes built
 * by the caller) merged with every other node's stored view. */
typedef void (*VgGateList) (VgRequest *req, JsonArray *remote_rooms /* may be NULL */,
                            gpointer data);
/* TRUE when taken: list is called later with the other nodes' rooms (only
 * rooms not open here; NULL when Redis is down: the local list is served). */
gboolean vg_cluster_gate_list (VgRequest *req, VgClusterView view, VgGateList list, gpointer data,
                               GDestroyNotify free);

/* The local rooms for the cluster's heartbeat (VgClusterHost on VgRooms). */
extern const VgClusterHost vg_cluster_rooms_host;

G_END_DECLS
