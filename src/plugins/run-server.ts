/**
 * The in-process server of `opencode run`'s plugins (OpenCode answers a run's plugin client with its
 * server's application in-process too). A client's log line is written at once; the first other
 * call makes OpenCode's API over the run's own core: a host whose project is the run's (its config,
 * runtime and ledger, MCP servers: lent, not opened again), with the routes `serve` has. Nothing
 * listens: no one outside the process can reach it, so it asks for no password. Nothing of it is
 * loaded until a plugin calls its client.
 */
import type { PluginHost } from './types.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { McpServers } from '../core/mcp-servers.ts';
import { printErr } from '../cli/print.ts';
import { debugNote } from '../debug-note.ts';
import type { Runtime } from '../run/runtime.ts';
import type { ClientLog } from '../server/client-log.ts';
import type { Made } from './run-server-api.ts';
import { answerLog, errorResponse, isLogRequest, isStreamRequest, type InProcessServer } from './in-process-server.ts';

export interface RunServerOptions {
  /** The run's folder (default process.cwd()). */
  cwd?: string;
  env: NodeJS.ProcessEnv;
  /** `--config PATH`, when given. */
  configPath?: string;
  /** The run's config, runtime (with its ledger) and MCP servers: its project in the server, as they are. */
  loaded: LoadedConfig;
  runtime: Runtime;
  mcp?: McpServers;
  version: string;
  /** The run's plugins, for the turns the API runs (their tools and hooks, as the run's own turn has them). */
  plugins?: PluginHost;
  /** Where a client's log line goes (default: warn and error on stderr, debug and info as debug notes: `--log-level DEBUG`, `--debug`). */
  log?: (entry: ClientLog, line: string) => void;
  /** Where the server's own diagnostics go (a route's failure; default stderr). */
  note?: (line: string) => void;
}

export interface RunServer extends InProcessServer {
  /** Whether the API was made (a plugin called more than `app.log`). */
  readonly made: boolean;
  /** Lets its turns end (cancelled), closes what it made; the run's own pieces are the run's to close. */
  close(): Promise<void>;
}

function stderrLine(line: string): void {
  printErr(`${line}\n`);
}

/** A run's client log line: warnings and errors always shown, as Pantheon's own; debug and info with `--log-level DEBUG`. */
export function runClientLog(entry: ClientLog, line: string): void {
  if (entry.level === 'warn' || entry.level === 'error') stderrLine(line);
  else debugNote(line);
}

/** The in-process server of a run's plugins; its API is made on the first call past `app.log`. */
export function runServer(options: RunServerOptions): RunServer {
  let making: Promise<Made> | undefined;
  let closed = false;
  const log = options.log ?? runClientLog;
  return {
    url: undefined,
    get made() {
      return making !== undefined;
    },
    async fetch(request) {
      if (isLogRequest(request)) return answerLog(request, log);
      const { pathname } = new URL(request.url);
      if (closed) return errorResponse(503, 'ServiceUnavailable', 'RUN_ENDED', `${request.method} ${pathname}: the run has ended.`, 'A plugin’s client answers while the run lasts; `opencode serve` keeps it answering.');
      // Nothing listens under a run: an event stream has no connection to go on.
      if (isStreamRequest(request)) return errorResponse(501, 'NotImplemented', 'NO_EVENT_STREAM', `${request.method} ${pathname}: opencode run has no server to stream events from.`, 'Use the plugin’s `event` hook, which gets every event; or run the work under `opencode serve`.');
      // OpenCode's API over the run's core: the server's routes, in the run bundle's side file (scripts/build-cli.ts).
      const opening = (making ??= import('./run-server-api.ts').then(({ makeApi }) => makeApi(options, stderrLine)));
      let made: Awaited<typeof opening>;
      try {
        made = await opening;
      } catch (error) {
        if (making === opening) making = undefined;
        const why = error instanceof Error ? error.message : String(error);
        return errorResponse(500, 'UnknownError', 'RUN_SERVER_FAILED', `${request.method} ${pathname}: OpenCode's API could not be made in this run: ${why}`, 'Run the work under `opencode serve`, whose plugins call its own server.');
      }
      return made.app(request);
    },
    async close() {
      // Once: the run closes it as it ends, and again after a failure before its turn.
      if (closed) return;
      closed = true;
      const made = await making?.catch(() => undefined);
      await made?.close();
    },
  };
}

/**
 * A run's server for its plugins' clients before the run's core is open (the plugins load first:
 * their `config` hooks shape the config the core opens with): log lines at once, other calls 503
 * until `open` hands over the run's server.
 */
export interface PendingRunServer extends InProcessServer {
  open(server: RunServer): void;
  close(): Promise<void>;
}

export function pendingRunServer(): PendingRunServer {
  let server: RunServer | undefined;
  return {
    url: undefined,
    open(next) {
      server = next;
    },
    async fetch(request) {
      if (server) return server.fetch(request);
      if (isLogRequest(request)) return answerLog(request, runClientLog);
      const { pathname } = new URL(request.url);
      return errorResponse(503, 'ServiceUnavailable', 'PLUGINS_LOADING', `${request.method} ${pathname}: the run is still loading its plugins.`, 'Make this call from a hook (event, tool.execute.after, …) rather than while the plugin loads; client.app.log works at any time.');
    },
    async close() {
      await server?.close();
    },
  };
}
