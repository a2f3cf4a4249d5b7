/* Checks an HTTP/1.x request head before libsoup reads it.
 *
 * libsoup 3.2 drops the connection without an answer when a head is too
 * large or its Content-Length is unusable; HTTP asks for 414, 431 or 400.
 * The acceptor reads the head itself, asks this checker, and only hands
 * heads that pass to libsoup. Pure function; any thread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VG_HTTP_MAX_REQUEST_LINE 8192
#define VG_HTTP_MAX_HEADER_LINE 8192
#define VG_HTTP_MAX_HEAD 32768

typedef enum
{
  VG_HTTP_HEAD_INCOMPLETE, /* read more */
  VG_HTTP_HEAD_OK,
  VG_HTTP_HEAD_REFUSED, /* answer with the refusal and close */
} VgHttpHeadResult;

typedef struct
{
  guint status;        /* 400, 414 or 431 */
  const char *code;    /* error code for the JSON body (static) */
  const char *message; /* static */
} VgHttpHeadRefusal;

/* Progress through one connection's head, so that a head sent a byte at a
 * time is still looked at once: zero it before the first call. */
typedef struct
{
  gsize pos;      /* start of the first line not checked yet */
  gsize searched; /* bytes of that line already searched for its end */
  guint line_no;
  guint content_lengths;
  gboolean chunked;
  /* Set once the head is complete (VG_HTTP_HEAD_OK), for keep-alive: */
  gsize head_len;            /* bytes up to and including the blank line */
  guint64 content_length;    /* 0 when absent */
  gboolean http10;           /* an HTTP/1.0 request line */
  gboolean connection_close; /* a Connection header lists "close" */
} VgHttpHeadScan;

/* data[0..len) is what the connection sent so far (it only grows between
 * calls with the same scan). */
VgHttpHeadResult vg_http_head_check (VgHttpHeadScan *scan, const char *data, gsize len,
                                     VgHttpHeadRefusal *refusal);

/* A complete HTTP/1.1 response with a JSON error body, closing the connection. */
char *vg_http_error_response (guint status, const char *code, const char *message);

G_END_DECLS
