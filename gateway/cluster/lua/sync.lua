-- A node's heartbeat and the state of its rooms and sessions, in one call.
-- ARGV: prefix, self id, now (ms), node ttl (ms), room ttl (ms), session ttl
-- (ms), node JSON {url,sessions,rooms,cpu,capacity,draining},
-- rooms JSON [{name,created_at,views:[…],sessions:[{id,identity}]}].
-- A room owned by another live node is not taken: it is reported back in
-- "conflicts" (two nodes served it while Redis was away).
-- Returns {"conflicts":[…]}.
local me, now = ARGV[2], tonumber (ARGV[3])
local node_ttl, room_ttl, session_ttl = tonumber (ARGV[4]), tonumber (ARGV[5]), tonumber (ARGV[6])
local node = cjson.decode (ARGV[7])
local rooms = cjson.decode (ARGV[8])

local nkey = prefix .. 'node:' .. me
redis.call ('DEL', nkey)
redis.call ('HSET', nkey, 'url', node.url, 'sessions', node.sessions, 'rooms', node.rooms,
            'cpu', node.cpu, 'capacity', node.capacity, 'draining', node.draining and '1' or '0',
            'heartbeat', now)
redis.call ('PEXPIRE', nkey, node_ttl)
redis.call ('SADD', prefix .. 'nodes', me)

local conflicts = {}
for _, r in ipairs (rooms) do
  local key = prefix .. 'room:' .. r.name
  local t = redis.call ('TYPE', key).ok
  local owner = t == 'hash' and redis.call ('HGET', key, 'owner') or nil
  if owner and owner ~= me and live_node (owner) then
    table.insert (conflicts, r.name)
  else
    if t ~= 'hash' then redis.call ('DEL', key) end
    redis.call ('HSET', key, 'owner', me, 'created_at', r.created_at)
    for i, v in ipairs (r.views) do redis.call ('HSET', key, 'v' .. (i - 1), v) end
    redis.call ('PEXPIRE', key, room_ttl)
    redis.call ('ZADD', prefix .. 'rooms', now, r.name)
    for _, s in ipairs (r.sessions) do
      local skey = prefix .. 'session:' .. s.id
      redis.call ('DEL', skey)
      redis.call ('HSET', skey, 'node', me, 'room', r.name, 'identity', s.identity)
      redis.call ('PEXPIRE', skey, session_ttl)
    end
  end
end
if #conflicts == 0 then return '{"conflicts":[]}' end
return cjson.encode ({ conflicts = conflicts })
