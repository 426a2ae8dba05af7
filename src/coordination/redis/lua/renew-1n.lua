--[[
renew-1n.lua: extend running locks that are still held, any number in one call.
Request i (0-based) has 1 key and 2 arguments:
KEYS[i+1]    running  ZSET  running-lock tokens scored by deadline (ms, Redis clock)
ARGV[2i+1]   token
ARGV[2i+2]   ttl, ms
Returns one reply per request, in order: 1 when extended, 0 when the lock is gone or its deadline
already passed (an expired lock is never revived).
]]
--@include lib/clock.lua
--@include lib/counters.lua

local n = #KEYS
if #ARGV ~= 2 * n then
  return redis.error_reply('ERR renew-1n: ' .. #KEYS .. ' keys and ' .. #ARGV .. ' arguments do not make whole requests')
end
local now = redis_now_ms()
local replies = {}
for i = 1, n do
  local running, token, ttl = KEYS[i], ARGV[2 * i - 1], tonumber(ARGV[2 * i])
  local deadline = redis.call('ZSCORE', running, token)
  if deadline and tonumber(deadline) > now then
    redis.call('ZADD', running, 'XX', as_integer(now + ttl), token)
    replies[i] = 1
  else
    replies[i] = 0
  end
end
return replies
