/**
 * The HTTP side of `opencode run --attach URL`: the server's URL checked, the password from
 * OPENCODE_SERVER_PASSWORD, `POST /pantheon/run` with the run's flags, the server's answer as
 * NDJSON frames, and every way the call can fail as one sentence with the right exit code
 * (a bad URL or a refused password: 2; a server that cannot be reached or breaks off: 1).
 *
 * Requests go through `node:http` (`node:https` for an https URL), not `fetch`: loading undici,
 * which `fetch` is, took ~70 ms of CPU and 16 MiB of a ~150 ms attached run (docs/performance.md, issue #18).
 */
import http from 'node:http';
import { basicAuth } from '../../basic-auth.ts';
import { EXIT, PantheonError, type ErrorCode } from '../../errors.ts';
import { readFileFlag } from '../../run/file-flag.ts';

/** Error codes the server sends that keep their own exit code here (the rest: 4xx → 2, 5xx → 1). */
const KNOWN_CODES = new Set<string>(['USAGE', 'UNKNOWN_AGENT', 'UNKNOWN_MODEL', 'UNKNOWN_PROVIDER', 'CONFIG_INVALID', 'CONFIG_PARSE', 'CONFIG_NOT_FOUND', 'CONFIG_EXTENDS', 'CONFIG_FILE_REF', 'PROVIDER_PACKAGE_MISSING', 'DIRECTORY_NOT_FOUND', 'SESSION_NOT_FOUND', 'SESSION_BUSY', 'SHUTTING_DOWN']);

export interface AttachTarget {
  /** The server's base URL, without a trailing slash and without credentials. */
  base: string;
  /** Shown in messages: the URL without credentials. */
  shown: string;
  headers: Record<string, string>;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** `--attach URL` and the credentials: a user:password in the URL, else OPENCODE_SERVER_PASSWORD (user OPENCODE_SERVER_USERNAME, default opencode). */
export function attachTarget(raw: string, env: NodeJS.ProcessEnv, directory: string): AttachTarget {
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    url = new URL('invalid:');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
    throw new PantheonError('USAGE', `--attach: expected a server URL like http://127.0.0.1:4096, found ${JSON.stringify(clip(raw.replace(/\/\/[^/@]*@/, '//…@')))}.`, {
      hint: '`opencode serve` prints its URL on stdout when it starts.',
    });
  }
  let user: string;
  let password: string | undefined;
  try {
    user = url.username ? decodeURIComponent(url.username) : env.OPENCODE_SERVER_USERNAME || 'opencode';
    password = url.password ? decodeURIComponent(url.password) : env.OPENCODE_SERVER_PASSWORD;
  } catch {
    // A stray % (a password written as it is): not shown, it may be the password.
    throw new PantheonError('USAGE', '--attach: the user name or password in the URL is not valid percent-encoding.', {
      hint: 'Write a % in them as %25, or give the password with OPENCODE_SERVER_PASSWORD (and the user with OPENCODE_SERVER_USERNAME) instead.',
    });
  }
  url.username = '';
  url.password = '';
  const base = url.toString().replace(/\/+$/, '');
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-opencode-directory': encodeURIComponent(directory) };
  if (password) headers.authorization = basicAuth(user, password);
  return { base, shown: base, headers };
}

/** `--file`s read here (the server may be on another machine), named as given: the server inlines them as a local run would. */
export async function readFiles(files: readonly string[], cwd: string): Promise<{ name: string; data: string }[]> {
  return Promise.all(
    files.map(async (file) => {
      const { data } = await readFileFlag(file, cwd);
      return { name: file, data: data.toString('base64') };
    }),
  );
}

/** As long as `fetch` (undici) waits for a connection before giving up. */
const CONNECT_TIMEOUT_MS = 10_000;

/** The server's answer: its status and its body, read as it arrives. */
export type ServerResponse = http.IncomingMessage;

function networkCause(error: unknown): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'no such host';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'timed out';
  if (code.startsWith('ERR_TLS') || code.includes('CERT')) return 'TLS failed';
  return code || e.cause?.message || (error instanceof Error ? error.message : String(error));
}

/** One request to the server; resolves at the response's head (its body still to read). */
function send(target: AttachTarget, route: string, body: string | undefined, signal?: AbortSignal): Promise<ServerResponse> {
  const url = new URL(`${target.base}${route}`);
  const transport = url.protocol === 'https:' ? process.getBuiltinModule('node:https') : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(url, { method: 'POST', headers: target.headers, ...(signal ? { signal } : {}) }, resolve);
    request.on('error', reject);
    request.on('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => request.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS);
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    });
    request.end(body);
  });
}

async function textOf(response: ServerResponse): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The server's JSON error (OpenCode's `{name, data: {message, code, hint}}`) as a PantheonError. */
async function refusal(response: ServerResponse, target: AttachTarget): Promise<PantheonError> {
  const status = response.statusCode ?? 0;
  const text = await textOf(response).catch(() => '');
  let data: { message?: unknown; code?: unknown; hint?: unknown } = {};
  try {
    const body = JSON.parse(text) as { data?: typeof data };
    data = body.data ?? {};
  } catch {
    // not JSON: not our server (OpenCode's own answers unknown routes with HTML)
  }
  if (status === 401) {
    const sent = 'authorization' in target.headers;
    return new PantheonError('SERVER_AUTH', `The server at ${target.shown} ${sent ? 'refused the password' : 'needs a password'} (401).`, {
      hint: 'Give the password the server was started with: -p/--password (and -u/--username if it is not "opencode"), or OPENCODE_SERVER_PASSWORD (and OPENCODE_SERVER_USERNAME).',
    });
  }
  if (typeof data.code !== 'string' || typeof data.message !== 'string') {
    return new PantheonError('SERVER_ERROR', `The server at ${target.shown} does not take Pantheon runs (POST /pantheon/run answered ${status}).`, {
      hint: 'Attach to a Pantheon `opencode serve`; check the URL.',
      exitCode: status === 404 || status === 405 ? EXIT.usage : EXIT.failed,
    });
  }
  const options = { ...(typeof data.hint === 'string' ? { hint: data.hint } : {}) };
  if (KNOWN_CODES.has(data.code)) return new PantheonError(data.code as ErrorCode, data.message, options);
  return new PantheonError('SERVER_ERROR', data.message, { ...options, exitCode: status < 500 ? EXIT.usage : EXIT.failed });
}

/** Sends the run; resolves with the response once the server has accepted it (its body is the NDJSON stream). */
export async function postRun(target: AttachTarget, body: unknown, signal: AbortSignal): Promise<ServerResponse> {
  let response: ServerResponse;
  try {
    response = await send(target, '/pantheon/run', JSON.stringify(body), signal);
  } catch (error) {
    if (signal.aborted) throw new PantheonError('CANCELLED', 'Interrupted.');
    throw new PantheonError('SERVER_UNREACHABLE', `Cannot reach the server at ${target.shown} (${networkCause(error)}).`, {
      hint: 'Start it with `opencode serve` (it prints its URL), or check the URL and port.',
    });
  }
  const status = response.statusCode ?? 0;
  if (status < 200 || status > 299) throw await refusal(response, target);
  return response;
}

/** Asks the server to cancel the session's turn (Ctrl-C); the stream then ends as a cancelled local run does. */
export async function abortRun(target: AttachTarget, sessionID: string): Promise<void> {
  await send(target, `/session/${encodeURIComponent(sessionID)}/abort`, undefined)
    .then((response) => response.resume())
    .catch(() => undefined);
}

/** The response's lines, parsed; a stream that breaks off is an error naming the server. */
export async function* frames(response: ServerResponse, target: AttachTarget): AsyncGenerator<Record<string, unknown>> {
  let buffer = '';
  response.setEncoding('utf8');
  try {
    for await (const chunk of response) {
      buffer += chunk as string;
      let end: number;
      while ((end = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 1);
        if (line.trim()) yield JSON.parse(line) as Record<string, unknown>;
      }
    }
  } catch (error) {
    if (error instanceof SyntaxError) throw new PantheonError('SERVER_ERROR', `The server at ${target.shown} sent something that is not a Pantheon run stream.`, { hint: 'Attach to a Pantheon `opencode serve`.' });
    throw new PantheonError('SERVER_UNREACHABLE', `The connection to ${target.shown} broke off before the turn ended (${networkCause(error)}).`, {
      hint: 'The turn may still have finished on the server: `opencode session list` there shows it.',
    });
  }
}
