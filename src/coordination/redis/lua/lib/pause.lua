--[[
lib/pause.lua: a job's pause (`iamwatch pause`), read where its occurrences are claimed, so no
instance can start a paused job whatever it last heard.
Defines current_pause(pause, now), for one job's pause key (STRING, the pause as JSON
{at, by, until, reason}; until: ms on Redis's clock, or null):
  the pause's JSON while the job is paused, or nil when it is not. A pause whose `until` has
  passed (now: Redis's clock, ms) is gone: it is deleted, and nil returned. A value that does not
  parse still counts as a pause: a job someone meant to stop is not started by a misread.
]]
local function current_pause(pause, now)
  local json = redis.call('GET', pause)
  if not json then return nil end
  local ok, p = pcall(cjson.decode, json)
  if ok and type(p) == 'table' and type(p['until']) == 'number' and p['until'] <= now then
    redis.call('DEL', pause)
    return nil
  end
  return json
end
