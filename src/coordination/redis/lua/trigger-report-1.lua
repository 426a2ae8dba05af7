--[[
trigger-report-1.lua: the instance that took a trigger request records what became of it: taken
(its run starts) or done (with the run's result), stamped with Redis's clock and kept keep ms.
Only the instance that took it may, and a done request never goes back to taken; anything else
(unknown or forgotten, pending, another instance's) changes nothing.
KEYS[1] state     STRING  the request's state (JSON)
ARGV[1] id        the request's id
ARGV[2] instance  the reporting instance
ARGV[3] progress  'taken' | 'done'
ARGV[4] result    done: the result as a JSON object; taken: ''
ARGV[5] keep      ms the state is kept (TRIGGER_KEEP_MS)
Returns {'recorded'} | {'ignored'} | {'unreadable', value} (the key holds something else: left as it is)
]]
--@include lib/clock.lua
--@include lib/counters.lua
--@include lib/trigger-request.lua

local done, keep = ARGV[3] == 'done', tonumber(ARGV[5])
if #ARGV ~= 5 or ARGV[2] == '' or not keep or keep <= 0 or (not done and (ARGV[3] ~= 'taken' or ARGV[4] ~= ''))
  or (done and (string.sub(ARGV[4], 1, 1) ~= '{' or string.sub(ARGV[4], -1) ~= '}')) then
  return redis.error_reply('ERR trigger-report-1: expected id, instance, taken and \'\' or done and a result object, keep > 0')
end
local json = redis.call('GET', KEYS[1])
if not json then return {'ignored'} end
local s = read_state(json, ARGV[1])
if not s then return {'unreadable', json} end
if s['state'] == 'pending' or s['instance'] ~= ARGV[2] or (s['state'] == 'done' and not done) then return {'ignored'} end
local state = '{"state":"' .. ARGV[3] .. '","request":' .. request_json(s['request']) .. ',"instance":' .. cjson.encode(ARGV[2]) .. ',"at":' .. as_integer(redis_now_ms())
if done then state = state .. ',"result":' .. ARGV[4] end
redis.call('SET', KEYS[1], state .. '}', 'PX', keep)
return {'recorded'}
