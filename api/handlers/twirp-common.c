/* Twirp errors and call set-up. See twirp-common.h. */
#include "api/handlers/twirp-common.h"
#include "common/json-strict.h"

guint
vg_twirp_status (const char *code)
{
  static const struct
  {
    const char *code;
    guint status;
  } map[] = {
    { "invalid_argument", 400 },    { "malformed", 400 },          { "out_of_range", 400 },
    { "unauthenticated", 401 },     { "permission_denied", 403 },  { "not_found", 404 },
    { "bad_route", 404 },           { "already_exists", 409 },     { "aborted", 409 },
    { "failed_precondition", 412 }, { "resource_exhausted", 429 }, { "unimplemented", 501 },
    { "unavailable", 503 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (g_str_equal (map[i].code, code))
      return map[i].status;
  return 500;
}

void
vg_twirp_error (VgRequest *req, const char *code, const char *format, ...)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "msg");
  json_builder_add_string_value (b, msg);
  json_builder_end_object (b);
  vg_reply_json (req, vg_twirp_status (code), json_builder_get_root (b));
}

JsonNode *
vg_twirp_begin (VgRequest *req, VgGrant grants, VgClaims *claims)
{
  const char *code, *message;
  JsonNode *root;
  GBytes *body;
  guint status;

  if (g_strcmp0 (vg_request_content_type (req), "application/json") != 0)
    {
      vg_twirp_error (req, "bad_route", "unexpected Content-Type: only application/json is served");
      return NULL;
    }
  /* The token before the body: parsing costs what an anonymous caller
   * should not be able to spend. */
  status = vg_auth_check (vg_request_app (req), vg_request_header (req, "Authorization"), grants,
                          NULL, claims, &code, &message);
  if (status != 200)
    {
      vg_twirp_error (req, status == 401 ? "unauthenticated" : "permission_denied", "%s (%s)",
                      message, code);
      return NULL;
    }
  body = vg_request_body (req);
  root = vg_json_strict_parse (g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL);
  g_bytes_unref (body);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_clear_pointer (&root, json_node_unref);
      vg_claims_clear (claims);
      vg_twirp_error (req, "malformed", "the body is not a JSON object");
      return NULL;
    }
  return root;
}
