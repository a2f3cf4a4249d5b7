/* Each resource's handlers register their routes through one function. */
#pragma once

#include "api/router.h"

G_BEGIN_DECLS

void vg_health_routes_register (VgRouter *router, VgApp *app);
void vg_metrics_routes_register (VgRouter *router, VgApp *app);
void vg_token_routes_register (VgRouter *router, VgApp *app);
void vg_web_routes_register (VgRouter *router, VgApp *app);

G_END_DECLS
