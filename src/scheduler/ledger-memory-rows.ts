/**
 * The memory ledger's starts or token rows. Per key: the pending units (admitted, not yet on the
 * wire: few, each counting as starting now) and the sent rows in time order, where every unit
 * settled at the same ms (and kept as long) is counted in one row. A row per ms rather than per
 * request: a busy process keeps a few objects a ms for a day instead of one per request, and a
 * window's count or its n-th newest start is a binary search over running counts, not a scan.
 * Starts of equal time count the same whether apart or together, so every answer is unchanged.
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
/** One reservation's start (or tokens) under one key. */
interface Unit {
  key: string;
  /** Pending: its admission time and how long it is kept; sent: its row's. */
  t: number;
  until: number;
  amount: number;
  /** The sent row counting it; undefined while it is pending. */
  row: SentRow | undefined;
}
interface KeyRows {
  /** Ordered by t. */
  sent: SentRow[];
  pending: Set<Unit>;
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
  /** The units of each reservation not yet forgotten (a reservation with one key: the unit itself). */
  readonly #byId = new Map<string, Unit | Unit[]>();

  #of(key: string): KeyRows {
    let rows = this.#byKey.get(key);
    if (!rows) this.#byKey.set(key, (rows = { sent: [], pending: new Set() }));
    return rows;
  }

  #units(id: string): readonly Unit[] {
    const found = this.#byId.get(id);
    return found === undefined ? [] : Array.isArray(found) ? found : [found];
  }

  /** Counts the unit in the row of its time (a new one unless the newest row has that time). */
  #insertSent(unit: Unit): void {
    const sent = this.#of(unit.key).sent;
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
  #unlink(unit: Unit): void {
    const rows = this.#of(unit.key);
    const row = unit.row;
    if (row === undefined) {
      rows.pending.delete(unit);
      return;
    }
    unit.row = undefined;
    row.n -= 1;
    row.amount -= unit.amount;
    const sent = rows.sent;
    let i = sent.length - 1;
    while (i >= 0 && sent[i] !== row) i--;
    if (i < 0) return;
    for (let j = i; j < sent.length; j++) (sent[j] as SentRow).cum -= 1;
    if (row.n === 0) sent.splice(i, 1);
  }

  /** Adds a pending unit of the reservation `id`. */
  add(key: string, t: number, id: string, until: number, amount: number): void {
    const unit: Unit = { key, t, until, amount, row: undefined };
    this.#of(key).pending.add(unit);
    const found = this.#byId.get(id);
    if (found === undefined) this.#byId.set(id, unit);
    else if (Array.isArray(found)) found.push(unit);
    else this.#byId.set(id, [found, unit]);
  }

  /** Moves the reservation's units to `now` (never backwards) and ends their pending state; `onlyPending` leaves sent units alone. */
  settle(id: string, now: number, onlyPending: boolean): void {
    const found = this.#byId.get(id);
    if (found === undefined) return;
    if (!Array.isArray(found)) this.#settle(found, now, onlyPending);
    else for (const unit of found) this.#settle(unit, now, onlyPending);
  }

  #settle(unit: Unit, now: number, onlyPending: boolean): void {
    if (unit.row !== undefined && (onlyPending || unit.t >= now)) return;
    this.#unlink(unit);
    if (unit.t < now) {
      unit.until += now - unit.t;
      unit.t = now;
    }
    this.#insertSent(unit);
  }

  /** Removes the reservation's units. */
  drop(id: string): void {
    for (const unit of this.#units(id)) this.#unlink(unit);
    this.#byId.delete(id);
  }

  /** Stops finding the reservation's units by id (they stay counted). */
  forget(id: string): void {
    this.#byId.delete(id);
  }

  /** Sets the amount of the reservation's (token) units. */
  correct(id: string, amount: number): void {
    for (const unit of this.#units(id)) {
      if (unit.row) unit.row.amount += amount - unit.amount;
      unit.amount = amount;
    }
  }

  /** How many units `key` holds, sent and pending alike (an upper bound of any window's count). */
  count(key: string): number {
    const rows = this.#byKey.get(key);
    return rows === undefined ? 0 : (rows.sent[rows.sent.length - 1]?.cum ?? 0) - before(rows.sent, 0) + rows.pending.size;
  }

  /** Pending units of `key` at their effective times. */
  pending(key: string, now: number): TokenRow[] {
    return [...(this.#byKey.get(key)?.pending ?? [])].map((u) => ({ t: effectiveStart(u.t, true, now), amount: u.amount }));
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
      bound: () => total - before(sent, 0) + (rows?.pending.size ?? 0),
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
      for (const u of rows.pending) if (u.until + PENDING_MAX_MS < now) rows.pending.delete(u);
      if (rows.sent.length === 0 && rows.pending.size === 0) this.#byKey.delete(key);
    }
    for (const [id, found] of this.#byId) {
      const units = Array.isArray(found) ? found : [found];
      if (units.every((u) => (u.row === undefined ? u.until + PENDING_MAX_MS < now : u.row.until < now))) this.#byId.delete(id);
    }
  }
}
