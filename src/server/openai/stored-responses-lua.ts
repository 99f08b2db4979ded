/**
 * The Lua scripts of the stored responses on Redis (stored-responses-redis.ts): each is one round
 * trip and atomic on the server. Keys, under the state's prefix: `resp:<id>` (a hash: owner,
 * created, prev, status, response, bytes; a background run's runner, beat, cancel), `resp:<id>:in`
 * and `resp:<id>:out` (its items' JSON, in order), `respitem:<owner>:<item id>` (where an item is:
 * `<response id>\n<0 in|1 out>\n<index>`), `resps` (the ids by creation time), `respsize` (each
 * one's bytes) and `respbytes` (their sum). Each key expires with its response (30 days after it
 * was made); `resps` and `respsize` are pruned by the saves.
 */

/** Shared by the scripts: drops one response (its hash, items and its place in the index). */
const DROP = `
local function drop(p, rid, keepEvents)
  local b = tonumber(redis.call('HGET', p .. 'respsize', rid) or '0')
  redis.call('DEL', p .. 'resp:' .. rid, p .. 'resp:' .. rid .. ':in', p .. 'resp:' .. rid .. ':out')
  if not keepEvents then redis.call('DEL', p .. 'resp:' .. rid .. ':ev') end
  redis.call('ZREM', p .. 'resps', rid)
  redis.call('HDEL', p .. 'respsize', rid)
  if b > 0 then redis.call('DECRBY', p .. 'respbytes', b) end
end
`;

const RUNNING = `local function running(s) return s == 'queued' or s == 'in_progress' end
`;

/**
 * ARGV: prefix, id, owner, created, prev, response, status, expireAt, cutoff, maxResponses,
 * maxBytes, ifRunning (1/0), runner, beat, streamed (1/0), then the input items (count, then id
 * and JSON of each), then the output items likewise. A streamed response's events stay (and count). Returns 1 when saved, 0 when `ifRunning` and it no longer runs.
 * Then drops what is past its time (at most 100 a save) and the oldest beyond the bounds.
 */
export const SAVE = `${DROP}${RUNNING}
local p, id, owner = ARGV[1], ARGV[2], ARGV[3]
local rk = p .. 'resp:' .. id
if ARGV[12] == '1' and not running(redis.call('HGET', rk, 'status')) then return 0 end
local evbytes = tonumber(redis.call('HGET', rk, 'evbytes') or '0')
drop(p, id, true)
local expireAt = ARGV[8]
local bytes = #ARGV[6] + evbytes
local at = 16
for kind = 0, 1 do
  local key = rk .. (kind == 0 and ':in' or ':out')
  local n = tonumber(ARGV[at])
  at = at + 1
  for i = 1, n do
    local itemId, json = ARGV[at], ARGV[at + 1]
    at = at + 2
    bytes = bytes + #json
    redis.call('RPUSH', key, json)
    if itemId ~= '' then
      local ik = p .. 'respitem:' .. owner .. ':' .. itemId
      redis.call('SET', ik, id .. '\\n' .. kind .. '\\n' .. (i - 1))
      redis.call('PEXPIREAT', ik, expireAt)
    end
  end
  if n > 0 then redis.call('PEXPIREAT', key, expireAt) end
end
redis.call('HSET', rk, 'owner', owner, 'created', ARGV[4], 'prev', ARGV[5], 'status', ARGV[7], 'response', ARGV[6], 'bytes', bytes, 'evbytes', evbytes)
if ARGV[13] ~= '' then redis.call('HSET', rk, 'runner', ARGV[13], 'beat', ARGV[14], 'cancel', '0', 'streamed', ARGV[15]) end
redis.call('PEXPIREAT', rk, expireAt)
redis.call('ZADD', p .. 'resps', ARGV[4], id)
redis.call('HSET', p .. 'respsize', id, bytes)
redis.call('INCRBY', p .. 'respbytes', bytes)
for _, rid in ipairs(redis.call('ZRANGEBYSCORE', p .. 'resps', '-inf', '(' .. ARGV[9], 'LIMIT', 0, 100)) do drop(p, rid) end
local maxN, maxB = tonumber(ARGV[10]), tonumber(ARGV[11])
for _ = 1, 100 do
  if redis.call('ZCARD', p .. 'resps') <= maxN and tonumber(redis.call('GET', p .. 'respbytes') or '0') <= maxB then break end
  local first = redis.call('ZRANGE', p .. 'resps', 0, 0)
  if #first == 0 then break end
  drop(p, first[1])
end
return 1
`;

/** ARGV: prefix, id, owner, cutoff. 1 when deleted, 0 when there is no such response of the owner's. */
export const DELETE = `${DROP}
local p, id = ARGV[1], ARGV[2]
local h = redis.call('HMGET', p .. 'resp:' .. id, 'owner', 'created')
if not h[1] or h[1] ~= ARGV[3] or tonumber(h[2]) < tonumber(ARGV[4]) then return 0 end
drop(p, id)
return 1
`;

/**
 * ARGV: prefix, id, owner, cutoff, maxChain, maxBytes. The chain newest first, each link its input
 * then output items: {'ok', {in, out}, …}; or {'missing', id}, {'chain'}, {'bytes'}, {'running'}.
 */
export const CONVERSATION = `${RUNNING}
local p, at, owner = ARGV[1], ARGV[2], ARGV[3]
local cutoff, maxChain, maxBytes = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local n, bytes, links = 0, 0, {}
while at and at ~= '' do
  local rk = p .. 'resp:' .. at
  local h = redis.call('HMGET', rk, 'owner', 'created', 'prev', 'status')
  if not h[1] or h[1] ~= owner or tonumber(h[2]) < cutoff then return {'missing', at} end
  if n >= maxChain then return {'chain'} end
  if n == 0 and running(h[4]) then return {'running'} end
  local ins = redis.call('LRANGE', rk .. ':in', 0, -1)
  local outs = redis.call('LRANGE', rk .. ':out', 0, -1)
  for _, x in ipairs(ins) do bytes = bytes + #x end
  for _, x in ipairs(outs) do bytes = bytes + #x end
  if bytes > maxBytes then return {'bytes'} end
  links[#links + 1] = {ins, outs}
  n = n + 1
  at = h[3]
end
return {'ok', links}
`;

/** ARGV: prefix, owner, item id, cutoff. The item's JSON, or false. */
export const ITEM = `
local p, owner = ARGV[1], ARGV[2]
local where = redis.call('GET', p .. 'respitem:' .. owner .. ':' .. ARGV[3])
if not where then return false end
local rid, kind, index = string.match(where, '^(.*)\\n(%d)\\n(%d+)$')
if not rid then return false end
local h = redis.call('HMGET', p .. 'resp:' .. rid, 'owner', 'created')
if not h[1] or h[1] ~= owner or tonumber(h[2]) < tonumber(ARGV[4]) then return false end
return redis.call('LINDEX', p .. 'resp:' .. rid .. (kind == '0' and ':in' or ':out'), tonumber(index))
`;

/** ARGV: prefix, id, owner, cutoff. The input items' JSON, or false when there is no such response. */
export const INPUT_ITEMS = `
local p, id = ARGV[1], ARGV[2]
local h = redis.call('HMGET', p .. 'resp:' .. id, 'owner', 'created')
if not h[1] or h[1] ~= ARGV[3] or tonumber(h[2]) < tonumber(ARGV[4]) then return false end
return redis.call('LRANGE', p .. 'resp:' .. id .. ':in', 0, -1)
`;

/** ARGV: prefix, id, response, status, cancel (1/0). 1 when replaced, 0 when it no longer runs. */
export const SETTLE = `${RUNNING}
local rk = ARGV[1] .. 'resp:' .. ARGV[2]
if not running(redis.call('HGET', rk, 'status')) then return 0 end
redis.call('HSET', rk, 'response', ARGV[3], 'status', ARGV[4])
if ARGV[5] == '1' then redis.call('HSET', rk, 'cancel', '1') else redis.call('HDEL', rk, 'runner', 'beat', 'cancel') end
return 1
`;

/** ARGV: prefix, id, at. 1 when the run was asked to stop. */
export const BEAT = `
local rk = ARGV[1] .. 'resp:' .. ARGV[2]
if redis.call('HEXISTS', rk, 'runner') == 0 then return 0 end
redis.call('HSET', rk, 'beat', ARGV[3])
return redis.call('HGET', rk, 'cancel') == '1' and 1 or 0
`;

/** ARGV: prefix, id, retention (ms), then the frames. Appends them while the response is kept (counted in its bytes; expiring with it). */
export const ADD_EVENTS = `
local p, id = ARGV[1], ARGV[2]
local rk = p .. 'resp:' .. id
local created = redis.call('HGET', rk, 'created')
if not created then return 0 end
local ev = rk .. ':ev'
local n = 0
for i = 4, #ARGV do
  redis.call('RPUSH', ev, ARGV[i])
  n = n + #ARGV[i]
end
redis.call('PEXPIREAT', ev, string.format('%d', tonumber(created) + tonumber(ARGV[3])))
redis.call('HINCRBY', rk, 'evbytes', n)
redis.call('HINCRBY', p .. 'respsize', id, n)
redis.call('INCRBY', p .. 'respbytes', n)
return 1
`;

/** ARGV: prefix, id, owner, cutoff, after. {response, streamed (1/0), frames…}, or false when there is no such response. */
export const EVENTS_AFTER = `
local p, id = ARGV[1], ARGV[2]
local rk = p .. 'resp:' .. id
local h = redis.call('HMGET', rk, 'owner', 'created', 'response', 'streamed')
if not h[1] or h[1] ~= ARGV[3] or tonumber(h[2]) < tonumber(ARGV[4]) then return false end
local ev = rk .. ':ev'
local streamed = (h[4] == '1' or redis.call('EXISTS', ev) == 1) and 1 or 0
local out = {h[3], streamed}
for _, frame in ipairs(redis.call('LRANGE', ev, tonumber(ARGV[5]) + 1, -1)) do out[#out + 1] = frame end
return out
`;
