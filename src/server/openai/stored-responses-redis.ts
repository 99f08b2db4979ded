/**
 * The stored responses on the state's Redis (`state.store` a `redis://` URL): what the SQLite file
 * holds on one machine (stored-responses.ts), shared by every server on that Redis, so a response
 * made on one is continued, read, cancelled or deleted on another. Same rules: a response is its
 * owner's alone, kept 30 days (its keys expire then), at most MAX_RESPONSES and MAX_STORE_BYTES
 * (the oldest go first, pruned by the saves), a conversation read back bounded in links and bytes.
 * Every call is one Lua script (one round trip, atomic; stored-responses-lua.ts) or one command, on
 * a connection of its own that fails fast while Redis is away: the request that needs the store
 * is answered 503 (STORE_UNAVAILABLE, Retry-After: 1), and it answers again once Redis is back.
 */
import { PantheonError } from '../../errors.ts';
import { RedisConnection, StateUnavailableError } from '../../state/redis-connection.ts';
import { HttpError } from '../http-error.ts';
import { itemsPage, limitsOf, notFound, RETENTION_MS, shown, stillRunning, storeUnavailable, tooBig, tooLong, type EventsPage, type ItemsPage, type ResponseStore, type RunInfo, type SaveOptions, type StoreLimitOptions, type StoreLimits, type StoredResponse } from './response-store.ts';
import { ADD_EVENTS, BEAT, CONVERSATION, DELETE, EVENTS_AFTER, INPUT_ITEMS, ITEM, SAVE, SETTLE } from './stored-responses-lua.ts';

type Json = Record<string, unknown>;

export class RedisResponseStore implements ResponseStore {
  readonly description: string;
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly #limits: StoreLimits;

  private constructor(redis: RedisConnection, prefix: string, options: StoreLimitOptions) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.description = redis.description;
    this.#now = options.now ?? Date.now;
    this.#limits = limitsOf(options);
  }

  /** Connects; a StateUnavailableError when Redis cannot be reached. */
  static async open(url: string, prefix: string, options: StoreLimitOptions & { timeoutMs?: number } = {}): Promise<RedisResponseStore> {
    const redis = await RedisConnection.open(url, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
    return new RedisResponseStore(redis, prefix, options);
  }

  /** One script run; Redis away (or refusing it) is the 503 the request gets. */
  async #script<T>(source: string, args: (string | number)[]): Promise<T> {
    try {
      return await this.#redis.script<T>(source, [this.#prefix, ...args]);
    } catch (error) {
      throw this.#failure(error);
    }
  }

  #failure(error: unknown): unknown {
    if (error instanceof StateUnavailableError) return storeUnavailable(error);
    if (error instanceof PantheonError && error.code === 'STORE_ERROR') return new HttpError(503, 'STORE_UNAVAILABLE', `The stored responses on ${this.description}: ${error.message.replace(/^The state store \S+ /, 'the server ').replace(/[.\s]+$/, '')}.`, { hint: 'Check the Redis server (its memory limit, the keys under state.keyPrefix).' });
    return error;
  }

  get #cutoff(): number {
    return this.#now() - RETENTION_MS;
  }

  async save(stored: StoredResponse, options: SaveOptions = {}): Promise<boolean> {
    const items = (list: Json[]): string[] => [String(list.length), ...list.flatMap((item) => [typeof item.id === 'string' ? item.id : '', JSON.stringify(item)])];
    const { maxResponses, maxStoreBytes } = this.#limits;
    const saved = await this.#script<number>(SAVE, [
      stored.id,
      stored.owner,
      stored.createdAt,
      stored.previousId ?? '',
      JSON.stringify(stored.response),
      String(stored.response.status ?? ''),
      stored.createdAt + RETENTION_MS,
      this.#cutoff,
      maxResponses,
      maxStoreBytes,
      options.ifRunning ? 1 : 0,
      options.run?.runner ?? '',
      options.run?.beat ?? 0,
      options.run?.streamed ? 1 : 0,
      ...items(stored.input),
      ...items(stored.output),
    ]);
    return saved === 1;
  }

  async read(id: string, owner: string): Promise<{ response: Json; run?: RunInfo }> {
    let row: (string | null)[];
    try {
      row = await this.#redis.command<(string | null)[]>(['HMGET', `${this.#prefix}resp:${id}`, 'owner', 'created', 'response', 'runner', 'beat', 'cancel']);
    } catch (error) {
      throw this.#failure(error);
    }
    const [who, created, response, runner, beat, cancel] = row;
    if (!who || who !== owner || Number(created) < this.#cutoff || !response) throw notFound(id, null);
    return { response: JSON.parse(response) as Json, ...(runner ? { run: { runner, beat: Number(beat), cancel: cancel === '1' } } : {}) };
  }

  async delete(id: string, owner: string): Promise<void> {
    if ((await this.#script<number>(DELETE, [id, owner, this.#cutoff])) !== 1) throw notFound(id, null);
  }

  async conversation(id: string, owner: string): Promise<Json[]> {
    const { maxChain, maxChainBytes } = this.#limits;
    const reply = await this.#script<[string, ...unknown[]]>(CONVERSATION, [id, owner, this.#cutoff, maxChain, maxChainBytes]);
    switch (reply[0]) {
      case 'missing': {
        const at = String(reply[1]);
        throw at === id ? notFound(id, 'previous_response_id', 'Previous response') : notFound(at, 'previous_response_id', `Response ${shown(id)} continues a response that is gone (deleted or past its time):`);
      }
      case 'chain':
        throw tooLong(maxChain);
      case 'bytes':
        throw tooBig(maxChainBytes);
      case 'running':
        throw stillRunning(id);
    }
    const links = reply[1] as [string[], string[]][];
    const out: Json[] = [];
    for (let i = links.length - 1; i >= 0; i--) {
      const [inputs, outputs] = links[i] as [string[], string[]];
      for (const item of inputs) out.push(JSON.parse(item) as Json);
      for (const item of outputs) out.push(JSON.parse(item) as Json);
    }
    return out;
  }

  async item(itemId: string, owner: string): Promise<Json | undefined> {
    const found = await this.#script<string | null>(ITEM, [owner, itemId, this.#cutoff]);
    return typeof found === 'string' ? (JSON.parse(found) as Json) : undefined;
  }

  async inputItems(id: string, owner: string, page: { after?: string; limit: number; order: 'asc' | 'desc' }): Promise<ItemsPage> {
    const found = await this.#script<string[] | null>(INPUT_ITEMS, [id, owner, this.#cutoff]);
    if (!Array.isArray(found)) throw notFound(id, null);
    return itemsPage(
      id,
      found.map((json) => ({ itemId: String((JSON.parse(json) as Json).id ?? ''), json })),
      page,
    );
  }

  async settle(id: string, response: Json, options: { cancel?: boolean } = {}): Promise<boolean> {
    return (await this.#script<number>(SETTLE, [id, JSON.stringify(response), String(response.status ?? ''), options.cancel ? 1 : 0])) === 1;
  }

  async beat(id: string, at: number): Promise<boolean> {
    return (await this.#script<number>(BEAT, [id, at])) === 1;
  }

  async addEvents(id: string, frames: string[]): Promise<void> {
    if (frames.length > 0) await this.#script<number>(ADD_EVENTS, [id, RETENTION_MS, ...frames]);
  }

  async eventsAfter(id: string, owner: string, after: number): Promise<EventsPage> {
    const found = await this.#script<(string | number)[] | null>(EVENTS_AFTER, [id, owner, this.#cutoff, after]);
    if (!Array.isArray(found)) throw notFound(id, null);
    const [response, streamed, ...frames] = found;
    return { response: JSON.parse(String(response)) as Json, streamed: Number(streamed) === 1, frames: frames.map(String) };
  }

  async close(): Promise<void> {
    await this.#redis.close();
  }
}
