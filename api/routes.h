#pragma once

#include "api/router.h"

G_BEGIN_DECLS

void vg_api_register_routes (VgRouter *router, VgApp *app);

G_END_DECLS
