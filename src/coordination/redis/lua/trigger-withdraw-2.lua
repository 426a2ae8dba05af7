--[[
trigger-withdraw-2.lua: the asker takes back a trigger request nobody took: it leaves the queue and
its state is deleted (a withdrawn request is unknown from then on). A pending request that expired
is withdrawn too: nobody took it, and nobody will.
KEYS[1] queue  HASH    id -> request JSON, the pending requests
KEYS[2] state  STRING  the request's state (JSON)
ARGV[1] id     the request's id
Returns {'withdrawn'} | {'taken'} (an instance took it: taken or done) | {'unknown'} (never made,
or forgotten) | {'unreadable', value} (the state key holds something else: left as it is)
]]
--@include lib/trigger-request.lua

if #ARGV ~= 1 or ARGV[1] == '' then
  return redis.error_reply('ERR trigger-withdraw-2: expected an id')
end
local json = redis.call('GET', KEYS[2])
if not json then
  -- Forgotten (or never made): a queue entry left without its state is dropped with it.
  redis.call('HDEL', KEYS[1], ARGV[1])
  return {'unknown'}
end
local s = read_state(json, ARGV[1])
if not s then return {'unreadable', json} end
if s['state'] ~= 'pending' then return {'taken'} end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return {'withdrawn'}
