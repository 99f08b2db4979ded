// node:crypto is loaded with the first key made, not with this module: a run without the cache
// needs nothing else from it, and it costs a process ~4 ms to load (src/random-bytes.ts).
const crypto = () => process.getBuiltinModule('node:crypto');

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
  return keyOf(parts, canonicalOrUndefined(parts.messages), canonicalOrUndefined(parts.tools));
}

/**
 * The same key as `cacheKey`, with the canonical JSON of `messages` and `tools` already made (they
 * are the large parts, and a call looks up every model of its chain and stores under one: each is
 * made once per call). `undefined` stands for a part left out.
 */
export function cacheKeyWith(parts: Omit<CacheKeyParts, 'messages' | 'tools'>, messagesJson: string | undefined, toolsJson: string | undefined): string {
  return keyOf(parts, messagesJson, toolsJson);
}

/** canonicalJson of a property's value, or undefined where JSON.stringify leaves the property out. */
export function canonicalOrUndefined(value: unknown): string | undefined {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol' ? undefined : JSON.stringify(value, sortKeys);
}

/**
 * sha256 of canonicalJson({format, upstreamModel, baseURL, messages, tools, params}), written out
 * key by key in sorted order (baseURL, format, messages, params, tools, upstreamModel) so the large
 * parts can come in already serialised; the text hashed is the same, so keys never change.
 */
function keyOf(parts: Omit<CacheKeyParts, 'messages' | 'tools'>, messagesJson: string | undefined, toolsJson: string | undefined): string {
  const hash = crypto().createHash('sha256');
  let first = true;
  const field = (name: string, json: string | undefined): void => {
    if (json === undefined) return;
    hash.update(`${first ? '{' : ','}"${name}":`);
    hash.update(json);
    first = false;
  };
  field('baseURL', canonicalOrUndefined(parts.baseURL));
  field('format', String(KEY_FORMAT));
  field('messages', messagesJson);
  field('params', canonicalOrUndefined(parts.params));
  field('tools', toolsJson);
  field('upstreamModel', canonicalOrUndefined(parts.upstreamModel));
  hash.update('}');
  return hash.digest('hex');
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
