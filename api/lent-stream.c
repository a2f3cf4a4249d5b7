/* The lent connection stream. See lent-stream.h. */
#include "api/lent-stream.h"

struct _VgLentStream
{
  GIOStream parent;
  GIOStream *base;
  VgReplayStream *input;
  gboolean returned;
  VgLentStreamReturnFunc return_func;
  gpointer return_data;
};

G_DEFINE_FINAL_TYPE (VgLentStream, vg_lent_stream, G_TYPE_IO_STREAM)

static void
on_base_closed (GObject *base, GAsyncResult *result, gpointer user_data)
{
  g_io_stream_close_finish (G_IO_STREAM (base), result, NULL);
}

/* Closing a TLS connection writes close_notify and may wait for the peer:
 * asynchronous, so that no close blocks the main loop. */
static void
give_back (VgLentStream *self)
{
  VgLentStreamReturnFunc func = self->return_func;

  if (self->returned)
    return;
  self->returned = TRUE;
  self->return_func = NULL;
  if (func)
    func (self, self->return_data);
  else if (!g_io_stream_is_closed (self->base))
    g_io_stream_close_async (self->base, G_PRIORITY_DEFAULT, NULL, on_base_closed, NULL);
}

static GInputStream *
get_input_stream (GIOStream *stream)
{
  return G_INPUT_STREAM (VG_LENT_STREAM (stream)->input);
}

static GOutputStream *
get_output_stream (GIOStream *stream)
{
  return g_io_stream_get_output_stream (VG_LENT_STREAM (stream)->base);
}

static gboolean
close_fn (GIOStream *stream, GCancellable *cancellable, GError **error)
{
  give_back (VG_LENT_STREAM (stream));
  return TRUE;
}

static void
close_async (GIOStream *stream, int io_priority, GCancellable *cancellable,
             GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (stream, cancellable, callback, user_data);

  give_back (VG_LENT_STREAM (stream));
  g_task_return_boolean (task, TRUE);
}

static gboolean
close_finish (GIOStream *stream, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
vg_lent_stream_finalize (GObject *object)
{
  VgLentStream *self = VG_LENT_STREAM (object);

  give_back (self);
  g_object_unref (self->input);
  g_object_unref (self->base);
  G_OBJECT_CLASS (vg_lent_stream_parent_class)->finalize (object);
}

static void
vg_lent_stream_class_init (VgLentStreamClass *klass)
{
  GIOStreamClass *io_class = G_IO_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = vg_lent_stream_finalize;
  io_class->get_input_stream = get_input_stream;
  io_class->get_output_stream = get_output_stream;
  io_class->close_fn = close_fn;
  io_class->close_async = close_async;
  io_class->close_finish = close_finish;
}

static void
vg_lent_stream_init (VgLentStream *self)
{
}

VgLentStream *
vg_lent_stream_new (GIOStream *base, VgReplayStream *input)
{
  VgLentStream *self = g_object_new (VG_TYPE_LENT_STREAM, NULL);

  self->base = g_object_ref (base);
  self->input = g_object_ref (input);
  return self;
}

VgReplayStream *
vg_lent_stream_get_replay (VgLentStream *self)
{
  return self->input;
}

void
vg_lent_stream_set_return_func (VgLentStream *self, VgLentStreamReturnFunc func, gpointer user_data)
{
  self->return_func = func;
  self->return_data = user_data;
}
