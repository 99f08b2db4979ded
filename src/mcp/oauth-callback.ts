/**
 * The loopback page the browser comes back to after an MCP server's authorization, as OpenCode has
 * it: `http://127.0.0.1:19876/mcp/oauth/callback` (or the port and path of `oauth.callbackPort` /
 * `oauth.redirectUri`). One listener per port, shared by the flows waiting on it, each known by its
 * `state`: a callback without a state, or with one no flow is waiting for, is refused (400) and the
 * flow goes on waiting; an `error` ends the flow it names. The listener closes when no flow waits.
 */
import http from 'node:http';
import { PantheonError } from '../errors.ts';

interface Waiter {
  resolve(code: string): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  path: string;
}

interface Listener {
  server: http.Server;
  waiters: Map<string, Waiter>;
  ready: Promise<void>;
}

const listeners = new Map<number, Listener>();

function page(title: string, text: string): string {
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><meta charset="utf-8"><title>${escape(title)}</title><body style="font-family:sans-serif;margin:3em"><h1>${escape(title)}</h1><p>${escape(text)}</p></body>`;
}

function answer(res: http.ServerResponse, status: number, title: string, text: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page(title, text));
}

function close(port: number, listener: Listener): void {
  if (listener.waiters.size > 0 || listeners.get(port) !== listener) return;
  listeners.delete(port);
  listener.server.close();
  listener.server.closeAllConnections();
}

function handle(port: number, listener: Listener, req: http.IncomingMessage, res: http.ServerResponse): void {
  req.resume();
  const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
  const state = url.searchParams.get('state');
  const waiter = state === null ? undefined : listener.waiters.get(state);
  if (req.method !== 'GET' || (waiter ? url.pathname !== waiter.path : ![...listener.waiters.values()].some((w) => w.path === url.pathname))) {
    answer(res, 404, 'Not found', 'This is the MCP OAuth callback of opencode; nothing is here.');
    return;
  }
  if (!state) {
    answer(res, 400, 'Authorization failed', 'The callback has no state parameter, so it was refused (a possible CSRF attack).');
    return;
  }
  if (!waiter) {
    answer(res, 400, 'Authorization failed', 'The state parameter matches no authorization in progress (it expired, or this is a possible CSRF attack).');
    return;
  }
  const error = url.searchParams.get('error');
  const code = url.searchParams.get('code');
  if (!error && !code) {
    answer(res, 400, 'Authorization failed', 'The callback has no authorization code.');
    return;
  }
  listener.waiters.delete(state);
  clearTimeout(waiter.timer);
  if (error) {
    const description = url.searchParams.get('error_description');
    const said = `${error}${description ? `: ${description}` : ''}`.slice(0, 300);
    answer(res, 200, 'Authorization failed', `The authorization server said: ${said}. You can close this window.`);
    waiter.reject(new PantheonError('MCP_START_FAILED', `The authorization server refused the authorization: ${said}.`));
  } else {
    answer(res, 200, 'Authorization successful', 'You can close this window and go back to opencode.');
    waiter.resolve(code as string);
  }
  close(port, listener);
}

async function listen(port: number): Promise<Listener> {
  const existing = listeners.get(port);
  if (existing) {
    await existing.ready;
    return existing;
  }
  const server = http.createServer();
  const listener: Listener = {
    server,
    waiters: new Map(),
    ready: new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        listeners.delete(port);
        reject(
          new PantheonError('MCP_START_FAILED', `Cannot listen for the OAuth callback on 127.0.0.1:${port} (${error.code ?? error.message}).`, {
            hint: error.code === 'EADDRINUSE' ? 'Another program (another `opencode mcp auth`?) holds the port: let it finish, or set a free port in mcp.<name>.oauth.callbackPort.' : 'Set another port in mcp.<name>.oauth.callbackPort.',
          }),
        );
      });
      server.listen(port, '127.0.0.1', () => resolve());
    }),
  };
  server.on('request', (req, res) => handle(port, listener, req, res));
  listeners.set(port, listener);
  await listener.ready;
  return listener;
}

export interface CallbackWait {
  /** The authorization code, once the browser comes back with the state. */
  code: Promise<string>;
  cancel(reason: Error): void;
}

/**
 * Listens on the redirect URI's port (127.0.0.1) and waits for the callback with `state`, at most
 * `timeoutMs`. Resolves once listening; `code` settles with the code or why there is none.
 */
export async function waitForCallback(redirectUri: string, state: string, timeoutMs: number): Promise<CallbackWait> {
  const url = new URL(redirectUri);
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const listener = await listen(port);
  let settle!: Pick<Waiter, 'resolve' | 'reject'>;
  const code = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const seconds = Math.round(timeoutMs / 1000);
  const timer = setTimeout(() => {
    listener.waiters.delete(state);
    settle.reject(
      new PantheonError('MCP_START_FAILED', `No authorization came back to ${redirectUri} within ${seconds >= 1 ? `${seconds} s` : `${timeoutMs} ms`}, so nothing was saved.`, {
        hint: 'Run it again and finish signing in in the browser (open the URL printed); --timeout SECONDS gives more time.',
      }),
    );
    close(port, listener);
  }, timeoutMs);
  listener.waiters.set(state, { ...settle, timer, path: url.pathname || '/' });
  return {
    code,
    cancel(reason) {
      if (!listener.waiters.delete(state)) return;
      clearTimeout(timer);
      settle.reject(reason);
      close(port, listener);
    },
  };
}
