--[[
trigger-pending-1.lua: the pending trigger requests that have not expired on Redis's clock
(polled by every instance, every second); the expired ones are deleted from the queue (their
state stays: pending, past its expiresAt, until it is forgotten).
KEYS[1] queue  HASH  id -> request JSON, the pending requests
ARGV[]  none
Returns {id, requestJSON, id, requestJSON...}, in no order; a value that is not a request is
listed as it is (the caller reports it).
]]
--@include lib/clock.lua
--@include lib/counters.lua
--@include lib/trigger-request.lua

if #ARGV ~= 0 then
  return redis.error_reply('ERR trigger-pending-1: ' .. #ARGV .. ' arguments, expected none')
end
return live_requests(KEYS[1], redis_now_ms())
