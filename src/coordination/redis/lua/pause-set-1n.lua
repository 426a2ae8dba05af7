--[[
pause-set-1n.lua: pause jobs fleet-wide (`iamwatch pause`), any number in one call; a job already
paused gets the new pause in place of its old one. The pause is stamped with Redis's clock (`at`),
and one with an `until` also expires then (the claim scripts treat it as gone from that instant on).
Request i (0-based) has 1 key and no arguments of its own, after the two shared ones:
KEYS[i+1]  pause   STRING  the job's pause (JSON)
ARGV[1]    pause   JSON object {"by", "until", "reason"} (every request); "at" is added here
ARGV[2]    until   ms on Redis's clock when the pause lifts itself, or '' for none (every request)
Returns one reply per request, in order: the pause's JSON as stored.
]]
--@include lib/clock.lua
--@include lib/counters.lua

if #ARGV ~= 2 or string.sub(ARGV[1], 1, 1) ~= '{' or string.sub(ARGV[1], 2, 2) == '}' then
  return redis.error_reply('ERR pause-set-1n: expected a pause JSON object and an until')
end
local now = redis_now_ms()
local json = '{"at":' .. as_integer(now) .. ',' .. string.sub(ARGV[1], 2)
local replies = {}
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], json)
  if ARGV[2] ~= '' then redis.call('PEXPIREAT', KEYS[i], ARGV[2]) end
  replies[i] = json
end
return replies
