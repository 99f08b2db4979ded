/**
 * One connection to the Redis state store, with node-redis (`@redis/client`, the client `@keyv/redis`
 * already brings for the cache: one Redis library for both). Commands fail fast while the server is
 * away (no offline queue, a bounded wait for each reply) and the client reconnects in the background,
 * so the ledger can tell its caller at once and use Redis again as soon as it answers.
 */
import { describeRedisUrl } from '../cache/redis-store.ts';
import { PantheonError } from '../errors.ts';

/** Why the store is unusable, without the URL's credentials. */
export class StateUnavailableError extends PantheonError {
  constructor(description: string, reason: string, options: { atStart?: boolean; cause?: unknown } = {}) {
    super('STATE_UNAVAILABLE', `The state store ${description} cannot be reached: ${reason}.`, {
      hint: startHint(reason, options.atStart),
      ...(options.atStart ? { exitCode: 2 } : {}),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.name = 'StateUnavailableError';
  }
}

/** What to do about a store that cannot be used: a certificate and a password have hints of their own. */
function startHint(reason: string, atStart: boolean | undefined): string {
  if (/certificate|self[- ]signed|CERT_|unable to verify/i.test(reason)) {
    return "The server's TLS certificate is not trusted: give Node its CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem (see docs/state.md), or fix the host in state.store.";
  }
  if (/WRONGPASS|NOAUTH|invalid username-password/i.test(reason)) {
    return 'Check the user and password in state.store (redis://user:password@host:port; {env:REDIS_PASSWORD} keeps it out of the file).';
  }
  return atStart
    ? 'Start the Redis server or fix state.store (redis://[user:password@]host:port[/db]); or set state.onUnavailable to "local" to use this machine\'s ledger while it is away.'
    : 'Limits shared through Redis cannot be checked, so the request was not sent. Bring the Redis server back, or set state.onUnavailable to "local".';
}

export interface RedisConnectionOptions {
  /** How long to wait for the first connection and for each reply (default 2000 ms). */
  timeoutMs?: number;
}

/** The URL's user name and password as they could appear in messages, longest first. */
function secretsOf(raw: string): string[] {
  try {
    const url = new URL(raw);
    return [url.password, decodeURIComponent(url.password), url.username, decodeURIComponent(url.username)]
      .filter((s) => s.length >= 3)
      .sort((a, b) => b.length - a.length);
  } catch {
    return [];
  }
}

interface Client {
  connect(): Promise<unknown>;
  sendCommand<T>(args: string[], options?: { timeout?: number }): Promise<T>;
  on(event: 'error' | 'ready' | 'end', listener: (arg?: unknown) => void): unknown;
  destroy(): void;
  close(): Promise<void>;
  isReady: boolean;
}

/** The server stopped answering (`up: false`, with why) or answers again. */
export interface AvailabilityChange {
  up: boolean;
  /** Why it is away (credentials removed); only when `up` is false. */
  reason?: string;
}

export class RedisConnection {
  readonly description: string;
  readonly #client: Client;
  readonly #timeoutMs: number;
  readonly #secrets: string[];
  readonly #shas = new Map<string, string>();
  #lastError: unknown;
  readonly #state: { started: boolean; closed: boolean };
  /** Commands sent to the server (each one a round trip), for the benchmark and doctor. */
  roundTrips = 0;
  readonly #watchers = new Set<(change: AvailabilityChange) => void>();
  /** Why the server is away, while it is (as the commands found it). */
  #away: string | undefined;
  /** `roundTrips` when availability last changed: a command sent before that says nothing new. */
  #changedAt = 0;

  private constructor(client: Client, raw: string, timeoutMs: number, state: { started: boolean; closed: boolean }) {
    this.#client = client;
    this.#state = state;
    this.description = describeRedisUrl(raw);
    this.#timeoutMs = timeoutMs;
    this.#secrets = secretsOf(raw);
  }

  /** Connects (imports the client on first use) and checks the server answers; StateUnavailableError if not. */
  static async open(raw: string, options: RedisConnectionOptions = {}): Promise<RedisConnection> {
    const timeoutMs = options.timeoutMs ?? 2000;
    const description = describeRedisUrl(raw);
    try {
      const url = new URL(raw);
      if (!/^rediss?:$/i.test(url.protocol) || !url.hostname) throw new Error('expected redis://host:port or rediss://host:port');
    } catch (error) {
      throw new StateUnavailableError(description, `it is not a valid Redis URL (${messageOf(error)})`, { atStart: true });
    }
    const { createClient, ErrorReply } = await import('@redis/client');
    errorReply = ErrorReply;
    const state = { started: false, closed: false };
    const client = createClient({
      url: raw,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: timeoutMs,
        // Before the first connection: give up after a few tries (the open fails). After it: keep
        // trying in the background, at most a second apart, so Redis is used again when it is back.
        reconnectStrategy: (retries: number, cause: Error) => (!state.started ? (retries >= 2 ? cause : 100 * (retries + 1)) : state.closed ? false : Math.min(50 * 2 ** retries, 1000)),
      },
    }) as unknown as Client;
    const connection = new RedisConnection(client, raw, timeoutMs, state);
    client.on('error', (error) => {
      connection.#lastError = error;
    });
    // The whole handshake is bounded, not only the TCP connect: a server that takes the connection
    // and never answers (a paused Redis, a port that is not Redis) would hold `connect` (its AUTH,
    // its HELLO) for ever.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const connecting = client.connect();
      connecting.catch(() => undefined);
      await Promise.race([connecting, deadline]);
      await connection.command(['PING']);
    } catch (error) {
      state.closed = true;
      try {
        client.destroy();
      } catch {
        // already closed by the failed connect
      }
      throw new StateUnavailableError(description, connection.reason(connection.#lastError ?? error), { atStart: true, cause: error });
    } finally {
      clearTimeout(timer);
    }
    state.started = true;
    return connection;
  }

  /** Calls `listener` each time the connection is up again after a loss. */
  onReconnect(listener: () => void): void {
    this.#client.on('ready', () => {
      if (this.#state.started && !this.#state.closed) listener();
    });
  }

  /**
   * Calls `listener` once when the server stops answering (the first command that finds it away or
   * not answering in time) and once when it answers again (the first command sent since that is
   * answered: a request, or the ledger's heartbeat every few seconds), however many commands fail
   * in between. Commands in flight across a change are not counted for the next one.
   */
  watchAvailability(listener: (change: AvailabilityChange) => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  #answered(sentAs: number): void {
    if (this.#away === undefined || sentAs <= this.#changedAt) return;
    this.#away = undefined;
    this.#changed({ up: true });
  }

  #unanswered(sentAs: number, reason: string): void {
    if (this.#away !== undefined || sentAs <= this.#changedAt || this.#state.closed) return;
    this.#away = reason;
    this.#changed({ up: false, reason });
  }

  #changed(change: AvailabilityChange): void {
    this.#changedAt = this.roundTrips;
    for (const listener of this.#watchers) listener(change);
  }

  /** Whether the connection is up now (false while reconnecting). */
  get ready(): boolean {
    return this.#client.isReady;
  }

  /** Sends one command; StateUnavailableError when the server is away or does not answer in time. */
  async command<T>(args: string[]): Promise<T> {
    if (this.#state.closed) throw new PantheonError('STORE_ERROR', 'The state store connection is closed.');
    const sentAs = (this.roundTrips += 1);
    // node-redis's own timeout ends when the command is written; the wait for its reply is bounded
    // here (a server that holds it: paused, hung, or gone without closing the connection). A reply
    // that comes later is matched to its command and dropped.
    const sent = this.#client.sendCommand<T>(args, { timeout: this.#timeoutMs });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      const reply = await Promise.race([sent, late]);
      this.#answered(sentAs);
      return reply;
    } catch (error) {
      sent.catch(() => undefined);
      if (isServerReply(error)) {
        this.#answered(sentAs);
        throw new PantheonError('STORE_ERROR', `The state store ${this.description} refused a command: ${this.reason(error)}.`, { cause: error });
      }
      const reason = this.reason(error);
      this.#unanswered(sentAs, reason);
      throw new StateUnavailableError(this.description, reason, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs a Lua script by its SHA1 (EVALSHA: one round trip), loading it once when the server lacks it. */
  async script<T>(source: string, args: (string | number)[]): Promise<T> {
    let sha = this.#shas.get(source);
    if (!sha) {
      // node:crypto loaded here, not with the module: a run without Redis imports this file for its error type.
      sha = process.getBuiltinModule('node:crypto').createHash('sha1').update(source).digest('hex');
      this.#shas.set(source, sha);
    }
    const argv = args.map(String);
    try {
      return await this.command<T>(['EVALSHA', sha, '0', ...argv]);
    } catch (error) {
      // A restarted server has lost its script cache: load it again.
      if (!/NOSCRIPT/.test(messageOf((error as { cause?: unknown }).cause ?? error))) throw error;
      return this.command<T>(['EVAL', source, '0', ...argv]);
    }
  }

  /** The message of an error with the URL's credentials removed. */
  reason(error: unknown): string {
    let text = messageOf(error);
    if (error instanceof Error && (error.name === 'ClientOfflineError' || /^the client is offline$/i.test(text))) text = 'the connection is down (reconnecting)';
    if (error instanceof AggregateError && error.errors.length > 0) text = error.errors.map(messageOf).join('; ');
    return this.#secrets.reduce((out, secret) => out.split(secret).join('***'), text);
  }

  async close(): Promise<void> {
    if (this.#state.closed) return;
    this.#state.closed = true;
    if (!this.#client.isReady) return this.#client.destroy();
    // A graceful close waits for the replies of commands in flight: bounded, so that a server that
    // went away during it (or holds the connection) never keeps a process from ending.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#timeoutMs);
    });
    const closed = this.#client.close().then(
      () => true,
      () => false,
    );
    const done = await Promise.race([closed, late.then(() => false)]);
    clearTimeout(timer);
    if (!done) this.#client.destroy();
  }
}

let errorReply: (new (...args: never[]) => Error) | undefined;

/** An error the server answered with (a wrong script, WRONGTYPE): not an outage. A server still loading its data is away. */
function isServerReply(error: unknown): boolean {
  return errorReply !== undefined && error instanceof errorReply && !/^(LOADING|MASTERDOWN|BUSY)/.test(error.message);
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.replace(/[.\s]+$/, '') || 'no answer';
}
