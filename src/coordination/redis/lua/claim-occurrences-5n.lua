--[[
claim-occurrences-5n.lua: claim occurrences (cron, rate) of any number of jobs in one call; each
claim won takes a running lock. An occurrence id can be claimed once, ever: it is recorded before
anything else can fail, and ids older than the claim window behind the newest claim are refused
as late, so trimming old claims never reopens one. An occurrence of a paused job is consumed:
recorded as claimed (it never runs later), answered 'paused', no lock taken.
Request i (0-based) has 5 keys and 5 arguments, after the one shared argument:
KEYS[5i+1] claims   ZSET    claimed occurrence ids (score = id)
KEYS[5i+2] state    HASH    fence, gen, endedGen, endedAt
KEYS[5i+3] running  ZSET    running-lock tokens scored by deadline (ms, Redis clock)
KEYS[5i+4] holders  HASH    token -> holder JSON
KEYS[5i+5] pause    STRING  the job's pause (JSON), absent when it is not paused
ARGV[1]      claim window, ms (every request)
ARGV[5i+2]   token      random token for the running lock
ARGV[5i+3]   ttl        running-lock lifetime, ms
ARGV[5i+4]   holder     holder JSON
ARGV[5i+5]   occurrence the occurrence id (ms)
ARGV[5i+6]   skip       '1' to skip when a run is in progress (overlap=skip)
Returns one reply per request, in order:
  {'won', fence} | {'taken'} | {'late'} | {'running', holderJSON, msLeft} | {'paused', pauseJSON}
Requests run one after another on one clock reading: two for one job see each other's effects.
]]
--@include lib/clock.lua
--@include lib/counters.lua
--@include lib/sweep.lua
--@include lib/lock.lua
--@include lib/pause.lua

local n = #KEYS / 5
if n ~= math.floor(n) or #ARGV ~= 1 + 5 * n then
  return redis.error_reply('ERR claim-occurrences-5n: ' .. #KEYS .. ' keys and ' .. #ARGV .. ' arguments do not make whole requests')
end
local now = redis_now_ms()
local window = tonumber(ARGV[1])

local function claim(claims, state, running, holders, pause, token, ttl, holder, occurrence, skip)
  sweep_dead(state, running, holders, now)
  if redis.call('ZSCORE', claims, occurrence) then return {'taken'} end
  local id = tonumber(occurrence)
  local top = redis.call('ZRANGE', claims, -1, -1, 'WITHSCORES')
  local newest = id
  if top[2] then
    local max = tonumber(top[2])
    if id <= max - window then return {'late'} end
    newest = math.max(max, id)
  end
  -- The one-way door: recorded before anything else can fail.
  redis.call('ZADD', claims, occurrence, occurrence)
  redis.call('ZREMRANGEBYSCORE', claims, '-inf', '(' .. as_integer(newest - window))
  local paused = current_pause(pause, now)
  if paused then return {'paused', paused} end
  if skip == '1' and redis.call('ZCARD', running) > 0 then return running_reply(running, holders, now) end
  return {'won', take_lock(state, running, holders, token, ttl, holder, now, false)}
end

local replies = {}
for i = 0, n - 1 do
  local k, a = 5 * i, 1 + 5 * i
  replies[i + 1] = claim(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5], ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3], ARGV[a + 4], ARGV[a + 5])
end
return replies
