--[[
lib/sweep.lua: running locks whose deadline passed belong to dead runs (a SIGKILLed holder, a
lost release): they are removed, and an interval run that died counts as ended when its lock
expired (its deadline), so the next generation is due an interval after that.
Defines sweep_dead(state, running, holders, now), for one job's keys:
  state    HASH  gen, endedGen, endedAt
  running  ZSET  running-lock tokens scored by deadline (ms, Redis clock)
  holders  HASH  token -> holder JSON
]]
--@include lib/counters.lua
local function sweep_dead(state, running, holders, now)
  local dead = redis.call('ZRANGEBYSCORE', running, '-inf', now, 'WITHSCORES')
  if #dead == 0 then return end
  local lastDeadline = 0
  for i = 1, #dead, 2 do
    redis.call('HDEL', holders, dead[i])
    lastDeadline = math.max(lastDeadline, tonumber(dead[i + 1]))
  end
  redis.call('ZREMRANGEBYSCORE', running, '-inf', now)
  local gen = tonumber(redis.call('HGET', state, 'gen') or '0')
  local endedGen = tonumber(redis.call('HGET', state, 'endedGen') or '0')
  if endedGen < gen then
    redis.call('HSET', state, 'endedGen', as_integer(gen), 'endedAt', as_integer(lastDeadline))
  end
end
