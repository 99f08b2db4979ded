/**
 * `opencode auth login <provider>` through a plugin's `auth` hook, as OpenCode 1.18.33's `providers
 * login` runs it: the last plugin whose hook serves the provider offers its `methods` (`--method`
 * names one by its label; one method is taken as it is; a terminal chooses among several), each
 * method's `prompts` are asked (a `when` rule, or a `condition`, may skip one), then:
 * - `oauth`: `authorize(inputs)` gives a URL to open (printed) and instructions; `auto` waits for
 *   its `callback()`, `code` asks for the code the page shows and hands it to `callback(code)`;
 * - `api`: the key is asked (or read with --key-stdin); a method's `authorize(inputs)` may check it.
 * A success is stored in OpenCode's auth.json as OpenCode stores it (`{type: "oauth", refresh,
 * access, expires, …}` or `{type: "api", key, metadata?}`), under the provider the plugin names
 * (else the one logged in to). What the plugin says is never printed raw: the CLI escapes it.
 */
import { PantheonError } from '../errors.ts';
import type { PluginAuthHook } from '../plugins/types.ts';
import { loginEntry } from './login-entry.ts';
import { saveApiKey, updateEntry, type AuthEntry } from './store.ts';

/** How long `authorize()` and a code's `callback(code)` may take (they start a server, or trade the code for tokens). */
export const STEP_MS = 60_000;
/** How long an `auto` login waits for the person to finish in the browser. */
export const WAIT_MS = 10 * 60_000;

export interface PluginLoginIO {
  /** Asks a question whose answer is text (a prompt's, the OAuth code). */
  text(message: string, validate?: (value: string) => string | undefined): Promise<string>;
  /** Asks to choose one of `options`; resolves to the chosen value. */
  select(message: string, options: readonly { label: string; value: string; hint?: string }[]): Promise<string>;
  /** The API key (masked prompt, or stdin), trimmed and checked. */
  key(): Promise<string>;
  /** A line for the person (the URL to open, the plugin's instructions). */
  info(line: string): void;
}

export interface PluginLoginResult {
  /** The provider the credential was stored for. */
  provider: string;
  type: 'oauth' | 'api';
  /** The API key stored (the CLI shows it masked). */
  key?: string;
  method: string;
}

interface Prompt {
  type?: unknown;
  key?: unknown;
  message?: unknown;
  options?: unknown;
  validate?: unknown;
  condition?: unknown;
  when?: { key?: unknown; op?: unknown; value?: unknown };
}

interface Method {
  type: 'oauth' | 'api';
  label: string;
  prompts?: unknown;
  authorize?: unknown;
}

const PROVIDER_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** The hook's usable methods (an `oauth` or `api` type, a label). */
export function loginMethods(hook: PluginAuthHook | undefined): Method[] {
  if (!hook || !Array.isArray(hook.methods)) return [];
  return (hook.methods as unknown[]).filter((m): m is Method => m !== null && typeof m === 'object' && ((m as Method).type === 'oauth' || (m as Method).type === 'api') && typeof (m as Method).label === 'string');
}

export function failed(provider: string, label: string, what: string): PantheonError {
  return new PantheonError('PLUGIN_FAILED', `auth login ${provider}: the plugin's login method "${label}" ${what}; nothing was saved.`, {
    hint: 'Try again; if it goes on failing, see the plugin\'s own documentation (or run with --pure to log in with a key instead).',
  });
}

export async function within<T>(work: () => unknown, ms: number, onLate: () => PantheonError, onError: (error: unknown) => PantheonError): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onLate()), ms);
    timer.unref();
  });
  const run = Promise.resolve().then(work);
  run.catch(() => undefined);
  try {
    return (await Promise.race([run, late])) as T;
  } catch (error) {
    throw error instanceof PantheonError ? error : onError(error);
  } finally {
    clearTimeout(timer);
  }
}

export function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n')[0] ?? '').slice(0, 300) || 'no message';
}

/** The method `--method` names (by label, any case), the only one, or the one chosen. */
async function chooseMethod(methods: Method[], provider: string, wanted: string | undefined, io: PluginLoginIO): Promise<Method> {
  if (wanted !== undefined) {
    const found = methods.find((m) => m.label.toLowerCase() === wanted.toLowerCase());
    if (!found) {
      throw new PantheonError('USAGE', `auth login: unknown method "${wanted}" for ${provider}.`, { hint: `Available: ${methods.map((m) => m.label).join(', ')}.` });
    }
    return found;
  }
  if (methods.length === 1) return methods[0] as Method;
  const value = await io.select(
    'Login method',
    methods.map((m, i) => ({ label: m.label, value: String(i) })),
  );
  return methods[Number(value)] as Method;
}

/** The answers to a method's prompts, as OpenCode asks them. */
async function askPrompts(method: Method, io: PluginLoginIO): Promise<Record<string, string>> {
  const inputs: Record<string, string> = {};
  if (!Array.isArray(method.prompts)) return inputs;
  for (const prompt of method.prompts as Prompt[]) {
    if (!prompt || typeof prompt.key !== 'string') continue;
    const when = prompt.when;
    if (when && typeof when.key === 'string') {
      const given = inputs[when.key];
      if (given === undefined) continue;
      if (when.op === 'eq' ? given !== when.value : given === when.value) continue;
    }
    if (typeof prompt.condition === 'function' && !(prompt.condition as (i: Record<string, string>) => unknown)(inputs)) continue;
    const message = typeof prompt.message === 'string' ? prompt.message : prompt.key;
    if (prompt.type === 'select' && Array.isArray(prompt.options)) {
      const options = (prompt.options as { label?: unknown; value?: unknown; hint?: unknown }[]).filter((o) => o && typeof o.value === 'string').map((o) => ({ label: typeof o.label === 'string' ? o.label : String(o.value), value: o.value as string, ...(typeof o.hint === 'string' ? { hint: o.hint } : {}) }));
      inputs[prompt.key] = await io.select(message, options);
      continue;
    }
    const validate = typeof prompt.validate === 'function' ? (value: string) => (prompt.validate as (v: string) => string | undefined)(value) : undefined;
    inputs[prompt.key] = await io.text(message, validate);
  }
  return inputs;
}

/** What a success names as its provider, else the one logged in to. */
function targetOf(result: Record<string, unknown>, provider: string): string {
  return typeof result.provider === 'string' && PROVIDER_ID.test(result.provider) ? result.provider : provider;
}

/** Stores a success (`refresh`: an OAuth login; `key`: an API key) as OpenCode stores it. */
export async function store(result: Record<string, unknown>, provider: string, label: string, storeFile: string): Promise<PluginLoginResult> {
  const target = targetOf(result, provider);
  if ('refresh' in result) {
    const { type: _type, provider: _provider, ...fields } = result;
    const checked = loginEntry({ ...fields, type: 'oauth' });
    if ('problem' in checked) throw failed(provider, label, `answered a login whose field "${checked.field}" is not usable (${checked.problem})`);
    // The login's other fields are kept, as OpenCode keeps them (a plugin reads them back through getAuth).
    const extra = Object.fromEntries(Object.entries(fields).filter(([name, value]) => !(name in checked.entry) && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')));
    const entry: AuthEntry = { ...checked.entry, ...extra };
    await updateEntry(storeFile, target, () => entry);
    return { provider: target, type: 'oauth', method: label };
  }
  if (typeof result.key === 'string' && result.key) {
    const metadata = stringRecord(result.metadata);
    await saveApiKey(storeFile, target, result.key, metadata);
    return { provider: target, type: 'api', key: result.key, method: label };
  }
  throw failed(provider, label, 'answered a success with neither tokens nor a key');
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const entries = Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string');
  return entries.length ? Object.fromEntries(entries) : undefined;
}

/** Logs in to `provider` through the plugin's hook; what was stored. */
export async function pluginLogin(hook: PluginAuthHook, provider: string, wanted: string | undefined, io: PluginLoginIO, storeFile: string): Promise<PluginLoginResult> {
  const methods = loginMethods(hook);
  const method = await chooseMethod(methods, provider, wanted, io);
  const label = method.label;
  const inputs = await askPrompts(method, io);
  const error = (error: unknown) => failed(provider, label, `failed to authorize: ${messageOf(error)}`);
  if (method.type === 'oauth') {
    if (typeof method.authorize !== 'function') throw failed(provider, label, 'has no authorize()');
    const authorize = method.authorize as (i: Record<string, string>) => unknown;
    const started = await within<Record<string, unknown>>(() => authorize(inputs), STEP_MS, () => failed(provider, label, `did not start within ${STEP_MS / 1000} s`), error);
    if (!started || typeof started !== 'object' || typeof started.callback !== 'function') throw failed(provider, label, 'answered no callback to finish the login');
    const callback = started.callback as (code?: string) => unknown;
    if (typeof started.url === 'string' && started.url) io.info(`Go to: ${started.url}`);
    let result: unknown;
    if (started.method === 'code') {
      const code = await io.text('Paste the authorization code here: ', (v) => (v.trim() ? undefined : 'Required'));
      result = await within(() => callback(code.trim()), STEP_MS, () => failed(provider, label, `did not finish within ${STEP_MS / 1000} s of the code`), error);
    } else {
      if (typeof started.instructions === 'string' && started.instructions) io.info(started.instructions);
      io.info('Waiting for authorization...');
      result = await within(() => callback(), WAIT_MS, () => failed(provider, label, `was not completed within ${WAIT_MS / 60_000} minutes`), error);
    }
    if (!result || typeof result !== 'object' || (result as { type?: unknown }).type !== 'success') throw new PantheonError('PROVIDER_AUTH', `auth login ${provider}: failed to authorize ("${label}"); nothing was saved.`, { hint: 'Start the login again, and finish it in the browser (or paste the whole code).' });
    return store(result as Record<string, unknown>, provider, label, storeFile);
  }
  const key = await io.key();
  if (typeof method.authorize !== 'function') {
    await saveApiKey(storeFile, provider, key, Object.keys(inputs).length ? inputs : undefined);
    return { provider, type: 'api', key, method: label };
  }
  const authorize = method.authorize as (i: Record<string, string>) => unknown;
  const result = await within<Record<string, unknown> | undefined>(() => authorize(inputs), STEP_MS, () => failed(provider, label, `did not answer within ${STEP_MS / 1000} s`), error);
  if (!result || result.type !== 'success') throw new PantheonError('PROVIDER_AUTH', `auth login ${provider}: the plugin refused the key ("${label}"); nothing was saved.`, { hint: 'Check that the whole key was pasted.' });
  const metadata = { ...inputs, ...stringRecord(result.metadata) };
  return store({ key: typeof result.key === 'string' && result.key ? result.key : key, ...(Object.keys(metadata).length ? { metadata } : {}), ...(typeof result.provider === 'string' ? { provider: result.provider } : {}) }, provider, label, storeFile);
}
