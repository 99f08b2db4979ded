/**
 * Admission on Redis: one Lua script per request, atomic across machines and timed by Redis's own
 * clock. It decides exactly as `decide()` in ledger.ts does (the ledger contract tests run against
 * every ledger). Keys and shared helpers: ledger-redis-lua.ts.
 */
import { CONCURRENCY_POLL_MS, PENDING_MAX_MS, START_RETAIN_MS, tokenLabel, windowLabel, type BlockKind, type ReserveRequest } from '../scheduler/ledger.ts';
import { learnedExpiry, learnedLabel, learnedReadWindow } from '../scheduler/learned.ts';
import { OWNERS, PRELUDE } from './ledger-redis-lua.ts';

/** A reservation's record outlives any request (requests time out within 24 h). */
const RESERVATION_TTL_MS = START_RETAIN_MS + PENDING_MAX_MS;
/** Learned token rows are kept at least this long, whatever the quotas read now. */
const LEARNED_ROWS_MIN_MS = 3_600_000;
const KINDS: Record<number, BlockKind> = { 1: 'window', 2: 'tokens', 3: 'concurrency', 4: 'window' };

/** RESERVE's ARGV from ARGV[3] on, for one request (`write`: admit, else only peek). */
export function reserveArgs(req: ReserveRequest, id: string, owner: string, write: boolean): (string | number)[] {
  const args: (string | number)[] = [
    id,
    owner,
    Math.ceil(req.leaseMs),
    PENDING_MAX_MS,
    Math.max(START_RETAIN_MS, ...req.windows.map((w) => w.windowMs)),
    req.windows.length,
    req.tokens.length,
    req.concurrency.length,
    write ? '1' : '0',
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
      args.push(l.kind === 'requests' ? 1 : 2, l.limit ?? -1, l.remaining, l.resetAt, l.observedAt, learnedExpiry(l));
    }
  }
  return args;
}

/** What a refusal from RESERVE means for `req` (undefined: an answer RESERVE never gives). */
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
