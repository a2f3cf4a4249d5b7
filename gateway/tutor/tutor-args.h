/* The model's tool arguments, checked before anything uses them. Every
 * refusal comes with a message written for the model (it reads the error
 * result and may call again), never a crash. Any thread; no state. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The largest arguments text accepted (the longest field is a summary). */
#define VG_TUTOR_ARGS_MAX (16 * 1024)

/* Parses arguments: a JSON object text of at most VG_TUTOR_ARGS_MAX bytes
 * ("" and NULL count as {}). Returns a new reference, or NULL with *error. */
JsonObject *vg_tutor_args_parse (const char *arguments, char **error);

/* FALSE with *error when args has a member not in allowed (NULL-terminated). */
gboolean vg_tutor_args_only (JsonObject *args, const char *const *allowed, char **error);

/* The string member name: *out borrowed from args, NULL when absent and not
 * required. FALSE with *error when required and absent, not a string, empty
 * (after white space) or longer than max_bytes. */
gboolean vg_tutor_args_string (JsonObject *args, const char *name, gboolean required,
                               gsize max_bytes, const char **out, char **error);

/* The member name as a level of understanding (VgUnderstandingLevel 1-4):
 * one of the names "emerging" .. "mastered" or an integer 1-4. */
gboolean vg_tutor_args_level (JsonObject *args, const char *name, int *out, char **error);

G_END_DECLS
