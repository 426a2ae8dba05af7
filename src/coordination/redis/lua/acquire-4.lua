--[[
acquire-4.lua: `once`: take a job's running lock only if the job is not paused and no run of it
is in progress anywhere.
KEYS[1] state    HASH    fence, gen, endedGen, endedAt
KEYS[2] running  ZSET    running-lock tokens scored by deadline (ms, Redis clock)
KEYS[3] holders  HASH    token -> holder JSON
KEYS[4] pause    STRING  the job's pause (JSON), absent when it is not paused
ARGV[1] token    random token for the running lock
ARGV[2] ttl      running-lock lifetime, ms
ARGV[3] holder   holder JSON
Returns {'won', fence} | {'running', holderJSON, msLeft} | {'paused', pauseJSON}
]]
--@include lib/clock.lua
--@include lib/counters.lua
--@include lib/sweep.lua
--@include lib/lock.lua
--@include lib/pause.lua

local now = redis_now_ms()
sweep_dead(KEYS[1], KEYS[2], KEYS[3], now)
local paused = current_pause(KEYS[4], now)
if paused then return {'paused', paused} end
if redis.call('ZCARD', KEYS[2]) > 0 then return running_reply(KEYS[2], KEYS[3], now) end
return {'won', take_lock(KEYS[1], KEYS[2], KEYS[3], ARGV[1], tonumber(ARGV[2]), ARGV[3], now, false)}
