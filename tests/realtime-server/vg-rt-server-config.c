/* vg-rt-server-config.c: the fake server's session configuration: the
 * defaults of session.created and the strict validation of session.update
 * (type "realtime" required, unknown keys refused, 24 kHz PCM only). */
#include "vg-rt-server-private.h"
#include "vg-rt-events.h"

#include <string.h>

JsonObject *
vg_rt_session_default (VgRtConn *conn)
{
  static const char defaults[]
      = "{\"type\":\"realtime\",\"object\":\"realtime.session\",\"model\":\"gpt-realtime\","
        "\"output_modalities\":[\"audio\"],\"instructions\":\"\",\"tools\":[],\"tool_choice\":"
        "\"auto\","
        "\"max_output_tokens\":\"inf\",\"audio\":{\"input\":{\"format\":{\"type\":\"audio/pcm\","
        "\"rate\":24000},\"transcription\":null,\"noise_reduction\":null,\"turn_detection\":{"
        "\"type\":"
        "\"server_vad\",\"threshold\":0.5,\"prefix_padding_ms\":300,\"silence_duration_ms\":500,"
        "\"create_response\":true,\"interrupt_response\":true,\"idle_timeout_ms\":null}},"
        "\"output\":{\"format\":{\"type\":\"audio/pcm\",\"rate\":24000},\"voice\":\"alloy\","
        "\"speed\":1.0}}}";
  JsonNode *node = json_from_string (defaults, NULL);
  JsonObject *o = json_object_ref (json_node_get_object (node));
  g_autofree char *id = g_strdup_printf ("sess_%u", conn->number);

  json_node_unref (node);
  json_object_set_string_member (o, "id", id);
  json_object_set_int_member (o, "expires_at",
                              g_get_real_time () / G_USEC_PER_SEC
                                  + conn->server->opt.session_expiry_ms / 1000);
  return o;
}

typedef struct
{
  const char *path;
  const char *const *keys;
} KeySet;

static const char *const session_keys[] = { "type",
                                            "instructions",
                                            "output_modalities",
                                            "audio",
                                            "tools",
                                            "tool_choice",
                                            "max_output_tokens",
                                            "model",
                                            "tracing",
                                            "truncation",
                                            "prompt",
                                            "include",
                                            NULL };
static const char *const audio_keys[] = { "input", "output", NULL };
static const char *const input_keys[]
    = { "format", "transcription", "noise_reduction", "turn_detection", NULL };
static const char *const output_keys[] = { "format", "voice", "speed", NULL };
static const char *const format_keys[] = { "type", "rate", NULL };
static const char *const td_keys[] = { "type",
                                       "threshold",
                                       "prefix_padding_ms",
                                       "silence_duration_ms",
                                       "create_response",
                                       "interrupt_response",
                                       "idle_timeout_ms",
                                       "eagerness",
                                       NULL };

/* Returns the dotted path of the first unknown key, or NULL. */
static char *
find_unknown_key (JsonObject *obj, const char *path, const char *const *allowed)
{
  g_autoptr (GList) members = json_object_get_members (obj);
  GList *l;

  for (l = members; l != NULL; l = l->next)
    if (!g_strv_contains (allowed, l->data))
      return g_strdup_printf ("%s.%s", path, (const char *)l->data);
  return NULL;
}

static char *
validate_session (JsonObject *s, char **code)
{
  JsonObject *audio, *input, *output, *td, *fmt;
  char *bad;

  *code = "unknown_parameter";
  if ((bad = find_unknown_key (s, "session", session_keys)))
    return bad;
  audio = vg_rt_json_get_object (s, "audio");
  if (audio && (bad = find_unknown_key (audio, "session.audio", audio_keys)))
    return bad;
  input = vg_rt_json_get_object (audio, "input");
  output = vg_rt_json_get_object (audio, "output");
  if (input && (bad = find_unknown_key (input, "session.audio.input", input_keys)))
    return bad;
  if (output && (bad = find_unknown_key (output, "session.audio.output", output_keys)))
    return bad;
  td = vg_rt_json_get_object (input, "turn_detection");
  if (td && (bad = find_unknown_key (td, "session.audio.input.turn_detection", td_keys)))
    return bad;
  *code = "invalid_value";
  if (td && g_strcmp0 (vg_rt_json_get_string (td, "type"), "server_vad") != 0
      && g_strcmp0 (vg_rt_json_get_string (td, "type"), "semantic_vad") != 0)
    return g_strdup ("session.audio.input.turn_detection.type");
  fmt = vg_rt_json_get_object (input, "format");
  if (fmt
      && ((bad = find_unknown_key (fmt, "session.audio.input.format", format_keys))
          || g_strcmp0 (vg_rt_json_get_string (fmt, "type"), "audio/pcm") != 0
          || vg_rt_json_get_int (fmt, "rate", 0) != VG_RT_SERVER_RATE))
    {
      g_free (bad);
      return g_strdup ("session.audio.input.format");
    }
  fmt = vg_rt_json_get_object (output, "format");
  if (fmt
      && (g_strcmp0 (vg_rt_json_get_string (fmt, "type"), "audio/pcm") != 0
          || vg_rt_json_get_int (fmt, "rate", 0) != VG_RT_SERVER_RATE))
    return g_strdup ("session.audio.output.format");
  return NULL;
}

/* Partial update: objects merge member by member, anything else replaces. */
static void
merge_into (JsonObject *dst, JsonObject *src)
{
  g_autoptr (GList) members = json_object_get_members (src);
  GList *l;

  for (l = members; l != NULL; l = l->next)
    {
      const char *k = l->data;
      JsonNode *v = json_object_get_member (src, k);
      JsonObject *d = vg_rt_json_get_object (dst, k);

      if (JSON_NODE_HOLDS_OBJECT (v) && d != NULL && strcmp (k, "turn_detection") != 0)
        merge_into (d, json_node_get_object (v));
      else
        json_object_set_member (dst, k, json_node_copy (v));
    }
}

void
vg_rt_conn_apply_turn_detection (VgRtConn *conn)
{
  JsonObject *input
      = vg_rt_json_get_object (vg_rt_json_get_object (conn->session, "audio"), "input");
  JsonObject *td = vg_rt_json_get_object (input, "turn_detection");
  guint silence = 500;

  conn->vad_enabled = td != NULL;
  conn->create_response
      = td ? json_object_get_boolean_member_with_default (td, "create_response", TRUE) : FALSE;
  conn->interrupt_response
      = td ? json_object_get_boolean_member_with_default (td, "interrupt_response", TRUE) : FALSE;
  if (td && g_strcmp0 (vg_rt_json_get_string (td, "type"), "server_vad") == 0)
    silence = vg_rt_json_get_int (td, "silence_duration_ms", 500);
  vg_energy_vad_init (&conn->vad, VG_RT_SERVER_RATE, conn->server->opt.vad_rms_threshold, 100,
                      MAX (silence, 20));
}

void
vg_rt_conn_on_session_update (VgRtConn *conn, JsonObject *ev, const char *event_id)
{
  JsonObject *s = vg_rt_json_get_object (ev, "session");
  g_autofree char *bad = NULL;
  char *code;
  JsonObject *reply;

  if (s == NULL || g_strcmp0 (vg_rt_json_get_string (s, "type"), "realtime") != 0)
    {
      vg_rt_conn_send_error (conn, "missing_required_parameter",
                             "Missing required parameter: 'session.type'.", "session.type",
                             event_id);
      return;
    }
  if ((bad = validate_session (s, &code)))
    {
      g_autofree char *msg = g_strdup_printf ("Unknown or invalid parameter: '%s'.", bad);

      vg_rt_conn_send_error (conn, code, msg, bad, event_id);
      return;
    }
  merge_into (conn->session, s);
  vg_rt_conn_apply_turn_detection (conn);
  reply = vg_rt_event_new ("session.updated");
  json_object_set_object_member (reply, "session", json_object_ref (conn->session));
  vg_rt_conn_send_event (conn, reply);
}
