--[[
lib/trigger-request.lua: fleet trigger requests (`iamwatch trigger`) as the trigger-*.lua scripts
store them. A request is JSON {"id", "job", "by", "at", "expiresAt"} (times: ms on Redis's clock),
always written by request_json, so the queue's copy and the state's read the same. A state is JSON
{"state": "pending", "request"} | {"state": "taken", "request", "instance", "at"} |
{"state": "done", "request", "instance", "at", "result"}.
Defines:
  read_request(json, id): the request as a table when `json` is a request with id `id`, else nil;
  request_json(r): a request table as JSON;
  read_state(json, id): the state as a table when `json` is a state of the request `id` (its
    request read as read_request reads one), else nil;
  live_requests(queue, now): the queue's requests that have not expired, as a flat list
    {id, json, id, json...}; the expired ones are deleted (HDEL). A value that is not a request is
    listed as it is, for the caller to report.
]]
--@include lib/counters.lua

local function is_integer(v)
  return type(v) == 'number' and v == math.floor(v)
end

local function is_request(r, id)
  return type(r) == 'table' and r['id'] == id and type(r['job']) == 'string' and type(r['by']) == 'string'
    and is_integer(r['at']) and is_integer(r['expiresAt'])
end

local function read_request(json, id)
  local ok, r = pcall(cjson.decode, json)
  if ok and is_request(r, id) then return r end
  return nil
end

local function request_json(r)
  return '{"id":' .. cjson.encode(r['id']) .. ',"job":' .. cjson.encode(r['job']) .. ',"by":' .. cjson.encode(r['by'])
    .. ',"at":' .. as_integer(r['at']) .. ',"expiresAt":' .. as_integer(r['expiresAt']) .. '}'
end

local function read_state(json, id)
  local ok, s = pcall(cjson.decode, json)
  if not ok or type(s) ~= 'table' or not is_request(s['request'], id) then return nil end
  local state = s['state']
  if state == 'pending' then return s end
  if (state == 'taken' or state == 'done') and type(s['instance']) == 'string' then return s end
  return nil
end

local function live_requests(queue, now)
  local all = redis.call('HGETALL', queue)
  local live = {}
  for i = 1, #all, 2 do
    local r = read_request(all[i + 1], all[i])
    if r and r['expiresAt'] <= now then
      redis.call('HDEL', queue, all[i])
    else
      live[#live + 1] = all[i]
      live[#live + 1] = all[i + 1]
    end
  end
  return live
end
