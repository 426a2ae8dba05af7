--[[
lib/lock.lua: running locks (needs lib/counters.lua).
Defines, for one job's keys (state HASH fence/gen, running ZSET token -> deadline, holders HASH
token -> holder JSON):
  take_lock(state, running, holders, token, ttl, holder, now, interval): takes a running lock
    with the next fence and, with `interval`, the next generation; returns fence[, generation].
  running_reply(running, holders, now): {'running', holderJSON or '', ms until its deadline} for
    the run in progress whose lock expires first.
]]
--@include lib/counters.lua
local function take_lock(state, running, holders, token, ttl, holder, now, interval)
  local counters = redis.call('HMGET', state, 'fence', 'gen')
  local fence = next_fence(counters[1], now)
  redis.call('HSET', state, 'fence', as_integer(fence))
  redis.call('ZADD', running, as_integer(now + ttl), token)
  redis.call('HSET', holders, token, holder)
  if interval then
    local gen = next_generation(counters[2], now)
    redis.call('HSET', state, 'gen', as_integer(gen))
    return fence, gen
  end
  return fence
end

local function running_reply(running, holders, now)
  local first = redis.call('ZRANGE', running, 0, 0, 'WITHSCORES')
  return {'running', redis.call('HGET', holders, first[1]) or '', tonumber(first[2]) - now}
end
