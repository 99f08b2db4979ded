/**
 * The Redis ledger's Lua scripts: the parts every script shares (this file), admission
 * (ledger-redis-admit.ts), a request's life after admission and cooldowns (ledger-redis-scripts.ts),
 * the grouped run of a turn's requests (ledger-redis-batch.ts), learned limits, budgets, the lane
 * snapshot and the usage log (ledger-redis-more-scripts.ts). Every admission runs inside one script
 * on the server, so it is atomic across machines, and reads the time with Redis's own `TIME`, so no
 * machine's clock is involved.
 * They decide exactly as `decide()` in ledger.ts does (test/state/ledger-redis.test.ts runs the same
 * contract against the three ledgers).
 *
 * Keys, under the prefix P (`state.keyPrefix`), for a limit key K and a reservation id R:
 *   P ws:K  sent starts        (zset: member R, score start ms)
 *   P wp:K  pending starts     (zset: member R, score admission ms) — admitted, not yet on the wire
 *   P ts:K  sent token rows    (zset: member "R|amount", score ms)
 *   P tp:K  pending token rows (zset: member "R|amount", score admission ms)
 *   P c:K   concurrency leases (zset: member R, score expiry ms)
 *   P o:K   owners with pending rows or leases under K (set): while all live, rows' owners are not read
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
-- Moves a reservation's pending rows (or, unless onlyPending, its sent rows too) to time at; never
-- backwards. h: the reservation's hash when the caller has read it.
local function settle(rid, at, onlyPending, h)
  h = h or redis.call('HGETALL', P .. 'r:' .. rid)
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


/**
 * Needs \`owner\` (this process) and \`pmax\` (PENDING_MAX_MS) set. Whether a reservation's owner
 * lives is read once per script run (a grouped run answers many admissions that read the same rows).
 */
export const OWNERS = `
local alive = { [owner] = true }
local ridAlive = {}
local function ownerAlive(rid)
  local known = ridAlive[rid]
  if known ~= nil then return known end
  local o = redis.call('HGET', P .. 'r:' .. rid, 'o')
  known = false
  if o then
    if alive[o] == nil then alive[o] = redis.call('EXISTS', P .. 'alive:' .. o) == 1 end
    known = alive[o]
  end
  ridAlive[rid] = known
  return known
end
-- A pending row counts as starting now (for at most pmax after admission) while its owner lives;
-- a dead owner's row may have reached the provider at any moment until now: it counts from now.
-- Within pmax of its admission a row counts as now either way, so its owner is not read.
local function effective(rid, t)
  if t >= now - pmax or not ownerAlive(rid) then return math.max(t, now) end
  return t + pmax
end
-- The upTo-th newest start of K at or after from, pending ones at their effective time (nil when
-- there are fewer), and those pending times, newest first. As answerStarts (ledger-reads.ts): the
-- sent starts are asked by rank for at most a few positions, never read whole.
local function newestFirst(x, y) return x > y end
-- K's pending starts at their effective times, newest first, those before from left out. A row
-- admitted within pmax of now counts as now whoever owns it, so those are only counted (ZCOUNT);
-- older rows (an owner stalled or gone) and rows stamped after now are read one by one.
local function pendingStarts(k, from)
  local wp, lo = P .. 'wp:' .. k, now - pmax
  local pend, older = {}, {}
  local later = redis.call('ZRANGEBYSCORE', wp, '(' .. now, '+inf', 'WITHSCORES')
  for j = 2, #later, 2 do pend[#pend + 1] = tonumber(later[j]) end
  table.sort(pend, newestFirst)
  if now >= from then
    for _ = 1, redis.call('ZCOUNT', wp, lo, now) do pend[#pend + 1] = now end
  end
  local raw = redis.call('ZRANGEBYSCORE', wp, '-inf', '(' .. lo, 'WITHSCORES')
  for j = 1, #raw, 2 do
    local e = effective(raw[j], tonumber(raw[j + 1]))
    if e >= from then older[#older + 1] = e end
  end
  table.sort(older, newestFirst)
  for _, e in ipairs(older) do pend[#pend + 1] = e end
  return pend
end
local function nthStart(k, from, upTo)
  local ws = P .. 'ws:' .. k
  local pend = pendingStarts(k, from)
  local function sentNth(m)
    local r = redis.call('ZREVRANGE', ws, m - 1, m, 'WITHSCORES')
    local x, y = tonumber(r[2]), tonumber(r[4])
    if x ~= nil and x < from then x = nil end
    if y ~= nil and y < from then y = nil end
    return x, y
  end
  local p = math.min(#pend, upTo)
  while true do
    local m = upTo - p
    local sm, snext
    if m > 0 then sm, snext = sentNth(m) else snext = sentNth(1) end
    if m > 0 and sm == nil then return nil, pend end
    local last = math.huge
    if p > 0 then last = pend[p] end
    if p == 0 or snext == nil or last >= snext then
      if m > 0 and sm < last then return sm, pend end
      return last, pend
    end
    p = p - 1
  end
end
`;
