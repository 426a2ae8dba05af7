--[[
history-append-1.lua: add a run record to a job's history, newest first, within its retention.
KEYS[1] history  LIST  run records (JSON, each with a numeric "at" in ms), newest first
ARGV[1] record   JSON
ARGV[2] limit    how many records are kept
ARGV[3] max age  ms: older records are dropped from the tail, and an idle list expires
ARGV[4] now      ms, on the clock that wrote the records' "at"
Returns the list's length.
]]
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local cutoff = tonumber(ARGV[4]) - tonumber(ARGV[3])
while true do
  local last = redis.call('LINDEX', KEYS[1], -1)
  if not last then break end
  local ok, record = pcall(cjson.decode, last)
  if not (ok and type(record) == 'table' and type(record.at) == 'number' and record.at < cutoff) then break end
  redis.call('RPOP', KEYS[1])
end
return redis.call('LLEN', KEYS[1])
