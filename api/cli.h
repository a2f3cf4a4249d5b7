/* Subcommands of the voxgate program that live in the API layer. */
#pragma once

#include "gateway/core/config.h"

G_BEGIN_DECLS

/* Prints a token for room/identity; returns the process exit status. */
int vg_cli_token (VgConfig *cfg, const char *room, const char *identity, const char *name, gboolean admin,
                  gint64 ttl);

G_END_DECLS
