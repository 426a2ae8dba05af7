--[[
lib/clock.lua: Redis's clock, the one every instance of the fleet agrees on.
Defines redis_now_ms(): the server's time in ms (TIME), an integer.
]]
local function redis_now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
