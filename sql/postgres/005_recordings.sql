-- Recordings made through the Egress API or by [recording] config: one row
-- per egress, with its audio file and its WebVTT transcript sidecar, linked
-- to the conversation it records (when one overlaps it). Paths are where the
-- gateway wrote the files; the HTTP API names recordings by id only.
CREATE TABLE recordings (
  id UUID PRIMARY KEY,
  egress_id TEXT NOT NULL UNIQUE CHECK (char_length(egress_id) BETWEEN 1 AND 64),
  room TEXT NOT NULL CHECK (char_length(room) BETWEEN 1 AND 64),
  identity TEXT CHECK (char_length(identity) BETWEEN 1 AND 128),
  conversation_id UUID REFERENCES conversations (id) ON DELETE SET NULL,
  kind TEXT NOT NULL CHECK (kind IN ('room_composite', 'track')),
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'complete', 'failed')),
  error TEXT CHECK (char_length(error) <= 1024),
  filename TEXT CHECK (char_length(filename) BETWEEN 1 AND 255),
  path TEXT CHECK (char_length(path) BETWEEN 1 AND 4096),
  mime_type TEXT CHECK (char_length(mime_type) <= 64),
  size_bytes BIGINT CHECK (size_bytes >= 0),
  duration_ms BIGINT CHECK (duration_ms >= 0),
  transcript_filename TEXT CHECK (char_length(transcript_filename) BETWEEN 1 AND 255),
  transcript_path TEXT CHECK (char_length(transcript_path) BETWEEN 1 AND 4096),
  transcript_size_bytes BIGINT CHECK (transcript_size_bytes >= 0),
  started_at TIMESTAMPTZ NOT NULL,
  ended_at TIMESTAMPTZ
);
CREATE INDEX idx_recordings_started ON recordings (started_at DESC, id DESC);
CREATE INDEX idx_recordings_room ON recordings (room, started_at DESC, id DESC);
CREATE INDEX idx_recordings_conversation ON recordings (conversation_id);
CREATE INDEX idx_recordings_ended ON recordings (ended_at);
