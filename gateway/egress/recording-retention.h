/* [recording] retain_days: a periodic sweep on the main context deletes the
 * recordings (files and rows) that ended longer ago than that; one that
 * never ended (the process died while it ran) counts from its start. A
 * recording still running is never deleted. Metric:
 * voxgate_recordings_expired_total. */
#pragma once

#include "gateway/core/app.h"
#include "gateway/egress/egress.h"

G_BEGIN_DECLS

typedef struct _VgRecordingRetention VgRecordingRetention;

/* NULL when retain_days <= 0 (kept forever) or there is no store. The first
 * sweep runs period_s after the start, then every period_s. egress may be
 * NULL (no recording is running). */
VgRecordingRetention *vg_recording_retention_new (VgApp *app, VgEgress *egress, double retain_days,
                                                  guint period_s);
void vg_recording_retention_free (VgRecordingRetention *retention);

G_END_DECLS
