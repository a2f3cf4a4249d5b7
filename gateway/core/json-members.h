/* Object members for JsonBuilder in the shapes LiveKit's JSON (proto3) uses,
 * shared by every writer of LiveKit-shaped bodies (webhooks, Egress, rooms). */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* name: value, NULL written as "" (proto3's default string). */
void vg_json_add_member_string (JsonBuilder *b, const char *name, const char *value);
/* name: "value": proto3 JSON writes 64-bit integers as strings, since
 * JavaScript numbers lose precision above 2^53. */
void vg_json_add_member_int64_string (JsonBuilder *b, const char *name, gint64 value);

G_END_DECLS
