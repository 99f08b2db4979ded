/**
 * Whether any process changed the SQLite ledger's learned limits since this one last read them,
 * without a read transaction: a small file beside the ledger (`<ledger>-learned`) that a process grows
 * by one byte after each commit that changes the `learned` table. A reader notes the file's size just
 * before it reads a key's learned limits and reads them again only once the size has changed, or the
 * file was replaced (compacted, deleted), or the limits are older than MAX_AGE_MS. One `fstat` a
 * check, where the read transaction cost 3–50 µs of every admission (docs/performance.md).
 *
 * Why this holds across processes: the writer grows the file after its commit, so a reader that sees
 * the new size reads after the commit; appends are atomic, so no two changes leave the same size;
 * a writer opens the file by its path for each append, and a replaced file has no links left, which
 * a reader's `fstat` of its old descriptor shows: it opens the new one and reads again (the
 * replacement came after any append made to the old file, so after that append's commit). What a
 * reader may miss is a commit in the moment before its append, as an admission decided a moment
 * before that commit would. A ledger also used by a Pantheon that does not signal is read at least
 * every MAX_AGE_MS. Any failure of the file (no room, no permission) turns caching off: every read
 * goes to the ledger, as before.
 */
import fs from 'node:fs';

/** The longest a key's learned limits are answered from memory without reading them again. */
export const MAX_AGE_MS = 1000;
/** The file is replaced by an empty one once it reaches this size (one byte a change). */
export const COMPACT_AT_BYTES = 64 * 1024;

interface Entry<T> {
  value: T;
  /** performance.now() of the read. */
  at: number;
  /** Wall-clock ms from which the value is no longer good (its first limit to expire). */
  until: number;
}

export class LearnedSignal<T> {
  /** undefined: a ledger no other process can open (`:memory:`), whose changes are all this one's. */
  readonly #path: string | undefined;
  readonly #clock: () => number;
  #fd: number | undefined;
  /** The file's size when `#entries` were read; NaN while nothing is cached. */
  #size = Number.NaN;
  readonly #entries = new Map<string, Entry<T>>();
  /** False once the file failed: no caching from then on. */
  #working = true;

  /** `file`: the ledger's path (the signal is `<file>-learned`); `:memory:` has none. */
  constructor(file: string, clock: () => number = () => performance.now()) {
    this.#path = file === ':memory:' ? undefined : `${file}-learned`;
    this.#clock = clock;
  }

  /**
   * `key`'s value as last read, when nothing changed since and it is still good at `now` (wall
   * clock); otherwise undefined, and the caller reads it and hands it to `set` before anything else
   * runs (the file's size for it is the one noted here, before the read).
   */
  get(key: string, now: number): T | undefined {
    const size = this.#currentSize();
    if (size !== this.#size) {
      this.#entries.clear();
      this.#size = size;
      return undefined;
    }
    const entry = this.#entries.get(key);
    if (entry === undefined || now >= entry.until || this.#clock() - entry.at >= MAX_AGE_MS) return undefined;
    return entry.value;
  }

  /** Keeps `value` (read right after `get` answered undefined) until the file changes or `until` (wall clock). */
  set(key: string, value: T, until: number): void {
    if (Number.isNaN(this.#size)) return;
    this.#entries.set(key, { value, at: this.#clock(), until });
  }

  /** This process committed a change to the learned limits: every process reads them again. */
  changed(): void {
    this.#entries.clear();
    if (!this.#working || this.#path === undefined) return;
    let fd: number | undefined;
    try {
      fd = fs.openSync(this.#path, 'a', 0o600);
      fs.writeSync(fd, '.');
      if (fs.fstatSync(fd).size >= COMPACT_AT_BYTES) this.#compact();
    } catch {
      this.#fail();
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  /** Keeps nothing from now on, and lets the file go. */
  close(): void {
    this.#fail();
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** The file's size now; NaN when it cannot be known (nothing is cached then). */
  #currentSize(): number {
    if (!this.#working) return Number.NaN;
    if (this.#path === undefined) return 0;
    try {
      if (this.#fd !== undefined) {
        const stat = fs.fstatSync(this.#fd);
        if (stat.nlink > 0) return stat.size;
        // Replaced or deleted since it was opened: the one at the path now.
        fs.closeSync(this.#fd);
        this.#fd = undefined;
      }
      this.#fd = fs.openSync(this.#path, 'a', 0o600);
      // A new file is a change whatever its size: what was cached goes.
      this.#entries.clear();
      this.#size = Number.NaN;
      return fs.fstatSync(this.#fd).size;
    } catch {
      this.#fail();
      return Number.NaN;
    }
  }

  /** Puts an empty file in its place; a reader of the old one sees it unlinked and reads again. */
  #compact(): void {
    if (this.#path === undefined) return;
    const temporary = `${this.#path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    try {
      fs.writeFileSync(temporary, '', { mode: 0o600 });
      fs.renameSync(temporary, this.#path);
    } catch {
      fs.rmSync(temporary, { force: true });
    }
  }

  #fail(): void {
    this.#working = false;
    this.#entries.clear();
    this.#size = Number.NaN;
  }
}
