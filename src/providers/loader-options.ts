/**
 * A provider's SDK settings with what the plugins' auth loaders answered (plugins/auth-loader.ts),
 * merged as OpenCode 1.18.33 merges them: the loaders' options over the catalogue's and the stored
 * key, the config's own `options` over both (a configured `apiKey` or `baseURL` wins). Their
 * `fetch` makes the provider's requests (marked for the scheduler's spacing, as any fetch is), an
 * `apiKey` of "" sends no key of Pantheon's (the fetch adds its own token), `headers` are added
 * beneath the config's, and any other option goes to the provider package's factory as given.
 */
import type { ProviderConfig } from '../config/schema-types.ts';
import { PluginHookError } from '../plugins/hook-error.ts';
import { markingSends } from '../scheduler/lease.ts';
import type { ModelBuildSpec } from './build-model.ts';
import { checkHeaders } from './header-check.ts';

export function withLoaderOptions(spec: ModelBuildSpec, given: Record<string, unknown>, configured: ProviderConfig['options'] = {}): ModelBuildSpec {
  const { apiKey, baseURL, headers, fetch, ...settings } = given;
  const out: ModelBuildSpec = { ...spec, settings: { ...spec.settings, ...settings } };
  if (!configured.apiKey && typeof apiKey === 'string') {
    if (apiKey) out.apiKey = apiKey;
    else {
      delete out.apiKey;
      (out.settings as Record<string, unknown>).apiKey = '';
    }
  }
  if (!configured.baseURL && typeof baseURL === 'string' && baseURL) out.baseURL = baseURL;
  if (headers !== null && typeof headers === 'object' && !Array.isArray(headers)) {
    const added = Object.fromEntries(Object.entries(headers).flatMap(([name, value]) => (typeof value === 'string' || typeof value === 'number' ? [[name, String(value)]] : [])));
    try {
      checkHeaders(added, 'its answer');
    } catch (error) {
      throw new PluginHookError('auth.loader', error);
    }
    out.headers = { ...added, ...spec.headers };
  }
  if (typeof fetch === 'function') out.fetch = markingSends(fetch as typeof globalThis.fetch);
  return out;
}

/**
 * The provider as a loader gets it (OpenCode's `Provider`: id, name, source, env, options, models).
 * A copy each time: what a loader changes in it (gemini-auth sets its models' cost to 0) is not read back.
 */
export function loaderProvider(id: string, declared: ProviderConfig | undefined, known: { name?: string; npm?: string } | undefined, npm: string, baseURL: string | undefined, envNames: readonly string[]): Record<string, unknown> {
  const models = Object.fromEntries(
    Object.entries(declared?.models ?? {}).map(([key, m]) => [
      key,
      {
        id: key,
        providerID: id,
        name: m.name ?? key,
        api: { id: m.id ?? key, npm, url: baseURL ?? '' },
        cost: { input: m.cost?.input ?? 0, output: m.cost?.output ?? 0, cache: { read: m.cost?.cache_read ?? 0, write: m.cost?.cache_write ?? 0 } },
        limit: { context: m.limit?.context ?? 0, output: m.limit?.output ?? 0 },
        options: structuredClone(m.options ?? {}),
        headers: { ...m.headers },
      },
    ]),
  );
  return { id, name: declared?.name ?? known?.name ?? id, source: declared ? 'config' : 'custom', env: [...envNames], options: structuredClone(declared?.options ?? {}), models };
}
