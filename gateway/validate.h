/* Validation of names that come from outside: rooms, identities, display names. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VG_ROOM_NAME_MAX 64
#define VG_IDENTITY_MAX 128
#define VG_DISPLAY_NAME_MAX 128
#define VG_METADATA_MAX 4096

/* ^[A-Za-z0-9_-]{1,64}$ */
gboolean vg_validate_room_name (const char *room);
/* 1-128 characters of printable UTF-8 (no control characters). */
gboolean vg_validate_identity (const char *identity);
/* At most 128 characters of printable UTF-8; may be empty. */
gboolean vg_validate_display_name (const char *name);

/* A random identifier with a prefix, e.g. "user-3f9a0c2e". */
char *vg_random_id (const char *prefix);

G_END_DECLS
