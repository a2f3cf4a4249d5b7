/* Removing recordings. See recording-files.h. */
#include "gateway/egress/recording-files.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

typedef struct
{
  VgStore *store;
  char *id;
  char *paths[3]; /* the file, its transcript, a ".part" left by a crash */
  VgRecordingDeleted callback;
  gpointer data;
} VgDeletion;

static void
deletion_free (gpointer data)
{
  VgDeletion *d = data;

  g_free (d->id);
  for (guint i = 0; i < G_N_ELEMENTS (d->paths); i++)
    g_free (d->paths[i]);
  g_free (d);
}

/* Worker thread. */
static void
unlink_files (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  VgDeletion *d = task_data;

  for (guint i = 0; i < G_N_ELEMENTS (d->paths); i++)
    if (d->paths[i] && g_unlink (d->paths[i]) != 0 && errno != ENOENT)
      {
        int saved = errno;
        g_autofree char *name = g_path_get_basename (d->paths[i]);
        g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                                 "cannot remove %s: %s", name, g_strerror (saved));
        return;
      }
  g_task_return_boolean (task, TRUE);
}

static void
on_row_deleted (JsonArray *rows, gint64 changes, const GError *error, gpointer data)
{
  g_autoptr (GTask) task = data;
  VgDeletion *d = g_task_get_task_data (task);

  d->callback (!error && changes > 0, error, d->data);
}

/* Main context: the files are gone; now the row. */
static void
on_files_removed (GObject *source, GAsyncResult *result, gpointer data)
{
  VgDeletion *d = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      d->callback (FALSE, error, d->data);
      return;
    }
  /* The task (and d with it) lives until the row is gone. */
  vg_store_query (d->store, VG_STORE_Q_RECORDING_DELETE, (const char *const[]){ d->id }, 1,
                  on_row_deleted, g_object_ref (result));
}

void
vg_recording_delete (VgStore *store, const char *id, const char *path, const char *transcript_path,
                     VgRecordingDeleted callback, gpointer data)
{
  VgDeletion *d = g_new0 (VgDeletion, 1);
  g_autoptr (GTask) task = g_task_new (NULL, NULL, on_files_removed, NULL);

  d->store = store;
  d->id = g_strdup (id);
  d->paths[0] = g_strdup (path);
  d->paths[1] = g_strdup (transcript_path);
  d->paths[2] = path ? g_strconcat (path, ".part", NULL) : NULL;
  d->callback = callback;
  d->data = data;
  g_task_set_task_data (task, d, deletion_free);
  g_task_run_in_thread (task, unlink_files);
}
