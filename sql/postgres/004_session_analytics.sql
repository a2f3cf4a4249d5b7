-- Session analytics for the tutor: tool calls, the median response latency
-- next to the mean and p95, and the learner's understanding of the
-- conversation's subtopic (mean assessed level, 0-4) when it started and
-- when it ended; NULL when the learner had no assessment there yet.
ALTER TABLE session_analytics
  ADD COLUMN tool_calls INTEGER NOT NULL DEFAULT 0 CHECK (tool_calls >= 0),
  ADD COLUMN response_latency_p50_ms DOUBLE PRECISION CHECK (response_latency_p50_ms >= 0),
  ADD COLUMN understanding_start DOUBLE PRECISION
    CHECK (understanding_start BETWEEN 0 AND 4),
  ADD COLUMN understanding_end DOUBLE PRECISION CHECK (understanding_end BETWEEN 0 AND 4);
