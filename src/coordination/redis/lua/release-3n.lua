--[[
release-3n.lua: release running locks by token, any number in one call; never touches claims, so
a release can't reopen an occurrence.
Request i (0-based) has 3 keys and 2 arguments:
KEYS[3i+1]   running  ZSET  running-lock tokens scored by deadline
KEYS[3i+2]   holders  HASH  token -> holder JSON
KEYS[3i+3]   state    HASH  gen, endedGen, endedAt
ARGV[2i+1]   token
ARGV[2i+2]   ended    '1' when the run was an interval run: record its end, on Redis's clock
                      (only if the lock was still ours: a dead holder's late release records nothing)
Returns one reply per request, in order: 1 when the lock was held, 0 otherwise.
]]
--@include lib/clock.lua
--@include lib/counters.lua

local n = #KEYS / 3
if n ~= math.floor(n) or #ARGV ~= 2 * n then
  return redis.error_reply('ERR release-3n: ' .. #KEYS .. ' keys and ' .. #ARGV .. ' arguments do not make whole requests')
end
local now = nil
local replies = {}
for i = 0, n - 1 do
  local running, holders, state = KEYS[3 * i + 1], KEYS[3 * i + 2], KEYS[3 * i + 3]
  local token, ended = ARGV[2 * i + 1], ARGV[2 * i + 2]
  local removed = redis.call('ZREM', running, token)
  redis.call('HDEL', holders, token)
  if removed == 1 and ended == '1' then
    now = now or redis_now_ms()
    redis.call('HSET', state, 'endedAt', as_integer(now), 'endedGen', redis.call('HGET', state, 'gen') or '0')
  end
  replies[i + 1] = removed
end
return replies
