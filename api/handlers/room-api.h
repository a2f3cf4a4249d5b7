/* What the REST and Twirp room APIs share: creation arguments, and the
 * mapping of registry errors to HTTP statuses and codes. */
#pragma once

#include <json-glib/json-glib.h>
#include "api/handlers/room-json.h"
#include "api/http.h"

G_BEGIN_DECLS

typedef struct
{
  char *name;
  char *metadata;
  char *pipeline;         /* template name, NULL = default */
  gint64 subtopic_id;     /* recorded with the room's conversations, 0 = none */
  gint64 empty_timeout;   /* < 0 = default */
  gint64 max_participants;/* < 0 = default */
} VgRoomCreateArgs;

/* Reads a create request in either shape (REST snake_case; proto3 JSON takes
 * camelCase or snake_case, numbers or strings for integers; unknown fields
 * are ignored). FALSE with a message for a mistyped field or a number out of
 * range. args->name is "" when absent: the caller checks it against the room
 * rule, each API with its own error shape. */
gboolean vg_room_create_args_parse (JsonObject *body, VgJsonShape shape, VgRoomCreateArgs *args, GError **error);
void vg_room_create_args_clear (VgRoomCreateArgs *args);

/* The subtopic a participant's token asks for: "subtopic_id" in its metadata
 * (a JSON object; a positive integer, or its decimal text) or else in its
 * attributes. 0 when there is none or it is not one: metadata belongs to the
 * application, so what we cannot read is ignored, not refused. */
gint64 vg_claims_subtopic_id (const char *metadata, GHashTable *attributes);

/* Creates the room, or returns the existing one with *existed set. */
VgRoom *vg_room_api_create (VgRooms *rooms, const VgRoomCreateArgs *args, gboolean *existed, GError **error);

/* The one room-name and identity rules (gateway/validate.h) on the REST
 * surface: FALSE after replying 400 invalid_room / invalid_identity. WHIP,
 * WHEP, REST and the token endpoints give the same code and message; Twirp
 * gives the message with its own code, invalid_argument. */
gboolean vg_room_api_check_name (VgRequest *req, const char *name);
gboolean vg_room_api_check_identity (VgRequest *req, const char *identity);

guint vg_room_api_http_status (const GError *error);
/* Replies with the error's status, code and message (every room endpoint but Twirp). */
void vg_room_api_reply_error (VgRequest *req, const GError *error);
const char *vg_room_api_error_code (const GError *error);
/* Twirp's code for the same error. */
const char *vg_room_api_twirp_code (const GError *error);

/* Reads a string member, accepting either of two names; FALSE if present with another type. */
gboolean vg_json_member_string (JsonObject *obj, const char *name, const char *alt_name, const char **out);
/* Reads an integer member given as a number or a decimal string; FALSE if mistyped. */
gboolean vg_json_member_int (JsonObject *obj, const char *name, const char *alt_name, gint64 *out, gboolean *present);

G_END_DECLS
