/* vg-agent-messages.h: the element messages both agent elements post on the
 * bus. The gateway and the data channel depend on these names and fields;
 * docs/ELEMENTS.md documents them. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define VG_MSG_STATE "realtime-state"
#define VG_MSG_TRANSCRIPT "realtime-transcript"
#define VG_MSG_FUNCTION_CALL "realtime-function-call"
#define VG_MSG_USAGE "realtime-usage"
#define VG_MSG_ERROR "realtime-error"

/* state: connecting, listening, thinking, speaking or error */
void vg_agent_post_state (GstElement *element, const char *state);
/* role: user or assistant; text is the whole text so far of the item */
void vg_agent_post_transcript (GstElement *element, const char *role, const char *item_id,
                               const char *text, gboolean final);
void vg_agent_post_function_call (GstElement *element, const char *call_id, const char *name,
                                  const char *arguments);
/* code and message from the server (or our own code for local problems) */
void vg_agent_post_error (GstElement *element, const char *code, const char *message,
                          gboolean fatal);
/* Takes ownership of s (named VG_MSG_USAGE). */
void vg_agent_post_structure (GstElement *element, GstStructure *s);

G_END_DECLS
