-- Recordings made through the Egress API or by [recording] config: one row
-- per egress, with its audio file and its WebVTT transcript sidecar, linked
-- to the conversation it records (when one overlaps it). Paths are where the
-- gateway wrote the files; the HTTP API names recordings by id only.
CREATE TABLE recordings (
  id TEXT PRIMARY KEY CHECK (typeof(id) = 'text' AND length(id) = 36),
  egress_id TEXT NOT NULL UNIQUE CHECK (typeof(egress_id) = 'text' AND length(egress_id) BETWEEN 1 AND 64),
  room TEXT NOT NULL CHECK (typeof(room) = 'text' AND length(room) BETWEEN 1 AND 64),
  identity TEXT CHECK (identity IS NULL OR (typeof(identity) = 'text' AND length(identity) BETWEEN 1 AND 128)),
  conversation_id TEXT REFERENCES conversations (id) ON DELETE SET NULL,
  kind TEXT NOT NULL CHECK (kind IN ('room_composite', 'track')),
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'complete', 'failed')),
  error TEXT CHECK (error IS NULL OR length(error) <= 1024),
  filename TEXT CHECK (filename IS NULL OR length(filename) BETWEEN 1 AND 255),
  path TEXT CHECK (path IS NULL OR length(path) BETWEEN 1 AND 4096),
  mime_type TEXT CHECK (mime_type IS NULL OR length(mime_type) <= 64),
  size_bytes INTEGER CHECK (size_bytes IS NULL OR (typeof(size_bytes) = 'integer' AND size_bytes >= 0)),
  duration_ms INTEGER CHECK (duration_ms IS NULL OR (typeof(duration_ms) = 'integer' AND duration_ms >= 0)),
  transcript_filename TEXT CHECK (transcript_filename IS NULL OR length(transcript_filename) BETWEEN 1 AND 255),
  transcript_path TEXT CHECK (transcript_path IS NULL OR length(transcript_path) BETWEEN 1 AND 4096),
  transcript_size_bytes INTEGER CHECK (transcript_size_bytes IS NULL OR (typeof(transcript_size_bytes) = 'integer' AND transcript_size_bytes >= 0)),
  started_at TIMESTAMP NOT NULL CHECK (typeof(started_at) = 'text'),
  ended_at TIMESTAMP CHECK (ended_at IS NULL OR typeof(ended_at) = 'text')
);
CREATE INDEX idx_recordings_started ON recordings (started_at DESC, id DESC);
CREATE INDEX idx_recordings_room ON recordings (room, started_at DESC, id DESC);
CREATE INDEX idx_recordings_conversation ON recordings (conversation_id);
CREATE INDEX idx_recordings_ended ON recordings (ended_at);
