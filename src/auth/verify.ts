import { fetchableUrl } from '../basic-auth.ts';
import { maskSecret } from '../config/secrets.ts';
import { modelsUrl } from '../providers/base-url.ts';
import { OPENAI_COMPATIBLE } from '../providers/build-model.ts';
import type { ProviderInfo } from './providers.ts';

/** Packages whose APIs answer `GET <baseURL>/models` with `Authorization: Bearer <key>`, as OpenAI's does. */
const BEARER_MODELS_PACKAGES: ReadonlySet<string> = new Set([
  OPENAI_COMPATIBLE,
  '@ai-sdk/openai',
  '@ai-sdk/groq',
  '@ai-sdk/mistral',
  '@ai-sdk/deepseek',
  '@ai-sdk/xai',
  '@ai-sdk/togetherai',
  '@ai-sdk/fireworks',
  '@ai-sdk/cerebras',
  '@openrouter/ai-sdk-provider',
]);

export const VERIFY_TIMEOUT_MS = 5000;

export type Verification =
  /** The provider accepted the key. */
  | { outcome: 'verified'; url: string; status: number; ms: number }
  /** The provider refused the key (401/403): it must not be saved. */
  | { outcome: 'refused'; url: string; status: number }
  /** No answer either way (network error, timeout, another status): saved anyway, with a warning. */
  | { outcome: 'unverified'; url: string; reason: string }
  /** Not attempted (the API does not speak OpenAI's /models, or there is no base URL). */
  | { outcome: 'skipped'; reason: string };

export interface VerifyOptions {
  fetch?: typeof globalThis.fetch;
  timeoutMs?: number;
  now?: () => number;
}

type VerifyTarget = Pick<ProviderInfo, 'id' | 'npm' | 'baseURL' | 'headers' | 'queryParams'>;

/** The URL as shown to people: no query string, no user info. */
function shown(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
}

function networkReason(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  const code = e.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host name did not resolve';
  if (code) return code;
  return e.cause?.message ?? e.message ?? String(error);
}

/**
 * Checks a key against the provider: `GET <baseURL>/models` with `Authorization: Bearer <key>`.
 * 2xx → verified; 401/403 → refused; anything else (network error, timeout, another status) →
 * unverified. Providers whose API is not OpenAI-shaped are skipped. The key never appears in the result.
 */
export async function verifyKey(provider: VerifyTarget, key: string, options: VerifyOptions = {}): Promise<Verification> {
  if (!BEARER_MODELS_PACKAGES.has(provider.npm)) {
    return { outcome: 'skipped', reason: `${provider.id} uses ${provider.npm}, whose API has no OpenAI-style /models check` };
  }
  if (!provider.baseURL) return { outcome: 'skipped', reason: `no base URL is known for ${provider.id} (set provider.${provider.id}.options.baseURL)` };
  const timeoutMs = options.timeoutMs ?? VERIFY_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  const doFetch = options.fetch ?? globalThis.fetch;
  let url: string;
  try {
    // The key goes as a bearer token, so a user and password in the URL are left out (fetch refuses them).
    url = fetchableUrl(modelsUrl(provider.baseURL, provider.queryParams)).href;
  } catch {
    return { outcome: 'skipped', reason: `the base URL of ${provider.id} is not a valid URL` };
  }
  const started = now();
  const redact = (text: string): string => text.split(key).join(maskSecret(key));
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), timeoutMs);
  try {
    const response = await doFetch(url, {
      method: 'GET',
      headers: { ...withoutAuthorization(provider.headers), accept: 'application/json', authorization: `Bearer ${key}` },
      signal: controller.signal,
    });
    await response.body?.cancel();
    if (response.ok) return { outcome: 'verified', url: shown(url), status: response.status, ms: now() - started };
    if (response.status === 401 || response.status === 403) return { outcome: 'refused', url: shown(url), status: response.status };
    return { outcome: 'unverified', url: shown(url), reason: `GET ${shown(url)} answered ${response.status}` };
  } catch (error) {
    return { outcome: 'unverified', url: shown(url), reason: redact(networkReason(error, timeoutMs)) };
  } finally {
    clearTimeout(timer);
  }
}
