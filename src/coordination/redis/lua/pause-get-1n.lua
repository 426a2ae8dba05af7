--[[
pause-get-1n.lua: read jobs' current pauses (`status`, the dashboard, the paused gauge), any
number in one call, on Redis's clock: a pause whose `until` has passed is gone (and deleted).
Request i (0-based) has 1 key and no arguments:
KEYS[i+1]  pause  STRING  the job's pause (JSON)
ARGV[]     none
Returns one reply per request, in order: the pause's JSON, or '' when the job is not paused.
]]
--@include lib/clock.lua
--@include lib/pause.lua

if #ARGV ~= 0 then
  return redis.error_reply('ERR pause-get-1n: ' .. #ARGV .. ' arguments, expected none')
end
local now = redis_now_ms()
local replies = {}
for i = 1, #KEYS do
  replies[i] = current_pause(KEYS[i], now) or ''
end
return replies
