/**
 * What a plugin's `client` calls: OpenCode's API as the process's own server answers it, in-process
 * (no socket). Under `opencode serve` the server's own application, once it is made (the server's
 * slot below); under `opencode run` one made over the run's core on the first call that needs it
 * (run-server.ts). A client's log line (`client.app.log`, OpenCode's documented way for plugins to
 * log) is written at once in both, without the application: it works while plugins load too.
 *
 * Light on purpose: nothing of the server is imported here.
 */
import { printErr } from '../cli/print.ts';
import { checkClientLog, clientLogLine, type ClientLog } from '../server/client-log.ts';
import { requestDirectory } from '../server/state.ts';

/** Answers one request of OpenCode's API, in-process. */
export type AppFetch = (request: Request) => Response | Promise<Response>;

export interface InProcessServer {
  /** The listening server's URL (under serve, once it listens); undefined when none listens. */
  readonly url: URL | undefined;
  /** Answers one request of OpenCode's API as the server would (the same routes, the same password). */
  fetch(request: Request): Promise<Response>;
  /** Marks `directory`'s plugins as loading until `until` settles (ServerSlot.loading); a server whose projects are open already has none. */
  loading?(directory: string, until: Promise<unknown>): void;
}

/** The paths of event streams (`/event`, `/global/event`, `/api/state/stream`): they need a connection of their own. */
const STREAM_PATH = /\/(?:event|stream)$/;

/** OpenCode's error body (`{name, data: {message}}`) as a JSON response. */
export function errorResponse(status: number, name: string, code: string, message: string, hint: string): Response {
  return Response.json({ name, data: { message, code, hint } }, { status });
}

/** Whether `request` is a client's log line (`POST /log`). */
export function isLogRequest(request: Request): boolean {
  return request.method === 'POST' && new URL(request.url).pathname === '/log';
}

/** Whether `request` asks for an event stream. */
export function isStreamRequest(request: Request): boolean {
  return STREAM_PATH.test(new URL(request.url).pathname) || (request.headers.get('accept') ?? '').includes('text/event-stream');
}

/** Answers `POST /log` by writing the line (`true`), or 400 naming the field that is wrong. */
export async function answerLog(request: Request, write: (entry: ClientLog, line: string) => void): Promise<Response> {
  let body: unknown;
  try {
    body = JSON.parse(await request.text());
  } catch {
    return errorResponse(400, 'BadRequest', 'BAD_REQUEST', 'body: expected JSON {service, level, message, extra?}.', 'client.app.log({ body: { service: "my-plugin", level: "info", message: "…" } })');
  }
  const entry = checkClientLog(body);
  if (typeof entry === 'string') return errorResponse(400, 'BadRequest', 'BAD_REQUEST', entry, 'client.app.log({ body: { service: "my-plugin", level: "info", message: "…" } })');
  write(entry, clientLogLine(entry));
  return Response.json(true);
}

/**
 * The in-process server of a host under `opencode serve`: empty until the server made its
 * application (start.ts attaches it); the host's projects (and their plugins) open before that.
 * Meanwhile a log line is written to the server's log, and any other call is answered 503 with a
 * sentence (waiting would hang a plugin that awaits it while it loads: the server waits for it).
 */
export class ServerSlot implements InProcessServer {
  #app: AppFetch | undefined;
  #url: URL | undefined;
  #log: (line: string) => void;
  /** The projects whose plugins are loading (by folder, as their clients name it), with how many loads are under way. */
  readonly #loading = new Map<string, number>();

  constructor(log: (line: string) => void = (line) => printErr(`${line}\n`)) {
    this.#log = log;
  }

  get url(): URL | undefined {
    return this.#url;
  }

  /** The server's application, its URL once it listens, and its log. */
  attach(app: AppFetch, log: (line: string) => void, url?: string): void {
    this.#app = app;
    this.#log = log;
    if (url !== undefined) this.#url = new URL(url);
  }

  /** The URL the server listens on (known once it listens, after the application was made). */
  listening(url: string): void {
    this.#url = new URL(url);
  }

  /**
   * Marks the plugins of `directory` as loading until `until` settles. Meanwhile a request about that
   * project (other than a log line) is answered 503: its instance is still opening, waiting for its
   * plugins, so the request would wait for the plugin that waits for it.
   */
  loading(directory: string, until: Promise<unknown>): void {
    this.#loading.set(directory, (this.#loading.get(directory) ?? 0) + 1);
    const done = (): void => {
      const left = (this.#loading.get(directory) ?? 1) - 1;
      if (left > 0) this.#loading.set(directory, left);
      else this.#loading.delete(directory);
    };
    until.then(done, done);
  }

  async fetch(request: Request): Promise<Response> {
    if (this.#loading.size > 0 && !isLogRequest(request)) {
      const url = new URL(request.url);
      const directory = requestDirectory(request.headers.get('x-opencode-directory') ?? undefined, url.searchParams.get('directory') ?? undefined);
      if (directory !== undefined && this.#loading.has(directory)) {
        return errorResponse(503, 'ServiceUnavailable', 'PLUGINS_LOADING', `${request.method} ${url.pathname}: the project ${directory} is still loading its plugins.`, 'Make this call from a hook (event, tool.execute.after, …) rather than while the plugin loads; client.app.log works at any time.');
      }
    }
    const app = this.#app;
    if (!app) {
      if (isLogRequest(request)) return answerLog(request, (_entry, line) => this.#log(line));
      const { pathname } = new URL(request.url);
      return errorResponse(503, 'ServiceUnavailable', 'SERVER_STARTING', `${request.method} ${pathname}: the server does not answer yet: plugins load before it starts.`, 'Make this call from a hook (event, tool.execute.after, …) rather than while the plugin loads; client.app.log works at any time.');
    }
    // An event stream needs a connection of its own: over HTTP to the listening server (with the client's own credentials).
    if (isStreamRequest(request) && this.#url) {
      const { pathname, search } = new URL(request.url);
      return globalThis.fetch(new Request(new URL(pathname + search, this.#url), request));
    }
    return app(request);
  }
}
