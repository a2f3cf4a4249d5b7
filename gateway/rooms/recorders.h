/* The registry's side of recording (room-recorder.h is the public one):
 * the set of running recordings and what rooms tell it. Main context only. */
#pragma once

#include <gst/gst.h>
#include "gateway/core/metrics.h"
#include "gateway/rooms/room-recorder.h"

G_BEGIN_DECLS

typedef struct _VgRecorders VgRecorders;

/* default_dir: where recordings go when a spec names no directory.
 * metrics may be NULL. */
VgRecorders *vg_recorders_new (GMainContext *context, VgMetrics *metrics, const char *default_dir);
/* Ends every recording, waiting (bounded) for their files to close; their
 * callbacks run. */
void vg_recorders_free (VgRecorders *recorders);
void vg_recorders_set_observer (VgRecorders *recorders, const VgRecordingCallbacks *callbacks,
                                gpointer data);
char *vg_recorders_start (VgRecorders *recorders, VgRoom *room, const VgRecordingSpec *spec,
                          const VgRecordingCallbacks *callbacks, gpointer data, GError **error);
gboolean vg_recorders_stop (VgRecorders *recorders, const char *id, GError **error);
GPtrArray *vg_recorders_list (VgRecorders *recorders, const char *room_name);
VgRecordingInfo *vg_recorders_get (VgRecorders *recorders, const char *id);
GstPipeline *vg_recorders_get_pipeline (VgRecorders *recorders, const char *id);

/* What rooms tell the recorders (through the registry's room host). */
void vg_recorders_room_closing (VgRecorders *recorders, VgRoom *room);
void vg_recorders_participant_leaving (VgRecorders *recorders, VgParticipant *participant);
void vg_recorders_agent_message (VgRecorders *recorders, VgRoom *room, const GstStructure *s);

G_END_DECLS
