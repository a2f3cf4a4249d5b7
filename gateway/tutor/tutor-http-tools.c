/* Operators' HTTP tools; see tutor-http-tools.h. */
#include "gateway/tutor/tutor-http-tools.h"
#include "common/json-strict.h"
#include "gateway/core/jwt.h"
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#define NAME_MAX_LEN 64
#define TIMEOUT_DEFAULT_MS 5000
#define TIMEOUT_MIN_MS 100
#define TIMEOUT_MAX_MS 30000
/* The token only has to outlive the request. */
#define TOKEN_TTL_S 60
#define HEADER_MAX 256

typedef struct
{
  char *name, *url;
  guint timeout_ms;
} Tool;

struct _VgTutorHttpTools
{
  GPtrArray *tools; /* Tool */
  char *json;
  char *api_key, *api_secret;
};

static void
tool_free (gpointer data)
{
  Tool *t = data;
  g_free (t->name);
  g_free (t->url);
  g_free (t);
}

void
vg_tutor_http_tools_free (VgTutorHttpTools *tools)
{
  if (!tools)
    return;
  g_ptr_array_unref (tools->tools);
  g_free (tools->json);
  g_free (tools->api_key);
  g_free (tools->api_secret);
  g_free (tools);
}

static gboolean
valid_name (const char *name)
{
  gsize len = strlen (name);
  if (len == 0 || len > NAME_MAX_LEN || !(g_ascii_islower (name[0]) || name[0] == '_'))
    return FALSE;
  for (gsize i = 1; i < len; i++)
    if (!(g_ascii_islower (name[i]) || g_ascii_isdigit (name[i]) || name[i] == '_'))
      return FALSE;
  return TRUE;
}

static gboolean
builtin_name (JsonArray *builtins, const char *name)
{
  for (guint i = 0; i < json_array_get_length (builtins); i++)
    if (g_strcmp0 (json_object_get_string_member_with_default (
                       json_array_get_object_element (builtins, i), "name", ""),
                   name)
        == 0)
      return TRUE;
  return FALSE;
}

static const char *
string_member (JsonObject *o, const char *member)
{
  JsonNode *n = json_object_get_member (o, member);
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

/* Checks one entry; on success appends its tool and its declaration. */
static gboolean
check_entry (JsonNode *node, guint index, JsonArray *builtins, GHashTable *seen,
             VgTutorHttpTools *tools, JsonArray *declared, GError **error)
{
#define FAIL(...)                                                                                  \
  do                                                                                               \
    {                                                                                              \
      g_autofree char *why = g_strdup_printf (__VA_ARGS__);                                        \
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "tool %u: %s", index, why);         \
      return FALSE;                                                                                \
    }                                                                                              \
  while (0)
  static const char *const known[] = { "name", "description", "parameters", "url", "timeout_ms" };
  if (!JSON_NODE_HOLDS_OBJECT (node))
    FAIL ("not an object");
  JsonObject *o = json_node_get_object (node);
  /* An unknown member is most likely a misspelt one: refuse it rather than
   * silently use a default. */
  g_autoptr (GList) members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next)
    if (!g_strv_contains (
            (const char *const[]){ known[0], known[1], known[2], known[3], known[4], NULL },
            l->data))
      FAIL ("unknown member \"%s\"", (const char *)l->data);
  const char *name = string_member (o, "name");
  if (!name || !valid_name (name))
    FAIL ("name must be a string matching [a-z_][a-z0-9_]{0,63}");
  if (builtin_name (builtins, name))
    FAIL ("name \"%s\" is a built-in tool", name);
  if (g_hash_table_contains (seen, name))
    FAIL ("name \"%s\" appears twice", name);
  const char *description = string_member (o, "description");
  if (!description || !*description)
    FAIL ("\"%s\": description must be a non-empty string", name);
  JsonNode *params = json_object_get_member (o, "parameters");
  if (!params || !JSON_NODE_HOLDS_OBJECT (params))
    FAIL ("\"%s\": parameters must be a JSON Schema object", name);
  const char *ptype = string_member (json_node_get_object (params), "type");
  if (g_strcmp0 (ptype, "object") != 0)
    FAIL ("\"%s\": parameters must have \"type\":\"object\"", name);
  const char *url = string_member (o, "url");
  g_autoptr (GUri) uri = url ? g_uri_parse (url, G_URI_FLAGS_NONE, NULL) : NULL;
  if (!uri || !g_uri_get_host (uri) || !*g_uri_get_host (uri)
      || (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0
          && g_strcmp0 (g_uri_get_scheme (uri), "https") != 0))
    FAIL ("\"%s\": url must be an http:// or https:// URL", name);
  guint timeout_ms = TIMEOUT_DEFAULT_MS;
  JsonNode *t = json_object_get_member (o, "timeout_ms");
  if (t)
    {
      if (!JSON_NODE_HOLDS_VALUE (t) || json_node_get_value_type (t) != G_TYPE_INT64
          || json_node_get_int (t) < TIMEOUT_MIN_MS || json_node_get_int (t) > TIMEOUT_MAX_MS)
        FAIL ("\"%s\": timeout_ms must be an integer in [%d, %d]", name, TIMEOUT_MIN_MS,
              TIMEOUT_MAX_MS);
      timeout_ms = (guint)json_node_get_int (t);
    }
#undef FAIL

  Tool *tool = g_new0 (Tool, 1);
  tool->name = g_strdup (name);
  tool->url = g_strdup (url);
  tool->timeout_ms = timeout_ms;
  g_ptr_array_add (tools->tools, tool);
  g_hash_table_add (seen, tool->name);

  JsonObject *d = json_object_new ();
  json_object_set_string_member (d, "type", "function");
  json_object_set_string_member (d, "name", name);
  json_object_set_string_member (d, "description", description);
  json_object_set_member (d, "parameters", json_node_copy (params));
  json_array_add_object_element (declared, d);
  return TRUE;
}

VgTutorHttpTools *
vg_tutor_http_tools_parse (const char *text, gsize len, GError **error)
{
  g_autoptr (JsonParser) builtin_parser = json_parser_new ();
  if (len > VG_TUTOR_HTTP_TOOLS_FILE_MAX)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "larger than %d bytes",
                   VG_TUTOR_HTTP_TOOLS_FILE_MAX);
      return NULL;
    }
  /* Strict: json-glib alone ignores (and leaks) whatever follows the first
   * value, so "[...] [...]" would load half a file without a word. */
  g_autoptr (JsonNode) root = vg_json_strict_parse (text, len, error);
  if (!root)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "not a JSON array of tools");
      return NULL;
    }
  /* The built-ins are static and valid: a failure here is a bug. */
  if (!json_parser_load_from_data (builtin_parser, vg_tutor_tools_json (), -1, NULL))
    g_error ("tutor: the built-in tools are not valid JSON");
  JsonArray *builtins = json_node_get_array (json_parser_get_root (builtin_parser));
  g_autoptr (JsonArray) declared = json_array_new ();
  for (guint i = 0; i < json_array_get_length (builtins); i++)
    json_array_add_element (declared, json_node_copy (json_array_get_element (builtins, i)));

  g_autoptr (VgTutorHttpTools) tools = g_new0 (VgTutorHttpTools, 1);
  tools->tools = g_ptr_array_new_with_free_func (tool_free);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *entries = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (entries); i++)
    if (!check_entry (json_array_get_element (entries, i), i, builtins, seen, tools, declared,
                      error))
      return NULL;
  g_autoptr (JsonNode) out = json_node_new (JSON_NODE_ARRAY);
  json_node_set_array (out, declared);
  tools->json = json_to_string (out, FALSE);
  return g_steal_pointer (&tools);
}

VgTutorHttpTools *
vg_tutor_http_tools_load (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  VgTutorHttpTools *tools = NULL;
  if (g_file_get_contents (path, &text, &len, &local))
    tools = vg_tutor_http_tools_parse (text, len, &local);
  if (!tools)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "tools file %s: %s", path,
                 local->message);
  return tools;
}

void
vg_tutor_http_tools_set_signer (VgTutorHttpTools *tools, const char *api_key,
                                const char *api_secret)
{
  g_free (tools->api_key);
  g_free (tools->api_secret);
  tools->api_key = g_strdup (api_key);
  tools->api_secret = g_strdup (api_secret);
}

const char *
vg_tutor_http_tools_json (VgTutorHttpTools *tools)
{
  return tools ? tools->json : vg_tutor_tools_json ();
}

static Tool *
find_tool (VgTutorHttpTools *tools, const char *name)
{
  for (guint i = 0; tools && name && i < tools->tools->len; i++)
    {
      Tool *t = g_ptr_array_index (tools->tools, i);
      if (strcmp (t->name, name) == 0)
        return t;
    }
  return NULL;
}

gboolean
vg_tutor_http_tools_has (VgTutorHttpTools *tools, const char *name)
{
  return find_tool (tools, name) != NULL;
}

static char *
error_result (const char *name, const char *why)
{
  g_autofree char *message = g_strdup_printf ("tool %s failed: %s", name, why);
  g_autoptr (JsonObject) o = json_object_new ();
  json_object_set_string_member (o, "error", message);
  g_autoptr (JsonNode) n = json_node_init_object (json_node_alloc (), o);
  return json_to_string (n, FALSE);
}

/* Signed as webhooks are (the body's hash in the JWT), so a receiver checks
 * both the same way; the learner (sub) and the room (video.room, with no
 * grant: the token admits to nothing) are claims too, so the headers that
 * repeat them for convenience can be checked against what was signed. */
static char *
sign_body (VgTutorHttpTools *tools, const char *body, const char *identity, const char *room)
{
  g_auto (VgClaims) c = { 0 };
  c.identity = g_strdup (identity);
  c.video.room = g_strdup (room);
  /* Said, not left to LiveKit's defaults (publish and subscribe allowed). */
  c.video.can_publish_set = c.video.can_subscribe_set = c.video.can_publish_data_set = TRUE;
  return vg_jwt_mint_body_token (&c, body, TOKEN_TTL_S, tools->api_key, tools->api_secret);
}

typedef struct
{
  GMainContext *context;
  GCancellable *cancellable;
  SoupMessage *msg;
  GInputStream *stream;
  GByteArray *body;
  guint8 buffer[8192];
  gboolean done, timed_out, too_large;
  GError *error;
} Request;

static gboolean
request_timed_out (gpointer data)
{
  Request *r = data;
  r->timed_out = TRUE;
  g_cancellable_cancel (r->cancellable);
  return G_SOURCE_REMOVE;
}

static void
read_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Request *r = data;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &r->error);
  if (n <= 0)
    {
      r->done = TRUE;
      return;
    }
  g_byte_array_append (r->body, r->buffer, (guint)n);
  /* Stop reading at the limit: a runaway tool costs us 64 KiB, no more. */
  if (r->body->len > VG_TUTOR_HTTP_TOOLS_RESULT_MAX)
    {
      r->too_large = TRUE;
      r->done = TRUE;
      return;
    }
  g_input_stream_read_async (r->stream, r->buffer, sizeof r->buffer, G_PRIORITY_DEFAULT,
                             r->cancellable, read_done, r);
}

static void
send_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Request *r = data;
  r->stream = soup_session_send_finish (SOUP_SESSION (source), result, &r->error);
  if (!r->stream)
    {
      r->done = TRUE;
      return;
    }
  guint status = soup_message_get_status (r->msg);
  if (status < 200 || status > 299)
    {
      r->done = TRUE;
      return;
    }
  g_input_stream_read_async (r->stream, r->buffer, sizeof r->buffer, G_PRIORITY_DEFAULT,
                             r->cancellable, read_done, r);
}

char *
vg_tutor_http_tools_run (VgTutorHttpTools *tools, const VgTutorCall *call)
{
  Tool *tool = find_tool (tools, call->name);
  if (!tool)
    return error_result (call->name ? call->name : "", "unknown tool");
  const char *arguments = call->arguments && *call->arguments ? call->arguments : "{}";
  /* The model's arguments must be a JSON object; the tool checks the rest. */
  g_autoptr (JsonNode) args = vg_json_strict_parse (arguments, strlen (arguments), NULL);
  if (!args || !JSON_NODE_HOLDS_OBJECT (args))
    return error_result (tool->name, "the arguments are not a JSON object");

  /* A private context per call: the worker iterates it until the call ends,
   * so the timeout is exact to the millisecond and nothing touches the main
   * context. The session lives for this call only, which is what keeps it
   * simple; connections are not reused. */
  Request r = { 0 };
  r.context = g_main_context_new ();
  g_main_context_push_thread_default (r.context);
  r.cancellable = g_cancellable_new ();
  r.body = g_byte_array_new ();
  g_autoptr (SoupSession) session = soup_session_new_with_options ("max-conns", 1, NULL);
  r.msg = soup_message_new (SOUP_METHOD_POST, tool->url);
  char *result = NULL;
  if (!r.msg)
    result = error_result (tool->name, "bad url");
  else
    {
      g_autofree char *token = sign_body (tools, arguments, call->identity, call->room);
      g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);
      /* No redirects: the signed request goes to the URL the operator wrote,
       * never on to wherever a response points (a 3xx is a failure). */
      soup_message_add_flags (r.msg, SOUP_MESSAGE_NO_REDIRECT);
      SoupMessageHeaders *h = soup_message_get_request_headers (r.msg);
      soup_message_headers_replace (h, "Authorization", auth);
      if (call->identity && strlen (call->identity) < HEADER_MAX)
        soup_message_headers_replace (h, "X-Voxgate-Identity", call->identity);
      if (call->room && strlen (call->room) < HEADER_MAX)
        soup_message_headers_replace (h, "X-Voxgate-Room", call->room);
      soup_message_headers_replace (h, "X-Voxgate-Tool", tool->name);
      g_autoptr (GBytes) body = g_bytes_new (arguments, strlen (arguments));
      soup_message_set_request_body_from_bytes (r.msg, "application/json", body);
      GSource *timer = g_timeout_source_new (tool->timeout_ms);
      g_source_set_callback (timer, request_timed_out, &r, NULL);
      g_source_attach (timer, r.context);
      soup_session_send_async (session, r.msg, G_PRIORITY_DEFAULT, r.cancellable, send_done, &r);
      while (!r.done)
        g_main_context_iteration (r.context, TRUE);
      g_source_destroy (timer);
      g_source_unref (timer);
      guint status = soup_message_get_status (r.msg);
      if (r.timed_out)
        result = error_result (tool->name, "timed out");
      else if (r.error)
        {
          /* Transport errors may name the host: fine, the URL is the
           * operator's; nothing secret is in them. */
          g_warning ("tutor: tool %s: %s", tool->name, r.error->message);
          result = error_result (tool->name, "could not reach the tool");
        }
      else if (status < 200 || status > 299)
        {
          g_autofree char *why = g_strdup_printf ("HTTP status %u", status);
          result = error_result (tool->name, why);
        }
      else if (r.too_large)
        result = error_result (tool->name, "the response is larger than 64 KiB");
      else
        {
          /* Strict: the tool's server is outside the gateway (see vg_json_strict_parse). */
          g_autoptr (JsonNode) root
              = r.body->len > 0
                    ? vg_json_strict_parse ((const char *)r.body->data, r.body->len, NULL)
                    : NULL;
          if (root && (JSON_NODE_HOLDS_OBJECT (root) || JSON_NODE_HOLDS_ARRAY (root)))
            result = json_to_string (root, FALSE);
          else
            result = error_result (tool->name, "the response is not a JSON object or array");
        }
    }
  if (r.stream)
    {
      g_input_stream_close (r.stream, NULL, NULL);
      g_object_unref (r.stream);
    }
  g_clear_object (&r.msg);
  g_clear_error (&r.error);
  g_byte_array_unref (r.body);
  g_object_unref (r.cancellable);
  /* Let the session's pending cleanups run on the context they belong to. */
  g_clear_object (&session);
  while (g_main_context_iteration (r.context, FALSE))
    ;
  g_main_context_pop_thread_default (r.context);
  g_main_context_unref (r.context);
  return result;
}
