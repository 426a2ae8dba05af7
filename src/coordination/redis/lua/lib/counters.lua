--[[
lib/counters.lua: fences and interval generations, which never go backwards, even after Redis
lost its data: a new fence is max(previous + 1, now in ms * 1000), a new generation
max(previous + 1, now in ms), on Redis's clock. This assumes the clock never goes back by more
than the gap the counters keep ahead of it. Both stay far below 2^53; they are written with
as_integer (%.0f), because Lua's tostring (and redis.call's own conversion) would write 1e+15.
Defines next_fence(previous, now), next_generation(previous, now), as_integer(n).
previous: the stored value (a string) or false/nil when there is none.
]]
local function next_fence(previous, now)
  return math.max((tonumber(previous) or 0) + 1, now * 1000)
end

local function next_generation(previous, now)
  return math.max((tonumber(previous) or 0) + 1, now)
end

local function as_integer(n)
  return string.format('%.0f', n)
end
