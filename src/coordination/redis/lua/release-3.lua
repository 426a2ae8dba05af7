--[[
release-3.lua: release a running lock by token; never touches claims.
KEYS[1] running  ZSET  running-lock tokens scored by deadline
KEYS[2] holders  HASH  token -> holder JSON
KEYS[3] state    HASH  gen, endedGen, endedAt
ARGV[1] token
ARGV[2] '1' when the run was an interval run: record its end (only if the lock was still ours)
Returns 1 when the lock was held, 0 otherwise.
]]
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if removed == 1 and ARGV[2] == '1' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('HSET', KEYS[3], 'endedAt', now, 'endedGen', redis.call('HGET', KEYS[3], 'gen') or '0')
end
return removed
