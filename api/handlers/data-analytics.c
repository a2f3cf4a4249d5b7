/* The data API: session analytics.
 *   GET /api/analytics?room=&identity=&from=&to=&limit=   {"sessions":[...]}, newest first
 *   GET /api/analytics/daily?room=&from=&to=              {"days":[...]} (UTC days) */
#include "api/handlers/data-common.h"

static void
reply_sessions (VgRequest *req, JsonArray *rows, gint64 changes, gpointer data)
{
  vg_data_reply_rows (req, SOUP_STATUS_OK, "sessions", rows);
}

static void
reply_days (VgRequest *req, JsonArray *rows, gint64 changes, gpointer data)
{
  vg_data_reply_rows (req, SOUP_STATUS_OK, "days", rows);
}

static void
handle_list (VgRequest *req, gpointer user_data)
{
  g_autofree char *room = NULL, *identity = NULL, *from = NULL, *to = NULL, *limit_text = NULL;
  guint limit;
  VgStore *store;

  if (!(store = vg_data_begin (req)) || !vg_data_query_room (req, &room)
      || !vg_data_query_identity (req, &identity) || !vg_data_query_time (req, "from", &from)
      || !vg_data_query_time (req, "to", &to) || !vg_data_query_limit (req, &limit))
    return;
  limit_text = g_strdup_printf ("%u", limit);
  vg_data_query (req, store, VG_STORE_Q_ANALYTICS_LIST,
                 (const char *const[]){ room, identity, from, to, limit_text }, 5, reply_sessions);
}

static void
handle_daily (VgRequest *req, gpointer user_data)
{
  g_autofree char *room = NULL, *from = NULL, *to = NULL;
  VgStore *store;

  if (!(store = vg_data_begin (req)) || !vg_data_query_room (req, &room)
      || !vg_data_query_time (req, "from", &from) || !vg_data_query_time (req, "to", &to))
    return;
  vg_data_query (req, store, VG_STORE_Q_ANALYTICS_DAILY, (const char *const[]){ room, from, to }, 3,
                 reply_days);
}

void
vg_data_analytics_register (VgRouter *router)
{
  vg_router_add (router, "GET", "/api/analytics", handle_list, NULL);
  vg_router_add (router, "GET", "/api/analytics/daily", handle_daily, NULL);
}
