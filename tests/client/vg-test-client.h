/* A WebRTC peer for tests and load: one webrtcbin per client, signalled by
 * WHIP/WHEP over HTTP (or any offer -> answer function), sending a tone, a
 * recorded sample or silence, and analysing what it hears. Many clients can
 * live in one process (the benchmark's load generator).
 *
 * Everything runs on the thread-default main context of the thread that
 * created the client; the wait functions iterate it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VgTestClient VgTestClient;

typedef struct
{
  gboolean listen_only;  /* WHEP: receive only, no data channel */
  gboolean data_channel; /* create the "events" channel before the offer */
  double tone_hz;        /* what to send from the start; 0 = silence */
  double tone_amplitude; /* 0..1, 0 = 0.25 */
  guint drop_every;      /* drop every Nth RTP packet sent (after payloading): loss; 0 = none */
  gboolean dtx;          /* Opus DTX: no packets while silent (LiveKit's clients' default) */
} VgTestClientOptions;

/* The reply to an offer: the answer, or an error text (with the HTTP status if any). */
typedef void (*VgTestAnswerFunc) (VgTestClient *client, const char *answer_sdp, guint status,
                                  const char *error);
typedef void (*VgTestSignalFunc) (VgTestClient *client, const char *offer_sdp,
                                  VgTestAnswerFunc reply, gpointer user_data);

VgTestClient *vg_test_client_new (const char *label, const VgTestClientOptions *options);
void vg_test_client_free (VgTestClient *client);

/* Signal through WHIP/WHEP: POST the offer to endpoint_url with the bearer token. */
void vg_test_client_use_http (VgTestClient *client, const char *endpoint_url, const char *token);
/* Signal through a function (e.g. straight into the room registry). */
void vg_test_client_use_signaller (VgTestClient *client, VgTestSignalFunc fn, gpointer user_data);

/* Builds the pipeline, creates the offer, waits for ICE gathering, signals. */
gboolean vg_test_client_start (VgTestClient *client, GError **error);
/* TRUE once the peer connection is connected; FALSE on failure or timeout. */
gboolean vg_test_client_wait_connected (VgTestClient *client, guint timeout_ms);
/* Only the offer (for refusal tests); waits for gathering. Caller frees. */
char *vg_test_client_make_offer (VgTestClient *client, guint timeout_ms, GError **error);
/* Stops the peer; with leave, DELETEs the WHIP session first (HTTP only). */
void vg_test_client_stop (VgTestClient *client, gboolean leave);

const char *vg_test_client_get_label (VgTestClient *client);
const char *vg_test_client_get_location (VgTestClient *client); /* WHIP resource or NULL */
const char *vg_test_client_get_etag (VgTestClient *client);
guint vg_test_client_get_http_status (VgTestClient *client);
const char *vg_test_client_get_error (VgTestClient *client);
gboolean vg_test_client_is_connected (VgTestClient *client);
gboolean vg_test_client_has_failed (VgTestClient *client);
/* Seconds from start to connected, or a negative number. */
double vg_test_client_get_connect_seconds (VgTestClient *client);

/* What to send from now on. */
void vg_test_client_send_tone (VgTestClient *client, double hz);
/* Sends mono 48 kHz samples once, then silence. */
void vg_test_client_send_samples (VgTestClient *client, const gint16 *samples, gsize n);
/* Loads a WAV (any rate, decoded with GStreamer) as 48 kHz mono samples. */
gint16 *vg_test_load_audio_file (const char *path, gsize *n_samples, GError **error);

/* Mouth-to-ear round trip: from silence, starts a tone and returns the
 * seconds from its first sample being spoken (buffers leave like a
 * microphone's, a 20 ms frame after their first sample) to it being heard
 * back (encode, network, gateway, decode; needs an agent that echoes, e.g.
 * loopback.pipeline), or -1 on timeout. Leaves the tone on. */
double vg_test_client_measure_round_trip (VgTestClient *client, double hz, guint timeout_ms);

/* The same, for many clients at once: arm (FALSE when the room is not
 * silent), iterate the main context, then read the result (-1 until heard). */
gboolean vg_test_client_arm_round_trip (VgTestClient *client, double hz);
double vg_test_client_get_round_trip (VgTestClient *client);

/* Barge-in: from now on, watches for the first received buffer (20 ms)
 * whose RMS is below level (0..1; 0 disarms); its arrival time (monotonic
 * us, as g_get_monotonic_time) or 0 until then. */
void vg_test_client_arm_silence (VgTestClient *client, double level);
gint64 vg_test_client_get_silence_us (VgTestClient *client);

/* Continuity: from now on (level > 0; 0 stops watching), on the receiving
 * thread, the longest run of received audio quieter than level (RMS per
 * buffer, 0..1), in ms of audio, and the longest wall-clock interval
 * between two received buffers, in ms. */
typedef struct
{
  double longest_quiet_ms, longest_interval_ms;
  guint64 buffers;
} VgTestAudioWatch;
void vg_test_client_watch_audio (VgTestClient *client, double level);
void vg_test_client_get_audio_watch (VgTestClient *client, VgTestAudioWatch *watch);

/* Seconds from the offer leaving (the WHIP POST) to the first audible
 * buffer received, or -1. */
double vg_test_client_get_first_audio_seconds (VgTestClient *client);

/* What webrtcbin's inbound-rtp statistics say about the received audio. */
typedef struct
{
  guint64 packets_received;
  guint64 packets_lost;
  double jitter_seconds; /* RFC 3550 interarrival jitter */
  guint streams;
} VgTestInboundStats;
gboolean vg_test_client_get_inbound_stats (VgTestClient *client, VgTestInboundStats *stats);

/* Analysis of the last window_ms of received audio (amplitude 0..1). */
double vg_test_client_tone_level (VgTestClient *client, double hz, guint window_ms);
double vg_test_client_dominant_frequency (VgTestClient *client, guint window_ms);
double vg_test_client_rms (VgTestClient *client, guint window_ms);
/* Samples received so far. */
guint64 vg_test_client_samples_received (VgTestClient *client);
void vg_test_client_clear_audio (VgTestClient *client);

/* The data channel. */
gboolean vg_test_client_wait_channel_open (VgTestClient *client, guint timeout_ms);
gboolean vg_test_client_send_event (VgTestClient *client, const char *json);
/* The first received event whose "type" is type (and, when field is not NULL,
 * whose field equals value), consumed; NULL on timeout. Caller frees. */
char *vg_test_client_wait_event (VgTestClient *client, const char *type, const char *field,
                                 const char *value, guint timeout_ms);

/* Iterates the thread-default main context until cond (data) or timeout. */
gboolean vg_test_wait_until (gboolean (*cond) (gpointer data), gpointer data, guint timeout_ms);
void vg_test_run_for (guint ms);

G_END_DECLS
