/**
 * Starts the HTTP server over a host: binds, and resolves once it accepts connections it can answer
 * (the app and the default project are ready before the first `listen`). `close` stops accepting,
 * ends event streams, waits for turns and gateway calls in flight (bounded), then closes the host.
 */
import { closeAllLsp, onLspStarted } from '../lsp/live.ts';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Host } from '../core/host.ts';
import { onMcpToolsChanged } from '../core/mcp-servers.ts';
import { PantheonError } from '../errors.ts';
import { logStoreOutages } from './store-outage-log.ts';
import { LiveState } from '../core/live/live-state.ts';
import { createApp, requestIdOf } from './app.ts';
import { BODY_BUDGET_BYTES, BodyBudget } from './body-budget.ts';
import { CallsInFlight } from './calls-in-flight.ts';
import { fastDispatch } from './fast-dispatch.ts';
import { countingRequests } from './request-metrics.ts';
import { OpenCodeEvents } from './opencode/event-stream.ts';
import { closeTasks, tasksOf } from './api/tasks.ts';
import { closeWebhooks } from './api/webhooks.ts';
import { drainBackground } from './openai/background-responses.ts';
import { closeResponseStore } from './openai/response-store.ts';
import { ROUTE_GROUPS } from './routes/index.ts';
import type { ServerOptions, ServerState } from './state.ts';
import { abandonBackgroundWork } from '../background-work.ts';

/** The servers of this process that are open (a library's or a test's process may have several). */
let serversOpen = 0;

export interface RunningServer {
  /** `http://HOST:PORT` as clients should use it. */
  url: string;
  state: ServerState;
  /** Graceful stop: no new requests, streams ended, turns and gateway calls drained (at most `drainMs`), host closed. */
  close(): Promise<void>;
}

/** The path of a terminal's WebSocket (`/pty/{ptyID}/connect`, v2's `/api/pty/{ptyID}/connect`), with or without a query. */
const TERMINAL_SOCKET = /^\/(?:api\/)?pty\/[^/?]+\/connect(?:\?|$)/;

/** How long an idle client connection stays open. */
export const KEEP_ALIVE_MS = 65_000;

/** How long a client has to send a whole request, head and body (then 408). */
export const REQUEST_TIMEOUT_MS = 120_000;

/**
 * Descriptors left for the process's own use beside its client connections: the ledger and its
 * journal, the response cache, MCP servers' pipes, files a turn reads, DNS.
 */
const RESERVED_FDS = 256;

/** How often, at most, the operator is told that connections are being dropped at the cap. */
const DROP_NOTE_MS = 60_000;

/**
 * The most client connections the server keeps open at once, from the process's open-file limit:
 * each may need a second descriptor (its call's socket to the provider), and RESERVED_FDS are the
 * process's own. Past it a new connection is closed at once, rather than the process running out of
 * descriptors (and failing to open its ledger, a provider's socket, a file) for every client.
 */
export function connectionCap(openFiles: number | undefined): number | undefined {
  if (openFiles === undefined || !Number.isFinite(openFiles)) return undefined;
  return Math.max(64, Math.floor((openFiles - RESERVED_FDS) / 2));
}

/** The process's limit of open files (its soft limit, which Node raises to the hard one at start), where the system says it (Linux). */
function openFileLimit(): number | undefined {
  try {
    const found = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return found ? Number(found[1]) : undefined;
  } catch {
    return undefined;
  }
}

function urlHost(hostname: string): string {
  return hostname.includes(':') ? `[${hostname}]` : hostname;
}

export async function startServer(host: Host, options: ServerOptions, extra: { version: string; log: (line: string) => void }): Promise<RunningServer> {
  const events = new OpenCodeEvents(host.hub, extra.version, () => {
    host.sessions.asks.listenersChanged();
    host.sessions.questions.listenersChanged();
  });
  // Permission questions, and the `question` tool's, go to the people at OpenCode clients listening to the project's events.
  host.sessions.asks.listens = (projectRoot) => events.listens(projectRoot);
  // A saved-approvals file that cannot be read (moved aside) is said in the server's log.
  host.sessions.asks.store.warn = extra.log;
  host.sessions.questions.listens = (projectRoot) => events.listens(projectRoot);
  const live = new LiveState(host, { version: extra.version });
  const state: ServerState = { host, options, version: extra.version, groups: ROUTE_GROUPS, events, live, log: extra.log, afterAnswers: new Set(), calls: new CallsInFlight(), bodies: new BodyBudget(options.bodyBudgetBytes ?? BODY_BUDGET_BYTES) };
  const app = createApp(state);
  // The projects' plugins' `client` calls the same application in-process (src/plugins/plugin-client.ts), behind the same password.
  host.server.attach((request) => app.fetch(request), extra.log);
  // The gateway's hot routes are served straight from Node's request listener; the rest by Hono.
  // Upgrades only to a terminal's WebSocket (the `upgrade` listener below); any other (`Upgrade: h2c`) is answered as a plain request (Node 24's shouldUpgradeCallback).
  const server = createServer({ shouldUpgradeCallback: (req) => TERMINAL_SOCKET.test(req.url ?? '') }, fastDispatch(state, countingRequests(state.host.metrics, getRequestListener(app.fetch))));
  // Idle connections stay open for a minute (Node's default is 5 s). Clients size their own idle
  // time by the `Keep-Alive: timeout=` hint minus a margin (undici: 2 s); a client whose event loop
  // is late by more than that margin, as on a loaded machine, sent its next request on a connection
  // the server had just closed ("other side closed"). A minute is longer than any pause between a
  // client's requests in a turn; idle connections are closed at once on shutdown.
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  // A request must be in whole within two minutes (Node's default is five): a client sending its body
  // slower than that holds a connection and part of the body budget (body-budget.ts) for nothing.
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  // WebSockets: a terminal's (GET /pty/{ptyID}/connect), on this listener only; its module is loaded on the first.
  server.on('upgrade', (req, socket, head) => {
    const id = requestIdOf(typeof req.headers['x-request-id'] === 'string' ? req.headers['x-request-id'] : undefined);
    void import('./opencode/pty-socket.ts').then(({ ptyUpgrade }) => ptyUpgrade(state, req, socket, head, id));
  });
  const cap = options.maxConnections ?? connectionCap(openFileLimit());
  if (cap !== undefined) {
    server.maxConnections = cap;
    let noted = Number.NEGATIVE_INFINITY;
    server.on('drop', () => {
      if (performance.now() - noted < DROP_NOTE_MS) return;
      noted = performance.now();
      extra.log(`warning: ${cap} client connections are open, as many as the server keeps (from its open-file limit); new ones are closed at once.`);
    });
  }
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const where = `${options.hostname}:${options.port}`;
      if (error.code === 'EADDRINUSE') reject(new PantheonError('USAGE', `Port ${options.port} on ${options.hostname} is already in use.`, { hint: 'Pick another with --port, or --port 0 for a free one.' }));
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') reject(new PantheonError('USAGE', `Cannot listen on ${where}: no such address on this machine.`, { hint: 'Use --hostname 127.0.0.1, or an address of one of this machine’s interfaces.' }));
      else if (error.code === 'EACCES') reject(new PantheonError('USAGE', `Not allowed to listen on ${where}.`, { hint: 'Ports below 1024 need privileges; pick a higher one with --port.' }));
      else reject(error);
    };
    server.once('error', onError);
    server.listen(options.port, options.hostname, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  state.url = `http://${urlHost(options.hostname)}:${address.port}`;
  host.server.listening(state.url);
  // Redis going away and coming back: a line each in the log, however many requests come meanwhile.
  const unwatchStore = logStoreOutages(host.ledger, extra.log);
  // A project's MCP server whose tools changed (it said so, and they were listed anew; or it went away): OpenCode's event.
  const unwatchMcp = onMcpToolsChanged((projectRoot, server) => events.publish(projectRoot, { type: 'mcp.tools.changed', properties: { server } }));
  // A project's language server started: OpenCode's event, on which its TUI's sidebar lists it.
  const unwatchLsp = onLspStarted((projectRoot) => events.publish(projectRoot, { type: 'lsp.updated', properties: {} }));
  // Async tasks a crashed or stopped server left are finished or marked failed now, not on first use.
  await tasksOf(state);
  let closing: Promise<void> | undefined;
  serversOpen += 1;
  return {
    url: `http://${urlHost(options.hostname)}:${address.port}`,
    state,
    close() {
      closing ??= (async () => {
        // What the process does behind the requests stops now (a skills registry's download: the turns that wait for it go on
        // with the skills kept from before; a Copilot model list's refresh): its requests would hold the exit until they end.
        // Not while another server of the process runs: the work may be its turns' too, and the process is not exiting.
        serversOpen -= 1;
        if (serversOpen === 0) abandonBackgroundWork('the server is shutting down');
        // No new connections, and a request on a connection still open is answered 503 (fast-dispatch.ts);
        // gateway calls waiting on a rate limit are answered 503 now; event streams end; turns and
        // gateway calls in flight finish (their answers are sent), or are cancelled after drainMs.
        const calls = state.calls.close(options.drainMs);
        // Terminals end now, their processes with them (SIGKILL after a second's grace).
        const terminals = state.terminals?.close();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        events.close();
        live.close();
        server.closeIdleConnections();
        await Promise.all([host.sessions.drain(options.drainMs), calls, terminals]);
        await closeTasks(state);
        await closeWebhooks(state);
        // Connections whose answers were sent meanwhile; any other is cut a second later.
        server.closeIdleConnections();
        const deadline = setTimeout(() => server.closeAllConnections(), 1000);
        deadline.unref();
        await stopped;
        clearTimeout(deadline);
        // The bookkeeping of the last answers (usage, releases, `done`) before the ledger closes.
        await Promise.all(state.afterAnswers);
        await drainBackground(state);
        await closeResponseStore(state);
        unwatchStore();
        unwatchMcp();
        unwatchLsp();
        await host.close();
        // Language servers of configs no instance holds any more (a turn's own config).
        await closeAllLsp();
      })();
      return closing;
    },
  };
}
