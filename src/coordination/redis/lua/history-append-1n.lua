--[[
history-append-1n.lua: add run records to jobs' histories, newest first, within their retention;
any number in one call, in order (two records of one job keep the order they were given in).
Request i (0-based) has 1 key and 4 arguments:
KEYS[i+1]    history  LIST  run records (JSON, each with a numeric "at" in ms), newest first
ARGV[4i+1]   record   JSON
ARGV[4i+2]   limit    how many records are kept
ARGV[4i+3]   max age  ms: older records are dropped from the tail, and an idle list expires
ARGV[4i+4]   now      ms, on the clock that wrote the records' "at"
Returns one reply per request, in order: the list's length after the append.
]]

local n = #KEYS
if #ARGV ~= 4 * n then
  return redis.error_reply('ERR history-append-1n: ' .. #KEYS .. ' keys and ' .. #ARGV .. ' arguments do not make whole requests')
end
local replies = {}
for i = 0, n - 1 do
  local key, a = KEYS[i + 1], 4 * i
  redis.call('LPUSH', key, ARGV[a + 1])
  redis.call('LTRIM', key, 0, tonumber(ARGV[a + 2]) - 1)
  redis.call('PEXPIRE', key, ARGV[a + 3])
  local cutoff = tonumber(ARGV[a + 4]) - tonumber(ARGV[a + 3])
  while true do
    local last = redis.call('LINDEX', key, -1)
    if not last then break end
    local ok, record = pcall(cjson.decode, last)
    if not (ok and type(record) == 'table' and type(record.at) == 'number' and record.at < cutoff) then break end
    redis.call('RPOP', key)
  end
  replies[i + 1] = redis.call('LLEN', key)
end
return replies
