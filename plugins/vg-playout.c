/* vg-playout.c: chunk queue plus per-item played/received counters. */
#include "vg-playout.h"

#include <string.h>

/* Counters of older items are forgotten: truncation only concerns the item
 * being played. */
#define MAX_TRACKED_ITEMS 32

typedef struct
{
  char *item_id;
  GBytes *pcm;
  gsize offset;
} Chunk;

typedef struct
{
  guint64 played_samples;
  guint64 received_samples;
} ItemStats;

struct _VgPlayout
{
  GMutex lock;
  guint rate;
  gsize max_bytes;
  GQueue chunks;
  gsize queued_bytes;
  guint64 dropped_bytes;
  GHashTable *stats;  /* item id -> ItemStats */
  GQueue stats_order; /* item ids, oldest first (owned by the table) */
};

static void
chunk_free (gpointer data)
{
  Chunk *c = data;

  g_free (c->item_id);
  g_bytes_unref (c->pcm);
  g_free (c);
}

VgPlayout *
vg_playout_new (guint rate, guint max_ms)
{
  VgPlayout *p = g_new0 (VgPlayout, 1);

  g_mutex_init (&p->lock);
  p->rate = rate;
  p->max_bytes = (gsize)rate * 2 * max_ms / 1000;
  g_queue_init (&p->chunks);
  p->stats = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_queue_init (&p->stats_order);
  return p;
}

void
vg_playout_free (VgPlayout *p)
{
  if (p == NULL)
    return;
  g_queue_clear_full (&p->chunks, chunk_free);
  g_queue_clear (&p->stats_order);
  g_hash_table_unref (p->stats);
  g_mutex_clear (&p->lock);
  g_free (p);
}

static ItemStats *
stats_for_locked (VgPlayout *p, const char *item_id)
{
  ItemStats *st = g_hash_table_lookup (p->stats, item_id);
  char *key;

  if (st != NULL)
    return st;
  if (g_queue_get_length (&p->stats_order) >= MAX_TRACKED_ITEMS)
    g_hash_table_remove (p->stats, g_queue_pop_head (&p->stats_order));
  key = g_strdup (item_id);
  st = g_new0 (ItemStats, 1);
  g_hash_table_insert (p->stats, key, st);
  g_queue_push_tail (&p->stats_order, key);
  return st;
}

gboolean
vg_playout_push (VgPlayout *p, const char *item_id, const guint8 *pcm, gsize len)
{
  Chunk *c;

  len &= ~(gsize)1;
  if (len == 0)
    return TRUE;
  g_mutex_lock (&p->lock);
  if (p->queued_bytes + len > p->max_bytes)
    {
      p->dropped_bytes += len;
      g_mutex_unlock (&p->lock);
      return FALSE;
    }
  c = g_new0 (Chunk, 1);
  c->item_id = g_strdup (item_id);
  c->pcm = g_bytes_new (pcm, len);
  g_queue_push_tail (&p->chunks, c);
  p->queued_bytes += len;
  stats_for_locked (p, item_id)->received_samples += len / 2;
  g_mutex_unlock (&p->lock);
  return TRUE;
}

void
vg_playout_pop (VgPlayout *p, guint8 *out, gsize len, VgPlayoutPop *result)
{
  gsize filled = 0;
  gboolean had = FALSE;

  memset (result, 0, sizeof *result);
  g_mutex_lock (&p->lock);
  had = p->queued_bytes > 0;
  while (filled < len && !g_queue_is_empty (&p->chunks))
    {
      Chunk *c = g_queue_peek_head (&p->chunks);
      gsize size;
      const guint8 *data = g_bytes_get_data (c->pcm, &size);
      gsize n = MIN (len - filled, size - c->offset);
      ItemStats *st = stats_for_locked (p, c->item_id);

      if (st->played_samples == 0 && result->first_audio_item == NULL)
        result->first_audio_item = g_strdup (c->item_id);
      memcpy (out + filled, data + c->offset, n);
      st->played_samples += n / 2;
      c->offset += n;
      filled += n;
      p->queued_bytes -= n;
      if (c->offset >= size)
        chunk_free (g_queue_pop_head (&p->chunks));
    }
  result->drained = had && p->queued_bytes == 0;
  g_mutex_unlock (&p->lock);
  if (filled < len)
    memset (out + filled, 0, len - filled);
  result->audio_bytes = filled;
}

void
vg_playout_pop_clear (VgPlayoutPop *result)
{
  g_clear_pointer (&result->first_audio_item, g_free);
}

gsize
vg_playout_flush (VgPlayout *p)
{
  gsize n;

  g_mutex_lock (&p->lock);
  n = p->queued_bytes;
  g_queue_clear_full (&p->chunks, chunk_free);
  p->queued_bytes = 0;
  g_mutex_unlock (&p->lock);
  return n;
}

static guint64
get_stat (VgPlayout *p, const char *item_id, gboolean played)
{
  ItemStats *st;
  guint64 n = 0;

  if (item_id == NULL)
    return 0;
  g_mutex_lock (&p->lock);
  st = g_hash_table_lookup (p->stats, item_id);
  if (st != NULL)
    n = played ? st->played_samples : st->received_samples;
  g_mutex_unlock (&p->lock);
  return n;
}

guint64
vg_playout_get_played_samples (VgPlayout *p, const char *item_id)
{
  return get_stat (p, item_id, TRUE);
}

guint64
vg_playout_get_received_samples (VgPlayout *p, const char *item_id)
{
  return get_stat (p, item_id, FALSE);
}

gsize
vg_playout_get_queued_bytes (VgPlayout *p)
{
  gsize n;

  g_mutex_lock (&p->lock);
  n = p->queued_bytes;
  g_mutex_unlock (&p->lock);
  return n;
}

guint64
vg_playout_get_dropped_bytes (VgPlayout *p)
{
  guint64 n;

  g_mutex_lock (&p->lock);
  n = p->dropped_bytes;
  g_mutex_unlock (&p->lock);
  return n;
}
