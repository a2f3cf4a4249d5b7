/* vg-rt-events.h: parsing server frames and building client events of the
 * Realtime protocol (GA shape). Pure functions, no I/O. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Parses one text frame. Returns a node holding an object whose "type" is
 * a non-empty string (*type points into it), or NULL with error set. */
JsonNode *vg_rt_event_parse (const char *text, gsize len, const char **type, GError **error);

/* Member accessors that tolerate absent or mistyped members. */
const char *vg_rt_json_get_string (JsonObject *obj, const char *member);
gint64 vg_rt_json_get_int (JsonObject *obj, const char *member, gint64 fallback);
JsonObject *vg_rt_json_get_object (JsonObject *obj, const char *member);

/* Strict base64 decoding of PCM16 audio: refuses characters outside the
 * alphabet, bad padding and an odd number of bytes. */
guint8 *vg_rt_decode_audio (const char *b64, gsize *out_len, GError **error);

/* Serializes a builder's root with an event_id; returns a new string. */
char *vg_rt_build_event (JsonBuilder *builder);
/* {"type":"input_audio_buffer.append","audio":"<b64>"} without a builder:
 * this runs 10 to 50 times a second per agent. */
char *vg_rt_build_append (const guint8 *pcm, gsize len);
char *vg_rt_build_simple (const char *type);
/* response.create; with non-empty instructions they override the session's
 * for this response (response.instructions). */
char *vg_rt_build_response_create (const char *instructions);
char *vg_rt_build_text_item (const char *role, const char *text);
char *vg_rt_build_function_output (const char *call_id, const char *output_json);
/* A function_call item of an earlier session, for the replay. */
char *vg_rt_build_function_call_item (const char *call_id, const char *name, const char *arguments);
char *vg_rt_build_truncate (const char *item_id, gint64 audio_end_ms);
char *vg_rt_build_item_delete (const char *item_id);

G_END_DECLS
