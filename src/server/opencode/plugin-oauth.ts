/**
 * OpenCode's provider login routes over a project's plugins, as OpenCode 1.18.33's ProviderAuth
 * serves them: `GET /provider/auth` lists each plugin `auth` hook's methods (type, label, prompts),
 * `POST /provider/{id}/oauth/authorize` runs an `oauth` method's `authorize(inputs)` (its prompts'
 * `validate` first) and keeps what it answered until `POST /provider/{id}/oauth/callback` finishes
 * it (`callback()`, or `callback(code)`), storing the login in auth.json under that provider.
 * Failures answer OpenCode's ProviderAuthError names; nothing a plugin said is answered raw but its
 * URL and instructions, which are the login's own.
 */
import { failed, loginMethods, messageOf, STEP_MS, store, WAIT_MS, within } from '../../auth/plugin-login.ts';
import type { PluginAuthHook, PluginHost } from '../../plugins/types.ts';

interface Pending {
  method: 'auto' | 'code';
  callback: (code?: string) => unknown;
  label: string;
}

const pendingBy = new WeakMap<PluginHost, Map<string, Pending>>();

/** The last plugin hook that logs in to `providerID` (OpenCode takes the last), when it has methods. */
export function loginHook(plugins: PluginHost | undefined, providerID: string): PluginAuthHook | undefined {
  const hook = plugins?.authHooks?.(providerID).at(-1);
  return loginMethods(hook).length ? hook : undefined;
}

/** The methods of each provider a plugin logs in to, in OpenCode's shape. */
export function pluginMethods(plugins: PluginHost | undefined): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const id of plugins?.authProviders?.() ?? []) {
    const hook = loginHook(plugins, id);
    if (!hook) continue;
    out[id] = loginMethods(hook).map((m) => ({ type: m.type, label: m.label, ...(Array.isArray(m.prompts) ? { prompts: (m.prompts as Record<string, unknown>[]).filter((p) => p && typeof p.key === 'string').map(shownPrompt) } : {}) }));
  }
  return out;
}

function shownPrompt(p: Record<string, unknown>): Record<string, unknown> {
  const when = p.when ? { when: p.when } : {};
  if (p.type === 'select') return { type: 'select', key: p.key, message: p.message, options: p.options, ...when };
  return { type: 'text', key: p.key, message: p.message, ...(p.placeholder ? { placeholder: p.placeholder } : {}), ...when };
}

export type AuthorizeAnswer = { url: string; method: 'auto' | 'code'; instructions: string } | null | { error: string; data: Record<string, unknown> };

/** Runs method `index`'s authorize(inputs); null for an `api` method, as OpenCode answers. */
export async function pluginAuthorize(plugins: PluginHost, hook: PluginAuthHook, providerID: string, index: number, inputs: Record<string, string> | undefined): Promise<AuthorizeAnswer> {
  const method = loginMethods(hook)[index];
  if (!method) return { error: 'ProviderAuthValidationFailed', data: { field: 'method', message: `expected the index of one of ${providerID}'s ${loginMethods(hook).length} login methods` } };
  if (method.type !== 'oauth' || typeof method.authorize !== 'function') return null;
  if (Array.isArray(method.prompts) && inputs) {
    for (const prompt of method.prompts as Record<string, unknown>[]) {
      if (!prompt || prompt.type !== 'text' || typeof prompt.validate !== 'function' || typeof prompt.key !== 'string' || inputs[prompt.key] === undefined) continue;
      const problem = (prompt.validate as (v: string) => unknown)(inputs[prompt.key] as string);
      if (typeof problem === 'string' && problem) return { error: 'ProviderAuthValidationFailed', data: { field: prompt.key, message: problem } };
    }
  }
  const authorize = method.authorize as (i?: Record<string, string>) => unknown;
  const label = method.label;
  const started = await within<Record<string, unknown>>(
    () => authorize(inputs),
    STEP_MS,
    () => failed(providerID, label, `did not start within ${STEP_MS / 1000} s`),
    (error) => failed(providerID, label, `failed to authorize: ${messageOf(error)}`),
  );
  if (!started || typeof started !== 'object' || typeof started.callback !== 'function') throw failed(providerID, label, 'answered no callback to finish the login');
  const kind = started.method === 'code' ? 'code' : 'auto';
  let pending = pendingBy.get(plugins);
  if (!pending) pendingBy.set(plugins, (pending = new Map()));
  pending.set(providerID, { method: kind, callback: started.callback as Pending['callback'], label });
  return { url: typeof started.url === 'string' ? started.url : '', method: kind, instructions: typeof started.instructions === 'string' ? started.instructions : '' };
}

/** Finishes the login `authorize` started; stores it under `providerID`. An error name of OpenCode's when it cannot. */
export async function pluginCallback(plugins: PluginHost, providerID: string, code: string | undefined, storeFile: string): Promise<{ error: string; data: Record<string, unknown> } | undefined> {
  const pending = pendingBy.get(plugins)?.get(providerID);
  if (!pending) return { error: 'ProviderAuthOauthMissing', data: { providerID } };
  if (pending.method === 'code' && !code) return { error: 'ProviderAuthOauthCodeMissing', data: { providerID } };
  const label = pending.label;
  const result = await within<unknown>(
    () => (pending.method === 'code' ? pending.callback(code) : pending.callback()),
    pending.method === 'code' ? STEP_MS : WAIT_MS,
    () => failed(providerID, label, 'did not finish in time'),
    (error) => failed(providerID, label, `failed to finish: ${messageOf(error)}`),
  );
  if (!result || typeof result !== 'object' || (result as { type?: unknown }).type !== 'success') return { error: 'ProviderAuthOauthCallbackFailed', data: {} };
  // OpenCode's route stores the login under the provider of the route, whatever the plugin names.
  const { provider: _named, ...rest } = result as Record<string, unknown>;
  await store(rest, providerID, label, storeFile);
  pendingBy.get(plugins)?.delete(providerID);
  return undefined;
}
