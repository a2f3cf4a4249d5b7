/* vg-rt-server.h: a faithful fake of the OpenAI Realtime API (GA shape) for
 * tests and benchmarks. It runs on a thread and GMainContext of its own, so
 * a test can drive it from the main thread; every call here is thread safe.
 * It implements the server side of docs/REALTIME-PROTOCOL.md: 401 without
 * the key, session.created first, strict session.update validation, energy
 * VAD on appended audio, responses in bursts faster than real time,
 * transcription events at random points, scripted function calls, one
 * active response at a time, response.create with instructions (spoken
 * back as the response's transcript), truncate validation, session expiry,
 * and a log
 * of every client event (and of what it sent) for assertions. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _VgRtLogEntry
{
  gboolean from_client;
  guint connection; /* 1-based connection number */
  gint64 time_us;   /* monotonic */
  char *type;
  JsonObject *event; /* appends and deltas carry "audio_bytes" instead of audio */
} VgRtLogEntry;

typedef struct
{
  const char *api_key;      /* required Bearer key; NULL accepts any non-empty key */
  guint port;               /* 0: any free port */
  guint response_audio_ms;  /* audio per spoken response (default 1000) */
  guint delta_ms;           /* audio per output_audio.delta (default 100) */
  guint burst_interval_ms;  /* wall time between deltas (default 5: 20x real time) */
  guint session_expiry_ms;  /* session length before session_expired (default 3600000) */
  double vad_rms_threshold; /* energy VAD level, fraction of full scale (default 0.02) */
  guint32 seed;             /* random interleaving; 0 picks one */
  gboolean quiet;           /* no log of appended audio and deltas (benchmarks) */
  guint cancel_delay_ms;    /* response.cancel takes effect this much later, the deltas
                               still flowing meanwhile, as over a real network (default 0) */
  /* Called on the server thread with every event as it is logged (without
   * the server's lock held); the entry is only valid during the call. */
  void (*on_log) (const VgRtLogEntry *entry, gpointer data);
  gpointer on_log_data;
} VgRtServerOptions;

typedef struct _VgRtServer VgRtServer;

VgRtServer *vg_rt_server_new (const VgRtServerOptions *options, GError **error);
void vg_rt_server_free (VgRtServer *server);
guint vg_rt_server_get_port (VgRtServer *server);
/* ws://127.0.0.1:PORT/v1/realtime */
char *vg_rt_server_get_url (VgRtServer *server);

/* Scripting (affects what comes next) */
void vg_rt_server_set_response_audio_ms (VgRtServer *server, guint ms);
/* The next response calls this function instead of speaking. */
void vg_rt_server_script_function_call (VgRtServer *server, const char *name,
                                        const char *arguments);
/* A scenario for every connection, a JSON array of steps that make a
 * response a function call: {"response": N, "call": NAME, "arguments": A}
 * for the connection's response number N (0-based, a greeting counts), or
 * {"user_says": TEXT, "call": ..., "arguments": ...} for the first response
 * after a typed user message (conversation.item.create, input_text)
 * containing TEXT (case-insensitive). The first matching step wins; "arguments"
 * is an object sent as JSON text, or a string sent as it is (default {}).
 * A response no step matches speaks; a call scripted with
 * vg_rt_server_script_function_call comes first. Replaces the previous
 * script; FALSE (and no change) when the JSON is not a valid script. */
gboolean vg_rt_server_set_script (VgRtServer *server, const char *json, GError **error);
/* The next spoken response closes the socket after half of its audio. */
void vg_rt_server_script_close_mid_response (VgRtServer *server);
/* The next spoken response stops after half of its audio without closing:
 * the connection then sends nothing and answers nothing (client events
 * are still logged) until the client closes it. */
void vg_rt_server_script_stall_mid_response (VgRtServer *server);
/* The next n responses (server VAD or response.create) are refused with an
 * error event rate_limit_exceeded ("Please try again in <retry_ms>ms.")
 * instead of starting; the user's items stay in the conversation. */
void vg_rt_server_script_rate_limit (VgRtServer *server, guint n, guint retry_ms);
/* The next n handshakes are refused with this HTTP status. */
void vg_rt_server_refuse_handshakes (VgRtServer *server, guint status, guint n);
/* Same, with a Retry-After header of retry_after_s seconds. */
void vg_rt_server_refuse_handshakes_retry_after (VgRtServer *server, guint status, guint n,
                                                 guint retry_after_s);
/* Sends a raw text frame to every open connection. */
void vg_rt_server_inject (VgRtServer *server, const char *frame);
/* Closes every open connection (1001, going away). */
void vg_rt_server_drop_connections (VgRtServer *server);

/* Observation */
guint vg_rt_server_get_handshakes (VgRtServer *server);
guint vg_rt_server_get_sessions (VgRtServer *server);
guint vg_rt_server_count (VgRtServer *server, const char *type);
/* Waits for the nth (0-based) logged event of this type; returns a new
 * reference or NULL on timeout. */
JsonObject *vg_rt_server_wait (VgRtServer *server, const char *type, guint nth, guint timeout_ms);
/* A snapshot of the log; free with g_ptr_array_unref. */
GPtrArray *vg_rt_server_get_log (VgRtServer *server);
/* Total bytes of PCM appended by clients (decoded). */
guint64 vg_rt_server_get_appended_bytes (VgRtServer *server);
/* Number of client events refused with an error. */
guint vg_rt_server_get_errors (VgRtServer *server);
/* The response.instructions of the nth (0-based, all connections) response
 * the server started: "" when it had none (server VAD, a plain
 * response.create); NULL when fewer responses were started. Free it. */
char *vg_rt_server_dup_response_instructions (VgRtServer *server, guint nth);

G_END_DECLS
