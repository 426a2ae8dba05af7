--[[
trigger-request-2.lua: queue a request to run a job now (`iamwatch trigger`), pending until ttl ms
from now on Redis's clock; its state (pending) is kept until keep ms after that. An id already
known (pending, taken or done) is not queued again: its state is answered, so asking twice (a
retry after a lost answer) never runs the job twice. Expired requests are swept from the queue.
KEYS[1] queue  HASH    id -> request JSON, the pending requests
KEYS[2] state  STRING  this request's state (JSON)
ARGV[1] id     the request's id (a random UUID)
ARGV[2] job    the job to run
ARGV[3] by     who asks (user@host)
ARGV[4] ttl    ms the request stays pending (> 0)
ARGV[5] keep   ms its state is kept after that (TRIGGER_KEEP_MS)
Returns {'request', requestJSON} (queued now) | {'state', stateJSON} (the id was known: its state as stored)
]]
--@include lib/clock.lua
--@include lib/counters.lua
--@include lib/trigger-request.lua

local ttl, keep = tonumber(ARGV[4]), tonumber(ARGV[5])
if #ARGV ~= 5 or ARGV[1] == '' or not ttl or ttl <= 0 or not keep or keep <= 0 then
  return redis.error_reply('ERR trigger-request-2: expected id, job, by, ttl > 0 and keep > 0')
end
local now = redis_now_ms()
live_requests(KEYS[1], now)
local known = redis.call('GET', KEYS[2])
if known then return {'state', known} end
local json = request_json({id = ARGV[1], job = ARGV[2], by = ARGV[3], at = now, expiresAt = now + ttl})
redis.call('HSET', KEYS[1], ARGV[1], json)
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
redis.call('SET', KEYS[2], '{"state":"pending","request":' .. json .. '}', 'PX', ttl + keep)
return {'request', json}
