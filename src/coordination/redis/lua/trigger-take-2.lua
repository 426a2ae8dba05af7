--[[
trigger-take-2.lua: an instance takes a pending trigger request: at most one ever does. It leaves
the queue and its state becomes taken, by the instance, at Redis's time, kept keep ms. An expired
request is never taken (it is deleted from the queue).
KEYS[1] queue     HASH    id -> request JSON, the pending requests
KEYS[2] state     STRING  this request's state (JSON)
ARGV[1] id        the request's id
ARGV[2] instance  the instance taking it
ARGV[3] keep      ms its state is kept (TRIGGER_KEEP_MS)
Returns {'taken', requestJSON} (this instance took it) | {'gone'} (taken by another, withdrawn,
expired or unknown) | {'unreadable', value} (the queue holds something else under the id: left as it is)
]]
--@include lib/clock.lua
--@include lib/counters.lua
--@include lib/trigger-request.lua

local keep = tonumber(ARGV[3])
if #ARGV ~= 3 or ARGV[2] == '' or not keep or keep <= 0 then
  return redis.error_reply('ERR trigger-take-2: expected id, instance and keep > 0')
end
local now = redis_now_ms()
local json = redis.call('HGET', KEYS[1], ARGV[1])
if not json then return {'gone'} end
local r = read_request(json, ARGV[1])
if not r then return {'unreadable', json} end
redis.call('HDEL', KEYS[1], ARGV[1])
if r['expiresAt'] <= now then return {'gone'} end
json = request_json(r)
redis.call('SET', KEYS[2], '{"state":"taken","request":' .. json .. ',"instance":' .. cjson.encode(ARGV[2]) .. ',"at":' .. as_integer(now) .. '}', 'PX', keep)
return {'taken', json}
