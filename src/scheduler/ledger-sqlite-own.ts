/**
 * The SQLite ledger's own rows as the process that wrote them knows them (ledger-sqlite.ts). A row
 * counts `n` starts (a token row: `n` reservations' tokens, summed in `amount`). A lease's k slots
 * are one pending row of n = k; the settles of one commit that draw on the same row move together
 * into one sent row stamped with the commit's time (the whole row, in place, when they are all it
 * holds). Starts of equal time count the same whether apart or together, so every answer is what it
 * was with a row per start; a lease of k slots and a commit of k settles cost one insert and one
 * update instead of k of each.
 *
 * Only the process that wrote a row changes its count, so the counts kept here are exact. (Another
 * process may settle a dead owner's pending row in place: it keeps its count, and a live owner's
 * rows are never touched.) Every method runs inside the ledger's write transaction; `flush` writes
 * the commit's settles and must run before COMMIT.
 */
import type { StatementSync } from 'node:sqlite';

export type Table = 'starts' | 'tokens';

/** A row this ledger wrote, pending or sent, and what it counts. */
export interface OwnRow {
  table: Table;
  row: number;
  key: string;
  id: string;
  t: number;
  /** until - t: how long it is kept after its time. */
  span: number;
  pending: boolean;
  /** Units it counts (starts; reservations whose tokens it sums). */
  n: number;
  amount: number;
  /** Its units the commit being written moves to its time. */
  move: Move | undefined;
}
/** One reservation's share of one row: a start, or its tokens. */
export interface Unit {
  row: OwnRow;
  /** Its tokens as they should count (0 for a start). */
  amount: number;
  /** Its tokens as its row counts them now (they differ while a correction waits in a move). */
  counted: number;
  /** In the commit being written, moving out of `row`. */
  moving: Move | undefined;
}
/** The units of one row that the commit being written moves to its time. */
interface Move {
  from: OwnRow;
  units: Unit[];
}

export interface OwnStatements {
  /** key, t, id, until, owner, n */
  addStart: StatementSync;
  /** key, t, id, until, amount, owner, n */
  addTokens: StatementSync;
  /** key, t, id, until, n */
  addSentStart: StatementSync;
  /** key, t, id, until, amount, n */
  addSentTokens: StatementSync;
  /** n, rowid */
  takeStarts: StatementSync;
  /** n, rowid, amount */
  takeTokens: StatementSync;
  /** rowid */
  dropStart: StatementSync;
  /** rowid */
  dropTokens: StatementSync;
  /** now, rowid */
  settleStart: StatementSync;
  /** now, rowid, amount */
  settleTokensTo: StatementSync;
  /** delta, rowid */
  addToTokens: StatementSync;
}

export class OwnRows {
  readonly #q: OwnStatements;
  readonly #pid: number;
  /** The moves of the commit being written (each also found on the row it draws on). */
  #moves: Move[] = [];

  constructor(q: OwnStatements, pid: number) {
    this.#q = q;
    this.#pid = pid;
  }

  /** Writes a pending row of `n` units (a token row: `amount` each); each reservation drawing on it takes a `unit`. */
  hold(table: Table, key: string, now: number, id: string, until: number, n: number, amount: number): OwnRow {
    const q = this.#q;
    const total = amount * n;
    const result = table === 'starts' ? q.addStart.run(key, now, id, until, this.#pid, n) : q.addTokens.run(key, now, id, until, total, this.#pid, n);
    return { table, row: Number(result.lastInsertRowid), key, id, t: now, span: until - now, pending: true, n, amount: total, move: undefined };
  }

  /** A reservation's share of a held row (its tokens: `amount`). */
  unit(row: OwnRow, amount: number): Unit {
    return { row, amount, counted: amount, moving: undefined };
  }

  /** Removes `n` units no reservation took (a lease's unused slots, `amount` tokens each) from a held row. */
  refundUntaken(row: OwnRow, n: number, amount: number): void {
    if (n > 0) this.#take(row, n, n * amount);
  }

  /**
   * Counts the unit from this commit's time: from a pending row (markSent, a release), or from a
   * sent row stamped earlier (`later`: a markSent after the release). Written by `flush`.
   */
  settle(unit: Unit, now: number, later: boolean): void {
    if (unit.moving || !(unit.row.pending || (later && unit.row.t < now))) return;
    const row = unit.row;
    let move = row.move;
    if (!move) this.#moves.push((move = row.move = { from: row, units: [] }));
    move.units.push(unit);
    unit.moving = move;
  }

  /** The unit's tokens count `amount` from now on (written now, or with its move). */
  correct(unit: Unit, amount: number): void {
    if (unit.amount === amount && unit.counted === amount) return;
    unit.amount = amount;
    if (unit.moving) return;
    const delta = amount - unit.counted;
    if (delta !== 0) {
      this.#q.addToTokens.run(delta, unit.row.row);
      unit.row.amount += delta;
    }
    unit.counted = amount;
  }

  /** Removes the units from their rows (a request never sent; unused leased slots): one write per row. */
  refund(units: Iterable<Unit>): void {
    const byRow = new Map<OwnRow, { n: number; amount: number }>();
    for (const unit of units) {
      if (unit.moving) {
        // Rare (a request never sent, whose settle waited in this commit): out of its move.
        const units = unit.moving.units;
        units.splice(units.indexOf(unit), 1);
        unit.moving = undefined;
      }
      const out = byRow.get(unit.row);
      if (out) {
        out.n += 1;
        out.amount += unit.counted;
      } else byRow.set(unit.row, { n: 1, amount: unit.counted });
    }
    for (const [row, out] of byRow) this.#take(row, out.n, out.amount);
  }

  /** Writes the commit's moves (before COMMIT): each row's moving units go to `now` together. */
  flush(now: number): void {
    if (this.#moves.length === 0) return;
    const q = this.#q;
    const moves = this.#moves;
    this.#moves = [];
    for (const { from, units } of moves) {
      from.move = undefined;
      if (units.length === 0) continue;
      let take = 0;
      let give = 0;
      for (const unit of units) {
        take += unit.counted;
        give += unit.amount;
      }
      const t = Math.max(from.t, now);
      let to: OwnRow;
      if (units.length === from.n) {
        // All the row holds: it moves in place.
        const amount = from.amount - take + give;
        if (from.table === 'starts') q.settleStart.run(now, from.row);
        else q.settleTokensTo.run(now, from.row, amount);
        from.t = t;
        from.pending = false;
        from.amount = amount;
        to = from;
      } else {
        this.#take(from, units.length, take);
        const until = t + from.span;
        const result = from.table === 'starts' ? q.addSentStart.run(from.key, t, from.id, until, units.length) : q.addSentTokens.run(from.key, t, from.id, until, give, units.length);
        to = { table: from.table, row: Number(result.lastInsertRowid), key: from.key, id: from.id, t, span: from.span, pending: false, n: units.length, amount: give, move: undefined };
      }
      for (const unit of units) {
        unit.row = to;
        unit.counted = unit.amount;
        unit.moving = undefined;
      }
    }
  }

  /** Forgets the commit's moves (its transaction rolled back). */
  abandon(): void {
    for (const move of this.#moves) {
      move.from.move = undefined;
      for (const unit of move.units) unit.moving = undefined;
    }
    this.#moves = [];
  }

  /** Takes `n` units (and `amount` tokens) out of the row; the row goes when it holds none. */
  #take(row: OwnRow, n: number, amount: number): void {
    const q = this.#q;
    row.n -= n;
    row.amount -= amount;
    if (row.n <= 0) {
      if (row.table === 'starts') q.dropStart.run(row.row);
      else q.dropTokens.run(row.row);
    } else if (row.table === 'starts') q.takeStarts.run(n, row.row);
    else q.takeTokens.run(n, row.row, amount);
  }
}
