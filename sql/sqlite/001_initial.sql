-- voxgate schema, SQLite. Times are TEXT in UTC, fixed width
-- 'YYYY-MM-DDTHH:MM:SS.ffffffZ' so they sort and compare as text; the typeof
-- checks refuse values of the wrong type, which SQLite would otherwise keep.
CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE subtopics (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  topic TEXT NOT NULL CHECK (typeof(topic) = 'text' AND length(topic) BETWEEN 1 AND 100),
  name TEXT NOT NULL CHECK (typeof(name) = 'text' AND length(name) BETWEEN 1 AND 200),
  description TEXT NOT NULL DEFAULT '' CHECK (typeof(description) = 'text' AND length(description) <= 4000),
  instructions TEXT NOT NULL DEFAULT '' CHECK (typeof(instructions) = 'text' AND length(instructions) <= 16000),
  created_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')),
  updated_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')),
  CONSTRAINT subtopics_topic_name_key UNIQUE (topic, name)
);
CREATE INDEX idx_subtopics_topic ON subtopics (topic);

CREATE TABLE conversations (
  id TEXT PRIMARY KEY CHECK (typeof(id) = 'text' AND length(id) = 36),
  room TEXT NOT NULL CHECK (typeof(room) = 'text' AND length(room) BETWEEN 1 AND 64),
  identity TEXT NOT NULL CHECK (typeof(identity) = 'text' AND length(identity) BETWEEN 1 AND 128),
  subtopic_id INTEGER REFERENCES subtopics (id) ON DELETE SET NULL,
  pipeline TEXT NOT NULL DEFAULT '' CHECK (length(pipeline) <= 256),
  model TEXT NOT NULL DEFAULT '' CHECK (length(model) <= 256),
  status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'completed', 'failed', 'abandoned')),
  started_at TIMESTAMP NOT NULL CHECK (typeof(started_at) = 'text'),
  ended_at TIMESTAMP CHECK (ended_at IS NULL OR typeof(ended_at) = 'text')
);
CREATE INDEX idx_conversations_room ON conversations (room, started_at DESC, id DESC);
CREATE INDEX idx_conversations_identity ON conversations (identity, started_at DESC, id DESC);
CREATE INDEX idx_conversations_started ON conversations (started_at DESC, id DESC);

CREATE TABLE messages (
  id TEXT PRIMARY KEY CHECK (typeof(id) = 'text' AND length(id) = 36),
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL CHECK (typeof(seq) = 'integer' AND seq >= 0),
  role TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'tool')),
  text TEXT NOT NULL DEFAULT '' CHECK (typeof(text) = 'text' AND length(text) <= 65536),
  item_id TEXT CHECK (length(item_id) <= 128),
  audio_start_ms INTEGER CHECK (audio_start_ms IS NULL OR (typeof(audio_start_ms) = 'integer' AND audio_start_ms >= 0)),
  audio_end_ms INTEGER CHECK (audio_end_ms IS NULL OR (typeof(audio_end_ms) = 'integer' AND audio_end_ms >= 0)),
  truncated BOOLEAN NOT NULL DEFAULT 0 CHECK (truncated IN (0, 1)),
  tool_name TEXT CHECK (length(tool_name) <= 128),
  tool_arguments TEXT CHECK (length(tool_arguments) <= 65536),
  tool_result TEXT CHECK (length(tool_result) <= 65536),
  created_at TIMESTAMP NOT NULL CHECK (typeof(created_at) = 'text')
);
CREATE UNIQUE INDEX idx_messages_conversation ON messages (conversation_id, seq);
CREATE INDEX idx_messages_timestamp ON messages (created_at);

CREATE TABLE user_profiles (
  identity TEXT PRIMARY KEY CHECK (typeof(identity) = 'text' AND length(identity) BETWEEN 1 AND 128),
  display_name TEXT NOT NULL DEFAULT '' CHECK (length(display_name) <= 128),
  preferences TEXT NOT NULL DEFAULT '{}'
    CHECK (json_valid(preferences) AND json_type(preferences) = 'object' AND length(CAST(preferences AS BLOB)) <= 16384),
  created_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')),
  updated_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')),
  last_seen_at TIMESTAMP
);

CREATE TABLE session_analytics (
  id TEXT PRIMARY KEY CHECK (typeof(id) = 'text' AND length(id) = 36),
  conversation_id TEXT REFERENCES conversations (id) ON DELETE SET NULL,
  room TEXT NOT NULL CHECK (length(room) BETWEEN 1 AND 64),
  identity TEXT NOT NULL CHECK (length(identity) BETWEEN 1 AND 128),
  connected_at TIMESTAMP NOT NULL CHECK (typeof(connected_at) = 'text'),
  duration_seconds REAL NOT NULL CHECK (typeof(duration_seconds) IN ('real', 'integer') AND duration_seconds >= 0),
  user_turns INTEGER NOT NULL DEFAULT 0 CHECK (typeof(user_turns) = 'integer' AND user_turns >= 0),
  agent_turns INTEGER NOT NULL DEFAULT 0 CHECK (typeof(agent_turns) = 'integer' AND agent_turns >= 0),
  interruptions INTEGER NOT NULL DEFAULT 0 CHECK (typeof(interruptions) = 'integer' AND interruptions >= 0),
  response_latency_mean_ms REAL CHECK (response_latency_mean_ms IS NULL OR response_latency_mean_ms >= 0),
  response_latency_p95_ms REAL CHECK (response_latency_p95_ms IS NULL OR response_latency_p95_ms >= 0),
  tokens_in INTEGER NOT NULL DEFAULT 0 CHECK (typeof(tokens_in) = 'integer' AND tokens_in >= 0),
  tokens_out INTEGER NOT NULL DEFAULT 0 CHECK (typeof(tokens_out) = 'integer' AND tokens_out >= 0),
  audio_seconds_in REAL NOT NULL DEFAULT 0 CHECK (audio_seconds_in >= 0),
  audio_seconds_out REAL NOT NULL DEFAULT 0 CHECK (audio_seconds_out >= 0),
  packets_lost INTEGER NOT NULL DEFAULT 0 CHECK (typeof(packets_lost) = 'integer' AND packets_lost >= 0),
  jitter_ms REAL NOT NULL DEFAULT 0 CHECK (jitter_ms >= 0),
  created_at TIMESTAMP NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'))
);
CREATE INDEX idx_session_analytics_connected ON session_analytics (connected_at);
CREATE INDEX idx_session_analytics_room ON session_analytics (room, connected_at);
