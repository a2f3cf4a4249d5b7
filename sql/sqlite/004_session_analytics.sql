-- Session analytics for the tutor: tool calls, the median response latency
-- next to the mean and p95, and the learner's understanding of the
-- conversation's subtopic (mean assessed level, 0-4) when it started and
-- when it ended; NULL when the learner had no assessment there yet.
ALTER TABLE session_analytics ADD COLUMN tool_calls INTEGER NOT NULL DEFAULT 0
  CHECK (typeof(tool_calls) = 'integer' AND tool_calls >= 0);
ALTER TABLE session_analytics ADD COLUMN response_latency_p50_ms REAL
  CHECK (response_latency_p50_ms IS NULL OR response_latency_p50_ms >= 0);
ALTER TABLE session_analytics ADD COLUMN understanding_start REAL
  CHECK (understanding_start IS NULL OR understanding_start BETWEEN 0 AND 4);
ALTER TABLE session_analytics ADD COLUMN understanding_end REAL
  CHECK (understanding_end IS NULL OR understanding_end BETWEEN 0 AND 4);
