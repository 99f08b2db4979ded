/**
 * `GET /pty/{ptyID}/connect` (and `/api/pty/{ptyID}/connect`): a terminal over a WebSocket, taken
 * from the HTTP server's `upgrade` event (start.ts) on the server's own listener. A terminal is a
 * shell, so the upgrade passes every gate an HTTP route does, and more, before any byte of it is
 * served: the Host check (cors.ts: a DNS-rebound name is refused), the origin (a WebSocket is not
 * subject to CORS: a page of a site that may not change anything is refused, with or without a
 * password), the server password (Basic, `?auth_token=`, or a ticket from `POST
 * /pty/{ptyID}/connect-token`, spent once, which names its project: a client with a ticket and no
 * password makes the server open no folder), then the project and the terminal. A refusal is a JSON
 * answer in OpenCode's error shape and the socket is closed. Any other path asking for an upgrade is
 * a 404.
 */
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { openCodeError } from '../app.ts';
import { credentialsRefused, WWW_AUTHENTICATE } from '../auth.ts';
import { foreignHost, foreignOrigin, fromOtherSite, hostMayAsk } from '../cors.ts';
import { HttpError, toHttpError } from '../http-error.ts';
import { instanceFor, type ServerState } from '../state.ts';
import { terminalsOf, type PtySocket } from './terminals.ts';

/** What a client may send in one message (a paste): larger is a protocol error (1009). */
export const MAX_INPUT_BYTES = 1024 * 1024;

const CONNECT = /^\/(?:api\/)?pty\/([^/]+)\/connect$/;

interface WsServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, done: (ws: PtySocket) => void): void;
}

let wss: WsServer | undefined;

/** `ws`'s server, made on the first upgrade (noServer: it listens on nothing of its own). */
function wsServer(): WsServer {
  if (!wss) {
    const { WebSocketServer } = createRequire(import.meta.url)('ws') as { WebSocketServer: new (options: object) => WsServer };
    wss = new WebSocketServer({ noServer: true, maxPayload: MAX_INPUT_BYTES, perMessageDeflate: false, clientTracking: false });
  }
  return wss;
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable' };

/** Answers the upgrade with an error (JSON, OpenCode's shape) and closes the connection. */
function refuse(socket: Duplex, error: HttpError, requestId: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(openCodeError(error));
  const head = [
    `HTTP/1.1 ${error.status} ${REASONS[error.status] ?? 'Error'}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${requestId}`,
    'Connection: close',
    ...(error.status === 401 ? [`WWW-Authenticate: ${WWW_AUTHENTICATE}`] : []),
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The cursor a client asks to resume from: an integer from -1 up (OpenCode ignores anything else, and so replays all it keeps). */
function cursorOf(given: string | null): number | undefined {
  if (given === null) return undefined;
  const n = Number(given);
  return given.trim() !== '' && Number.isSafeInteger(n) && n >= -1 ? n : undefined;
}

async function admit(state: ServerState, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const match = CONNECT.exec(url.pathname);
  if (!match) throw new HttpError(404, 'ROUTE_NOT_FOUND', `No WebSocket at ${url.pathname.slice(0, 200)}.`, { hint: 'Terminals are at /pty/{ptyID}/connect.' });
  const host = header(req, 'host');
  const { auth, cors } = state.options;
  if (!hostMayAsk(host, !auth)) throw foreignHost(host as string);
  const origin = header(req, 'origin');
  if (fromOtherSite({ origin, host, fetchSite: header(req, 'sec-fetch-site') }, cors)) throw foreignOrigin(origin ?? 'another site');
  const ticket = url.searchParams.get('ticket');
  // With a password: the credentials, or a ticket (checked below, before any folder is opened).
  const refused = auth && !ticket ? credentialsRefused(auth, header(req, 'authorization'), url.searchParams.get('auth_token') ?? undefined) : undefined;
  if (refused) throw refused;
  const terminals = terminalsOf(state);
  if (terminals.closing) throw new HttpError(503, 'SHUTTING_DOWN', 'The server is stopping.');
  let id: string;
  try {
    id = decodeURIComponent(match[1] as string);
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'path parameter "ptyID": not a valid URL-encoded id.', { details: { field: 'ptyID' } });
  }
  // A ticket names its project: a client without the password opens no folder's config (its MCP servers run commands).
  let projectRoot: string | undefined;
  if (ticket) {
    projectRoot = terminals.tickets.consume(ticket, id);
    if (projectRoot === undefined) {
      throw new HttpError(403, 'PTY_TICKET_REFUSED', 'The connect ticket is unknown, spent, expired, or for another terminal.', { hint: 'Ask for a new one: POST /pty/{ptyID}/connect-token with the header x-opencode-ticket: 1.' });
    }
  } else {
    const directory = url.searchParams.get('location[directory]') ?? url.searchParams.get('directory') ?? undefined;
    projectRoot = (await instanceFor(state, header(req, 'x-opencode-directory'), directory)).projectRoot;
  }
  const terminal = terminals.get(id, projectRoot);
  if (terminals.full(terminal)) throw new HttpError(429, 'TOO_MANY_CLIENTS', 'This terminal has as many clients attached as it takes.', { hint: 'Close another connection to it first.' });
  const cursor = cursorOf(url.searchParams.get('cursor'));
  wsServer().handleUpgrade(req, socket, head, (ws) => {
    ws.on('error', () => undefined);
    // Closed meanwhile (the shell exited, DELETE): the client is told so at once.
    if (terminal.info.status !== 'running' || terminals.closing) return ws.close(1000, '');
    terminals.attach(terminal, ws, cursor);
  });
}

/** The server's `upgrade` listener. */
export function ptyUpgrade(state: ServerState, req: IncomingMessage, socket: Duplex, head: Buffer, requestId: string): void {
  socket.on('error', () => socket.destroy());
  admit(state, req, socket, head).catch((error: unknown) => {
    const http = toHttpError(error);
    if (http.status >= 500 && http.code !== 'SHUTTING_DOWN' && http.code !== 'PTY_UNAVAILABLE') state.log(`error: a terminal's WebSocket upgrade: ${error instanceof Error ? error.message : String(error)}`);
    refuse(socket, http, requestId);
  });
}
