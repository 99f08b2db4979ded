/**
 * The plugins' `auth` hooks on a provider's requests, as OpenCode 1.18.33 applies them: when a
 * plugin has an `auth` hook for the provider, the hook has a `loader`, and auth.json holds an entry
 * for the provider (of any type: an OAuth login, a key), each such loader is called, in load order,
 * with `getAuth` (the provider's auth.json entry, read at each call) and the provider (its id, name,
 * options and models), once per project (a run's, a server instance's). What the loaders answer
 * (`{apiKey: "", fetch}`, typically) is merged into the provider's SDK options beneath the config's
 * own (providers/loader-options.ts): its `fetch` then makes every request of the provider, below
 * the scheduler's limits, retries and fallbacks. A loader that throws, or does not answer within
 * LOADER_MS, fails the call with one sentence naming the hook (PLUGIN_FAILED; the stored login's
 * values masked in it), and is tried again on the next turn (a gateway request: the next request).
 */
import { readAuthStoreFile, type AuthEntry } from '../auth/store.ts';
import { secretMasker } from '../config/secrets.ts';
import { authFile } from '../paths.ts';
import { PluginHookError } from './hook-error.ts';
import type { PluginAuthHook, PluginHost } from './types.ts';

/** How long the loaders of one provider may take, together. */
export const LOADER_MS = 30_000;

/** What resolveModel asks of the plugins about a provider (providers/resolve-model.ts). */
export interface ProviderAuth {
  /** Whether a plugin's loader serves the provider now: an `auth` hook with a loader, and an auth.json entry for it. */
  serves(providerId: string): boolean;
  /** The loaders' options for the provider, merged in load order (once per project; PLUGIN_FAILED when one fails). */
  options(providerId: string, provider: () => Record<string, unknown>): Promise<Record<string, unknown>>;
  /**
   * The credential of the provider's auth.json entry (its token or key) as one string, for the
   * scheduler's refused-key cooldown: a login made again is a new credential, not the refused one.
   */
  credential(providerId: string): string | undefined;
  /**
   * One model as the plugins' `provider.models` hooks for the provider answer it, given its
   * auth.json entry (OpenCode's ProviderHook): `model` undefined when a hook leaves it out (the
   * ChatGPT login serves only some OpenAI models), with the other models the last hook answered
   * (`offered`: GitHub Copilot's list); the model as given when no plugin has such a hook.
   */
  listed(providerId: string, key: string, model: Record<string, unknown>, provider: () => Record<string, unknown>): Promise<{ model?: Record<string, unknown>; offered: string[] }>;
}

type Loader = (getAuth: () => Promise<AuthEntry | undefined>, provider: Record<string, unknown>) => unknown;

const loaded = new WeakMap<PluginHost, Map<string, Promise<Record<string, unknown>>>>();

function loadersOf(host: PluginHost, providerId: string): Loader[] {
  return (host.authHooks?.(providerId) ?? []).flatMap((hook: PluginAuthHook) => (typeof hook.loader === 'function' ? [hook.loader as Loader] : []));
}

/** The provider's auth.json entry now (a copy), or undefined: what a loader's `getAuth` answers. */
export function storedEntry(providerId: string, env: NodeJS.ProcessEnv): AuthEntry | undefined {
  const entry = readAuthStoreFile(authFile(env)).entries[providerId];
  return entry && typeof entry === 'object' ? structuredClone(entry) : undefined;
}

/** The plugins' auth loaders of a project, or undefined when none of its plugins has one. */
export function providerAuthOf(host: PluginHost | undefined, env: NodeJS.ProcessEnv = process.env): ProviderAuth | undefined {
  if (!host?.authHooks) return undefined;
  return {
    // A built-in plugin of the provider (not loaded yet, or loaded) counts as a loader.
    serves: (providerId) => (loadersOf(host, providerId).length > 0 || (host.builtinProviders?.().includes(providerId) ?? false)) && storedEntry(providerId, env) !== undefined,
    credential(providerId) {
      const entry = storedEntry(providerId, env);
      if (!entry) return undefined;
      const parts = [entry.type, entry.key, entry.refresh, entry.access].filter((v): v is string => typeof v === 'string' && v !== '');
      return parts.length ? parts.join('\u0000') : undefined;
    },
    options(providerId, provider) {
      let byProvider = loaded.get(host);
      if (!byProvider) loaded.set(host, (byProvider = new Map()));
      const found = byProvider.get(providerId);
      if (found) return found;
      const made = Promise.resolve(host.loadBuiltins?.(providerId))
        .then(() => runLoaders(loadersOf(host, providerId), () => Promise.resolve(storedEntry(providerId, env)), provider, LOADER_MS))
        .catch((error: unknown) => {
          throw withoutStoredSecrets(error, storedEntry(providerId, env));
        });
      byProvider.set(providerId, made);
      const entries = byProvider;
      // A loader that failed is called again next time (its plugin may have been waiting on a login).
      made.catch(() => entries.get(providerId) === made && entries.delete(providerId));
      return made;
    },
    async listed(providerId, key, model, provider) {
      // The provider's built-in plugin (the ChatGPT login's model list) answers once it is loaded.
      await host.loadBuiltins?.(providerId);
      let answer: Record<string, unknown> | undefined = model;
      let offered: string[] = [];
      for (const hook of host.providerHooks?.(providerId) ?? []) {
        if (typeof hook.models !== 'function' || !answer) continue;
        const auth = storedEntry(providerId, env);
        let models: unknown;
        try {
          models = await (hook.models as (p: unknown, c: unknown) => unknown)({ ...provider(), models: { [key]: answer } }, auth ? { auth } : {});
        } catch (error) {
          throw withoutStoredSecrets(new PluginHookError('provider.models', error), auth);
        }
        answer = isRecord(models) && isRecord(models[key]) ? models[key] : undefined;
        offered = isRecord(models) ? Object.keys(models).filter((name) => name !== key && isRecord(models[name])) : [];
      }
      return answer ? { model: answer, offered } : { offered };
    },
  };
}

/**
 * A loader's failure with the provider's stored login masked in what it says: a plugin that puts its
 * token in its error (`refresh failed for <token>`) has it shown as `abcd…wxyz` at most, as keys are.
 */
function withoutStoredSecrets(error: unknown, entry: AuthEntry | undefined): unknown {
  if (!(error instanceof Error) || !entry) return error;
  const mask = secretMasker(Object.entries(entry).flatMap(([name, value]) => (name !== 'type' && typeof value === 'string' ? [value] : [])));
  error.message = mask(error.message);
  return error;
}

/**
 * Calls each loader in turn, within `ms` for them all, and merges what they answer (a later one's
 * option replacing an earlier one's; `headers` merged). Nothing (`null`, `undefined`) is no options.
 */
export async function runLoaders(loaders: readonly Loader[], getAuth: () => Promise<AuthEntry | undefined>, provider: () => Record<string, unknown>, ms: number): Promise<Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`it did not answer within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  const all = (async () => {
    let merged: Record<string, unknown> = {};
    for (const loader of loaders) {
      const answer = await loader(getAuth, provider());
      if (answer === null || answer === undefined) continue;
      if (typeof answer !== 'object' || Array.isArray(answer)) throw new Error(`it answered ${Array.isArray(answer) ? 'a list' : typeof answer}, not an object of provider options`);
      const given = answer as Record<string, unknown>;
      const headers = isRecord(merged.headers) && isRecord(given.headers) ? { ...merged.headers, ...given.headers } : undefined;
      merged = { ...merged, ...given, ...(headers ? { headers } : {}) };
    }
    return merged;
  })();
  // The hung loader keeps running; what it throws later is not reported twice.
  all.catch(() => undefined);
  try {
    return await Promise.race([all, late]);
  } catch (error) {
    throw new PluginHookError('auth.loader', error);
  } finally {
    clearTimeout(timer);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
