/**
 * The Redis ledger's scripts beyond admission: the rows a lane snapshot shows, learned limits,
 * budget spend and the usage log. Same conventions as ledger-redis-scripts.ts (ARGV[1] the clock
 * override, ARGV[2] the prefix). More keys under P:
 *   P l       learned limits   (hash: "K\0name" → JSON of the LearnedLimit)
 *   P st:B    a budget's total (hash: usd, tokens, until)
 *   P sr:R    a spend reservation (hash: B → "usd|tokens")
 *   P u       the usage log    (zset: member "uuid JSON", score t)
 */
import { OWNERS, PRELUDE } from './ledger-redis-lua.ts';

/**
 * The answers a lane snapshot reads (ledger-reads.ts), exact: ARGV 3 owner, 4 pmax, 5/6/7 the
 * number of starts, tokens and concurrency questions, then per starts question (key, from, upTo),
 * per tokens question (key, from, room), per concurrency key (key). Run at the time the questions
 * were computed for (ARGV[1]). Returns {now, {count, nth, oldest} per starts question, {sum, over}
 * per tokens question, {in flight…}}, '' where an answer is absent.
 */
export const INSPECT = `${PRELUDE}
local owner, pmax = ARGV[3], tonumber(ARGV[4])
${OWNERS}
local nS, nT, nC = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local a = 8
local starts, tokens, inflight = {}, {}, {}
for i = 1, nS do
  local k, from, upTo = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  a = a + 3
  local ws = P .. 'ws:' .. k
  local nth, pend = nthStart(k, from, upTo)
  local count = math.min(upTo, redis.call('ZCOUNT', ws, from, '+inf') + #pend)
  local oldest = ''
  local o = redis.call('ZRANGEBYSCORE', ws, from, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if #o > 0 then oldest = tonumber(o[2]) end
  if #pend > 0 and (oldest == '' or pend[#pend] < oldest) then oldest = pend[#pend] end
  if nth == nil then nth = '' end
  starts[i] = { count, nth, oldest }
end
for i = 1, nT do
  local k, from, room = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  a = a + 3
  local rows, sum = {}, 0
  local pend = redis.call('ZRANGE', P .. 'tp:' .. k, 0, -1, 'WITHSCORES')
  for j = 1, #pend, 2 do
    local rid, amount = split(pend[j])
    local e = effective(rid, tonumber(pend[j + 1]))
    if e >= from then rows[#rows + 1] = { e, amount } end
  end
  local sent = redis.call('ZRANGEBYSCORE', P .. 'ts:' .. k, from, '+inf', 'WITHSCORES')
  for j = 1, #sent, 2 do
    local _, amount = split(sent[j])
    rows[#rows + 1] = { tonumber(sent[j + 1]), amount }
  end
  for _, r in ipairs(rows) do sum = sum + r[2] end
  local over = ''
  if sum > room then
    table.sort(rows, function(x, y) return x[1] > y[1] end)
    local running = 0
    for _, r in ipairs(rows) do
      running = running + r[2]
      if running > room then over = r[1]; break end
    end
  end
  tokens[i] = { sum, over }
end
for i = 1, nC do
  local n = 0
  for _, rid in ipairs(redis.call('ZRANGEBYSCORE', P .. 'c:' .. ARGV[a], '(' .. now, '+inf')) do
    if ownerAlive(rid) then n = n + 1 end
  end
  inflight[i] = n
  a = a + 1
end
return { now, starts, tokens, inflight }
`;

/**
 * ARGV: 3 key, 4 observedAt, 5 the sources that last until they expire (REFUSAL_SOURCES, one per
 * line), then JSON limits. One entry per name, the newer observation wins; none forgets the key's
 * older ones, except what a refusal taught. A change counts up the learned limits' generation
 * (`P lg`), which an admission made with limits read earlier is checked against (BATCH's `g`).
 */
export const RECORD_LEARNED = `${PRELUDE}
local key, observedAt = ARGV[3], tonumber(ARGV[4])
local H = P .. 'l'
local changed = false
if #ARGV == 5 then
  local keep = {}
  for source in string.gmatch(ARGV[5], '[^\\n]+') do keep[source] = true end
  local all = redis.call('HGETALL', H)
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, #key + 1) == key .. '\\0' then
      local l = cjson.decode(all[i + 1])
      if l.observedAt <= observedAt and not keep[l.source] then redis.call('HDEL', H, all[i]); changed = true end
    end
  end
else
  for i = 6, #ARGV do
    local l = cjson.decode(ARGV[i])
    local field = key .. '\\0' .. l.name
    local prev = redis.call('HGET', H, field)
    if not prev or cjson.decode(prev).observedAt <= l.observedAt then redis.call('HSET', H, field, ARGV[i]); changed = true end
  end
end
if changed then redis.call('INCR', P .. 'lg') end
return now
`;

/**
 * {now, generation, JSON…} of the learned limits of the key ARGV[3], or of every key when it is ''
 * (the caller filters by expiry): an admission gets its model's alone, whatever else was learned.
 */
export const LIST_LEARNED = `${PRELUDE}
local out = { now, redis.call('GET', P .. 'lg') or '0' }
local prefix = ARGV[3] .. '\\0'
local all = redis.call('HGETALL', P .. 'l')
for i = 1, #all, 2 do
  if ARGV[3] == '' or string.sub(all[i], 1, #prefix) == prefix then out[#out + 1] = all[i + 1] end
end
return out
`;

/**
 * Amounts in USD are whole nano-dollars (1e-9 USD), so totals add up exactly. ARGV: 3 id, 4 expected
 * usd, 5 expected tokens, then per budget (key, usd or '', tokens or '', retainUntil). Returns {ok 1/0, index of the budget crossed, then per budget "usd|tokens" before}.
 */
export const RESERVE_SPEND = `${PRELUDE}
local id, usd, tokens = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local B, totals = {}, {}
for i = 6, #ARGV, 4 do B[#B + 1] = { key = ARGV[i], usd = tonumber(ARGV[i + 1]), tokens = tonumber(ARGV[i + 2]), retain = tonumber(ARGV[i + 3]) } end
local crossed = 0
for i, b in ipairs(B) do
  local h = redis.call('HMGET', P .. 'st:' .. b.key, 'usd', 'tokens', 'until')
  local su, st = tonumber(h[1]) or 0, tonumber(h[2]) or 0
  if h[3] and tonumber(h[3]) <= now then su, st = 0, 0; redis.call('DEL', P .. 'st:' .. b.key) end
  totals[i] = su .. '|' .. st
  if crossed == 0 and ((b.usd and su + usd > b.usd + 1) or (b.tokens and st + tokens > b.tokens)) then crossed = i end
end
if crossed > 0 then return { 0, crossed, unpack(totals) } end
for _, b in ipairs(B) do
  local k = P .. 'st:' .. b.key
  redis.call('HINCRBY', k, 'usd', usd)
  redis.call('HINCRBY', k, 'tokens', tokens)
  local prev = tonumber(redis.call('HGET', k, 'until')) or 0
  local untilv = math.max(prev, b.retain)
  redis.call('HSET', k, 'until', untilv)
  redis.call('PEXPIRE', k, math.max(1, untilv - now))
  redis.call('HSET', P .. 'sr:' .. id, b.key, usd .. '|' .. tokens)
  redis.call('PEXPIRE', P .. 'sr:' .. id, math.max(1, untilv - now))
end
return { 1, 0, unpack(totals) }
`;

/** ARGV: 3 id, 4 actual usd, 5 actual tokens: each budget's total moves by the difference. */
export const SETTLE_SPEND = `${PRELUDE}
local r = P .. 'sr:' .. ARGV[3]
local usd, tokens = tonumber(ARGV[4]), tonumber(ARGV[5])
local h = redis.call('HGETALL', r)
for i = 1, #h, 2 do
  local u, t = string.match(h[i + 1], '^(%d+)|(%d+)$')
  local k = P .. 'st:' .. h[i]
  if redis.call('EXISTS', k) == 1 then
    redis.call('HINCRBY', k, 'usd', usd - tonumber(u))
    redis.call('HINCRBY', k, 'tokens', tokens - tonumber(t))
  end
  redis.call('HSET', r, h[i], usd .. '|' .. tokens)
end
return now
`;

/** ARGV: 3… budget keys. Returns "usd|tokens" per key (zero when missing or past its retention). */
export const SPEND_TOTALS = `${PRELUDE}
local out = {}
for i = 3, #ARGV do
  local h = redis.call('HMGET', P .. 'st:' .. ARGV[i], 'usd', 'tokens', 'until')
  if h[3] and tonumber(h[3]) <= now then out[#out + 1] = '0|0'
  else out[#out + 1] = (h[1] or '0') .. '|' .. (h[2] or '0') end
end
return out
`;

/** ARGV: 3 learned ttl: drops expired learned limits and budgets past their retention, and the usage log's old end (ARGV[4] ms). */
export const PRUNE_MORE = `${PRELUDE}
local all = redis.call('HGETALL', P .. 'l')
for i = 1, #all, 2 do
  local l = cjson.decode(all[i + 1])
  if math.max(l.resetAt, l.observedAt) + tonumber(ARGV[3]) <= now then redis.call('HDEL', P .. 'l', all[i]) end
end
redis.call('ZREMRANGEBYSCORE', P .. 'u', '-inf', '(' .. (now - tonumber(ARGV[4])))
local cursor = '0'
repeat
  local page = redis.call('SCAN', cursor, 'MATCH', P .. 'st:*', 'COUNT', 500)
  cursor = page[1]
  for _, key in ipairs(page[2]) do
    local untilv = tonumber(redis.call('HGET', key, 'until'))
    if untilv and untilv <= now then redis.call('DEL', key) end
  end
until cursor == '0'
return now
`;

/**
 * Records starts admitted elsewhere (this machine's embedded ledger while Redis was away) as sent,
 * `age` ms before the server's now, so the shared windows count them. ARGV: 3 id, 4 age, 5 number of
 * window keys, then the keys, then (key, amount) per token key.
 */
export const RECORD_STARTS = `${PRELUDE}
local id, at, nW = ARGV[3], now - tonumber(ARGV[4]), tonumber(ARGV[5])
for i = 6, 5 + nW do redis.call('ZADD', P .. 'ws:' .. ARGV[i], at, id) end
for i = 6 + nW, #ARGV, 2 do redis.call('ZADD', P .. 'ts:' .. ARGV[i], at, id .. '|' .. ARGV[i + 1]) end
return now
`;
