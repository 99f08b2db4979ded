/**
 * One `GET <baseURL>/models` with a short timeout, classified: listed (with the model ids),
 * refused key, other HTTP status, unreachable, or no answer in time. Never throws.
 */
import { fetchableUrl } from '../basic-auth.ts';
import { modelsUrl } from '../providers/base-url.ts';

export type ProbeOutcome =
  | { kind: 'listed'; ms: number; status: number; ids: string[] | undefined }
  | { kind: 'status'; ms: number; status: number }
  | { kind: 'unreachable'; ms: number; reason: string }
  | { kind: 'timeout'; ms: number }
  | { kind: 'cancelled'; ms: number };

export interface ProbeRequest {
  baseURL: string;
  apiKey?: string;
  headers?: Record<string, string>;
  queryParams?: Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal;
  fetch: typeof globalThis.fetch;
}

/** Model ids from an OpenAI-style list (`{data:[{id}]}`), leniently; undefined when the body lists none. */
export function listedIds(body: unknown): string[] | undefined {
  const list = Array.isArray(body) ? body : (body as { data?: unknown; models?: unknown } | null)?.data ?? (body as { models?: unknown } | null)?.models;
  if (!Array.isArray(list)) return undefined;
  const ids = list
    .map((item: unknown) => (typeof item === 'string' ? item : (item as { id?: unknown; name?: unknown } | null)?.id ?? (item as { name?: unknown } | null)?.name))
    .filter((id): id is string => typeof id === 'string');
  return ids.length > 0 ? ids : undefined;
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  UND_ERR_SOCKET: 'connection closed',
};

/** The errno-style code of an error or its causes, in words; else the innermost message ("fetch failed" says nothing). */
function networkReason(error: unknown): string {
  let cause: unknown = error;
  let message = error instanceof Error ? error.message : String(error);
  for (let depth = 0; depth < 5 && cause; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') return NETWORK_REASONS[code] ?? code;
    if (cause instanceof Error && cause.message) message = cause.message;
    cause = (cause as { cause?: unknown }).cause;
  }
  return message;
}

export async function probeModels(req: ProbeRequest): Promise<ProbeOutcome> {
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = AbortSignal.any([req.signal, timeout]);
  const { href, headers } = fetchableUrl(modelsUrl(req.baseURL, req.queryParams), { accept: 'application/json', ...(req.headers ?? {}) }, Boolean(req.apiKey));
  if (req.apiKey) headers.authorization = `Bearer ${req.apiKey}`;
  try {
    const response = await req.fetch(href, { headers, signal });
    if (!response.ok) {
      await response.body?.cancel();
      return { kind: 'status', ms: elapsed(), status: response.status };
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined; // not JSON: reachable, but it lists nothing we can read
    }
    return { kind: 'listed', ms: elapsed(), status: response.status, ids: listedIds(body) };
  } catch (error) {
    if (timeout.aborted) return { kind: 'timeout', ms: elapsed() };
    if (req.signal.aborted) return { kind: 'cancelled', ms: elapsed() };
    return { kind: 'unreachable', ms: elapsed(), reason: networkReason(error) };
  }
}
