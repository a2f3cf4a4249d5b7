/* The room's agent: a bin built from a template file in pipelines/ and the
 * translation between its bus messages / action signals and the JSON events
 * of the "events" data channel. The template convention is in
 * pipelines/README.md: one unlinked sink pad (the room mix, 48 kHz S16LE
 * mono), one unlinked src pad (the agent's voice, any raw audio), and the
 * element that speaks the realtime-* messages named "agent". */
#pragma once

#include <gst/gst.h>
#include "gateway/rooms/rooms.h"

G_BEGIN_DECLS

/* Template file names: [A-Za-z0-9_-]+ ".pipeline", no path. */
gboolean vg_agent_template_name_is_valid (const char *name);

/* Reads pipelines_dir/template_name (at most 64 KiB) and parses it into a bin
 * with one sink and one src ghost pad. */
GstElement *vg_agent_bin_load (const char *pipelines_dir, const char *template_name,
                               GError **error);

/* The template's element named "agent", or NULL. Transfer full. */
GstElement *vg_agent_bin_get_agent (GstElement *agent_bin);

/* Sets url/model/voice/instructions from the settings and api-key from
 * OPENAI_API_KEY on the agent, for each property it has and that is set. */
void vg_agent_configure (GstElement *agent, const VgRoomsSettings *settings);

/* Sets the agent's "tools" (a JSON array text) when it has that property. */
void vg_agent_set_tools (GstElement *agent, const char *tools_json);

/* The data channel JSON event for a realtime-* element message, or NULL when
 * the message is not one. *state_out receives the new agent state for
 * realtime-state messages (static string or NULL). */
char *vg_agent_event_from_message (const GstStructure *s, const char **state_out);

/* A realtime-function-call the gateway has no tool for is answered so the
 * agent does not wait forever. */
void vg_agent_answer_function_call (GstElement *agent, const GstStructure *s);
/* Gives the agent a tool's result (send-function-result); FALSE when it
 * cannot take one. */
gboolean vg_agent_send_function_result (GstElement *agent, const char *call_id,
                                        const char *output_json);
/* The "tool" event of the data channel: {"type":"tool","name","arguments",
 * "result"}; result is the output as JSON (a string if it does not parse). */
char *vg_agent_tool_event (const char *name, const char *arguments, const char *output_json);

/* Applies one client event ({"type":"text","text"} → send-text,
 * {"type":"interrupt"} → cancel-response). Returns FALSE with a short error
 * code ("bad_json", "unknown_type", "no_agent", "too_large") otherwise. */
/* typed_text (optional): set to the text of a "text" event that reached the
 * agent (caller frees), so the gateway can record what was typed. */
gboolean vg_agent_apply_client_event (GstElement *agent, const char *json, const char **error_code,
                                      char **typed_text);

G_END_DECLS
