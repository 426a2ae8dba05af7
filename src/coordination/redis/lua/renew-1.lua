--[[
renew-1.lua: extend a running lock that is still held.
KEYS[1] running  ZSET  running-lock tokens scored by deadline (ms, Redis clock)
ARGV[1] token
ARGV[2] ttl, ms
Returns 1 when extended, 0 when the lock is gone or its deadline already passed.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local deadline = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not deadline or tonumber(deadline) <= now then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
return 1
