/* Every configuration key voxgate reads, with its type, default and limits. */
#include "gateway/core/config-schema.h"

#include <gio/gio.h>
#include <string.h>

static gboolean
check_url_scheme (const char *value, const char *const *schemes, gboolean allow_empty)
{
  if (*value == '\0')
    return allow_empty;
  for (guint i = 0; schemes[i]; i++)
    if (g_str_has_prefix (value, schemes[i]) && strlen (value) > strlen (schemes[i]))
      return TRUE;
  return FALSE;
}

static gboolean
check_http_url (const char *value, const char **allowed)
{
  static const char *const schemes[] = { "http://", "https://", NULL };
  *allowed = "empty, or an absolute http:// or https:// URL";
  if (*value == '\0')
    return TRUE;
  return check_url_scheme (value, schemes, FALSE) && g_uri_is_valid (value, G_URI_FLAGS_NONE, NULL);
}

static gboolean
check_store_url (const char *value, const char **allowed)
{
  static const char *const schemes[] = { "sqlite:", "postgresql://", "postgres://", NULL };
  *allowed = "empty (SQLite in the data dir), sqlite:PATH, or postgresql://...";
  return check_url_scheme (value, schemes, TRUE);
}

static gboolean
check_cache_url (const char *value, const char **allowed)
{
  static const char *const schemes[] = { "redis://", "unix://", "unix:/", NULL };
  /* rediss:// is refused: Debian 12's hiredis 0.14 has no TLS. */
  *allowed = "empty (in-process), redis://[:PASSWORD@]HOST[:PORT][/DB], or unix:///PATH[?db=N] "
             "(rediss:// is not supported: hiredis 0.14 has no TLS)";
  return check_url_scheme (value, schemes, TRUE);
}

static gboolean
check_ws_url (const char *value, const char **allowed)
{
  static const char *const schemes[] = { "ws://", "wss://", NULL };
  *allowed = "a ws:// or wss:// URL";
  return check_url_scheme (value, schemes, FALSE);
}

static gboolean
check_ice_url (const char *value, const char **allowed)
{
  static const char *const schemes[] = { "stun://", "stun:", "turn://", "turn:", "turns:", NULL };
  *allowed = "empty, or a stun:, turn: or turns: URL";
  return check_url_scheme (value, schemes, TRUE);
}

static gboolean
check_url_list (const char *value, const char **allowed)
{
  g_auto (GStrv) items = g_strsplit (value, ",", -1);
  const char *item_allowed;

  *allowed = "comma-separated absolute http:// or https:// URLs";
  for (guint i = 0; items[i]; i++)
    {
      char *item = g_strstrip (items[i]);
      if (*item && !check_http_url (item, &item_allowed))
        return FALSE;
    }
  return TRUE;
}

static gboolean
check_pipeline_name (const char *value, const char **allowed)
{
  *allowed = "empty (automatic), or a file name ending in .pipeline (no directories)";
  if (*value == '\0')
    return TRUE;
  return g_str_has_suffix (value, ".pipeline") && !strchr (value, '/') && value[0] != '.';
}

static gboolean
check_not_empty (const char *value, const char **allowed)
{
  *allowed = "a non-empty value";
  return *value != '\0';
}

static gboolean
check_listen (const char *value, const char **allowed)
{
  *allowed = "an IPv4 or IPv6 address, or localhost";
  if (g_str_equal (value, "localhost"))
    return TRUE;
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (value);
  return addr != NULL;
}

static gboolean
check_ip_address (const char *value, const char **allowed)
{
  *allowed = "empty, or an IPv4 or IPv6 address (no host name)";
  if (*value == '\0')
    return TRUE;
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (value);
  return addr != NULL;
}

static gboolean
check_ip_address_list (const char *value, const char **allowed)
{
  g_auto (GStrv) items = g_strsplit (value, ",", -1);
  *allowed = "comma-separated IPv4 or IPv6 addresses of this host (empty = every interface)";
  for (guint i = 0; items[i]; i++)
    {
      char *item = g_strstrip (items[i]);
      if (*item == '\0')
        continue;
      g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (item);
      if (!addr)
        return FALSE;
    }
  return TRUE;
}

static const VgConfigKey schema[] = {
  { "server", "listen", VG_KEY_STRING, "127.0.0.1", "address to listen on", .check = check_listen },
  { "server", "port", VG_KEY_INT, "8080", "TCP port (0 picks a free one)", 0, 65535 },
  { "server", "public_url", VG_KEY_STRING, "",
    "URL clients use to reach this node (default http://LISTEN:PORT)", .check = check_http_url },
  { "server", "tls_cert", VG_KEY_STRING, "", "PEM certificate file; enables HTTPS with tls_key" },
  { "server", "tls_key", VG_KEY_STRING, "", "PEM private key file" },
  { "server", "cors_origins", VG_KEY_LIST, "",
    "origins allowed by CORS (comma-separated, * for any)" },
  { "server", "trusted_proxies", VG_KEY_LIST, "",
    "proxy addresses whose X-Forwarded-For is honoured" },
  { "server", "max_body_bytes", VG_KEY_INT, "1048576", "largest request body accepted", 1024,
    67108864 },
  { "server", "header_timeout", VG_KEY_INT, "10",
    "seconds a client has to send the request line and headers", 1, 3600 },
  { "server", "body_timeout", VG_KEY_INT, "30",
    "longest pause in seconds while a request body arrives", 1, 3600 },
  { "server", "keepalive_timeout", VG_KEY_INT, "60",
    "seconds an idle keep-alive connection stays open for the client's next request", 1, 3600 },
  { "server", "max_connections_per_address", VG_KEY_INT, "128",
    "open connections per client address (0 = no cap; trusted proxies are not capped)", 0,
    1000000 },
  { "server", "data_dir", VG_KEY_STRING, "voxgate-data",
    "directory for the SQLite store, spool and recordings", .check = check_not_empty },
  { "auth", "api_key", VG_KEY_STRING, "devkey", "API key (token issuer)",
    .check = check_not_empty },
  { "auth", "api_secret", VG_KEY_STRING, "secret", "API secret (HS256 key)", .secret = TRUE,
    .check = check_not_empty },
  { "auth", "token_ttl", VG_KEY_INT, "7200", "lifetime of minted tokens in seconds", 60, 2592000 },
  { "auth", "allow_dev_credentials", VG_KEY_BOOL, "false",
    "allow the development key/secret on a non-loopback address" },
  { "rate_limit", "token_per_minute", VG_KEY_INT, "10",
    "token requests per client address per minute (0 = no limit)", 0, 1000000 },
  { "store", "url", VG_KEY_STRING, "",
    "sqlite:PATH or postgresql://... (empty = SQLite in the data dir)", .secret = TRUE,
    .check = check_store_url },
  { "store", "migrate_on_start", VG_KEY_BOOL, "true",
    "apply pending migrations when serving starts" },
  { "cache", "url", VG_KEY_STRING, "",
    "redis://[:password@]host[:port][/db] or unix:///path[?db=N]: rate limits and the room "
    "placement shared by all nodes (empty = one node, in-process; rediss:// is not supported)",
    .secret = TRUE, .check = check_cache_url },
  { "cache", "timeout_ms", VG_KEY_INT, "500",
    "Redis command and connect timeout (ms); slower counts as down (local fallback)", 10, 60000 },
  { "rooms", "auto_create", VG_KEY_BOOL, "true", "create a room on its first join" },
  { "rooms", "empty_timeout", VG_KEY_INT, "300", "seconds an empty room lives", 0, 86400 },
  { "rooms", "max_participants", VG_KEY_INT, "16", "participants per room (0 = no limit)", 0,
    10000 },
  { "webrtc", "stun_server", VG_KEY_STRING, "", "STUN server URL (stun:host:port)",
    .check = check_ice_url },
  { "webrtc", "turn_server", VG_KEY_STRING, "", "TURN server URL (turn://user:pass@host:port)",
    .secret = TRUE, .check = check_ice_url },
  { "webrtc", "ice_port_min", VG_KEY_INT, "0",
    "lowest local UDP port for ICE (0 with ice_port_max 0 = any port)", 0, 65535 },
  { "webrtc", "ice_port_max", VG_KEY_INT, "0",
    "highest local UDP port for ICE; each participant takes one port per local address", 0, 65535 },
  { "webrtc", "nat_1_1_address", VG_KEY_STRING, "",
    "public address advertised in host candidates behind a 1:1 NAT (empty = none)",
    .check = check_ip_address },
  { "webrtc", "keep_private_host", VG_KEY_BOOL, "true",
    "with nat_1_1_address: also advertise the private host candidates (false = replace them)" },
  { "webrtc", "ice_addresses", VG_KEY_LIST, "",
    "local addresses ICE gathers on (comma-separated; empty = every interface but loopback)",
    .check = check_ip_address_list },
  { "webrtc", "shared_ice", VG_KEY_BOOL, "false",
    "one libnice agent and thread for up to 64 participants (false = one per participant)" },
  { "webrtc", "jitter_latency_ms", VG_KEY_INT, "40", "jitterbuffer latency for incoming audio", 0,
    2000 },
  { "webrtc", "disconnect_timeout", VG_KEY_INT, "15", "seconds a disconnected participant is kept",
    1, 3600 },
  { "webrtc", "join_timeout", VG_KEY_INT, "30",
    "seconds an answered participant may take to connect before it is removed", 1, 3600 },
  { "agent", "pipeline", VG_KEY_STRING, "",
    "agent template in pipelines_dir (empty = tutor.pipeline with OPENAI_API_KEY, else "
    "echo.pipeline)",
    .check = check_pipeline_name },
  { "agent", "pipelines_dir", VG_KEY_STRING, "",
    "directory of .pipeline templates (empty = built-in)" },
  { "agent", "realtime_url", VG_KEY_STRING, "wss://api.openai.com/v1/realtime",
    "Realtime API WebSocket URL", .check = check_ws_url },
  { "agent", "model", VG_KEY_STRING, "gpt-realtime", "Realtime model", .check = check_not_empty },
  { "agent", "voice", VG_KEY_STRING, "marin", "voice of the agent", .check = check_not_empty },
  { "agent", "instructions", VG_KEY_STRING,
    "You are a patient, encouraging tutor. Keep answers short and check understanding.",
    "system instructions of the agent" },
  { "agent", "tools_file", VG_KEY_STRING, "",
    "JSON file of operator tools called over HTTP (empty = none; see README)" },
  { "recording", "enabled", VG_KEY_BOOL, "false",
    "record every room from its creation (Ogg/Opus stereo: learners left, agent right, "
    "and a WebVTT transcript)" },
  { "recording", "dir", VG_KEY_STRING, "",
    "directory for recordings (empty = <server.data_dir>/recordings)" },
  { "recording", "retain_days", VG_KEY_DOUBLE, "0",
    "days a finished recording is kept before the gateway deletes it (0 = forever; fractions "
    "allowed)",
    0, 36500 },
  { "recording", "retention_check_seconds", VG_KEY_INT, "3600",
    "how often the gateway looks for recordings older than retain_days", 1, 86400 },
  { "webhooks", "urls", VG_KEY_LIST, "",
    "webhook receiver URLs (comma-separated http:// or https://)", .check = check_url_list },
  { "node", "id", VG_KEY_STRING, "",
    "this node's id (empty = host name): in the cluster and on its conversations in the store" },
  { "node", "heartbeat_interval", VG_KEY_INT, "2",
    "seconds between this node's heartbeats in Redis (with [cache] url)", 1, 60 },
  { "node", "dead_after", VG_KEY_INT, "6",
    "seconds without a heartbeat after which a node is dead and its rooms placeable", 2, 600 },
  { "node", "max_sessions", VG_KEY_INT, "0",
    "sessions above which new rooms are placed on other nodes (0 = no limit)", 0, 1000000 },
  { "node", "drain_timeout", VG_KEY_INT, "0",
    "seconds SIGTERM waits for this node's participants to leave before stopping (a single node "
    "refuses new sessions meanwhile)",
    0, 86400 },
  { "log", "format", VG_KEY_ENUM, "text", "log format", .choices = "text|json" },
  { "log", "level", VG_KEY_ENUM, "info", "least severe level logged",
    .choices = "error|warning|info|debug" },
};

const VgConfigKey *
vg_config_schema (guint *n_keys)
{
  *n_keys = G_N_ELEMENTS (schema);
  return schema;
}

const VgConfigKey *
vg_config_schema_lookup (const char *section, const char *key)
{
  for (guint i = 0; i < G_N_ELEMENTS (schema); i++)
    if (g_str_equal (schema[i].section, section) && g_str_equal (schema[i].key, key))
      return &schema[i];
  return NULL;
}
