/**
 * Starts the real `opencode serve` in a sandbox (test/cli/cli-helper.ts) and waits for its readiness
 * line, the same signal `createOpencodeServer()` waits for.
 */
import type { CliProcess, Sandbox } from '../cli/cli-helper.ts';

export interface Served {
  url: string;
  proc: CliProcess;
  /** SIGTERM, then the exit. */
  stop(): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

export const READY = /^opencode server listening on (http:\/\/\S+)$/m;

export async function serve(sb: Sandbox, args: string[] = [], env: Record<string, string> = {}, cwd?: string): Promise<Served> {
  const proc = sb.start(['serve', '--port=0', ...args], { env, ...(cwd ? { cwd } : {}) });
  const out = await proc.stdoutMatches(READY);
  const url = (READY.exec(out) as RegExpExecArray)[1] as string;
  return {
    url,
    proc,
    async stop() {
      proc.child.kill('SIGTERM');
      return proc.exited;
    },
  };
}

/**
 * A keep-alive connection the server closed as the request went out ("other side closed", before
 * any answer): an idempotent request is sent again once, as browsers do (RFC 9112 §9.3.1). Seen once
 * in the stress run (load average 11) on a GET after a burst; a server that is gone still fails,
 * because the second try cannot connect.
 */
function staleConnection(error: unknown, init: RequestInit): boolean {
  const method = (init.method ?? 'GET').toUpperCase();
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause;
  return (method === 'GET' || method === 'HEAD') && cause?.code === 'UND_ERR_SOCKET';
}

export async function getJson(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url, init).catch((error: unknown) => {
    if (!staleConnection(error, init)) throw error;
    console.warn(`getJson: ${url}: the connection was closed as the request went out; sent again once`);
    return fetch(url, init);
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers };
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** A `/global/event` subscriber: `until` reads until the frames received so far match; `text` is what was read; `close` ends it. */
export async function watchEvents(url: string): Promise<{ until(pattern: RegExp): Promise<void>; text(): string; close(): void }> {
  const stop = new AbortController();
  const res = await fetch(`${url}/global/event`, { signal: stop.signal });
  const reader = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const decoder = new TextDecoder();
  let seen = '';
  return {
    async until(pattern) {
      while (!pattern.test(seen)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('the event stream ended');
        seen += decoder.decode(value, { stream: true });
      }
    },
    text: () => seen,
    close: () => stop.abort(),
  };
}
