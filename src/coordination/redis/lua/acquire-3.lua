--[[
acquire-3.lua: `once`: take a job's running lock only if no run of it is in progress anywhere.
KEYS[1] state    HASH  fence, gen, endedGen, endedAt
KEYS[2] running  ZSET  running-lock tokens scored by deadline (ms, Redis clock)
KEYS[3] holders  HASH  token -> holder JSON
ARGV[1] token    random token for the running lock
ARGV[2] ttl      running-lock lifetime, ms
ARGV[3] holder   holder JSON
Returns {'won', fence} | {'running', holderJSON, msLeft}
]]
--@include lib/clock.lua
--@include lib/counters.lua
--@include lib/sweep.lua
--@include lib/lock.lua

local now = redis_now_ms()
sweep_dead(KEYS[1], KEYS[2], KEYS[3], now)
if redis.call('ZCARD', KEYS[2]) > 0 then return running_reply(KEYS[2], KEYS[3], now) end
return {'won', take_lock(KEYS[1], KEYS[2], KEYS[3], ARGV[1], tonumber(ARGV[2]), ARGV[3], now, false)}
