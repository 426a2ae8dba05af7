--[[
pause-lift-1n.lua: lift jobs' pauses (`iamwatch resume`), any number in one call.
Request i (0-based) has 1 key and no arguments:
KEYS[i+1]  pause  STRING  the job's pause (JSON)
ARGV[]     none
Returns one reply per request, in order: the JSON of the pause lifted, or '' when the job was not
paused (a pause whose `until` had passed was already gone).
]]
--@include lib/clock.lua
--@include lib/pause.lua

if #ARGV ~= 0 then
  return redis.error_reply('ERR pause-lift-1n: ' .. #ARGV .. ' arguments, expected none')
end
local now = redis_now_ms()
local replies = {}
for i = 1, #KEYS do
  local paused = current_pause(KEYS[i], now)
  if paused then redis.call('DEL', KEYS[i]) end
  replies[i] = paused or ''
end
return replies
