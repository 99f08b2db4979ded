/**
 * The memory ledger's starts or token rows. Per key: the pending units (admitted, not yet on the
 * wire: few, each counting as starting now) and the sent rows in time order, where every unit
 * settled at the same ms (and kept as long) is counted in one row. A row per ms rather than per
 * request: a busy process keeps a few objects a ms for a day instead of one per request, and a
 * window's count or its n-th newest start is a binary search over running counts, not a scan.
 * Starts of equal time count the same whether apart or together, so every answer is unchanged.
 *
 * A reservation holds its units (the ledger finds them by its id, once per call): settling or
 * dropping one touches its own key's rows through it, with no lookup by key or id, and the pending
 * units of a key are a list threaded through them (no hash set to add to and delete from on every
 * request: bench/scheduler-overhead.ts).
 */
import { PENDING_MAX_MS, effectiveStart, type TokenRow } from './ledger.ts';
import type { SentStarts, SentTokens } from './ledger-reads.ts';

/** Sent units of one key settled at `t`: `n` of them, `amount` tokens in all. */
interface SentRow {
  t: number;
  until: number;
  n: number;
  amount: number;
  /** Units in this row and every row before it in the key's list (counts are differences of two). */
  cum: number;
}
/** The rows of one key. */
interface KeyRows {
  /** Ordered by t. */
  sent: SentRow[];
  /** The newest pending unit; each links to the one before it. */
  pending: Unit | undefined;
  pendingCount: number;
  /** Pruned away (nothing counted in it): a unit of it that counts again goes to its key's rows of now. */
  gone: boolean;
}

/** One reservation's start (or tokens) under one key. */
export class Unit {
  readonly key: string;
  rows: KeyRows;
  /** Pending: its admission time and how long it is kept; sent: its row's. */
  t: number;
  until: number;
  amount: number;
  /** The sent row counting it; undefined while it is pending (or after it was dropped or pruned). */
  row: SentRow | undefined = undefined;
  /** In its key's pending list. */
  listed = false;
  older: Unit | undefined = undefined;
  newer: Unit | undefined = undefined;

  constructor(key: string, rows: KeyRows, t: number, until: number, amount: number) {
    this.key = key;
    this.rows = rows;
    this.t = t;
    this.until = until;
    this.amount = amount;
  }

  /** Still counted at `now` (a sent row until its `until`, a pending unit PENDING_MAX_MS longer). */
  counts(now: number): boolean {
    return this.row === undefined ? this.listed && this.until + PENDING_MAX_MS >= now : this.row.until >= now;
  }
}

function listPending(rows: KeyRows, unit: Unit): void {
  unit.older = rows.pending;
  unit.newer = undefined;
  if (rows.pending) rows.pending.newer = unit;
  rows.pending = unit;
  unit.listed = true;
  rows.pendingCount += 1;
}

function unlistPending(rows: KeyRows, unit: Unit): void {
  if (!unit.listed) return;
  if (unit.newer) unit.newer.older = unit.older;
  else rows.pending = unit.older;
  if (unit.older) unit.older.newer = unit.newer;
  unit.older = unit.newer = undefined;
  unit.listed = false;
  rows.pendingCount -= 1;
}

function* pendingUnits(rows: KeyRows | undefined): Generator<Unit> {
  for (let u = rows?.pending; u !== undefined; u = u.older) yield u;
}

/** The first index of `rows` whose t is at least `t`. */
function lowerBound(rows: readonly SentRow[], t: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((rows[mid] as SentRow).t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Units counted before row `i` (the running count just before it). */
function before(rows: readonly SentRow[], i: number): number {
  const row = rows[i];
  return row === undefined ? (rows[rows.length - 1]?.cum ?? 0) : row.cum - row.n;
}

export class MemoryRows {
  readonly #byKey = new Map<string, KeyRows>();

  #of(key: string): KeyRows {
    let rows = this.#byKey.get(key);
    if (!rows) this.#byKey.set(key, (rows = { sent: [], pending: undefined, pendingCount: 0, gone: false }));
    return rows;
  }

  /** A pending unit under `key`, admitted at `t`. */
  add(key: string, t: number, until: number, amount: number): Unit {
    const rows = this.#of(key);
    const unit = new Unit(key, rows, t, until, amount);
    listPending(rows, unit);
    return unit;
  }

  /** `add`, when `key` holds fewer than `limit` units, sent and pending alike (so no window of it can be full); else undefined. */
  addBelow(key: string, limit: number, t: number, until: number, amount: number): Unit | undefined {
    const rows = this.#byKey.get(key);
    return rows === undefined || countOf(rows) < limit ? this.add(key, t, until, amount) : undefined;
  }

  /** Moves the unit to `now` (never backwards) and ends its pending state; `onlyPending` leaves a sent unit alone. */
  settle(unit: Unit, now: number, onlyPending: boolean): void {
    if (unit.row !== undefined && (onlyPending || unit.t >= now)) return;
    unlink(unit);
    if (unit.rows.gone) unit.rows = this.#of(unit.key);
    if (unit.t < now) {
      unit.until += now - unit.t;
      unit.t = now;
    }
    insertSent(unit);
  }

  /** Takes the unit out of what counts it (a refund). */
  drop(unit: Unit): void {
    unlink(unit);
  }

  /** Sets the amount of a (token) unit. */
  correct(unit: Unit, amount: number): void {
    if (unit.row) unit.row.amount += amount - unit.amount;
    unit.amount = amount;
  }

  /** Pending units of `key` at their effective times. */
  pending(key: string, now: number): TokenRow[] {
    return [...pendingUnits(this.#byKey.get(key))].map((u) => ({ t: effectiveStart(u.t, true, now), amount: u.amount }));
  }

  sentStarts(key: string): SentStarts {
    const rows = this.#byKey.get(key);
    const sent = rows?.sent ?? [];
    const total = sent[sent.length - 1]?.cum ?? 0;
    /** The row holding the m-th newest unit (m ≥ 1): the first whose running count reaches total - m + 1. */
    const rowOf = (m: number): SentRow | undefined => {
      const want = total - m + 1;
      if (want < 1 || want <= before(sent, 0)) return undefined;
      let lo = 0;
      let hi = sent.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((sent[mid] as SentRow).cum < want) lo = mid + 1;
        else hi = mid;
      }
      return sent[lo];
    };
    const from_ = (row: SentRow | undefined, from: number): number | undefined => (row !== undefined && row.t >= from ? row.t : undefined);
    return {
      nth: (from, m) => [from_(rowOf(m), from), from_(rowOf(m + 1), from)],
      count: (from, cap) => Math.min(cap, total - before(sent, lowerBound(sent, from))),
      oldest: (from) => sent[lowerBound(sent, from)]?.t,
      bound: () => total - before(sent, 0) + (rows?.pendingCount ?? 0),
    };
  }

  sentTokens(key: string): SentTokens {
    const sent = this.#byKey.get(key)?.sent ?? [];
    return {
      sum: (from) => {
        let sum = 0;
        for (let i = lowerBound(sent, from); i < sent.length; i++) sum += (sent[i] as SentRow).amount;
        return sum;
      },
      newestFirst: function* (from) {
        for (let i = sent.length - 1; i >= 0 && (sent[i] as SentRow).t >= from; i--) yield sent[i] as SentRow;
      },
    };
  }

  /** Drops what no longer counts anywhere: a sent row after `until`, a pending unit PENDING_MAX_MS later. */
  prune(now: number): void {
    for (const [key, rows] of this.#byKey) {
      let cum = 0;
      rows.sent = rows.sent.filter((r) => r.until >= now);
      for (const r of rows.sent) r.cum = cum += r.n;
      for (const u of [...pendingUnits(rows)]) if (u.until + PENDING_MAX_MS < now) unlistPending(rows, u);
      if (rows.sent.length === 0 && rows.pendingCount === 0) {
        rows.gone = true;
        this.#byKey.delete(key);
      }
    }
  }
}

/** How many units the key's rows hold, sent and pending alike. */
function countOf(rows: KeyRows): number {
  return (rows.sent[rows.sent.length - 1]?.cum ?? 0) - before(rows.sent, 0) + rows.pendingCount;
}

/** Counts the unit in the row of its time (a new one unless the newest row has that time). */
function insertSent(unit: Unit): void {
  const sent = unit.rows.sent;
  const last = sent[sent.length - 1];
  if (last !== undefined && last.t === unit.t && last.until === unit.until) {
    last.n += 1;
    last.cum += 1;
    last.amount += unit.amount;
    unit.row = last;
    return;
  }
  const row: SentRow = { t: unit.t, until: unit.until, n: 1, amount: unit.amount, cum: 0 };
  unit.row = row;
  if (last === undefined || last.t <= unit.t) {
    row.cum = (last?.cum ?? 0) + 1;
    sent.push(row);
    return;
  }
  // Earlier than the newest row (a clock set back): in order, and the running counts after it move.
  const at = lowerBound(sent, unit.t + 1);
  row.cum = before(sent, at) + 1;
  sent.splice(at, 0, row);
  for (let i = at + 1; i < sent.length; i++) (sent[i] as SentRow).cum += 1;
}

/** Takes the unit out of what counts it. */
function unlink(unit: Unit): void {
  const row = unit.row;
  if (row === undefined) {
    unlistPending(unit.rows, unit);
    return;
  }
  unit.row = undefined;
  row.n -= 1;
  row.amount -= unit.amount;
  const sent = unit.rows.sent;
  let i = sent.length - 1;
  while (i >= 0 && sent[i] !== row) i--;
  if (i < 0) return;
  for (let j = i; j < sent.length; j++) (sent[j] as SentRow).cum -= 1;
  if (row.n === 0) sent.splice(i, 1);
}
