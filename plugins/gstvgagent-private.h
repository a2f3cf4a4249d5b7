/* gstvgagent-private.h: what the files of GstVgAgent share and its
 * subclasses do not see. */
#pragma once

#include "gstvgagent.h"
#include "vg-paced-src.h"
#include "vg-playout.h"

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (vg_agent_debug);

typedef struct
{
  GstPad *sinkpad;
  GstPad *srcpad;

  gboolean flush_downstream; /* property, object lock */

  GMutex lock; /* guards what follows; never held across a callback */
  VgPlayout *playout;
  VgPacedSrc *paced;
  char *state;             /* last posted realtime-state */
  GMainContext *context;   /* owner context, or NULL */
  gboolean has_owner;      /* the subclass uses an owner context */
  guint generation;        /* bumped when the owner context changes */
  guint cut_epoch;         /* bumped by every cut */
  GstVgAgentPlayed played; /* not yet reported to the owner context */
  guint played_epoch;      /* cut_epoch at the latest of those periods */
  gboolean played_scheduled;
} GstVgAgentPrivate;

GstVgAgentPrivate *gst_vg_agent_priv (gpointer agent);
#define PRIV(agent) gst_vg_agent_priv (agent)

/* gstvgagent-output.c */
void gst_vg_agent_on_played (gpointer agent, const VgPlayoutPop *pop);
void gst_vg_agent_default_played (GstVgAgent *self, const GstVgAgentPlayed *played);

G_END_DECLS
