/* The whole HTTP surface, in one place. */
#include "api/routes.h"
#include "api/handlers/handlers.h"

void
vg_api_register_routes (VgRouter *router, VgApp *app)
{
  vg_health_routes_register (router, app);
  vg_metrics_routes_register (router, app);
  vg_token_routes_register (router, app);
  vg_web_routes_register (router, app);
  vg_room_api_routes_register (router, app);
  vg_twirp_routes_register (router, app);
  vg_egress_routes_register (router, app);
  vg_rooms_routes_register (router, app);
  vg_data_api_routes_register (router, app);
}
