/* A per-webrtcbin GstWebRTCICE on a shared GstWebRTCNice; see shared-ice.h.
 *
 * Ownership: each VgSharedIce holds a reference to its agent (a
 * GstWebRTCNice); the hub (below) holds one to the current agent. The
 * routing table maps a process-unique session id to the VgSharedIce that
 * owns it, by pointer: a VgSharedIce removes its rows in dispose, which
 * waits for any candidate callback running for it, so no callback reaches a
 * webrtcbin after it let its ICE go (as with webrtcbin's own agent, whose
 * thread is joined then).
 * Threads: the webrtcbin's operations thread calls the vfuncs; the agent's
 * main-loop thread calls route_candidate; dispose runs where the webrtcbin
 * is disposed (never the agent's thread: nothing there holds a reference). */
#include "gateway/rooms/shared-ice.h"
#include <gst/webrtc/nice/nice.h>
#include <nice/agent.h>

GST_DEBUG_CATEGORY_STATIC (vg_shared_ice_debug);
#define GST_CAT_DEFAULT vg_shared_ice_debug

typedef struct
{
  guint shared_id;            /* the session id on the shared agent */
  guint session_id;           /* the webrtcbin's own */
  GstWebRTCICEStream *stream; /* owned by the shared agent */
} Stream;

/* A shared agent, with a count of its holders (the hub and each peer). */
typedef struct
{
  gint refs;
  GstWebRTCICE *nice;
} Agent;

typedef struct
{
  GstWebRTCICE parent;
  Agent *agent;       /* the shared agent (a reference) */
  GstWebRTCICE *nice; /* agent->nice */
  /* Under table_lock (written by the operations thread and dispose): */
  GArray *streams; /* Stream */
  GstWebRTCICEOnCandidateFunc on_candidate;
  gpointer on_candidate_data;
  GDestroyNotify on_candidate_notify;
  guint callbacks_running;
} VgSharedIce;

typedef struct
{
  GstWebRTCICEClass parent_class;
} VgSharedIceClass;

G_DEFINE_TYPE (VgSharedIce, vg_shared_ice, GST_TYPE_WEBRTC_ICE)
#define VG_SHARED_ICE(obj) ((VgSharedIce *)(obj))

/* The routing table: shared session id -> VgSharedIce, and the counter. */
static GMutex table_lock;
static GCond callbacks_done;
static GHashTable *routes; /* GUINT_TO_POINTER (shared_id) -> VgSharedIce */
static guint next_shared_id;

typedef struct
{
  gint refs;
  GMutex lock;
  GCond cond;
  gboolean closed;
} Closing;

static void
closing_unref (Closing *c)
{
  if (!g_atomic_int_dec_and_test (&c->refs))
    return;
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->cond);
  g_free (c);
}

/* The agent's thread. */
static void
agent_closed (GObject *agent, GAsyncResult *result, gpointer data)
{
  Closing *c = data;
  g_mutex_lock (&c->lock);
  c->closed = TRUE;
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->lock);
  closing_unref (c);
}

/* The last holder lets the agent go. Its TURN allocations (the streams
 * removed in dispose are still deallocating) are released first, as libnice
 * asks: up to 2 s for the TURN server's answers. Never on the agent's own
 * thread (it is joined when the GstWebRTCNice is finalized). */
static void
agent_unref (Agent *a)
{
  if (!g_atomic_int_dec_and_test (&a->refs))
    return;
  NiceAgent *agent = NULL;
  g_object_get (a->nice, "agent", &agent, NULL);
  if (agent)
    {
      Closing *c = g_new0 (Closing, 1);
      c->refs = 2;
      g_mutex_init (&c->lock);
      g_cond_init (&c->cond);
      nice_agent_close_async (agent, agent_closed, c);
      gint64 deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
      g_mutex_lock (&c->lock);
      while (!c->closed && g_cond_wait_until (&c->cond, &c->lock, deadline))
        ;
      g_mutex_unlock (&c->lock);
      closing_unref (c);
      g_object_unref (agent);
    }
  gst_object_unref (a->nice);
  g_free (a);
}

/* The hub: the agent new webrtcbins join, under hub_lock. */
static GMutex hub_lock;
static Agent *hub_agent;
static char *hub_key; /* the settings it was made with */
static guint hub_peers;
static guint hub_serial;

/* The agent's thread, for each candidate it gathers. */
static void
route_candidate (GstWebRTCICE *nice, guint shared_id, const gchar *candidate, gpointer unused)
{
  g_mutex_lock (&table_lock);
  VgSharedIce *self = routes ? g_hash_table_lookup (routes, GUINT_TO_POINTER (shared_id)) : NULL;
  GstWebRTCICEOnCandidateFunc func = self ? self->on_candidate : NULL;
  gpointer data = self ? self->on_candidate_data : NULL;
  guint session_id = G_MAXUINT;
  for (guint i = 0; func && i < self->streams->len; i++)
    if (g_array_index (self->streams, Stream, i).shared_id == shared_id)
      session_id = g_array_index (self->streams, Stream, i).session_id;
  if (session_id == G_MAXUINT)
    func = NULL;
  else
    self->callbacks_running++;
  g_mutex_unlock (&table_lock);
  if (!func)
    return;

  func (GST_WEBRTC_ICE (self), session_id, candidate, data);

  g_mutex_lock (&table_lock);
  if (--self->callbacks_running == 0)
    g_cond_broadcast (&callbacks_done);
  g_mutex_unlock (&table_lock);
}

static GstWebRTCICEStream *
shared_add_stream (GstWebRTCICE *ice, guint session_id)
{
  VgSharedIce *self = VG_SHARED_ICE (ice);
  Stream s = { .session_id = session_id };
  g_mutex_lock (&table_lock);
  for (guint i = 0; i < self->streams->len; i++)
    if (g_array_index (self->streams, Stream, i).session_id == session_id)
      {
        g_mutex_unlock (&table_lock);
        GST_ERROR_OBJECT (ice, "stream already added with session_id=%u", session_id);
        return NULL;
      }
  /* GstWebRTCNice matches G_MAXUINT as "any session". */
  do
    s.shared_id = next_shared_id++;
  while (s.shared_id == G_MAXUINT
         || g_hash_table_contains (routes, GUINT_TO_POINTER (s.shared_id)));
  g_hash_table_insert (routes, GUINT_TO_POINTER (s.shared_id), self);
  g_mutex_unlock (&table_lock);

  /* Gathering (and so the first candidate) starts only after this returns. */
  s.stream = gst_webrtc_ice_add_stream (self->nice, s.shared_id);
  g_mutex_lock (&table_lock);
  if (s.stream)
    g_array_append_val (self->streams, s);
  else
    g_hash_table_remove (routes, GUINT_TO_POINTER (s.shared_id));
  g_mutex_unlock (&table_lock);
  return s.stream;
}

static GstWebRTCICETransport *
shared_find_transport (GstWebRTCICE *ice, GstWebRTCICEStream *stream,
                       GstWebRTCICEComponent component)
{
  return gst_webrtc_ice_find_transport (VG_SHARED_ICE (ice)->nice, stream, component);
}

static gboolean
shared_gather_candidates (GstWebRTCICE *ice, GstWebRTCICEStream *stream)
{
  return gst_webrtc_ice_gather_candidates (VG_SHARED_ICE (ice)->nice, stream);
}

static void
shared_add_candidate (GstWebRTCICE *ice, GstWebRTCICEStream *stream, const gchar *candidate)
{
  gst_webrtc_ice_add_candidate (VG_SHARED_ICE (ice)->nice, stream, candidate);
}

static gboolean
shared_set_local_credentials (GstWebRTCICE *ice, GstWebRTCICEStream *stream, const gchar *ufrag,
                              const gchar *pwd)
{
  return gst_webrtc_ice_set_local_credentials (VG_SHARED_ICE (ice)->nice, stream, ufrag, pwd);
}

static gboolean
shared_set_remote_credentials (GstWebRTCICE *ice, GstWebRTCICEStream *stream, const gchar *ufrag,
                               const gchar *pwd)
{
  return gst_webrtc_ice_set_remote_credentials (VG_SHARED_ICE (ice)->nice, stream, ufrag, pwd);
}

/* The agent-wide settings below are the same for every webrtcbin of the
 * process (the [webrtc] configuration): passing them on is idempotent. */
static gboolean
shared_add_turn_server (GstWebRTCICE *ice, const gchar *uri)
{
  return gst_webrtc_ice_add_turn_server (VG_SHARED_ICE (ice)->nice, uri);
}

/* webrtcbin asks for the controlling role when it offers or when the
 * offerer is ice-lite; the role is agent-wide, so one peer cannot have it
 * (participant.c gives ice-lite offerers an agent of their own). */
static void
shared_set_is_controller (GstWebRTCICE *ice, gboolean controller)
{
  if (controller)
    {
      GST_WARNING_OBJECT (ice, "a shared ICE agent stays controlled for all its peers");
      return;
    }
  gst_webrtc_ice_set_is_controller (VG_SHARED_ICE (ice)->nice, FALSE);
}

static gboolean
shared_get_is_controller (GstWebRTCICE *ice)
{
  return gst_webrtc_ice_get_is_controller (VG_SHARED_ICE (ice)->nice);
}

static void
shared_set_force_relay (GstWebRTCICE *ice, gboolean force_relay)
{
  gst_webrtc_ice_set_force_relay (VG_SHARED_ICE (ice)->nice, force_relay);
}

static void
shared_set_stun_server (GstWebRTCICE *ice, const gchar *uri)
{
  gst_webrtc_ice_set_stun_server (VG_SHARED_ICE (ice)->nice, uri);
}

static gchar *
shared_get_stun_server (GstWebRTCICE *ice)
{
  return gst_webrtc_ice_get_stun_server (VG_SHARED_ICE (ice)->nice);
}

static void
shared_set_turn_server (GstWebRTCICE *ice, const gchar *uri)
{
  gst_webrtc_ice_set_turn_server (VG_SHARED_ICE (ice)->nice, uri);
}

static gchar *
shared_get_turn_server (GstWebRTCICE *ice)
{
  return gst_webrtc_ice_get_turn_server (VG_SHARED_ICE (ice)->nice);
}

static void
shared_set_http_proxy (GstWebRTCICE *ice, const gchar *uri)
{
  gst_webrtc_ice_set_http_proxy (VG_SHARED_ICE (ice)->nice, uri);
}

static gchar *
shared_get_http_proxy (GstWebRTCICE *ice)
{
  return gst_webrtc_ice_get_http_proxy (VG_SHARED_ICE (ice)->nice);
}

static void
shared_set_tos (GstWebRTCICE *ice, GstWebRTCICEStream *stream, guint tos)
{
  gst_webrtc_ice_set_tos (VG_SHARED_ICE (ice)->nice, stream, tos);
}

static void
shared_set_on_ice_candidate (GstWebRTCICE *ice, GstWebRTCICEOnCandidateFunc func,
                             gpointer user_data, GDestroyNotify notify)
{
  VgSharedIce *self = VG_SHARED_ICE (ice);
  g_mutex_lock (&table_lock);
  while (self->callbacks_running)
    g_cond_wait (&callbacks_done, &table_lock);
  gpointer old_data = self->on_candidate_data;
  GDestroyNotify old_notify = self->on_candidate_notify;
  self->on_candidate = func;
  self->on_candidate_data = user_data;
  self->on_candidate_notify = notify;
  g_mutex_unlock (&table_lock);
  if (old_notify)
    old_notify (old_data);
}

static GstWebRTCICECandidateStats **
shared_get_local_candidates (GstWebRTCICE *ice, GstWebRTCICEStream *stream)
{
  return gst_webrtc_ice_get_local_candidates (VG_SHARED_ICE (ice)->nice, stream);
}

static GstWebRTCICECandidateStats **
shared_get_remote_candidates (GstWebRTCICE *ice, GstWebRTCICEStream *stream)
{
  return gst_webrtc_ice_get_remote_candidates (VG_SHARED_ICE (ice)->nice, stream);
}

static gboolean
shared_get_selected_pair (GstWebRTCICE *ice, GstWebRTCICEStream *stream,
                          GstWebRTCICECandidateStats **local, GstWebRTCICECandidateStats **remote)
{
  return gst_webrtc_ice_get_selected_pair (VG_SHARED_ICE (ice)->nice, stream, local, remote);
}

/* The webrtcbin let go of its ICE (it is stopped: its nicesrc and nicesink
 * are in NULL). No candidate reaches it after this returns; its libnice
 * streams (and their sockets) are removed from the shared agent. The
 * GstWebRTCNiceStream objects stay with the shared agent until it is
 * finalized (GstWebRTCNice has no way to drop one), hence the cap per
 * agent. */
static void
vg_shared_ice_dispose (GObject *object)
{
  VgSharedIce *self = VG_SHARED_ICE (object);

  g_mutex_lock (&table_lock);
  for (guint i = 0; i < self->streams->len; i++)
    g_hash_table_remove (routes,
                         GUINT_TO_POINTER (g_array_index (self->streams, Stream, i).shared_id));
  while (self->callbacks_running)
    g_cond_wait (&callbacks_done, &table_lock);
  gpointer data = self->on_candidate_data;
  GDestroyNotify notify = self->on_candidate_notify;
  self->on_candidate = NULL;
  self->on_candidate_notify = NULL;
  GArray *streams = self->streams;
  self->streams = g_array_new (FALSE, TRUE, sizeof (Stream));
  g_mutex_unlock (&table_lock);
  if (notify)
    notify (data);

  NiceAgent *agent = NULL;
  if (self->nice && streams->len)
    g_object_get (self->nice, "agent", &agent, NULL);
  for (guint i = 0; agent && i < streams->len; i++)
    nice_agent_remove_stream (agent, g_array_index (streams, Stream, i).stream->stream_id);
  g_clear_object (&agent);
  g_array_unref (streams);
  self->nice = NULL;
  g_clear_pointer (&self->agent, agent_unref);

  G_OBJECT_CLASS (vg_shared_ice_parent_class)->dispose (object);
}

static void
vg_shared_ice_finalize (GObject *object)
{
  VgSharedIce *self = VG_SHARED_ICE (object);
  g_array_unref (self->streams);
  G_OBJECT_CLASS (vg_shared_ice_parent_class)->finalize (object);
}

static void
vg_shared_ice_init (VgSharedIce *self)
{
  self->streams = g_array_new (FALSE, TRUE, sizeof (Stream));
}

static void
vg_shared_ice_class_init (VgSharedIceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GstWebRTCICEClass *ice_class = GST_WEBRTC_ICE_CLASS (klass);

  object_class->dispose = vg_shared_ice_dispose;
  object_class->finalize = vg_shared_ice_finalize;
  ice_class->add_stream = shared_add_stream;
  ice_class->find_transport = shared_find_transport;
  ice_class->gather_candidates = shared_gather_candidates;
  ice_class->add_candidate = shared_add_candidate;
  ice_class->set_local_credentials = shared_set_local_credentials;
  ice_class->set_remote_credentials = shared_set_remote_credentials;
  ice_class->add_turn_server = shared_add_turn_server;
  ice_class->set_is_controller = shared_set_is_controller;
  ice_class->get_is_controller = shared_get_is_controller;
  ice_class->set_force_relay = shared_set_force_relay;
  ice_class->set_stun_server = shared_set_stun_server;
  ice_class->get_stun_server = shared_get_stun_server;
  ice_class->set_turn_server = shared_set_turn_server;
  ice_class->get_turn_server = shared_get_turn_server;
  ice_class->set_http_proxy = shared_set_http_proxy;
  ice_class->get_http_proxy = shared_get_http_proxy;
  ice_class->set_tos = shared_set_tos;
  ice_class->set_on_ice_candidate = shared_set_on_ice_candidate;
  ice_class->get_local_candidates = shared_get_local_candidates;
  ice_class->get_remote_candidates = shared_get_remote_candidates;
  ice_class->get_selected_pair = shared_get_selected_pair;
  GST_DEBUG_CATEGORY_INIT (vg_shared_ice_debug, "vgsharedice", 0, "voxgate shared ICE agent");
}

/* Restricts the local addresses libnice gathers on; it then skips the
 * interface scan. */
static void
bind_ice_addresses (NiceAgent *agent, char **addresses)
{
  for (guint i = 0; addresses && addresses[i]; i++)
    {
      NiceAddress addr;
      nice_address_init (&addr);
      /* The configuration checked the syntax; a failure here is a bug. */
      if (!nice_address_set_from_string (&addr, addresses[i])
          || !nice_agent_add_local_address (agent, &addr))
        g_warning ("rooms: ICE cannot gather on %s", addresses[i]);
    }
}

void
vg_ice_configure (GstWebRTCICE *ice, const VgRoomsSettings *settings)
{
  NiceAgent *agent = NULL;

  if (settings->ice_port_min && settings->ice_port_max)
    g_object_set (ice, "min-rtp-port", settings->ice_port_min, "max-rtp-port",
                  settings->ice_port_max, NULL);
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "agent"))
    g_object_get (ice, "agent", &agent, NULL);
  if (agent && NICE_IS_AGENT (agent))
    {
      GObjectClass *klass = G_OBJECT_GET_CLASS (agent);
      if (g_object_class_find_property (klass, "upnp"))
        g_object_set (agent, "upnp", FALSE, NULL);
      GParamSpec *consent = g_object_class_find_property (klass, "consent-freshness");
      if (consent && (consent->flags & G_PARAM_WRITABLE)
          && !(consent->flags & G_PARAM_CONSTRUCT_ONLY))
        g_object_set (agent, "consent-freshness", TRUE, NULL);
      bind_ice_addresses (agent, settings->ice_addresses);
    }
  g_clear_object (&agent);
}

/* libnice's UPnP IGD discovery opens SSDP sockets and threads per agent and
 * only helps a gateway behind a home router; consent freshness (RFC 7675)
 * lets ICE notice a peer that vanished. The port range is GstWebRTCICE's
 * (applied to every stream it gathers for); the addresses are libnice's. */
static Agent *
make_agent (const VgRoomsSettings *settings)
{
  g_autofree char *name = g_strdup_printf ("vg-ice-%u", hub_serial++);
  GstWebRTCICE *nice = GST_WEBRTC_ICE (gst_object_ref_sink (gst_webrtc_nice_new (name)));
  vg_ice_configure (nice, settings);
  gst_webrtc_ice_set_on_ice_candidate (nice, route_candidate, NULL, NULL);
  Agent *a = g_new0 (Agent, 1);
  a->refs = 1;
  a->nice = nice;
  return a;
}

static char *
settings_key (const VgRoomsSettings *settings)
{
  g_autofree char *addresses
      = settings->ice_addresses ? g_strjoinv (",", settings->ice_addresses) : g_strdup ("");
  return g_strdup_printf ("%u-%u|%s", settings->ice_port_min, settings->ice_port_max, addresses);
}

GstWebRTCICE *
vg_shared_ice_new (const VgRoomsSettings *settings)
{
  g_mutex_lock (&table_lock);
  if (!routes)
    routes = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_mutex_unlock (&table_lock);

  g_autofree char *key = settings_key (settings);
  Agent *retired = NULL;
  g_mutex_lock (&hub_lock);
  if (!hub_agent || hub_peers >= VG_SHARED_ICE_PEERS || g_strcmp0 (key, hub_key) != 0)
    {
      retired = g_steal_pointer (&hub_agent);
      hub_agent = make_agent (settings);
      g_free (hub_key);
      hub_key = g_steal_pointer (&key);
      hub_peers = 0;
    }
  hub_peers++;
  VgSharedIce *self = g_object_new (vg_shared_ice_get_type (), NULL);
  gst_object_ref_sink (self);
  g_atomic_int_inc (&hub_agent->refs);
  self->agent = hub_agent;
  self->nice = hub_agent->nice;
  g_mutex_unlock (&hub_lock);
  g_clear_pointer (&retired, agent_unref);
  return GST_WEBRTC_ICE (self);
}

void
vg_shared_ice_release (void)
{
  g_mutex_lock (&hub_lock);
  Agent *agent = g_steal_pointer (&hub_agent);
  g_clear_pointer (&hub_key, g_free);
  hub_peers = 0;
  g_mutex_unlock (&hub_lock);
  g_clear_pointer (&agent, agent_unref);
}
