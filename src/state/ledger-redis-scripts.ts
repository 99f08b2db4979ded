/**
 * The Redis ledger's Lua scripts. Every admission runs as one script on the server, so it is atomic
 * across machines, and reads the time with Redis's own `TIME`, so no machine's clock is involved.
 * They decide exactly as `decide()` in ledger.ts does (test/state/ledger-redis.test.ts runs the same
 * contract against the three ledgers).
 *
 * Keys, under the prefix P (`state.keyPrefix`), for a limit key K and a reservation id R:
 *   P ws:K  sent starts        (zset: member R, score start ms)
 *   P wp:K  pending starts     (zset: member R, score admission ms) — admitted, not yet on the wire
 *   P ts:K  sent token rows    (zset: member "R|amount", score ms)
 *   P tp:K  pending token rows (zset: member "R|amount", score admission ms)
 *   P c:K   concurrency leases (zset: member R, score expiry ms)
 *   P r:R   the reservation    (hash: o = owner, w:K, t:K = amount, c:K)
 *   P alive:O  an owner (one process's ledger) that is alive; it expires when the process dies
 *   P f     failure counts and cooldowns (hash: K → "failures|until")
 * Keys are built inside the scripts, so the store must be one Redis server (or a primary), not a
 * Redis Cluster.
 */

/** Shared by every script: ARGV[1] is the clock override (tests only; empty = Redis TIME), ARGV[2] the prefix. */
export const PRELUDE = `
local P = ARGV[2]
local now
if ARGV[1] ~= '' then now = tonumber(ARGV[1]) else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function split(member)
  local rid, amount = string.match(member, '^(.*)|(%d+)$')
  return rid, tonumber(amount)
end
-- Moves a reservation's pending rows (or, unless onlyPending, its sent rows too) to time at; never backwards.
local function settle(rid, at, onlyPending)
  local h = redis.call('HGETALL', P .. 'r:' .. rid)
  for i = 1, #h, 2 do
    local kind, k, v = string.sub(h[i], 1, 2), string.sub(h[i], 3), h[i + 1]
    local member, pk, sk = rid, nil, nil
    if kind == 'w:' then pk, sk = P .. 'wp:' .. k, P .. 'ws:' .. k
    elseif kind == 't:' then pk, sk, member = P .. 'tp:' .. k, P .. 'ts:' .. k, rid .. '|' .. v end
    if pk then
      local t = redis.call('ZSCORE', pk, member)
      if t then
        redis.call('ZREM', pk, member)
        redis.call('ZADD', sk, math.max(tonumber(t), at), member)
      elseif not onlyPending then
        t = redis.call('ZSCORE', sk, member)
        if t and tonumber(t) < at then redis.call('ZADD', sk, at, member) end
      end
    end
  end
end
`;


/** Needs \`owner\` (this process) and \`pmax\` (PENDING_MAX_MS) set. */
export const OWNERS = `
local alive = { [owner] = true }
local function ownerAlive(rid)
  local o = redis.call('HGET', P .. 'r:' .. rid, 'o')
  if not o then return false end
  if alive[o] == nil then alive[o] = redis.call('EXISTS', P .. 'alive:' .. o) == 1 end
  return alive[o]
end
-- A pending row counts as starting now (for at most pmax after admission) while its owner lives;
-- a dead owner's row may have reached the provider at any moment until now: it counts from now.
local function effective(rid, t)
  if ownerAlive(rid) then return math.max(t, math.min(now, t + pmax)) end
  return math.max(t, now)
end
`;

/**
 * Admission (ARGV[11] = '1') or a peek ('0'). ARGV: 3 id, 4 owner, 5 leaseMs, 6 PENDING_MAX_MS,
 * 7 how long starts are kept, 8/9/10 the number of window, token and concurrency limits, 11 write,
 * 12 reservation ttl, then per window (key, max, windowMs), per token limit (key, max, windowMs,
 * amount), per concurrency limit (key, limit), then the learned limits.
 * Returns {1, now} when admitted, else {0, waitMs (-1: never), kind (1 window, 2 tokens,
 * 3 concurrency, 4 learned), index of the limit}.
 */
export const RESERVE = `${PRELUDE}
local id, owner, leaseMs, pmax, retain = ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local nW, nT, nC, write, ttl = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), ARGV[11] == '1', tonumber(ARGV[12])
local W, T, C, L = {}, {}, {}, {}
local a = 13
for i = 1, nW do W[i] = { k = ARGV[a], max = tonumber(ARGV[a + 1]), win = tonumber(ARGV[a + 2]) }; a = a + 3 end
for i = 1, nT do T[i] = { k = ARGV[a], max = tonumber(ARGV[a + 1]), win = tonumber(ARGV[a + 2]), amount = tonumber(ARGV[a + 3]) }; a = a + 4 end
for i = 1, nC do C[i] = { k = ARGV[a], limit = tonumber(ARGV[a + 1]) }; a = a + 2 end
-- Learned limits (learned.ts): the key, the request's tokens, its read window, then per limit
-- (kind 1 requests / 2 tokens, limit or -1, remaining, resetAt, observedAt, expiry).
local LK, Ltokens, Lwin, nL = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
a = a + 4
for i = 1, nL do
  L[i] = { kind = tonumber(ARGV[a]), limit = tonumber(ARGV[a + 1]), remaining = tonumber(ARGV[a + 2]), reset = tonumber(ARGV[a + 3]), observed = tonumber(ARGV[a + 4]), expiry = tonumber(ARGV[a + 5]) }
  a = a + 6
end
${OWNERS}
if write then
  -- Settle the pending rows of dead owners first, so no row is read twice below.
  local seen = {}
  local function settleDead(key)
    if seen[key] then return end
    seen[key] = true
    local rows = redis.call('ZRANGE', key, 0, -1)
    for _, m in ipairs(rows) do
      local rid = m
      if string.find(key, P .. 'tp:', 1, true) == 1 then rid = split(m) end
      if not ownerAlive(rid) then settle(rid, now, true) end
    end
  end
  for _, w in ipairs(W) do settleDead(P .. 'wp:' .. w.k) end
  for _, l in ipairs(T) do settleDead(P .. 'tp:' .. l.k) end
  if LK ~= '' then settleDead(P .. 'wp:' .. LK); settleDead(P .. 'tp:' .. LK) end
end

local function windowWait(w)
  local from = now - w.win
  local times = {}
  local pend = redis.call('ZRANGE', P .. 'wp:' .. w.k, 0, -1, 'WITHSCORES')
  for i = 1, #pend, 2 do
    local e = effective(pend[i], tonumber(pend[i + 1]))
    if e >= from then times[#times + 1] = e end
  end
  if redis.call('ZCOUNT', P .. 'ws:' .. w.k, from, '+inf') + #times < w.max then return nil end
  local sent = redis.call('ZREVRANGEBYSCORE', P .. 'ws:' .. w.k, '+inf', from, 'WITHSCORES', 'LIMIT', 0, w.max)
  for i = 2, #sent, 2 do times[#times + 1] = tonumber(sent[i]) end
  table.sort(times, function(x, y) return x > y end)
  return math.max(1, times[w.max] + w.win + 1 - now)
end

local function tokenWait(l)
  if l.amount > l.max then return -1 end
  local from = now - l.win
  local rows, used = {}, 0
  local pend = redis.call('ZRANGE', P .. 'tp:' .. l.k, 0, -1, 'WITHSCORES')
  for i = 1, #pend, 2 do
    local rid, amount = split(pend[i])
    local e = effective(rid, tonumber(pend[i + 1]))
    if e >= from then rows[#rows + 1] = { e, amount } end
  end
  local sent = redis.call('ZRANGEBYSCORE', P .. 'ts:' .. l.k, from, '+inf', 'WITHSCORES')
  for i = 1, #sent, 2 do
    local _, amount = split(sent[i])
    rows[#rows + 1] = { tonumber(sent[i + 1]), amount }
  end
  for _, r in ipairs(rows) do used = used + r[2] end
  if used + l.amount <= l.max then return nil end
  table.sort(rows, function(x, y) return x[1] < y[1] end)
  for _, r in ipairs(rows) do
    used = used - r[2]
    if used + l.amount <= l.max then return math.max(1, r[1] + l.win + 1 - now) end
  end
  return -1
end

local function inFlight(k)
  local key = P .. 'c:' .. k
  if write then redis.call('ZREMRANGEBYSCORE', key, '-inf', now) end
  local n = 0
  for _, rid in ipairs(redis.call('ZRANGEBYSCORE', key, '(' .. now, '+inf')) do
    if ownerAlive(rid) then n = n + 1 elseif write then redis.call('ZREM', key, rid) end
  end
  return n
end

-- The quota a learned limit imposes now: since (exclusive), until, allowance; nil when none (quotaAt).
local function quotaAt(l)
  if now >= l.expiry then return nil end
  if now < l.reset then return l.observed, l.reset, l.remaining end
  if l.limit < 0 then return nil end
  local used = math.max(1, l.limit - l.remaining)
  local period = math.max(1000, math.ceil(((l.reset - l.observed) * l.limit) / used))
  local since = l.reset + math.floor((now - l.reset) / period) * period
  return since - 1, since + period, l.limit
end
local function learnedWait(l)
  local since, untilv, allowance = quotaAt(l)
  if since == nil then return nil end
  local blocked
  if l.kind == 1 then
    local n = redis.call('ZCOUNT', P .. 'ws:' .. LK, '(' .. since, '+inf')
    local pend = redis.call('ZRANGE', P .. 'wp:' .. LK, 0, -1, 'WITHSCORES')
    for i = 1, #pend, 2 do if effective(pend[i], tonumber(pend[i + 1])) > since then n = n + 1 end end
    blocked = n + 1 > allowance
  else
    local used = 0
    local sent = redis.call('ZRANGEBYSCORE', P .. 'ts:' .. LK, '(' .. since, '+inf')
    for _, m in ipairs(sent) do local _, amount = split(m); used = used + amount end
    local pend = redis.call('ZRANGE', P .. 'tp:' .. LK, 0, -1, 'WITHSCORES')
    for i = 1, #pend, 2 do
      local rid, amount = split(pend[i])
      if effective(rid, tonumber(pend[i + 1])) > since then used = used + amount end
    end
    local cap = l.limit
    if cap < 0 then cap = math.max(1, allowance) end
    blocked = used + math.min(Ltokens, cap) > allowance
  end
  if not blocked then return nil end
  return math.max(1, untilv - now + 1)
end

local worst, kind, index = nil, 0, 0
local function consider(wait, k, i)
  if wait == nil then return end
  if wait == -1 then wait = math.huge end
  if worst == nil or wait > worst then worst, kind, index = wait, k, i end
end
for i, w in ipairs(W) do consider(windowWait(w), 1, i) end
for i, l in ipairs(T) do consider(tokenWait(l), 2, i) end
for i, l in ipairs(L) do consider(learnedWait(l), 4, i) end
if worst ~= nil then
  if worst == math.huge then worst = -1 end
  return { 0, worst, kind, index }
end
for i, c in ipairs(C) do
  if inFlight(c.k) >= c.limit then return { 0, 0, 3, i } end
end
if not write then return { 1, now } end

local r = P .. 'r:' .. id
redis.call('HSET', r, 'o', owner)
if LK ~= '' then W[#W + 1] = { k = LK, max = 1, win = Lwin } end
for _, w in ipairs(W) do
  if not redis.call('HGET', r, 'w:' .. w.k) then
    redis.call('HSET', r, 'w:' .. w.k, '1')
    redis.call('ZREMRANGEBYSCORE', P .. 'ws:' .. w.k, '-inf', '(' .. (now - retain))
    redis.call('ZREMRANGEBYSCORE', P .. 'wp:' .. w.k, '-inf', '(' .. (now - retain - pmax))
    redis.call('ZADD', P .. 'wp:' .. w.k, now, id)
  end
end
local amounts, tokenWin = {}, {}
for _, l in ipairs(T) do
  amounts[l.k] = math.max(amounts[l.k] or 0, l.amount)
  tokenWin[l.k] = math.max(tokenWin[l.k] or 0, l.win)
end
if LK ~= '' then
  amounts[LK] = math.max(amounts[LK] or 0, Ltokens)
  tokenWin[LK] = math.max(tokenWin[LK] or 0, Lwin)
end
for k, amount in pairs(amounts) do
  redis.call('HSET', r, 't:' .. k, amount)
  redis.call('ZREMRANGEBYSCORE', P .. 'ts:' .. k, '-inf', '(' .. (now - tokenWin[k]))
  redis.call('ZREMRANGEBYSCORE', P .. 'tp:' .. k, '-inf', '(' .. (now - tokenWin[k] - pmax))
  redis.call('ZADD', P .. 'tp:' .. k, now, id .. '|' .. amount)
end
for _, c in ipairs(C) do
  if not redis.call('HGET', r, 'c:' .. c.k) then
    redis.call('HSET', r, 'c:' .. c.k, '1')
    redis.call('ZADD', P .. 'c:' .. c.k, now + leaseMs, id)
  end
end
redis.call('PEXPIRE', r, ttl)
return { 1, now }
`;

/** ARGV[3] id. The request goes on the wire now: its rows move to now. */
export const MARK_SENT = `${PRELUDE}
settle(ARGV[3], now, false)
return now
`;

/** ARGV[3] id, ARGV[4] leaseMs: live slots of the reservation last until now + leaseMs. */
export const RENEW = `${PRELUDE}
local id = ARGV[3]
local h = redis.call('HGETALL', P .. 'r:' .. id)
for i = 1, #h, 2 do
  if string.sub(h[i], 1, 2) == 'c:' then
    local key = P .. 'c:' .. string.sub(h[i], 3)
    local expires = redis.call('ZSCORE', key, id)
    if expires and tonumber(expires) > now then redis.call('ZADD', key, now + tonumber(ARGV[4]), id) end
  end
end
return now
`;

/** ARGV[3] id, ARGV[4] '1' to refund, ARGV[5] actual tokens ('' when not reported). */
export const RELEASE = `${PRELUDE}
local id, refund, actual = ARGV[3], ARGV[4] == '1', ARGV[5]
local r = P .. 'r:' .. id
local h = redis.call('HGETALL', r)
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
settle(id, now, true)
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
