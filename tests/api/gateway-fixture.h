/* Runs a real gateway HTTP server (VgApp + VgServer) on its own thread and
 * main context, on a free loopback port, for tests that act as clients. */
#pragma once

#include "api/server.h"

typedef struct _VgTestGateway VgTestGateway;

/* overrides: NULL-terminated "section.key=value" strings. */
VgTestGateway *vg_test_gateway_start (const char *const *overrides);
void vg_test_gateway_stop (VgTestGateway *gw);
guint vg_test_gateway_port (VgTestGateway *gw);
VgApp *vg_test_gateway_app (VgTestGateway *gw);
/* "http://127.0.0.1:PORT" + path */
char *vg_test_gateway_url (VgTestGateway *gw, const char *path);

/* Runs fn(app, data) on the gateway's thread and waits for it. */
void vg_test_gateway_run (VgTestGateway *gw, void (*fn) (VgApp *app, gpointer data), gpointer data);

/* Sends raw bytes over a new TCP connection (optionally from a given local
 * address) and returns everything read until the server closes. */
char *vg_test_raw_request (guint port, const char *local_addr, const char *request, gsize len);
