/* WebVTT sidecar writer; see recording-vtt.h. */
#include "gateway/rooms/recording-vtt.h"
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <unistd.h>

struct _VgVttWriter
{
  char *path, *part_path;
  FILE *file;
  GError *error; /* the first write error */
  guint cues;
};

char *
vg_vtt_format_time (gint64 ns)
{
  gint64 ms = MAX (ns, 0) / G_GINT64_CONSTANT (1000000);
  return g_strdup_printf ("%02" G_GINT64_FORMAT ":%02d:%02d.%03d", ms / 3600000,
                          (int)(ms / 60000 % 60), (int)(ms / 1000 % 60), (int)(ms % 1000));
}

char *
vg_vtt_escape (const char *text)
{
  GString *out = g_string_new (NULL);
  for (const char *c = text ? text : ""; *c; c++)
    switch (*c)
      {
        case '&':
          g_string_append (out, "&amp;");
          break;
        case '<':
          g_string_append (out, "&lt;");
          break;
        case '>': /* also breaks any "-->" */
          g_string_append (out, "&gt;");
          break;
        case '\r':
        case '\n':
          g_string_append_c (out, ' ');
          break;
        default:
          g_string_append_c (out, *c);
      }
  return g_string_free (out, FALSE);
}

static void
set_errno_error (GError **error, const char *what, const char *path, int err)
{
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err), "%s %s: %s", what, path,
               g_strerror (err));
}

VgVttWriter *
vg_vtt_writer_new (const char *path, GError **error)
{
  g_autofree char *part = g_strconcat (path, ".part", NULL);
  FILE *f = g_fopen (part, "w");
  if (!f || fputs ("WEBVTT\n", f) < 0 || fflush (f) != 0)
    {
      set_errno_error (error, "cannot write", part, errno);
      if (f)
        {
          fclose (f);
          g_unlink (part);
        }
      return NULL;
    }
  VgVttWriter *w = g_new0 (VgVttWriter, 1);
  w->path = g_strdup (path);
  w->part_path = g_steal_pointer (&part);
  w->file = f;
  return w;
}

void
vg_vtt_writer_add (VgVttWriter *w, gint64 start_ns, gint64 end_ns, const char *speaker,
                   const char *text)
{
  if (w->error || !text || !*text)
    return;
  if (end_ns <= start_ns)
    end_ns = start_ns + 500 * G_GINT64_CONSTANT (1000000);
  g_autofree char *from = vg_vtt_format_time (start_ns);
  g_autofree char *to = vg_vtt_format_time (end_ns);
  g_autofree char *who = vg_vtt_escape (speaker);
  g_autofree char *body = vg_vtt_escape (text);
  w->cues++;
  /* Flushed per cue: cues are rare (one per turn) and a crash keeps them. */
  if (fprintf (w->file, "\n%u\n%s --> %s\n<v %s>%s\n", w->cues, from, to, who, body) < 0
      || fflush (w->file) != 0)
    set_errno_error (&w->error, "cannot write", w->part_path, errno);
}

gboolean
vg_vtt_writer_finish (VgVttWriter *w, gboolean commit, GError **error)
{
  if (!w->file)
    return TRUE;
  gboolean ok = !w->error;
  if (ok && commit && (fflush (w->file) != 0 || fdatasync (fileno (w->file)) != 0))
    {
      set_errno_error (&w->error, "cannot write", w->part_path, errno);
      ok = FALSE;
    }
  if (fclose (w->file) != 0 && ok)
    {
      set_errno_error (&w->error, "cannot close", w->part_path, errno);
      ok = FALSE;
    }
  w->file = NULL;
  if (ok && commit && g_rename (w->part_path, w->path) != 0)
    {
      set_errno_error (&w->error, "cannot rename", w->part_path, errno);
      ok = FALSE;
    }
  if (!ok || !commit)
    g_unlink (w->part_path);
  if (!ok && error)
    *error = g_error_copy (w->error);
  return ok;
}

void
vg_vtt_writer_free (VgVttWriter *w)
{
  if (!w)
    return;
  if (w->file)
    vg_vtt_writer_finish (w, FALSE, NULL);
  g_clear_error (&w->error);
  g_free (w->path);
  g_free (w->part_path);
  g_free (w);
}
