/**
 * One-line reasons for an MCP server that could not start, from what was observed: the error,
 * whether the deadline passed, how the process ended, its stderr and any non-JSON-RPC output.
 */
import type { ChildExit } from './stdio-transport.ts';

export interface StartObservation {
  error: unknown;
  timedOut: boolean;
  timeoutMs: number;
  /** Local servers: the command as configured. */
  command?: readonly string[];
  /** Remote servers: the URL. */
  url?: string;
  exit?: ChildExit | undefined;
  /** Local servers: why the transport stopped the server itself (a message too large). */
  stopped?: string | undefined;
  stderr?: string;
  junk?: readonly string[];
  /** HTTP status of a remote refusal, when known. */
  httpStatus?: number | undefined;
}

/** A remote server that answered 401: the URL, whether an Authorization header (or a user in the URL) was sent, whether OAuth is on. */
export interface AuthRefusal {
  url: string;
  sentCredentials: boolean;
  /** OAuth is on for the server (not `oauth: false`): `opencode mcp auth NAME` signs in. */
  oauth?: boolean;
  /** Why OAuth cannot sign in to it (the server has no OAuth metadata). */
  noOAuth?: string;
}

/** Thrown by connect: the reason is the sentence shown in `mcp list` and in warnings. */
export class McpStartError extends Error {
  readonly reason: string;
  /** Set when the server wants authentication (HTTP 401): OpenCode's `needs_auth`. */
  readonly auth: AuthRefusal | undefined;
  /** The authorization server cannot register a client and none is configured: OpenCode's `needs_client_registration`. */
  readonly registration: boolean;
  constructor(reason: string, options?: { cause?: unknown; auth?: AuthRefusal; registration?: boolean }) {
    super(reason, options);
    this.name = 'McpStartError';
    this.reason = reason;
    this.auth = options?.auth;
    this.registration = options?.registration ?? false;
  }
}

/**
 * Why a remote server that answered 401 is `needs_auth`, naming it and what to do: sign in with
 * `opencode mcp auth NAME` (OAuth), or, with `oauth: false` or a server without OAuth, a token in its headers.
 */
export function needsAuthReason(server: string, auth: AuthRefusal): string {
  const key = `mcp.${JSON.stringify(server).slice(1, -1)}.headers`;
  const example = '{"Authorization": "Bearer {env:TOKEN}"}';
  if (auth.oauth && !auth.noOAuth) {
    const refused = auth.sentCredentials ? `; the credentials in ${key} were refused` : '';
    return `HTTP 401 from ${auth.url}: the server wants you to sign in: run \`opencode mcp auth ${server}\`${refused}`;
  }
  const why = auth.noOAuth ?? 'OAuth is off for it (oauth: false)';
  return auth.sentCredentials
    ? `HTTP 401 from ${auth.url}: the server refused the credentials sent (${key}); ${why}, so check the token there, e.g. ${example}`
    : `HTTP 401 from ${auth.url}: the server wants authentication, and ${why}: set a token in ${key} in the config (or in the headers of POST /mcp), e.g. ${example}`;
}

function errnoCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function lastLine(text: string | undefined): string | undefined {
  const line = text?.split('\n').map((l) => l.trim()).filter(Boolean).at(-1);
  if (!line) return undefined;
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

function exitText(exit: ChildExit): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
}

function short(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 200 ? `${one.slice(0, 200)}…` : one;
}

/** The core sentence, then what the server said (stderr) or wrote instead of JSON-RPC. */
export function describeStart(o: StartObservation): string {
  const extras: string[] = [];
  if (o.junk?.length) extras.push(`it wrote non-JSON-RPC output on stdout: ${JSON.stringify(o.junk[0])}`);
  const stderr = lastLine(o.stderr);
  if (stderr) extras.push(`stderr: ${stderr}`);
  const tail = extras.length ? `; ${extras.join('; ')}` : '';
  const code = errnoCode(o.error);
  const program = o.command?.[0];
  if (program !== undefined && code === 'ENOENT') return `command not found: ${JSON.stringify(program)} (ENOENT)`;
  if (program !== undefined && code === 'EACCES') return `command is not executable: ${JSON.stringify(program)} (EACCES)`;
  if (o.stopped !== undefined) return `the server ${o.stopped} during start-up${tail}`;
  if (o.exit && !o.timedOut) return `the server ${exitText(o.exit)} during start-up${tail}`;
  if (o.timedOut) return `no answer to initialize/tools/list within ${o.timeoutMs} ms${tail}`;
  if (o.url !== undefined) {
    if (code === 'ECONNREFUSED') return `connection refused at ${o.url}`;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found: ${new URL(o.url).host}`;
    if (o.httpStatus === 401 || o.httpStatus === 403) {
      return `HTTP ${o.httpStatus} from ${o.url}: the server refused the credentials (check mcp headers, e.g. Authorization)`;
    }
    if (o.httpStatus !== undefined) return `HTTP ${o.httpStatus} from ${o.url}: ${short(errorMessage(o.error))}`;
  }
  return `${short(errorMessage(o.error))}${tail}`;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error && error.message === 'fetch failed' ? `fetch failed: ${cause.message}` : error.message;
  }
  return String(error);
}
