/**
 * The Redis ledger's scripts for a request after its admission (sent, renewed, released, succeeded:
 * functions of the grouped script), for failures and cooldowns, pruning and the server's clock. Keys
 * and shared helpers: ledger-redis-lua.ts.
 */
import { PRELUDE } from './ledger-redis-lua.ts';

/**
 * A request's life after admission, as functions of the grouped script (ledger-redis-batch.ts),
 * which has set P, now and PRELUDE's helpers. Each returns now.
 *   sent(id): the request goes on the wire now: its rows move to now.
 *   renew(id, leaseMs): live slots of the reservation last until now + leaseMs.
 *   release(id, refund '1'/'0', actual tokens or ''): ends its slots; refunds or settles its rows.
 *   success(key): a request on key succeeded: its failure count and cooldown end.
 */
export const AFTER_ADMISSION = `
local function sent(id)
  settle(id, now, false)
  return now
end

local function renew(id, leaseMs)
  local h = redis.call('HGETALL', P .. 'r:' .. id)
  for i = 1, #h, 2 do
    if string.sub(h[i], 1, 2) == 'c:' then
      local key = P .. 'c:' .. string.sub(h[i], 3)
      local expires = redis.call('ZSCORE', key, id)
      if expires and tonumber(expires) > now then redis.call('ZADD', key, now + tonumber(leaseMs), id) end
    end
  end
  return now
end

local function release(id, refundFlag, actual)
  local refund = refundFlag == '1'
  local r = P .. 'r:' .. id
  local h = redis.call('HGETALL', r)
  if #h == 0 then return now end
  for i = 1, #h, 2 do
    local kind, k = string.sub(h[i], 1, 2), string.sub(h[i], 3)
    if kind == 'c:' then redis.call('ZREM', P .. 'c:' .. k, id) end
    if refund then
      if kind == 'w:' then redis.call('ZREM', P .. 'ws:' .. k, id); redis.call('ZREM', P .. 'wp:' .. k, id) end
      if kind == 't:' then
        local m = id .. '|' .. h[i + 1]
        redis.call('ZREM', P .. 'ts:' .. k, m); redis.call('ZREM', P .. 'tp:' .. k, m)
      end
    end
  end
  if refund then redis.call('DEL', r); return now end
  settle(id, now, true, h)
  if actual ~= '' then
    for i = 1, #h, 2 do
      if string.sub(h[i], 1, 2) == 't:' then
        local k = string.sub(h[i], 3)
        local key, old = P .. 'ts:' .. k, id .. '|' .. h[i + 1]
        local t = redis.call('ZSCORE', key, old)
        if t then
          redis.call('ZREM', key, old)
          redis.call('ZADD', key, t, id .. '|' .. actual)
          redis.call('HSET', r, h[i], actual)
        end
      end
    end
  end
  return now
end

local function success(key)
  redis.call('HDEL', P .. 'f', key)
  return now
end
`;

/** ARGV[3] key, ARGV[4] afterFailures, ARGV[5] cooldownMs; returns the cooldown's end or -1 (as nextFailureState). */
export const FAILURE = `${PRELUDE}
local key, after, ms = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local prev = redis.call('HGET', P .. 'f', key)
local pf, pu = 0, nil
if prev then
  local f, u = string.match(prev, '^(%d+)|(%d*)$')
  pf = tonumber(f) or 0
  pu = tonumber(u)
end
local cooling = pu ~= nil and pu > now
local ended = pu ~= nil and pu <= now
local failures = 1
if prev and not ended then failures = pf + 1 end
local untilv = nil
if cooling then untilv = pu elseif failures >= math.max(1, after) then untilv = now + math.max(0, ms) end
redis.call('HSET', P .. 'f', key, failures .. '|' .. (untilv or ''))
if untilv ~= nil and untilv > now then return untilv end
return -1
`;

/** ARGV[3] key ('' for all): {now, key, until, failures, …} of the cooldowns still running. */
export const COOLDOWNS = `${PRELUDE}
local out = { now }
local function add(key, v)
  if not v then return end
  local f, u = string.match(v, '^(%d+)|(%d*)$')
  u = tonumber(u)
  if u ~= nil and u > now then out[#out + 1] = key; out[#out + 1] = u; out[#out + 1] = tonumber(f) end
end
if ARGV[3] ~= '' then add(ARGV[3], redis.call('HGET', P .. 'f', ARGV[3])) return out end
local all = redis.call('HGETALL', P .. 'f')
for i = 1, #all, 2 do add(all[i], all[i + 1]) end
return out
`;

/** Drops what no longer counts: ended cooldowns and expired leases everywhere; old starts and tokens. ARGV[3] retain, ARGV[4] pmax. */
export const PRUNE = `${PRELUDE}
local retain, pmax = tonumber(ARGV[3]), tonumber(ARGV[4])
local all = redis.call('HGETALL', P .. 'f')
for i = 1, #all, 2 do
  local u = tonumber(string.match(all[i + 1], '|(%d+)$'))
  if u ~= nil and u <= now then redis.call('HDEL', P .. 'f', all[i]) end
end
local cursor = '0'
repeat
  local page = redis.call('SCAN', cursor, 'MATCH', P .. '*', 'COUNT', 500)
  cursor = page[1]
  for _, key in ipairs(page[2]) do
    local kind = string.sub(key, #P + 1, #P + 3)
    if kind == 'c:' or string.sub(kind, 1, 2) == 'c:' then redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    elseif kind == 'ws:' then redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. (now - retain))
    elseif kind == 'wp:' or kind == 'tp:' then redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. (now - retain - pmax)) end
  end
until cursor == '0'
return now
`;

/** The server's clock (ms): for doctor's clock offset and tests. */
export const SERVER_TIME = `${PRELUDE}
return now
`;
