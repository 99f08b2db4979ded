/**
 * Admission on Redis: a function of the grouped Lua script (ledger-redis-batch.ts), atomic across
 * machines and timed by Redis's own clock. It decides exactly as `decide()` in ledger.ts does
 * (the ledger contract tests run against every ledger). Keys and shared helpers: ledger-redis-lua.ts.
 */
import { CONCURRENCY_POLL_MS, PENDING_MAX_MS, START_RETAIN_MS, tokenLabel, windowLabel, type BlockKind, type ReserveRequest } from '../scheduler/ledger.ts';
import { learnedExpiry, learnedLabel, learnedReadWindow, refillsAfterReset } from '../scheduler/learned.ts';

/** A reservation's record outlives any request (requests time out within 24 h). */
const RESERVATION_TTL_MS = START_RETAIN_MS + PENDING_MAX_MS;
/** Learned token rows are kept at least this long, whatever the quotas read now. */
const LEARNED_ROWS_MIN_MS = 3_600_000;
const KINDS: Record<number, BlockKind> = { 1: 'window', 2: 'tokens', 3: 'concurrency', 4: 'window' };

/** The arguments of one admission or peek in a grouped run (ADMIT). */
export function reserveArgs(req: ReserveRequest, id: string): (string | number)[] {
  const args: (string | number)[] = [
    id,
    Math.ceil(req.leaseMs),
    Math.max(START_RETAIN_MS, ...req.windows.map((w) => w.windowMs)),
    req.windows.length,
    req.tokens.length,
    req.concurrency.length,
    RESERVATION_TTL_MS,
  ];
  for (const w of req.windows) args.push(w.key, w.maxRequests, w.windowMs);
  for (const { limit, amount } of req.tokens) args.push(limit.key, limit.maxTokens, limit.windowMs, Math.ceil(amount));
  for (const c of req.concurrency) args.push(c.key, c.limit);
  const learned = req.learned;
  if (!learned) args.push('', 0, 0, 0);
  else {
    const rowsMs = Math.max(LEARNED_ROWS_MIN_MS, learnedReadWindow(learned.limits));
    args.push(learned.key, Math.ceil(learned.tokens), rowsMs, learned.limits.length);
    for (const l of learned.limits) {
      args.push(l.kind === 'requests' ? 1 : 2, refillsAfterReset(l) ? (l.limit as number) : -1, l.remaining, l.resetAt, l.observedAt, learnedExpiry(l));
    }
  }
  return args;
}

/** What a refusal from ADMIT means for `req` (undefined: an answer ADMIT never gives). */
export function refusalOf(req: ReserveRequest, reply: number[]): { ok: false; waitMs: number; blockedBy: string; kind: BlockKind } | undefined {
  const [, wait = 0, code = 0, index = 1] = reply;
  const kind = KINDS[code];
  if (code === 4) return { ok: false, waitMs: wait, blockedBy: learnedLabel(req.learned!.limits[index - 1]!), kind: 'window' };
  if (kind === 'window') return { ok: false, waitMs: wait, blockedBy: windowLabel(req.windows[index - 1]!), kind };
  if (kind === 'tokens') return { ok: false, waitMs: wait < 0 ? Infinity : wait, blockedBy: tokenLabel(req.tokens[index - 1]!.limit), kind };
  if (kind === 'concurrency') return { ok: false, waitMs: CONCURRENCY_POLL_MS, blockedBy: `${req.concurrency[index - 1]!.key} concurrency`, kind };
  return undefined;
}

/**
 * One admission (\`write\`) or peek, as a function of the grouped script (ledger-redis-batch.ts),
 * which has set P, now, owner, pmax and OWNERS. A: 1 id, 2 leaseMs, 3 how long starts are kept,
 * 4/5/6 the number of window, token and concurrency limits, 7 reservation ttl, then per window (key,
 * max, windowMs), per token limit (key, max, windowMs, amount), per concurrency limit (key, limit),
 * then the learned limits. Returns {1, now} when admitted, else {0, waitMs (-1: never), kind
 * (1 window, 2 tokens, 3 concurrency, 4 learned), index of the limit}.
 */
export const ADMIT = `
-- Rows below a score dropped from a key in this run (once per key: every request runs at one now).
local trimmed = {}
local function trimBelow(key, score)
  if trimmed[key] ~= nil and trimmed[key] >= score then return end
  trimmed[key] = score
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. score)
end
-- Whether every owner with rows under K (P o:K) lives, read once per run; after reapDead, true.
local ownersOk = {}
local function ownersAlive(k)
  if ownersOk[k] ~= nil then return ownersOk[k] end
  local all = true
  for _, o in ipairs(redis.call('SMEMBERS', P .. 'o:' .. k)) do
    if alive[o] == nil then alive[o] = redis.call('EXISTS', P .. 'alive:' .. o) == 1 end
    if not alive[o] then all = false end
  end
  ownersOk[k] = all
  return all
end
-- A dead owner's rows under K: its pending starts and tokens settle (they may have reached the
-- provider at any moment until now), its leases end, and it leaves P o:K.
local function reapDead(k)
  if ownersAlive(k) then return end
  for _, m in ipairs(redis.call('ZRANGE', P .. 'wp:' .. k, 0, -1)) do
    if not ownerAlive(m) then settle(m, now, true) end
  end
  for _, m in ipairs(redis.call('ZRANGE', P .. 'tp:' .. k, 0, -1)) do
    local rid = split(m)
    if not ownerAlive(rid) then settle(rid, now, true) end
  end
  for _, rid in ipairs(redis.call('ZRANGE', P .. 'c:' .. k, 0, -1)) do
    if not ownerAlive(rid) then redis.call('ZREM', P .. 'c:' .. k, rid) end
  end
  for _, o in ipairs(redis.call('SMEMBERS', P .. 'o:' .. k)) do
    if not alive[o] then redis.call('SREM', P .. 'o:' .. k, o) end
  end
  ownersOk[k] = true
end
-- Keys this run has added this process to (P o:K).
local joined = {}
local function join(k)
  if joined[k] then return end
  joined[k] = true
  redis.call('SADD', P .. 'o:' .. k, owner)
end
local function admit(A, write)
local id, leaseMs, retain = A[1], tonumber(A[2]), tonumber(A[3])
local nW, nT, nC, ttl = tonumber(A[4]), tonumber(A[5]), tonumber(A[6]), tonumber(A[7])
local W, T, C, L = {}, {}, {}, {}
local a = 8
for i = 1, nW do W[i] = { k = A[a], max = tonumber(A[a + 1]), win = tonumber(A[a + 2]) }; a = a + 3 end
for i = 1, nT do T[i] = { k = A[a], max = tonumber(A[a + 1]), win = tonumber(A[a + 2]), amount = tonumber(A[a + 3]) }; a = a + 4 end
for i = 1, nC do C[i] = { k = A[a], limit = tonumber(A[a + 1]) }; a = a + 2 end
-- Learned limits (learned.ts): the key, the request's tokens, its read window, then per limit
-- (kind 1 requests / 2 tokens, limit or -1 when it does not refill after its reset, remaining,
-- resetAt, observedAt (its request's hand-over), expiry).
local LK, Ltokens, Lwin, nL = A[a], tonumber(A[a + 1]), tonumber(A[a + 2]), tonumber(A[a + 3])
a = a + 4
for i = 1, nL do
  L[i] = { kind = tonumber(A[a]), limit = tonumber(A[a + 1]), remaining = tonumber(A[a + 2]), reset = tonumber(A[a + 3]), observed = tonumber(A[a + 4]), expiry = tonumber(A[a + 5]) }
  a = a + 6
end
if write then
  -- Settle what dead owners left first, so no row is read twice below.
  for _, w in ipairs(W) do reapDead(w.k) end
  for _, l in ipairs(T) do reapDead(l.k) end
  for _, c in ipairs(C) do reapDead(c.k) end
  if LK ~= '' then reapDead(LK) end
end

local function windowWait(w)
  local nth = nthStart(w.k, now - w.win, w.max)
  if nth == nil then return nil end
  return math.max(1, nth + w.win + 1 - now)
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

-- Live leases on K whose owner lives: while every owner with rows under K lives (always after
-- reapDead) they are only counted.
local function inFlight(k)
  local key = P .. 'c:' .. k
  if write then trimBelow(key, now + 1) end
  if ownersAlive(k) then return redis.call('ZCOUNT', key, '(' .. now, '+inf') end
  local n = 0
  for _, rid in ipairs(redis.call('ZRANGEBYSCORE', key, '(' .. now, '+inf')) do
    if ownerAlive(rid) then n = n + 1 end
  end
  return n
end

-- The quota a learned limit imposes now: since (exclusive), until, allowance; nil when none (quotaAt).
local function quotaAt(l)
  if now >= l.expiry then return nil end
  local own = 0
  if l.kind == 1 then own = 1 end
  local handedOver = l.observed - own
  if now < l.reset then
    if l.remaining == 0 then return handedOver, l.reset, 0 end
    return handedOver, l.reset, l.remaining + own
  end
  if l.limit < 0 then return nil end
  local used = math.max(1, l.limit - l.remaining)
  local period = math.max(1000, math.ceil(((l.reset - l.observed) * l.limit) / used))
  local periods = math.floor((now - l.reset) / period)
  if periods == 0 and own == 1 then return handedOver, l.reset + period, l.limit + 1 end
  local since = l.reset + periods * period
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
local fields = { 'o', owner }
local has = {}
if LK ~= '' then W[#W + 1] = { k = LK, max = 1, win = Lwin } end
for _, w in ipairs(W) do
  if not has['w:' .. w.k] then
    has['w:' .. w.k] = true
    fields[#fields + 1] = 'w:' .. w.k; fields[#fields + 1] = '1'
    trimBelow(P .. 'ws:' .. w.k, now - retain)
    trimBelow(P .. 'wp:' .. w.k, now - retain - pmax)
    redis.call('ZADD', P .. 'wp:' .. w.k, now, id)
    join(w.k)
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
  fields[#fields + 1] = 't:' .. k; fields[#fields + 1] = amount
  trimBelow(P .. 'ts:' .. k, now - tokenWin[k])
  trimBelow(P .. 'tp:' .. k, now - tokenWin[k] - pmax)
  redis.call('ZADD', P .. 'tp:' .. k, now, id .. '|' .. amount)
  join(k)
end
for _, c in ipairs(C) do
  if not has['c:' .. c.k] then
    has['c:' .. c.k] = true
    fields[#fields + 1] = 'c:' .. c.k; fields[#fields + 1] = '1'
    redis.call('ZADD', P .. 'c:' .. c.k, now + leaseMs, id)
    join(c.k)
  end
end
redis.call('HSET', r, unpack(fields))
redis.call('PEXPIRE', r, ttl)
ridAlive[id] = true
return { 1, now }
end
`;
