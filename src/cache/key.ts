import { createHash } from 'node:crypto';

/** What makes two model requests the same request, as far as the response cache is concerned. */
export interface CacheKeyParts {
  /** The model id sent upstream (after variants and aliases are resolved). */
  upstreamModel: string;
  /** The provider endpoint the request goes to. */
  baseURL: string;
  /** The prompt: system and conversation messages as sent. */
  messages: unknown;
  /** Tool definitions offered to the model (names, descriptions, input schemas). */
  tools?: unknown;
  /** Sampling and output parameters (temperature, top_p, max tokens, …). */
  params?: Record<string, unknown>;
}

/** Bumped whenever the key's inputs or encoding change, so old entries simply stop matching. */
const KEY_FORMAT = 1;

/**
 * The cache key of a request: the sha256 (hex) of a canonical JSON of exactly the parts above.
 *
 * Credentials are deliberately NOT part of the key: no API key, no headers. The parts are picked
 * one by one here (never spread from a larger object), so an `apiKey` or `headers` property that a
 * caller happens to pass along is ignored; and since the result is a hash, no input text can be
 * read back out of it. Two users of one endpoint asking the same thing share an entry; that is the
 * point of the cache, and what is stored is only the model's answer.
 */
export function cacheKey(parts: CacheKeyParts): string {
  const picked = {
    format: KEY_FORMAT,
    upstreamModel: parts.upstreamModel,
    baseURL: parts.baseURL,
    messages: parts.messages,
    tools: parts.tools,
    params: parts.params,
  };
  return createHash('sha256').update(canonicalJson(picked)).digest('hex');
}

/**
 * JSON with every object's keys sorted, so property order never changes the text. Otherwise it
 * follows JSON.stringify: `toJSON` is honoured, `undefined` and functions are left out of objects
 * (and become `null` in arrays), non-finite numbers become `null`.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, sortKeys) ?? 'null';
}

function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const source = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(source)
      .sort()
      .map((k) => [k, source[k]]),
  );
}
