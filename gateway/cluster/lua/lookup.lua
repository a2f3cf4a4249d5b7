-- Reads for any node: a room (its owner and one stored view), a session, or
-- the list of live rooms (one view each). Rooms whose owner is dead are
-- left out: they are placeable again. ARGV: prefix, what ("room", "session",
-- "list"), name or id, view index. Returns JSON.
local what, name, view = ARGV[2], ARGV[3], 'v' .. (ARGV[4] or '0')

local function room (rname)
  local key = prefix .. 'room:' .. rname
  local t = redis.call ('TYPE', key).ok
  if t == 'none' then return nil end
  if t ~= 'hash' then return { error = 'room key holds a ' .. t } end
  local v = redis.call ('HMGET', key, 'owner', view)
  local n = live_node (v[1])
  if not n then return nil end
  return { name = rname, owner = n.id, url = n.url, view = v[2] }
end

if what == 'room' then
  local r = room (name)
  if not r then return '{}' end
  return cjson.encode (r)
elseif what == 'session' then
  local key = prefix .. 'session:' .. name
  local t = redis.call ('TYPE', key).ok
  if t == 'none' then return '{}' end
  if t ~= 'hash' then return cjson.encode ({ error = 'session key holds a ' .. t }) end
  local v = redis.call ('HMGET', key, 'node', 'room', 'identity')
  local n = live_node (v[1])
  if not n then return '{}' end
  return cjson.encode ({ owner = n.id, url = n.url, room = v[2], identity = v[3] })
elseif what == 'list' then
  local out = {}
  for _, rname in ipairs (redis.call ('ZRANGE', prefix .. 'rooms', 0, 9999)) do
    if redis.call ('EXISTS', prefix .. 'room:' .. rname) == 0 then
      redis.call ('ZREM', prefix .. 'rooms', rname)
    else
      local r = room (rname)
      if r and r.view then table.insert (out, r) end
    end
  end
  if #out == 0 then return '{"rooms":[]}' end
  return cjson.encode ({ rooms = out })
end
return cjson.encode ({ error = 'unknown lookup ' .. tostring (what) })
