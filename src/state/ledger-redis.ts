/**
 * The ledger shared by every machine that names the same Redis (`state.store: "redis://…"`). Each
 * operation is one Lua script run with EVALSHA: one round trip, atomic on the server, timed by
 * Redis's clock (ledger-redis-scripts.ts). Each process is an "owner" that keeps a short-lived
 * `alive` key fresh; when a machine dies, its key expires and its concurrency slots and pending
 * starts are settled by the next admission anywhere.
 */
import { randomUUID } from 'node:crypto';
import { PantheonError } from '../errors.ts';
import {
  CONCURRENCY_POLL_MS,
  PENDING_MAX_MS,
  START_RETAIN_MS,
  tokenLabel,
  validateReserveRequest,
  windowLabel,
} from '../scheduler/ledger.ts';
import type { BlockKind, CooldownEntry, Ledger, ReleaseOptions, ReserveRequest, ReserveResult } from '../scheduler/ledger.ts';
import { COOLDOWNS, FAILURE, MARK_SENT, PRUNE, RELEASE, RENEW, RESERVE, SERVER_TIME } from './ledger-redis-scripts.ts';
import { RedisConnection } from './redis-connection.ts';

export const DEFAULT_KEY_PREFIX = 'pantheon:';
/** An owner whose process has not refreshed its `alive` key for this long counts as gone. */
export const OWNER_TTL_MS = 10_000;
/** A reservation's record outlives any request (requests time out within 24 h). */
const RESERVATION_TTL_MS = START_RETAIN_MS + PENDING_MAX_MS;

export interface RedisLedgerOptions {
  /** `redis://…` or `rediss://…`, credentials included. */
  url: string;
  /** Prefix of every key (default `pantheon:`). */
  keyPrefix?: string;
  /** Wait for the first connection and for each reply (default 2000 ms). */
  timeoutMs?: number;
  /** Tests only: use this clock instead of Redis's TIME (the contract tests drive a fake clock). */
  now?: () => number;
  /** Reservation id generator (default crypto.randomUUID). */
  newId?: () => string;
}

const KINDS: Record<number, BlockKind> = { 1: 'window', 2: 'tokens', 3: 'concurrency' };

export class RedisLedger implements Ledger {
  readonly connection: RedisConnection;
  readonly keyPrefix: string;
  /** This process's owner id: its pending starts and slots live while `alive:<owner>` does. */
  readonly owner = randomUUID();
  readonly #now: (() => number) | undefined;
  readonly #newId: () => string;
  #heartbeat: NodeJS.Timeout | undefined;
  #spareId: string | undefined;
  #closed = false;

  private constructor(connection: RedisConnection, opts: RedisLedgerOptions) {
    this.connection = connection;
    this.keyPrefix = opts.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.#now = opts.now;
    this.#newId = opts.newId ?? randomUUID;
  }

  /** Connects and announces this process; throws StateUnavailableError (exit 2) when Redis cannot be reached. */
  static async open(opts: RedisLedgerOptions): Promise<RedisLedger> {
    const connection = await RedisConnection.open(opts.url, opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs });
    const ledger = new RedisLedger(connection, opts);
    try {
      await ledger.#announce();
    } catch (error) {
      await connection.close();
      throw error;
    }
    ledger.#heartbeat = setInterval(() => {
      // A missed beat is harmless while the key lives (OWNER_TTL_MS); the next one renews it.
      ledger.#announce().catch(() => undefined);
    }, OWNER_TTL_MS / 4);
    ledger.#heartbeat.unref();
    return ledger;
  }

  get description(): string {
    return this.connection.description;
  }

  async tryReserve(req: ReserveRequest): Promise<ReserveResult> {
    validateReserveRequest(req);
    // An id not used by a refused admission is kept for the next one (ids are spent only on admissions).
    const id = this.#spareId ?? this.#newId();
    this.#spareId = undefined;
    const reply = await this.#reserve(req, id, true);
    if (reply[0] === 1) return { ok: true, id, at: Number(reply[1]) };
    this.#spareId = id;
    return this.#blocked(req, reply);
  }

  async peekWait(req: ReserveRequest): Promise<number> {
    validateReserveRequest(req);
    const reply = await this.#reserve(req, '', false);
    return reply[0] === 1 ? 0 : this.#blocked(req, reply).waitMs;
  }

  async markSent(id: string): Promise<void> {
    await this.#run(MARK_SENT, [id]);
  }

  async renew(id: string, leaseMs: number): Promise<void> {
    await this.#run(RENEW, [id, Math.ceil(leaseMs)]);
  }

  async release(id: string, opts: ReleaseOptions = {}): Promise<void> {
    const actual = opts.actualTokens === undefined ? '' : Math.max(0, Math.ceil(opts.actualTokens));
    await this.#run(RELEASE, [id, opts.refund ? '1' : '0', actual]);
  }

  async recordFailure(key: string, afterFailures: number, cooldownMs: number): Promise<{ coolingUntil?: number }> {
    const until = await this.#run<number>(FAILURE, [key, afterFailures, cooldownMs]);
    return until >= 0 ? { coolingUntil: until } : {};
  }

  async recordSuccess(key: string): Promise<void> {
    this.#assertOpen();
    await this.connection.command(['HDEL', `${this.keyPrefix}f`, key]);
  }

  async cooldownUntil(key: string): Promise<number | undefined> {
    return (await this.#cooldowns(key))[0]?.until;
  }

  async listCooldowns(): Promise<CooldownEntry[]> {
    return (await this.#cooldowns('')).sort((a, b) => a.key.localeCompare(b.key));
  }

  async prune(): Promise<void> {
    await this.#run(PRUNE, [START_RETAIN_MS, PENDING_MAX_MS]);
  }

  /** Redis's clock in ms (one round trip): doctor compares it with this machine's. */
  async serverTime(): Promise<number> {
    return this.#run<number>(SERVER_TIME, []);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    // This process is gone: whatever it left pending is settled by the next admission.
    await this.connection.command(['DEL', `${this.keyPrefix}alive:${this.owner}`]).catch(() => undefined);
    await this.connection.close();
  }

  async #announce(): Promise<void> {
    await this.connection.command(['SET', `${this.keyPrefix}alive:${this.owner}`, '1', 'PX', String(OWNER_TTL_MS)]);
  }

  #reserve(req: ReserveRequest, id: string, write: boolean): Promise<number[]> {
    const args: (string | number)[] = [
      id,
      this.owner,
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
    return this.#run<number[]>(RESERVE, args);
  }

  #blocked(req: ReserveRequest, reply: number[]): { ok: false; waitMs: number; blockedBy: string; kind: BlockKind } {
    const [, wait = 0, code = 0, index = 1] = reply;
    const kind = KINDS[code];
    if (kind === 'window') return { ok: false, waitMs: wait, blockedBy: windowLabel(req.windows[index - 1]!), kind };
    if (kind === 'tokens') {
      return { ok: false, waitMs: wait < 0 ? Infinity : wait, blockedBy: tokenLabel(req.tokens[index - 1]!.limit), kind };
    }
    if (kind === 'concurrency') return { ok: false, waitMs: CONCURRENCY_POLL_MS, blockedBy: `${req.concurrency[index - 1]!.key} concurrency`, kind };
    throw new PantheonError('STORE_ERROR', `The state store ${this.description} gave an unexpected answer.`);
  }

  async #cooldowns(key: string): Promise<CooldownEntry[]> {
    const flat = await this.#run<(string | number)[]>(COOLDOWNS, [key]);
    const out: CooldownEntry[] = [];
    for (let i = 1; i + 2 < flat.length; i += 3) {
      out.push({ key: String(flat[i]), until: Number(flat[i + 1]), failures: Number(flat[i + 2]) });
    }
    return out;
  }

  #run<T>(script: string, args: (string | number)[]): Promise<T> {
    this.#assertOpen();
    const clock = this.#now ? String(Math.floor(this.#now())) : '';
    return this.connection.script<T>(script, [clock, this.keyPrefix, ...args]);
  }

  #assertOpen(): void {
    if (this.#closed) throw new PantheonError('STORE_ERROR', 'The rate-limit ledger is closed.');
  }
}
