/**
 * The memory ledger's starts or token rows: per key, the sent rows in time order (so a window's
 * count or its n-th newest start is a binary search, not a scan) and the pending ones apart (few:
 * admitted, not yet on the wire), and every row by its reservation id.
 */
import { PENDING_MAX_MS, effectiveStart, type TokenRow } from './ledger.ts';
import type { SentStarts, SentTokens } from './ledger-reads.ts';

export interface MemoryRow {
  key: string;
  t: number;
  id: string;
  until: number;
  /** Admitted, not yet marked sent or released: counts as starting now (effectiveStart). */
  pending: boolean;
  /** Token rows only. */
  amount: number;
}

interface KeyRows {
  /** Ordered by t. */
  sent: MemoryRow[];
  pending: Set<MemoryRow>;
}

/** The first index of `rows` whose t is at least `t`. */
function lowerBound(rows: readonly MemoryRow[], t: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((rows[mid] as MemoryRow).t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class MemoryRows {
  readonly #byKey = new Map<string, KeyRows>();
  readonly #byId = new Map<string, MemoryRow[]>();

  #of(key: string): KeyRows {
    let rows = this.#byKey.get(key);
    if (!rows) this.#byKey.set(key, (rows = { sent: [], pending: new Set() }));
    return rows;
  }

  #insertSent(row: MemoryRow): void {
    const sent = this.#of(row.key).sent;
    // After the rows of the same time: a row settled now is nearly always appended.
    const last = sent[sent.length - 1];
    if (last === undefined || last.t <= row.t) sent.push(row);
    else sent.splice(lowerBound(sent, row.t + 1), 0, row);
  }

  #unlink(row: MemoryRow): void {
    const rows = this.#of(row.key);
    if (row.pending) {
      rows.pending.delete(row);
      return;
    }
    for (let i = lowerBound(rows.sent, row.t); i < rows.sent.length && (rows.sent[i] as MemoryRow).t === row.t; i++) {
      if (rows.sent[i] === row) {
        rows.sent.splice(i, 1);
        return;
      }
    }
  }

  /** Adds a pending row. */
  add(row: Omit<MemoryRow, 'pending'>): void {
    const full: MemoryRow = { key: row.key, t: row.t, id: row.id, until: row.until, pending: true, amount: row.amount };
    this.#of(row.key).pending.add(full);
    const list = this.#byId.get(row.id);
    if (list) list.push(full);
    else this.#byId.set(row.id, [full]);
  }

  /** Moves the reservation's rows to `now` (never backwards) and ends their pending state; `onlyPending` leaves sent rows alone. */
  settle(id: string, now: number, onlyPending: boolean): void {
    for (const row of this.#byId.get(id) ?? []) {
      if (!row.pending && (onlyPending || row.t >= now)) continue;
      this.#unlink(row);
      row.pending = false;
      if (row.t < now) {
        row.until += now - row.t;
        row.t = now;
      }
      this.#insertSent(row);
    }
  }

  /** Removes the reservation's rows. */
  drop(id: string): void {
    for (const row of this.#byId.get(id) ?? []) this.#unlink(row);
    this.#byId.delete(id);
  }

  /** Stops finding the reservation's rows by id (they stay counted). */
  forget(id: string): void {
    this.#byId.delete(id);
  }

  /** Sets the amount of the reservation's (token) rows. */
  correct(id: string, amount: number): void {
    for (const row of this.#byId.get(id) ?? []) row.amount = amount;
  }

  /** How many rows `key` holds, sent and pending alike (an upper bound of any window's count). */
  count(key: string): number {
    const rows = this.#byKey.get(key);
    return rows === undefined ? 0 : rows.sent.length + rows.pending.size;
  }

  /** Pending rows of `key` at their effective times. */
  pending(key: string, now: number): TokenRow[] {
    return [...(this.#byKey.get(key)?.pending ?? [])].map((r) => ({ t: effectiveStart(r.t, true, now), amount: r.amount }));
  }

  sentStarts(key: string): SentStarts {
    const rows = this.#byKey.get(key);
    const sent = rows?.sent ?? [];
    const at = (i: number, from: number): number | undefined => {
      const t = i >= 0 ? sent[i]?.t : undefined;
      return t !== undefined && t >= from ? t : undefined;
    };
    return {
      nth: (from, m) => [at(sent.length - m, from), at(sent.length - m - 1, from)],
      count: (from, cap) => Math.min(cap, sent.length - lowerBound(sent, from)),
      oldest: (from) => at(lowerBound(sent, from), from),
      bound: () => sent.length + (rows?.pending.size ?? 0),
    };
  }

  sentTokens(key: string): SentTokens {
    const sent = this.#byKey.get(key)?.sent ?? [];
    return {
      sum: (from) => {
        let sum = 0;
        for (let i = lowerBound(sent, from); i < sent.length; i++) sum += (sent[i] as MemoryRow).amount;
        return sum;
      },
      newestFirst: function* (from) {
        for (let i = sent.length - 1; i >= 0 && (sent[i] as MemoryRow).t >= from; i--) yield sent[i] as MemoryRow;
      },
    };
  }

  /** Drops rows that no longer count anywhere: a sent row after `until`, a pending one PENDING_MAX_MS later. */
  prune(now: number): void {
    const keep = (r: MemoryRow): boolean => r.until + (r.pending ? PENDING_MAX_MS : 0) >= now;
    for (const [key, rows] of this.#byKey) {
      rows.sent = rows.sent.filter(keep);
      for (const r of rows.pending) if (!keep(r)) rows.pending.delete(r);
      if (rows.sent.length === 0 && rows.pending.size === 0) this.#byKey.delete(key);
    }
    for (const [id, rows] of this.#byId) {
      const live = rows.filter(keep);
      if (live.length === 0) this.#byId.delete(id);
      else if (live.length < rows.length) this.#byId.set(id, live);
    }
  }
}
