-- Places a room on a live node, atomically: the first caller wins and every
-- later one reads the same owner until that owner stops heartbeating.
-- KEYS[1] room key. ARGV: prefix, room name, self id, self url, self sessions,
-- self capacity, self draining (0/1), now (ms), room ttl (ms).
-- Returns {"owner":…,"url":…,"placed":bool} or {"error":…}.
local key, name = KEYS[1], ARGV[2]
local me = { id = ARGV[3], url = ARGV[4], sessions = tonumber (ARGV[5]) or 0,
             capacity = tonumber (ARGV[6]) or 0, draining = ARGV[7] == '1' }
local now, ttl = tonumber (ARGV[8]), tonumber (ARGV[9])

local t = redis.call ('TYPE', key).ok
if t ~= 'none' and t ~= 'hash' then
  return cjson.encode ({ error = 'room key holds a ' .. t })
end
local owner = redis.call ('HGET', key, 'owner')
if owner and owner ~= me.id then
  local n = live_node (owner)
  if n then return cjson.encode ({ owner = n.id, url = n.url, placed = false }) end
elseif owner == me.id and not me.draining then
  return cjson.encode ({ owner = me.id, url = me.url, placed = false })
end

-- The receiving node when it takes new rooms and has room, else the least
-- loaded live node that does; when every node is full, the receiving node.
local chosen = nil
if not me.draining and has_room (me) then
  chosen = me
else
  for _, id in ipairs (redis.call ('SMEMBERS', prefix .. 'nodes')) do
    if id ~= me.id then
      local n = live_node (id)
      if not n then
        redis.call ('SREM', prefix .. 'nodes', id)
      elseif not n.draining and has_room (n) and (not chosen or n.sessions < chosen.sessions) then
        chosen = n
      end
    end
  end
  if not chosen and not me.draining then chosen = me end
end
if not chosen then return cjson.encode ({ error = 'draining' }) end

redis.call ('HSET', key, 'owner', chosen.id)
redis.call ('HSETNX', key, 'created_at', tostring (math.floor (now / 1000)))
redis.call ('PEXPIRE', key, ttl)
redis.call ('ZADD', prefix .. 'rooms', now, name)
return cjson.encode ({ owner = chosen.id, url = chosen.url, placed = true })
