/* vg-playout.h: the queue between bursts of model audio and the real-time
 * output, counting per assistant item what was received and what was
 * actually played (for truncation on barge-in). Thread safe. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _VgPlayout VgPlayout;

typedef struct
{
  gsize audio_bytes;      /* bytes of queued audio in this pop, rest is silence */
  char *first_audio_item; /* item whose first sample was played in this pop, or NULL */
  gboolean drained;       /* the queue went from non-empty to empty */
} VgPlayoutPop;

/* max_ms bounds the queue: audio beyond it is dropped (counted). */
VgPlayout *vg_playout_new (guint rate, guint max_ms);
void vg_playout_free (VgPlayout *p);

/* Queues PCM16 of an item; returns FALSE when it had to drop (full). */
gboolean vg_playout_push (VgPlayout *p, const char *item_id, const guint8 *pcm, gsize len);
/* Fills out (len bytes) with queued audio then silence. */
void vg_playout_pop (VgPlayout *p, guint8 *out, gsize len, VgPlayoutPop *result);
void vg_playout_pop_clear (VgPlayoutPop *result);
/* Drops everything queued; returns the number of bytes dropped. */
gsize vg_playout_flush (VgPlayout *p);

guint64 vg_playout_get_played_samples (VgPlayout *p, const char *item_id);
guint64 vg_playout_get_received_samples (VgPlayout *p, const char *item_id);
gsize vg_playout_get_queued_bytes (VgPlayout *p);
guint64 vg_playout_get_dropped_bytes (VgPlayout *p);

G_END_DECLS
