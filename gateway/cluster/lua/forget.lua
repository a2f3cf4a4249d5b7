-- Releases rooms this node owned (closed) and sessions that ended, leaving
-- anything another node took meanwhile. ARGV: prefix, self id, rooms JSON
-- [names], sessions JSON [ids], leaving (1 = also remove this node from
-- the registry: a clean stop). Returns {"released":n}.
local me = ARGV[2]
local n = 0
for _, name in ipairs (cjson.decode (ARGV[3])) do
  local key = prefix .. 'room:' .. name
  if redis.call ('TYPE', key).ok == 'hash' and redis.call ('HGET', key, 'owner') == me then
    redis.call ('DEL', key)
    redis.call ('ZREM', prefix .. 'rooms', name)
    n = n + 1
  end
end
for _, id in ipairs (cjson.decode (ARGV[4])) do
  local key = prefix .. 'session:' .. id
  if redis.call ('TYPE', key).ok == 'hash' and redis.call ('HGET', key, 'node') == me then
    redis.call ('DEL', key)
  end
end
if ARGV[5] == '1' then
  redis.call ('DEL', prefix .. 'node:' .. me)
  redis.call ('SREM', prefix .. 'nodes', me)
end
return cjson.encode ({ released = n })
