import path from 'node:path';
import Keyv from 'keyv';
import type { DeserializedData, KeyvStoreAdapter } from 'keyv';
import type { SharedV4ProviderMetadata } from '@ai-sdk/provider';
import { PantheonError } from '../errors.ts';
import { cacheDir, expandHome } from '../paths.ts';
import { LruMap } from './memory-store.ts';
import { isRedisUrl, openRedisStore } from './redis-store.ts';
import { SqliteStore } from './sqlite-store.ts';

/** A model's answer as the cache keeps it: model output only, never credentials or headers. */
export interface CachedResponse {
  text: string;
  /** The answer's reasoning blocks: their text, and what the provider said of each (an item id, a signature, encrypted content to send back). */
  reasoning?: { text: string; providerMetadata?: SharedV4ProviderMetadata }[];
  toolCalls?: { toolCallId: string; toolName: string; input: unknown }[];
  finishReason: string;
  usage?: { inputTokens?: number; outputTokens?: number };
  /** An embeddings answer's vectors (the gateway's `/v1/embeddings`), each little-endian float32 in base64; `text` is then empty. */
  embeddings?: string[];
  model: string;
  createdAt: number;
}

export interface ResponseCache {
  /** The entry for a key from `cacheKey()`, or undefined (missing, expired or unreadable). */
  get(key: string): Promise<CachedResponse | undefined>;
  set(key: string, value: CachedResponse): Promise<void>;
  close(): Promise<void>;
  /** Where entries live: `memory`, `sqlite:/path/cache.sqlite` or `redis://host:port` (no password). */
  readonly description: string;
}

/** What a request's `Cache-Control` asks of the cache: `no-cache` (a fresh answer, which is then kept) or `no-store` (nothing read or kept). */
export type CacheControl = 'no-cache' | 'no-store';

/** The directive of a `Cache-Control` header value that concerns the response cache, if any. */
export function cacheControlOf(header: string | undefined): CacheControl | undefined {
  if (!header) return undefined;
  const directives = header.toLowerCase().split(',').map((d) => d.trim());
  return directives.includes('no-store') ? 'no-store' : directives.includes('no-cache') ? 'no-cache' : undefined;
}

/** The cache as a request may use it: all of it, written but never read (`no-cache`), or none (`no-store`). */
export function cacheFor(cache: ResponseCache | undefined, control: CacheControl | undefined): ResponseCache | undefined {
  if (!cache || control === undefined) return cache;
  if (control === 'no-store') return undefined;
  return { get: () => Promise.resolve(undefined), set: (key, value) => cache.set(key, value), close: () => cache.close(), description: cache.description };
}

/** The `cache` section of the config. */
export interface CacheConfig {
  enabled?: boolean;
  /** Seconds an entry lives (default 3600). */
  ttl?: number;
  /** Most entries kept (default 1000); not enforced on Redis (use its maxmemory policy). */
  maxSize?: number;
  /** `memory`, a file path (default `$XDG_CACHE_HOME/pantheon/cache.sqlite`) or `redis://…`. */
  store?: string;
}

export const CACHE_DEFAULTS = { ttl: 3600, maxSize: 1000 } as const;

const HINT =
  'Set cache.store to a writable file path, "memory" or a redis:// URL, or set cache.enabled to false.';

/** The default embedded store: `$XDG_CACHE_HOME/pantheon/cache.sqlite`. */
export function defaultCacheFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), 'cache.sqlite');
}

/**
 * Opens the response cache the config describes, or returns undefined when it is disabled.
 * Store strings: `memory`; `redis://` or `rediss://`; anything else is a file path (relative to
 * the working directory, `~` expanded; a `sqlite:` prefix is accepted). Failing to open the
 * store throws PantheonError STORE_ERROR. Later, `get` and `set` reject with STORE_ERROR if the
 * store fails; callers are expected to treat that as a miss and carry on.
 */
export async function openCache(
  cfg: CacheConfig | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResponseCache | undefined> {
  if (cfg?.enabled === false) return undefined;
  const ttl = positiveInteger(cfg?.ttl, CACHE_DEFAULTS.ttl, 'cache.ttl');
  const maxSize = positiveInteger(cfg?.maxSize, CACHE_DEFAULTS.maxSize, 'cache.maxSize');
  const spec = cfg?.store?.trim() || defaultCacheFile(env);
  const opened = await openStore(spec, maxSize);
  const keyv = new Keyv<CachedResponse>({
    store: opened.store,
    namespace: 'pantheon',
    ttl: ttl * 1000,
    throwOnErrors: true,
    serialize: (data) => JSON.stringify(data),
    deserialize: parseEntry,
    // @keyv/redis prefixes keys with the namespace itself (`pantheon::<key>`).
    useKeyPrefix: !opened.prefixesKeys,
  });
  return new KeyvResponseCache(keyv, opened.description, opened.scrub);
}

interface OpenedStore {
  store: KeyvStoreAdapter | Map<string, unknown>;
  description: string;
  scrub: (message: string) => string;
  prefixesKeys: boolean;
}

async function openStore(spec: string, maxSize: number): Promise<OpenedStore> {
  const keep = (message: string): string => message;
  if (spec === 'memory') {
    return { store: new LruMap<string, unknown>(maxSize), description: 'memory', scrub: keep, prefixesKeys: false };
  }
  if (isRedisUrl(spec)) {
    const redis = await openRedisStore(spec);
    return { ...redis, prefixesKeys: true };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec) && !/^sqlite:/i.test(spec)) {
    const scheme = spec.slice(0, spec.indexOf(':'));
    throw new PantheonError('STORE_ERROR', `The cache store scheme "${scheme}:" is not supported.`, { hint: HINT });
  }
  const file = path.resolve(expandHome(spec.replace(/^sqlite:(\/\/)?/i, '')));
  const description = `sqlite:${file}`;
  try {
    const store = await SqliteStore.open({ file, maxSize });
    return { store, description, scrub: keep, prefixesKeys: false };
  } catch (error) {
    throw new PantheonError('STORE_ERROR', `Could not open the cache store ${description}: ${reasonOf(error)}.`, {
      hint: HINT,
      cause: error,
    });
  }
}

class KeyvResponseCache implements ResponseCache {
  readonly description: string;
  private readonly keyv: Keyv<CachedResponse>;
  private readonly scrub: (message: string) => string;

  constructor(keyv: Keyv<CachedResponse>, description: string, scrub: (message: string) => string) {
    this.keyv = keyv;
    this.description = description;
    this.scrub = scrub;
  }

  async get(key: string): Promise<CachedResponse | undefined> {
    let value: unknown;
    try {
      value = await this.keyv.get(key);
    } catch (error) {
      throw this.failure('Reading from', error);
    }
    return isCachedResponse(value) ? value : undefined;
  }

  async set(key: string, value: CachedResponse): Promise<void> {
    try {
      await this.keyv.set(key, pickResponse(value));
    } catch (error) {
      throw this.failure('Writing to', error);
    }
  }

  async close(): Promise<void> {
    try {
      await this.keyv.disconnect();
    } catch (error) {
      throw this.failure('Closing', error);
    }
  }

  private failure(action: string, error: unknown): PantheonError {
    const reason = this.scrub(reasonOf(error));
    return new PantheonError('STORE_ERROR', `${action} the cache store ${this.description} failed: ${reason}.`, {
      hint: HINT,
    });
  }
}

/** Copies only the fields of a CachedResponse, so nothing else a caller passes is persisted. */
function pickResponse(value: CachedResponse): CachedResponse {
  const picked: CachedResponse = {
    text: value.text,
    finishReason: value.finishReason,
    model: value.model,
    createdAt: value.createdAt,
  };
  if (value.toolCalls) {
    picked.toolCalls = value.toolCalls.map(({ toolCallId, toolName, input }) => ({ toolCallId, toolName, input }));
  }
  if (value.reasoning) picked.reasoning = value.reasoning.map(({ text, providerMetadata }) => ({ text, ...(providerMetadata ? { providerMetadata } : {}) }));
  if (value.usage) picked.usage = { inputTokens: value.usage.inputTokens, outputTokens: value.usage.outputTokens };
  if (value.embeddings) picked.embeddings = value.embeddings.map(String);
  return picked;
}

function isCachedResponse(value: unknown): value is CachedResponse {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.text === 'string' &&
    typeof v.finishReason === 'string' &&
    typeof v.model === 'string' &&
    typeof v.createdAt === 'number' &&
    (v.toolCalls === undefined || Array.isArray(v.toolCalls)) &&
    (v.reasoning === undefined || (Array.isArray(v.reasoning) && v.reasoning.length <= MAX_REASONING_BLOCKS && v.reasoning.every(isReasoningBlock))) &&
    (v.embeddings === undefined || (Array.isArray(v.embeddings) && v.embeddings.every((e) => typeof e === 'string')))
  );
}

/**
 * More reasoning blocks than an answer has (a few; one per summary part): an entry with more is not
 * one this cache wrote (a hostile or broken store) and is a miss, rather than replayed as a flood of parts.
 */
const MAX_REASONING_BLOCKS = 256;

/** A kept reasoning block: its text, and its provider metadata, an object of objects, when it has any. */
function isReasoningBlock(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const { text, providerMetadata } = value as Record<string, unknown>;
  if (typeof text !== 'string') return false;
  if (providerMetadata === undefined) return true;
  return providerMetadata !== null && typeof providerMetadata === 'object' && !Array.isArray(providerMetadata) && Object.values(providerMetadata).every((fields) => fields !== null && typeof fields === 'object' && !Array.isArray(fields));
}

/** An unreadable entry (corrupt or foreign) counts as a miss rather than an error. */
function parseEntry<Value>(text: string): DeserializedData<Value> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' ? (parsed as DeserializedData<Value>) : undefined;
  } catch {
    return undefined;
  }
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (Number.isInteger(value) && value >= 1) return value;
  throw new PantheonError('CONFIG_INVALID', `${name} must be a positive whole number, not ${String(value)}.`, {
    hint: `Remove ${name} to use the default (${fallback}).`,
  });
}

function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/[.\s]+$/, '') || 'unknown error';
}
