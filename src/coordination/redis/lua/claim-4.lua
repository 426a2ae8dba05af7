--[[
claim-4.lua: claim an occurrence, an interval generation, or a manual run, and take a running lock.
KEYS[1] claims   ZSET  claimed occurrence ids (score = id)
KEYS[2] state    HASH  fence, gen, endedGen, endedAt
KEYS[3] running  ZSET  running-lock tokens scored by deadline (ms, Redis clock)
KEYS[4] holders  HASH  token -> holder JSON
ARGV[1] mode     'occurrence' | 'interval' | 'manual'
ARGV[2] token    random token for the running lock
ARGV[3] ttl      running-lock lifetime, ms
ARGV[4] holder   holder JSON
ARGV[5] occurrence id (mode occurrence) | interval ms (mode interval) | unused
ARGV[6] '1' to skip when a run is in progress (mode occurrence, overlap=skip)
ARGV[7] claim window, ms (mode occurrence)
Returns {'won', fence[, gen, due]} | {'taken'} | {'late'} | {'running', holderJSON, msLeft} | {'wait', ms}
(due: when the interval run became due, the previous end plus the interval; now for a first run)
Fences and generations never go backwards, even after Redis lost its data: a new fence is
max(previous + 1, now in ms * 1000), a new generation max(previous + 1, now in ms), on Redis's
clock. This assumes the clock never goes back by more than the gap the counters keep ahead of it.
Both stay far below 2^53; they are stored with %.0f (tostring would write 1e+15).
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local mode = ARGV[1]

-- Locks whose deadline passed belong to dead runs. An interval run that died counts as ended
-- when its lock expired.
local dead = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'WITHSCORES')
if #dead > 0 then
  local lastDeadline = 0
  for i = 1, #dead, 2 do
    redis.call('HDEL', KEYS[4], dead[i])
    lastDeadline = math.max(lastDeadline, tonumber(dead[i + 1]))
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  local gen = tonumber(redis.call('HGET', KEYS[2], 'gen') or '0')
  local endedGen = tonumber(redis.call('HGET', KEYS[2], 'endedGen') or '0')
  if endedGen < gen then
    redis.call('HSET', KEYS[2], 'endedGen', gen, 'endedAt', lastDeadline)
  end
end

local due = now

local function runningReply()
  local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  return {'running', redis.call('HGET', KEYS[4], first[1]) or '', tonumber(first[2]) - now}
end

if mode == 'occurrence' then
  local id = tonumber(ARGV[5])
  if redis.call('ZSCORE', KEYS[1], ARGV[5]) then return {'taken'} end
  local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  local window = tonumber(ARGV[7])
  local newest = id
  if top[2] then
    local max = tonumber(top[2])
    if id <= max - window then return {'late'} end
    newest = math.max(max, id)
  end
  -- The one-way door: recorded before anything else can fail.
  redis.call('ZADD', KEYS[1], id, ARGV[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (newest - window))
  if ARGV[6] == '1' and redis.call('ZCARD', KEYS[3]) > 0 then return runningReply() end
elseif mode == 'interval' then
  if redis.call('ZCARD', KEYS[3]) > 0 then return runningReply() end
  local endedAt = redis.call('HGET', KEYS[2], 'endedAt')
  if endedAt then
    due = tonumber(endedAt) + tonumber(ARGV[5])
    if due > now then return {'wait', due - now} end
  end
else -- manual
  if redis.call('ZCARD', KEYS[3]) > 0 then return runningReply() end
end

local counters = redis.call('HMGET', KEYS[2], 'fence', 'gen')
local fence = math.max(tonumber(counters[1] or '0') + 1, now * 1000)
redis.call('HSET', KEYS[2], 'fence', string.format('%.0f', fence))
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[2])
redis.call('HSET', KEYS[4], ARGV[2], ARGV[4])
if mode == 'interval' then
  local gen = math.max(tonumber(counters[2] or '0') + 1, now)
  redis.call('HSET', KEYS[2], 'gen', string.format('%.0f', gen))
  return {'won', fence, gen, due}
end
return {'won', fence}
