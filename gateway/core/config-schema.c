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
  static const char *const schemes[] = { "redis://", "rediss://", "unix://", NULL };
  *allowed = "empty (in-process), redis://HOST[:PORT][/DB], or unix://PATH";
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
    "not yet used (accepted, ignored): redis://... (empty = in-process)", .secret = TRUE,
    .check = check_cache_url },
  { "rooms", "auto_create", VG_KEY_BOOL, "true", "create a room on its first join" },
  { "rooms", "empty_timeout", VG_KEY_INT, "300", "seconds an empty room lives", 0, 86400 },
  { "rooms", "max_participants", VG_KEY_INT, "16", "participants per room (0 = no limit)", 0,
    10000 },
  { "webrtc", "stun_server", VG_KEY_STRING, "", "STUN server URL (stun:host:port)",
    .check = check_ice_url },
  { "webrtc", "turn_server", VG_KEY_STRING, "", "TURN server URL (turn://user:pass@host:port)",
    .secret = TRUE, .check = check_ice_url },
  { "webrtc", "jitter_latency_ms", VG_KEY_INT, "40", "jitterbuffer latency for incoming audio", 0,
    2000 },
  { "webrtc", "disconnect_timeout", VG_KEY_INT, "15", "seconds a disconnected participant is kept",
    1, 3600 },
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
  { "node", "id", VG_KEY_STRING, "", "this node's id (empty = host name)" },
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
