import v8 from 'node:v8';
import { PantheonError } from '../errors.ts';
import type { ServeArgs } from './commands/serve.ts';
import { saveCodeCacheNow } from './code-cache.ts';
import { nodeFlagGiven } from './server-node-flags.ts';
import { takeParentPipe, watchParent } from './parent-pipe.ts';
import { lowerHelperThreads } from './server-threads.ts';
import { version } from './version.ts';
import { sendStallMs } from '../server/send-stall.ts';
import { printErr, printOut, printWarnings } from './print.ts';
import { safeLine } from './terminal-text.ts';

const DEFAULT_DRAIN_MS = 10_000;
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const HEARTBEAT_MS = 10_000;

function last(value: unknown): unknown {
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/** `--port N`: 0 (a free port) to 65535. */
export function parsePort(value: unknown, where = '--port'): number {
  const text = String(last(value)).trim();
  const port = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new PantheonError('USAGE', `${where}: expected a port number from 0 to 65535, found "${text}".`, { hint: 'For example --port 4096, or --port 0 for a free port.' });
  }
  return port;
}

/** True for addresses only this machine can reach. */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

interface ServerSection {
  port?: unknown;
  hostname?: unknown;
  cors?: unknown;
}

/** `--cors` / `server.cors`: `*`, or origins as a browser sends them (scheme, host, port; no path), which are all an Origin header is compared with. */
function corsList(value: unknown, where: string): string[] {
  const list = value === undefined ? [] : [value].flat();
  return list.map((origin) => {
    const given = typeof origin === 'string' ? origin.replace(/\/$/, '') : undefined;
    if (given === '*') return given;
    const url = given ? URL.parse(given) : null;
    if (!given || !url || url.origin === 'null' || url.origin !== given.toLowerCase()) {
      const shown = JSON.stringify(typeof origin === 'string' && origin.length > 80 ? `${origin.slice(0, 79)}…` : origin);
      throw new PantheonError('USAGE', `${where}: expected an origin like https://app.example.com (scheme, host and port; no path), or *, found ${shown}.`, {
        hint: 'A browser sends its page’s origin, e.g. http://localhost:3000; localhost pages are always let in.',
      });
    }
    return url.origin;
  });
}

/**
 * A long-lived server keeps V8's heap near what it holds. Left to V8's defaults, the young
 * generation grows (up to 64 MiB a half on a large machine) and the old generation's limit grows
 * by a factor of up to 4 after each full GC: after 1,000 prompts the server held ~30 MiB of live
 * objects in a ~100 MiB heap and ~210 MiB of memory. Growing the old generation by 20 % at a time
 * brought that to ~140 MiB for ~8 % more CPU (bench/serve.ts and a profile of the same load, under
 * load; `--max-semi-space-size` made no difference). Both flags are read at each GC, so they are
 * set once the server is ready, after its code cache is written; semi-space size itself only at start-up.
 */
function boundHeap(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  v8.setFlagsFromString('--heap-growing-percent=20');
}

/**
 * A server's hot code reaches V8's optimizing tier after half the calls V8 waits for by default.
 * Maglev compiles a function after 400 calls, and 500 calls after any change to its inline caches;
 * the gateway path's functions change them in a server's first requests (the first connections,
 * the first concurrent requests), so ~150 of them were compiled together around its 550th request:
 * a burst of compilations on the two cores the requests need, at the first load that follows a
 * quiet start (docs/performance.md, thirtieth session). At 200 and 200 they are compiled within
 * the first few hundred requests (first-load p99 in the bench's sequence 5.6 → 3.8 ms); a server
 * that has run longer is the same. V8 reads the counts when it makes a function's feedback, so
 * they apply to what has not run yet: set once the server is ready, after its code cache is
 * written, like the heap's flags (on Node's command line, from the start, they cost `serve` ~33 ms
 * of readiness: Node checks its built-in modules' code cache against V8's flags).
 */
const TIER_UP_FLAGS: readonly string[] = ['--invocation-count-for-maglev=200', '--minimum-invocations-after-ic-update=200'];
function tierUpSooner(): void {
  // A count the user gave Node for this process is theirs (as with the restart's flags).
  for (const flag of TIER_UP_FLAGS) if (!nodeFlagGiven(flag)) v8.setFlagsFromString(flag);
}

/** `opencode serve`: the host (config, scheduler, MCP servers, sessions) behind OpenCode's HTTP API. */
export async function serveAction(args: ServeArgs, options: { /** Says where the server listens (default: the readiness line on stdout). */ ready?: (url: string) => void } = {}): Promise<void> {
  lowerHelperThreads();
  // Started by OpenCode's TUI launcher: its exit (however it ends) stops this server.
  let parentGone = (): void => {
    printErr('error: The process that started this server exited while the server was starting.\n');
    // As for a signal while loading: process.exit runs the exit hooks (plugins' `$` commands are stopped there).
    process.exit(1);
  };
  const unwatch = takeParentPipe() ? watchParent(() => parentGone()) : () => undefined;
  const [{ Host }, { startServer }, { exitOnSignalWhileLoading }] = await Promise.all([import('../core/host.ts'), import('../server/start.ts'), import('../plugins/run-exit.ts')]);
  // Until the server handles signals: the working directory's plugins load meanwhile (their `$` commands are stopped by an exit).
  const starting = exitOnSignalWhileLoading('the server was starting', 0);
  const host = await Host.open({ ...(args.config ? { configPath: args.config } : {}) }).catch((error: unknown) => {
    starting();
    unwatch();
    throw error;
  });
  let started;
  try {
    const instance = await host.instance();
    // The config's warnings (an unknown key, an unset {env:…} — say, of server.keys), as `run` shows them.
    printWarnings(instance.loaded.warnings);
    // A cache that could not be opened: the server serves without it (GET /health says so too).
    if (instance.runtime.cacheUnavailable) printErr(`${safeLine(`warning: ${instance.runtime.cacheUnavailable}`)}\n`);
    const section = (instance.config.server ?? {}) as ServerSection;
    const port = args.port !== undefined ? parsePort(args.port) : section.port !== undefined ? parsePort(section.port, 'server.port') : 0;
    const given = last(args.hostname);
    const hostname = String(given ?? section.hostname ?? '127.0.0.1').trim();
    if (!hostname) {
      const [code, where] = given === undefined ? (['CONFIG_INVALID', 'server.hostname'] as const) : (['USAGE', '--hostname'] as const);
      throw new PantheonError(code, `${where}: expected an address such as 127.0.0.1, found nothing.`, {
        hint: 'Leave it out to listen on 127.0.0.1 (this machine only); 0.0.0.0 listens on every interface (with OPENCODE_SERVER_PASSWORD set).',
      });
    }
    const password = process.env.OPENCODE_SERVER_PASSWORD;
    if (!isLoopback(hostname) && !password) {
      throw new PantheonError('USAGE', `Refusing to listen on ${hostname} without a password: anyone who can reach it could run agents with your keys.`, {
        hint: 'Set OPENCODE_SERVER_PASSWORD (HTTP Basic auth), or listen on 127.0.0.1.',
      });
    }
    const cors = [...corsList(section.cors, 'server.cors'), ...corsList(args.cors, '--cors')];
    started = await startServer(
      host,
      {
        hostname,
        port,
        cors,
        ...(password ? { auth: { username: process.env.OPENCODE_SERVER_USERNAME || 'opencode', password } } : {}),
        maxBodyBytes: MAX_BODY_BYTES,
        drainMs: DEFAULT_DRAIN_MS,
        debug: args.debug,
        heartbeatMs: HEARTBEAT_MS,
        sendStallMs: sendStallMs(),
      },
      { version, log: (line) => printErr(`${line}\n`) },
    );
  } catch (error) {
    starting();
    unwatch();
    await host.close();
    throw error;
  }
  starting();
  const server = started;
  // Signals are handled before the readiness line: a client may stop the server as soon as it reads it.
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals | 'parent') => {
      if (stopping) {
        // A second signal: stop waiting for turns.
        printErr('stopping now\n');
        process.exit(signal === 'SIGINT' ? 130 : 1);
      }
      stopping = true;
      printErr(`${signal === 'parent' ? 'The process that started this server exited' : signal}: finishing turns in flight, then stopping\n`);
      process.exitCode = signal === 'SIGINT' ? 130 : 0;
      unwatch();
      // Then any MCP server no project holds any more (a leak would keep the process alive: its pipes are open).
      void server
        .close()
        .then(async () => (await import('../mcp/process-servers.ts')).shutdownAllMcp())
        .finally(resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    parentGone = () => stop('parent');
  });
  if (options.ready) options.ready(server.url);
  else printOut(`opencode server listening on ${server.url}\n`);
  // The start-up's code cache first: V8 rejects a cache made after its flags change.
  saveCodeCacheNow();
  boundHeap();
  tierUpSooner();
  await stopped;
}
