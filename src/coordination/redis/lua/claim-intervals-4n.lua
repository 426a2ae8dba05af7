--[[
claim-intervals-4n.lua: start the next generation of interval jobs, any number in one call: a
job's next run may start only when no run of it is in progress and the previous one ended at
least its interval ago, on Redis's clock, and the job is not paused. A generation won takes a
running lock. A paused job's run that would otherwise start now is answered 'paused': nothing taken.
Request i (0-based) has 4 keys and 4 arguments:
KEYS[4i+1] state    HASH    fence, gen, endedGen, endedAt
KEYS[4i+2] running  ZSET    running-lock tokens scored by deadline (ms, Redis clock)
KEYS[4i+3] holders  HASH    token -> holder JSON
KEYS[4i+4] pause    STRING  the job's pause (JSON), absent when it is not paused
ARGV[4i+1]   token      random token for the running lock
ARGV[4i+2]   ttl        running-lock lifetime, ms
ARGV[4i+3]   holder     holder JSON
ARGV[4i+4]   interval   ms between the previous run's end and the next start
Returns one reply per request, in order:
  {'won', fence, generation, due} | {'wait', ms} | {'running', holderJSON, msLeft} | {'paused', pauseJSON}
(due: when the run became due, the previous end plus the interval; now for a first run)
]]
--@include lib/clock.lua
--@include lib/counters.lua
--@include lib/sweep.lua
--@include lib/lock.lua
--@include lib/pause.lua

local n = #KEYS / 4
if n ~= math.floor(n) or #ARGV ~= 4 * n then
  return redis.error_reply('ERR claim-intervals-4n: ' .. #KEYS .. ' keys and ' .. #ARGV .. ' arguments do not make whole requests')
end
local now = redis_now_ms()

local function claim(state, running, holders, pause, token, ttl, holder, interval)
  sweep_dead(state, running, holders, now)
  if redis.call('ZCARD', running) > 0 then return running_reply(running, holders, now) end
  local due = now
  local endedAt = redis.call('HGET', state, 'endedAt')
  if endedAt then
    due = tonumber(endedAt) + interval
    if due > now then return {'wait', due - now} end
  end
  local paused = current_pause(pause, now)
  if paused then return {'paused', paused} end
  local fence, gen = take_lock(state, running, holders, token, ttl, holder, now, true)
  return {'won', fence, gen, due}
end

local replies = {}
for i = 0, n - 1 do
  local k, a = 4 * i, 4 * i
  replies[i + 1] = claim(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3], tonumber(ARGV[a + 4]))
end
return replies
