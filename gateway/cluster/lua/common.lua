-- Shared by every cluster script (prepended by cluster-scripts.c, so each
-- script sent to Redis is self-contained). ARGV[1] is the key prefix.
local prefix = ARGV[1]

-- A node's registry entry, or nil when it has expired (the node is dead) or
-- holds something that is not a node (an error for that key, not a crash).
local function live_node (id)
  if type (id) ~= 'string' or id == '' then return nil end
  local ok, v = pcall (redis.call, 'HMGET', prefix .. 'node:' .. id, 'url', 'sessions', 'capacity', 'draining')
  if not ok or not v[1] then return nil end
  return { id = id, url = v[1], sessions = tonumber (v[2]) or 0, capacity = tonumber (v[3]) or 0,
           draining = v[4] == '1' }
end

local function has_room (n)
  return n.capacity <= 0 or n.sessions < n.capacity
end
