/* The replaying connection stream. See replay-stream.h. */
#include "api/replay-stream.h"

#include <string.h>

struct _VgReplayStream
{
  GInputStream parent;
  GIOStream *base;
  GPollableInputStream *base_in; /* owned by base */
  GBytes *prefix;
  gsize offset;
  gint64 remaining; /* bytes still to read from base; -1: no limit */
  gint64 waiting_since;
  gboolean expired;
  GCancellable *wake; /* cancelled to wake a reader on expiry */
};

static void pollable_iface_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (VgReplayStream, vg_replay_stream, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      pollable_iface_init))

static gsize
prefix_left (VgReplayStream *self)
{
  return self->prefix ? g_bytes_get_size (self->prefix) - self->offset : 0;
}

static gssize
take_prefix (VgReplayStream *self, void *buffer, gsize count)
{
  gsize n = MIN (count, prefix_left (self));

  memcpy (buffer, (const guint8 *)g_bytes_get_data (self->prefix, NULL) + self->offset, n);
  self->offset += n;
  if (prefix_left (self) == 0)
    g_clear_pointer (&self->prefix, g_bytes_unref);
  return n;
}

/* Past the request, the stream reads as ended: the next request's bytes
 * stay in the connection for the acceptor. */
static gsize
base_count (VgReplayStream *self, gsize count)
{
  return self->remaining < 0 ? count : (gsize)MIN ((guint64)count, (guint64)self->remaining);
}

static void
consumed (VgReplayStream *self, gssize n)
{
  if (n > 0 && self->remaining > 0)
    self->remaining -= n;
}

static gboolean
check_expired (VgReplayStream *self, GError **error)
{
  if (!self->expired)
    return TRUE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the request body stalled");
  return FALSE;
}

static gssize
read_nonblocking (GPollableInputStream *stream, void *buffer, gsize count, GError **error)
{
  VgReplayStream *self = VG_REPLAY_STREAM (stream);
  g_autoptr (GError) local = NULL;
  gssize n;

  if (!check_expired (self, error))
    return -1;
  if (prefix_left (self))
    return take_prefix (self, buffer, count);
  if (self->remaining == 0)
    return 0;
  n = g_pollable_input_stream_read_nonblocking (self->base_in, buffer, base_count (self, count),
                                                NULL, &local);
  consumed (self, n);
  if (n < 0 && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    {
      if (!self->waiting_since)
        self->waiting_since = g_get_monotonic_time ();
    }
  else
    self->waiting_since = 0;
  if (local)
    g_propagate_error (error, g_steal_pointer (&local));
  return n;
}

static gssize
read_fn (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable, GError **error)
{
  VgReplayStream *self = VG_REPLAY_STREAM (stream);

  if (!check_expired (self, error))
    return -1;
  gssize n;

  if (prefix_left (self))
    return take_prefix (self, buffer, count);
  if (self->remaining == 0)
    return 0;
  n = g_input_stream_read (G_INPUT_STREAM (self->base_in), buffer, base_count (self, count),
                           cancellable, error);
  consumed (self, n);
  return n;
}

static gboolean
is_readable (GPollableInputStream *stream)
{
  VgReplayStream *self = VG_REPLAY_STREAM (stream);

  return self->expired || prefix_left (self) || self->remaining == 0
         || g_pollable_input_stream_is_readable (self->base_in);
}

static gboolean
can_poll (GPollableInputStream *stream)
{
  return TRUE;
}

static GSource *
create_source (GPollableInputStream *stream, GCancellable *cancellable)
{
  VgReplayStream *self = VG_REPLAY_STREAM (stream);
  GSource *source = g_pollable_source_new_full (stream, NULL, cancellable);
  GSource *ready = self->expired || prefix_left (self) || self->remaining == 0
                       ? g_timeout_source_new (0)
                       : g_pollable_input_stream_create_source (self->base_in, NULL);
  GSource *wake = g_cancellable_source_new (self->wake);

  g_source_set_dummy_callback (ready);
  g_source_set_dummy_callback (wake);
  g_source_add_child_source (source, ready);
  g_source_add_child_source (source, wake);
  g_source_unref (ready);
  g_source_unref (wake);
  return source;
}

static void
vg_replay_stream_finalize (GObject *object)
{
  VgReplayStream *self = VG_REPLAY_STREAM (object);

  g_clear_pointer (&self->prefix, g_bytes_unref);
  g_object_unref (self->wake);
  g_object_unref (self->base);
  G_OBJECT_CLASS (vg_replay_stream_parent_class)->finalize (object);
}

static void
vg_replay_stream_class_init (VgReplayStreamClass *klass)
{
  GInputStreamClass *input_class = G_INPUT_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = vg_replay_stream_finalize;
  input_class->read_fn = read_fn;
}

static void
pollable_iface_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = can_poll;
  iface->is_readable = is_readable;
  iface->create_source = create_source;
  iface->read_nonblocking = read_nonblocking;
}

static void
vg_replay_stream_init (VgReplayStream *self)
{
  self->wake = g_cancellable_new ();
}

VgReplayStream *
vg_replay_stream_new (GIOStream *base, GBytes *prefix, gint64 limit)
{
  VgReplayStream *self = g_object_new (VG_TYPE_REPLAY_STREAM, NULL);

  self->remaining = limit;
  self->base = g_object_ref (base);
  self->base_in = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (base));
  self->prefix = prefix && g_bytes_get_size (prefix) ? g_bytes_ref (prefix) : NULL;
  return self;
}

gint64
vg_replay_stream_waiting_since (VgReplayStream *self)
{
  return self->waiting_since;
}

void
vg_replay_stream_expire (VgReplayStream *self)
{
  self->expired = TRUE;
  g_cancellable_cancel (self->wake);
}

gboolean
vg_replay_stream_is_drained (VgReplayStream *self)
{
  return !prefix_left (self) && self->remaining == 0 && !self->expired;
}
