#include "gateway/core/json-members.h"

void
vg_json_add_member_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value ? value : "");
}

void
vg_json_add_member_int64_string (JsonBuilder *b, const char *name, gint64 value)
{
  char text[24];
  g_snprintf (text, sizeof text, "%" G_GINT64_FORMAT, value);
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, text);
}
