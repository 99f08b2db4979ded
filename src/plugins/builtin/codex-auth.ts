/**
 * OpenCode 1.18.33's built-in ChatGPT (Codex) login for the `openai` provider, on Pantheon: a
 * ChatGPT Plus/Pro subscriber uses `openai/*` models with the subscription instead of an API key
 * (what the `opencode-openai-codex-auth` plugin did before OpenCode built it in; Pantheon skips that
 * package as OpenCode does).
 *
 * - **Login** (`opencode auth login openai`, `GET /provider/auth`, the OAuth routes): "ChatGPT
 *   Pro/Plus (browser)" — PKCE at auth.openai.com, the browser coming back to a server of this
 *   process on http://localhost:1455/auth/callback (the port OpenAI registered for the Codex
 *   client; a callback whose `state` is not this login's is refused); "ChatGPT Pro/Plus
 *   (headless)" — a device code to enter at auth.openai.com/codex/device, polled until approved;
 *   "Manually enter API Key". A login is stored as OpenCode stores it: `{type: "oauth", refresh,
 *   access, expires, accountId}`.
 * - **Requests** (the `auth` loader, when auth.json holds an `oauth` entry for openai): the
 *   Responses API request goes to https://chatgpt.com/backend-api/codex/responses with the access
 *   token and the `ChatGPT-Account-Id` header (and the account's residency, when its token names
 *   one). An access token that expired, or one the endpoint answers 401 to, is refreshed — once
 *   for all the turns of a process, and once across processes (a lock beside auth.json; a process
 *   that finds the token refreshed by another while it waited uses that one), so no refresh token
 *   is spent twice or lost; auth.json is rewritten atomically, mode 0600. A refresh token that
 *   auth.openai.com refuses is one sentence: log in again.
 * - **Models** (the `provider` hook): a ChatGPT login serves the models the subscription serves
 *   (gpt-5.4, gpt-5.5, gpt-5.3-codex-spark, gpt-6-*, and later ones; not the `-pro` ones), at no
 *   cost per token; another model is refused before any request (resolve-model.ts).
 * - **Calls** (`chat.headers`, `chat.params`, for every `openai` model as in OpenCode):
 *   `originator: opencode`, OpenCode's User-Agent, `session-id`; no `max_output_tokens`.
 *
 * Not done: OpenCode's experimental WebSocket transport (`OPENCODE_EXPERIMENTAL_WEBSOCKETS`);
 * requests go over HTTPS and server-sent events, which the endpoint serves as well.
 */
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { updateEntry, readAuthStoreFile, type AuthEntry } from '../../auth/store.ts';
import { PantheonError } from '../../errors.ts';
import { authFile } from '../../paths.ts';
import { withPidLock } from '../../pid-lock.ts';
import type { PluginHooks } from '../types.ts';

/** What the plugin is started with. */
export interface CodexInput {
  /** Where auth.json is (paths.ts): the process's environment for the CLI and `serve`. */
  env: NodeJS.ProcessEnv;
  /** Pantheon's version (User-Agent headers). */
  version: string;
}

export const PROVIDER = 'openai';
export const CLIENT_ID = 'app_EMoamEEZ73f0CkXaXp7hrann';
export const ISSUER = 'https://auth.openai.com';
export const CODEX_URL = 'https://chatgpt.com/backend-api/codex/responses';
/** The callback port OpenAI registered for the Codex client (OpenCode's too). */
export const CALLBACK_PORT = 1455;
/** The API key OpenCode gives the provider package while the login's fetch sends the token. */
const OAUTH_DUMMY_KEY = 'opencode-oauth-dummy-key';
export const BROWSER = 'ChatGPT Pro/Plus (browser)';
export const HEADLESS = 'ChatGPT Pro/Plus (headless)';
export const API_KEY = 'Manually enter API Key';
/** How long the browser login waits for the browser to come back (OpenCode's 5 minutes). */
const CALLBACK_WAIT_MS = 5 * 60_000;
/** The extra wait between two polls of a device code (OpenCode's). */
const POLL_MARGIN_MS = 3_000;
/** How long a token request may take. */
const TOKEN_MS = 30_000;
/** A refresh lock older than this is a leftover (a refresh takes a token request). */
const REFRESH_LOCK_STALE_MS = 2 * TOKEN_MS;

const ALWAYS = new Set(['gpt-5.5', 'gpt-5.3-codex-spark', 'gpt-5.4', 'gpt-5.4-mini', 'gpt-6-sol', 'gpt-6-luna']);
const NEVER = new Set(['gpt-5.5-pro', 'gpt-5.6']);

/** Whether a ChatGPT login serves the model of this API id (OpenCode 1.18.33's list and rule). */
export function chatgptServes(apiId: string, options: Record<string, unknown> = {}): boolean {
  if (options.reasoningMode === 'pro') return false;
  if (ALWAYS.has(apiId)) return true;
  if (NEVER.has(apiId)) return false;
  const match = /^gpt-(\d+)(?:\.(\d+))?/.exec(apiId);
  if (!match) return false;
  const major = Number(match[1]);
  const minor = Number(match[2] ?? 0);
  return major > 5 || (major === 5 && minor > 4);
}

interface TokenAnswer {
  access_token?: unknown;
  refresh_token?: unknown;
  id_token?: unknown;
  expires_in?: unknown;
}

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

function claimsOf(token: unknown): Json | undefined {
  if (typeof token !== 'string') return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as unknown;
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function accountOfClaims(claims: Json | undefined): string | undefined {
  if (!claims) return undefined;
  const auth = isRecord(claims['https://api.openai.com/auth']) ? claims['https://api.openai.com/auth'] : {};
  const orgs = Array.isArray(claims.organizations) ? claims.organizations : [];
  const id = claims.chatgpt_account_id ?? auth.chatgpt_account_id ?? (isRecord(orgs[0]) ? orgs[0].id : undefined);
  return typeof id === 'string' && id ? id : undefined;
}

/** The ChatGPT account of a token answer: its id token's claim, else its access token's. */
export function accountIdOf(tokens: TokenAnswer): string | undefined {
  return accountOfClaims(claimsOf(tokens.id_token)) ?? accountOfClaims(claimsOf(tokens.access_token));
}

/** Where the account's data must stay, when its access token says (`x-openai-internal-codex-residency`). */
function residencyOf(access: string): string | undefined {
  const claims = claimsOf(access);
  const auth = claims && isRecord(claims['https://api.openai.com/auth']) ? claims['https://api.openai.com/auth'] : undefined;
  const residency = auth?.chatgpt_compute_residency ?? claims?.chatgpt_compute_residency;
  return typeof residency === 'string' && residency && residency !== 'no_constraint' ? residency : undefined;
}

/** An OAuth success as OpenCode's login answers it. */
function success(tokens: TokenAnswer): Json {
  if (typeof tokens.access_token !== 'string' || typeof tokens.refresh_token !== 'string') throw new Error('auth.openai.com answered without tokens');
  const accountId = accountIdOf(tokens);
  return {
    type: 'success',
    refresh: tokens.refresh_token,
    access: tokens.access_token,
    expires: Date.now() + expiresIn(tokens) * 1000,
    ...(accountId ? { accountId } : {}),
  };
}

function expiresIn(tokens: TokenAnswer): number {
  return typeof tokens.expires_in === 'number' && Number.isFinite(tokens.expires_in) && tokens.expires_in > 0 ? tokens.expires_in : 3600;
}

async function tokenRequest(issuer: string, form: Record<string, string>): Promise<Response> {
  return fetch(`${issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    signal: AbortSignal.timeout(TOKEN_MS),
  });
}

async function exchangeCode(issuer: string, code: string, redirectUri: string, verifier: string): Promise<TokenAnswer> {
  const res = await tokenRequest(issuer, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: CLIENT_ID, code_verifier: verifier });
  if (!res.ok) throw new Error(`auth.openai.com refused the authorization code (HTTP ${res.status})`);
  return (await res.json()) as TokenAnswer;
}

/** Random bytes from the Web Crypto global (node:crypto is not loaded for a run that never logs in). */
const randomBytes = (n: number): Uint8Array => globalThis.crypto.getRandomValues(new Uint8Array(n));

async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
  const verifier = Array.from(randomBytes(43), (b) => chars[b % chars.length]).join('');
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return { verifier, challenge: Buffer.from(digest).toString('base64url') };
}

const page = (title: string, text: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body style="font-family:sans-serif;margin:4em"><h1>${title}</h1><p>${text}</p></body></html>`;

interface Pending {
  state: string;
  verifier: string;
  redirectUri: string;
  resolve(tokens: TokenAnswer): void;
  reject(error: Error): void;
}

/** The browser login's callback server of this process (one at a time, as OpenCode's). */
const callback: { server?: Server; pending?: Pending } = {};

function loginFailed(what: string, hint = `Start the login again: opencode auth login ${PROVIDER}`): PantheonError {
  return new PantheonError('PROVIDER_AUTH', `ChatGPT login: ${what}; nothing was saved.`, { hint });
}

async function startCallbackServer(issuer: string): Promise<void> {
  if (callback.server) return;
  const http = await import('node:http');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://localhost:${CALLBACK_PORT}`);
    const answer = (status: number, title: string, text: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(page(title, text));
    };
    if (url.pathname !== '/auth/callback') {
      if (url.pathname === '/cancel') {
        callback.pending?.reject(loginFailed('the login was cancelled'));
        callback.pending = undefined;
        answer(200, 'Login cancelled', 'You can close this window.');
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      return;
    }
    const pending = callback.pending;
    const error = url.searchParams.get('error');
    const code = url.searchParams.get('code');
    if (!pending) {
      answer(400, 'Authorization failed', 'No login is waiting for this answer. Start the login again.');
      return;
    }
    if (url.searchParams.get('state') !== pending.state) {
      // Not this login's answer (another page's, or forged): refused, and the login ends.
      callback.pending = undefined;
      pending.reject(loginFailed("the browser came back with another login's state (refused as a possible cross-site request)"));
      answer(400, 'Authorization failed', 'This answer does not belong to the login that is waiting (its state differs). Start the login again.');
      return;
    }
    if (error || !code) {
      callback.pending = undefined;
      const why = (url.searchParams.get('error_description') ?? error ?? 'no authorization code').slice(0, 200);
      pending.reject(loginFailed(`auth.openai.com did not authorize it (${why.replace(/[^\x20-\x7e]/g, '?')})`));
      answer(400, 'Authorization failed', 'The login was not authorized. You can close this window.');
      return;
    }
    callback.pending = undefined;
    exchangeCode(issuer, code, pending.redirectUri, pending.verifier).then(pending.resolve, (e: unknown) => pending.reject(e instanceof Error ? e : new Error(String(e))));
    answer(200, 'Authorization successful', 'Pantheon (OpenCode) is now connected to ChatGPT. You can close this window.');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new PantheonError('PROVIDER_AUTH', `ChatGPT login: the callback port ${CALLBACK_PORT} on localhost is in use (another login still waiting, or another program); nothing was saved.`, {
              hint: `Finish or stop the other login, or log in without a browser: opencode auth login ${PROVIDER} --method "${HEADLESS}"`,
            })
          : error,
      );
    });
    server.listen(CALLBACK_PORT, '127.0.0.1', () => resolve());
  });
  callback.server = server;
}

function stopCallbackServer(): void {
  callback.server?.close();
  callback.server?.closeAllConnections();
  callback.server = undefined;
}

async function browserAuthorize(issuer: string): Promise<Json> {
  await startCallbackServer(issuer);
  const redirectUri = `http://localhost:${CALLBACK_PORT}/auth/callback`;
  const codes = await pkce();
  const state = Buffer.from(randomBytes(32)).toString('base64url');
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: redirectUri,
    scope: 'openid profile email offline_access',
    code_challenge: codes.challenge,
    code_challenge_method: 'S256',
    id_token_add_organizations: 'true',
    codex_cli_simplified_flow: 'true',
    state,
    originator: 'opencode',
  });
  callback.pending?.reject(loginFailed('another login started'));
  const tokens = new Promise<TokenAnswer>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (callback.pending?.state === state) {
        callback.pending = undefined;
        stopCallbackServer();
      }
      reject(loginFailed(`the browser did not come back within ${CALLBACK_WAIT_MS / 60_000} minutes`));
    }, CALLBACK_WAIT_MS);
    timer.unref();
    callback.pending = {
      state,
      verifier: codes.verifier,
      redirectUri,
      resolve: (t) => (clearTimeout(timer), resolve(t)),
      reject: (e) => (clearTimeout(timer), reject(e)),
    };
  });
  tokens.catch(() => undefined);
  return {
    url: `${issuer}/oauth/authorize?${params.toString()}`,
    instructions: 'Complete authorization in your browser. This window will close automatically.',
    method: 'auto',
    callback: async () => {
      try {
        return success(await tokens);
      } finally {
        stopCallbackServer();
      }
    },
  };
}

async function headlessAuthorize(issuer: string, userAgent: string): Promise<Json> {
  const res = await fetch(`${issuer}/api/accounts/deviceauth/usercode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': userAgent },
    body: JSON.stringify({ client_id: CLIENT_ID }),
    signal: AbortSignal.timeout(TOKEN_MS),
  });
  if (!res.ok) throw new Error(`auth.openai.com did not start a device login (HTTP ${res.status})`);
  const device = (await res.json()) as Json;
  if (typeof device.device_auth_id !== 'string' || typeof device.user_code !== 'string') throw new Error('auth.openai.com answered no device code');
  const interval = Math.max(Number.parseInt(String(device.interval), 10) || 5, 1) * 1000;
  return {
    url: `${issuer}/codex/device`,
    instructions: `Enter code: ${device.user_code}`,
    method: 'auto',
    async callback() {
      for (;;) {
        const poll = await fetch(`${issuer}/api/accounts/deviceauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': userAgent },
          body: JSON.stringify({ device_auth_id: device.device_auth_id, user_code: device.user_code }),
          signal: AbortSignal.timeout(TOKEN_MS),
        });
        if (poll.ok) {
          const approved = (await poll.json()) as Json;
          if (typeof approved.authorization_code !== 'string' || typeof approved.code_verifier !== 'string') throw new Error('auth.openai.com answered no authorization code');
          return success(await exchangeCode(issuer, approved.authorization_code, `${issuer}/deviceauth/callback`, approved.code_verifier));
        }
        // 403 and 404: not approved yet. Anything else ends the login.
        if (poll.status !== 403 && poll.status !== 404) return { type: 'failed' };
        await new Promise((resolve) => setTimeout(resolve, interval + POLL_MARGIN_MS));
      }
    },
  };
}

/** The refreshes under way in this process, by auth file: one at a time, shared by every turn. */
const refreshing = new Map<string, Promise<AuthEntry>>();

function revoked(): PantheonError {
  return new PantheonError('PROVIDER_AUTH', `Your ChatGPT login for ${PROVIDER} has expired or was revoked (auth.openai.com refused to renew it).`, {
    hint: `Log in again: opencode auth login ${PROVIDER} --method "${BROWSER}" (or "${HEADLESS}" on a machine without a browser).`,
  });
}

function currentEntry(file: string): AuthEntry | undefined {
  const entry = readAuthStoreFile(file).entries[PROVIDER];
  return entry && typeof entry === 'object' ? entry : undefined;
}

const usable = (entry: AuthEntry | undefined): entry is AuthEntry & { access: string; refresh: string; expires: number } =>
  entry?.type === 'oauth' && typeof entry.access === 'string' && entry.access !== '' && typeof entry.refresh === 'string' && typeof entry.expires === 'number';

/**
 * A fresh login for `stale` (the entry whose access token expired or was refused): under a lock
 * beside auth.json, the stored entry is read again — another process may have renewed it while
 * this one waited — and renewed only if it is still the stale one; what auth.openai.com answers is
 * written before the lock is let go.
 */
function refreshed(file: string, issuer: string, stale: AuthEntry): Promise<AuthEntry> {
  const running = refreshing.get(file);
  if (running) return running;
  const lock = path.join(path.dirname(file), `.${path.basename(file)}.${PROVIDER}-refresh.lock`);
  const work = withPidLock(
    lock,
    async () => {
      const now = currentEntry(file);
      if (!usable(now)) throw revoked();
      if ((now.access !== stale.access || now.refresh !== stale.refresh) && now.expires > Date.now()) return now;
      let res: Response;
      try {
        res = await tokenRequest(issuer, { grant_type: 'refresh_token', refresh_token: now.refresh, client_id: CLIENT_ID });
      } catch (error) {
        // A network failure, retried (and moved on from) as any: its cause keeps the system's code.
        throw new Error(`Cannot renew the ChatGPT login for ${PROVIDER}: auth.openai.com did not answer`, { cause: error });
      }
      if (res.status === 400 || res.status === 401 || res.status === 403) throw revoked();
      if (!res.ok) throw new Error(`Cannot renew the ChatGPT login for ${PROVIDER}: auth.openai.com answered HTTP ${res.status}`);
      const tokens = (await res.json()) as TokenAnswer;
      if (typeof tokens.access_token !== 'string' || !tokens.access_token) throw revoked();
      const accountId = accountIdOf(tokens) ?? (typeof now.accountId === 'string' ? now.accountId : undefined);
      const entry: AuthEntry = {
        type: 'oauth',
        refresh: typeof tokens.refresh_token === 'string' && tokens.refresh_token ? tokens.refresh_token : now.refresh,
        access: tokens.access_token,
        expires: Date.now() + expiresIn(tokens) * 1000,
        ...(accountId ? { accountId } : {}),
      };
      // A login made meanwhile (`auth login` replaced the entry) is kept: this request still uses what it got.
      await updateEntry(file, PROVIDER, (current) => (current?.type === 'oauth' && current.refresh === now.refresh ? entry : undefined));
      return entry;
    },
    { staleMs: REFRESH_LOCK_STALE_MS, retryMs: 50 },
  ).finally(() => refreshing.delete(file));
  refreshing.set(file, work);
  return work;
}

function headersOf(init: RequestInit | undefined): Headers {
  const headers = new Headers(init?.headers);
  headers.delete('authorization');
  return headers;
}

/** The loader's fetch: the request with the login's token, to the Codex endpoint. */
function codexFetch(file: string, issuer: string, endpoint: string, getAuth: () => Promise<AuthEntry | undefined>): typeof globalThis.fetch {
  return async (input, init) => {
    let entry = await getAuth();
    if (entry?.type !== 'oauth') return fetch(input, init);
    if (!usable(entry) || entry.expires < Date.now()) entry = await refreshed(file, issuer, entry);
    const given = input instanceof Request ? input : undefined;
    const url = new URL(given ? given.url : input.toString());
    const toCodex = url.pathname.includes('/v1/responses') || url.pathname.includes('/chat/completions') || url.pathname.endsWith('/responses');
    const target = toCodex ? endpoint : url.toString();
    const send = (login: AuthEntry) => {
      const headers = headersOf(init ?? (given ? { headers: given.headers } : undefined));
      headers.set('authorization', `Bearer ${String(login.access)}`);
      if (typeof login.accountId === 'string' && login.accountId) headers.set('ChatGPT-Account-Id', login.accountId);
      const residency = toCodex ? residencyOf(String(login.access)) : undefined;
      if (residency) headers.set('x-openai-internal-codex-residency', residency);
      return fetch(target, { ...init, headers, ...(given && !init?.body ? { method: given.method, body: given.body } : {}) });
    };
    const res = await send(entry);
    if (res.status !== 401 || typeof init?.body !== 'string') return res;
    // Refused: renewed once (by whoever gets there first) and sent again.
    await res.body?.cancel().catch(() => undefined);
    return send(await refreshed(file, issuer, entry));
  };
}

/** The built-in plugin as builtin/index.ts loads it: given OpenCode's plugin input, of which it needs none. */
export async function CodexAuthPlugin(): Promise<PluginHooks> {
  const { version } = await import('../../cli/version.ts');
  return codexAuthPlugin({ env: process.env, version });
}

/** The built-in plugin (OpenCode's `CodexAuthPlugin`). */
export async function codexAuthPlugin(input: CodexInput): Promise<PluginHooks> {
  const env = input.env;
  const issuer = ISSUER;
  const file = authFile(env);
  const userAgent = `opencode/${input.version}`;
  return {
    // A browser login still waiting ends with the plugins (the server stops, the command exits).
    dispose() {
      callback.pending?.reject(loginFailed('the login was stopped'));
      callback.pending = undefined;
      stopCallbackServer();
    },
    provider: {
      id: PROVIDER,
      models(provider: { models?: Record<string, Json> }, context: { auth?: AuthEntry }) {
        const models = provider.models ?? {};
        if (context.auth?.type !== 'oauth') return models;
        return Object.fromEntries(
          Object.entries(models)
            .filter(([, model]) => {
              const api = isRecord(model.api) ? model.api : {};
              return chatgptServes(typeof api.id === 'string' ? api.id : String(model.id), isRecord(model.options) ? model.options : {});
            })
            .map(([key, model]) => [key, { ...model, cost: { input: 0, output: 0, cache: { read: 0, write: 0 } } }]),
        );
      },
    },
    auth: {
      provider: PROVIDER,
      async loader(getAuth: () => Promise<AuthEntry | undefined>) {
        const entry = await getAuth();
        if (entry?.type !== 'oauth') return {};
        return { apiKey: OAUTH_DUMMY_KEY, fetch: codexFetch(file, issuer, CODEX_URL, getAuth) };
      },
      methods: [
        { label: BROWSER, type: 'oauth', authorize: () => browserAuthorize(issuer) },
        { label: HEADLESS, type: 'oauth', authorize: () => headlessAuthorize(issuer, userAgent) },
        { label: API_KEY, type: 'api' },
      ],
    },
    async 'chat.headers'(hookInput: { sessionID: string; model: { providerID?: unknown } }, output: { headers: Record<string, string> }) {
      if (hookInput.model.providerID !== PROVIDER) return;
      output.headers.originator = 'opencode';
      output.headers['User-Agent'] = `${userAgent} (${os.platform()} ${os.release()}; ${os.arch()})`;
      output.headers['session-id'] = hookInput.sessionID;
    },
    async 'chat.params'(hookInput: { model: { providerID?: unknown } }, output: { maxOutputTokens?: number }) {
      if (hookInput.model.providerID !== PROVIDER) return;
      output.maxOutputTokens = undefined;
    },
  };
}
