-- The node that holds each conversation ([node] id, or the host name), so
-- that a node starting again after a SIGKILL or a crash marks the
-- conversations it left 'active' as 'abandoned' without touching another
-- node's live ones (vg_store_recover_node). NULL for conversations started
-- before this migration.
ALTER TABLE conversations ADD COLUMN node_id TEXT
  CHECK (node_id IS NULL OR length(node_id) BETWEEN 1 AND 255);
CREATE INDEX idx_conversations_active_node ON conversations (node_id) WHERE status = 'active';
