/**
 * The secrets a config holds, and texts kept free of them. A provider's key, a server key, a
 * webhook secret are secrets by their field; a value in `headers` or an MCP server's `environment`
 * by its name (`Authorization`, `X-Api-Key`, `Ocp-Apim-Subscription-Key`, `X-Auth`, `GH_PAT`, …)
 * or, for a header, by its shape (16 characters or more of letters and digits, as keys are).
 * Texts from outside (a provider's error,
 * an MCP server's stderr) are masked with `secretMasker`, which also catches a secret cut in two by
 * an excerpt.
 */
import type { Config } from './schema-types.ts';

/** `nvapi-…x9Qa`-style: the first 4 and last 4 characters; shorter than 12 → `****`. */
export function maskSecret(secret: string): string {
  if (secret.length < 12) return '****';
  return `${secret.slice(0, 4)}…${secret.slice(-4)}`;
}

/** Names under which a header or variable holds a credential. */
export const CREDENTIAL_NAME = /authorization|api[-_]?key|key|token|secret|passw|pwd|credential|cookie|auth|session|private|signature|(?:^|[-_])(?:pat|sig)(?:$|[-_])/i;

/** A value shaped like a key: 16 characters or more of a token's alphabet, with letters and digits both. */
const TOKEN_SHAPED = /^(?=[^]*[0-9])(?=[^]*[A-Za-z])[A-Za-z0-9._~+/=:-]{16,}$/;

/** True when a header's value is a secret: under a credential's name, or shaped like a key (`a1b2…`, not `application/json`). */
export function isSecretHeader(name: string, value: unknown): boolean {
  return CREDENTIAL_NAME.test(name) || (typeof value === 'string' && TOKEN_SHAPED.test(value));
}

/** The secret values of a `headers` map. */
export function headerSecrets(headers: Record<string, unknown> | undefined): string[] {
  return Object.entries(headers ?? {}).flatMap(([name, value]) => (typeof value === 'string' && isSecretHeader(name, value) ? [value] : []));
}

/** The secret values of an MCP server's `environment`: those under a credential's name. */
export function environmentSecrets(environment: Record<string, unknown> | undefined): string[] {
  return Object.entries(environment ?? {}).flatMap(([name, value]) => (typeof value === 'string' && CREDENTIAL_NAME.test(name) ? [value] : []));
}

/** Every secret value a config holds: provider keys and header secrets, MCP servers' header and environment secrets, server keys, webhook secrets. */
export function configSecrets(config: Config | undefined): string[] {
  const found: (string | undefined)[] = [];
  for (const provider of Object.values(config?.provider ?? {})) {
    found.push(provider.options?.apiKey, ...headerSecrets(provider.options?.headers));
    for (const model of Object.values(provider.models ?? {})) found.push(...headerSecrets(model.headers));
  }
  for (const server of Object.values(config?.mcp ?? {})) {
    const entry = server as { headers?: Record<string, unknown>; environment?: Record<string, unknown> };
    found.push(...headerSecrets(entry.headers), ...environmentSecrets(entry.environment));
  }
  const server = config?.server as { keys?: (string | { key?: string })[]; webhooks?: { secret?: string }[] } | undefined;
  for (const key of server?.keys ?? []) found.push(typeof key === 'string' ? key : key?.key);
  for (const hook of server?.webhooks ?? []) found.push(hook?.secret);
  return [...new Set(found.filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET))];
}

/** Shorter values are not masked: they would turn common words of a text into `****`. */
const MIN_SECRET = 4;
/** The shortest piece of a secret masked where an excerpt cut it (at the text's start or end). */
const MIN_PIECE = 6;
/** What an excerpt ends with after its cut. */
const CUT_MARK = /(?:\u2026|\.\.\.)$/;

/**
 * The length of the longest end of `text` that begins `secret` (a piece of 6 characters or more),
 * else 0. Only where the secret's first characters occur is a piece compared (native searches): a
 * long text or a long secret costs no more than their length a few times over.
 */
function cutAtEnd(text: string, secret: string): number {
  const head = secret.slice(0, MIN_PIECE);
  for (let at = text.indexOf(head, Math.max(0, text.length - secret.length + 1)); at !== -1 && at <= text.length - MIN_PIECE; at = text.indexOf(head, at + 1)) {
    if (secret.startsWith(text.slice(at))) return text.length - at;
  }
  return 0;
}

/** The length of the longest start of `text` that ends `secret` (a piece of 6 characters or more), else 0; searched as `cutAtEnd` searches. */
function cutAtStart(text: string, secret: string): number {
  if (text.length < MIN_PIECE) return 0;
  const head = text.slice(0, MIN_PIECE);
  for (let at = secret.indexOf(head, Math.max(1, secret.length - text.length)); at !== -1 && at <= secret.length - MIN_PIECE; at = secret.indexOf(head, at + 1)) {
    if (text.startsWith(secret.slice(at))) return secret.length - at;
  }
  return 0;
}

/**
 * A function masking `secrets` in a text: each whole one as `maskSecret` shows it (`sk-a…x9Qa`),
 * and a piece of one that an excerpt cut off at the text's start or end (before its `…` or `...`)
 * as `****`. Values shorter than 4 characters are left alone.
 */
export function secretMasker(secrets: Iterable<string | undefined>): (text: string) => string {
  const known = [...new Set([...secrets].filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET))].sort((a, b) => b.length - a.length);
  if (known.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const secret of known) if (out.includes(secret)) out = out.split(secret).join(maskSecret(secret));
    const mark = CUT_MARK.exec(out)?.[0] ?? '';
    let body = out.slice(0, out.length - mark.length);
    for (const secret of known) {
      const end = cutAtEnd(body, secret);
      if (end) body = `${body.slice(0, body.length - end)}****`;
      const start = cutAtStart(body, secret);
      if (start) body = `****${body.slice(start)}`;
    }
    return body + mark;
  };
}
