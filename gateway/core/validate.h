/* Validation of names that come from outside: rooms, identities, display
 * names, attribute keys. One rule per kind, used by every endpoint (token
 * minting and verification, REST, Twirp, WHIP/WHEP, the CLI). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VG_ROOM_NAME_MAX 64
#define VG_IDENTITY_MAX 128
#define VG_DISPLAY_NAME_MAX 128
#define VG_ATTRIBUTE_KEY_MAX 128
#define VG_METADATA_MAX 4096

/* The room-name rule, stated once: ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$.
 * A room name ends up in URL paths, log lines, Redis keys, store rows and
 * (for recordings) file names, so it is plain ASCII that needs no escaping
 * in any of them: no '/', '%', ':' (Redis key separator, Windows file
 * names), spaces or controls; the first character is a letter or digit, so
 * a name is never "." or "..", a hidden file, or read as a command-line
 * option ("-x"). */
gboolean vg_validate_room_name (const char *room);
/* The message every endpoint gives for a name that breaks the rule. */
#define VG_ROOM_NAME_RULE                                                                          \
  "room names are 1 to 64 characters of letters, digits, '_', '-' and '.', starting with a "       \
  "letter or digit"
#define VG_IDENTITY_RULE                                                                           \
  "identities are 1 to 128 printable characters (no control, format or line-separator "            \
  "characters; no leading or trailing space)"
/* The identity rule: 1-128 characters of UTF-8 text, ASCII space the only
 * whitespace and neither first nor last; no control characters (C0, DEL,
 * C1), no format characters (bidi overrides and isolates such as U+202E,
 * zero-width characters, BOM), no line or paragraph separators, no
 * private-use, unassigned or surrogate code points. So an identity prints
 * as itself on one line, in a log or a UI. */
gboolean vg_validate_identity (const char *identity);
/* Display names: the identity's characters, at most 128, may be empty. */
gboolean vg_validate_display_name (const char *name);
/* Keys of participant attributes: the identity rule. */
gboolean vg_validate_attribute_key (const char *key);

/* A random identifier with a prefix, e.g. "user-3f9a0c2e". */
char *vg_random_id (const char *prefix);

G_END_DECLS
