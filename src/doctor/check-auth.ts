/**
 * auth: a key for every provider an agent uses (never shown), and the credential store's
 * permissions (auth.json 0600, its folder 0700).
 */
import path from 'node:path';
import { isPantheonError } from '../errors.ts';
import { authFile } from '../paths.ts';
import type { DoctorContext } from './context.ts';
import { isShared, modeOf, octal } from './modes.ts';
import { keyHint, providerUsable, type ProviderInfo, type Usage } from './usage.ts';
import { resultsFor, type CheckResult } from './types.ts';
import { listAgents } from './words.ts';

const r = resultsFor('auth');
const FIX = 'or run `opencode doctor --fix`';

async function store(ctx: DoctorContext): Promise<CheckResult[]> {
  const file = authFile(ctx.env);
  const dir = path.dirname(file);
  const results: CheckResult[] = [];
  const fileMode = await modeOf(file);
  if (ctx.storeError) {
    const message = isPantheonError(ctx.storeError) ? ctx.storeError.message : String(ctx.storeError);
    results.push(r.fail('store', message, { hint: 'Fix or remove the file, then `opencode auth login` again (doctor never rewrites it).' }));
  } else if (fileMode === undefined) {
    results.push(r.ok('store', `no ${file} yet (keys come from the config or the environment)`));
  } else if (isShared(fileMode)) {
    results.push(r.warn('store', `${file} is ${octal(fileMode)}: others may read your keys`, { hint: `chmod 600 ${file}, ${FIX}.` }));
  } else {
    results.push(r.ok('store', `${file} (${octal(fileMode)})`));
  }
  const dirMode = await modeOf(dir);
  if (dirMode !== undefined && fileMode !== undefined) {
    if (isShared(dirMode)) results.push(r.warn('store folder', `${dir} is ${octal(dirMode)}, not 0700`, { hint: `chmod 700 ${dir}, ${FIX}.` }));
    else results.push(r.ok('store folder', `${dir} (${octal(dirMode)})`));
  }
  return results;
}

function sourceOf(info: ProviderInfo): string {
  switch (info.credential.source) {
    case 'config':
      return `key set in the config (provider.${info.id}.options.apiKey)`;
    case 'auth.json':
      return info.credential.oauth ? 'logged in (OAuth login in auth.json, used by the built-in login)' : 'key in auth.json';
    case 'env':
      return `key from $${info.credential.from ?? '?'}`;
    default:
      return 'no key';
  }
}

/** Agents using this provider whose chain has no other provider that has (or may not need) a key. */
function dependents(info: ProviderInfo, usage: Usage): string[] {
  return usage.chains
    .filter(({ chain }) => chain.some((ref) => ref.provider === info.id))
    .filter(({ chain }) => !chain.some((ref) => ref.provider !== info.id && providerUsable(usage, ref.provider) !== false))
    .map(({ agent }) => agent);
}

function credential(info: ProviderInfo, usage: Usage, store: DoctorContext['store']): CheckResult {
  const users = `used by ${listAgents(info.agents)}`;
  if (info.credential.key) return r.ok(info.id, `${sourceOf(info)}; ${users}`);
  if (info.needsKey === false) return r.ok(info.id, `needs no key (local server); ${users}`);
  // A login a plugin made (opencode-gemini-auth's): the plugin's auth hook uses it, if the project has the plugin.
  if (info.login) return r.ok(info.id, `${info.login}; ${users}`);
  const login = store[info.id]?.type;
  if (login === 'oauth' || login === 'wellknown') {
    return r.warn(info.id, `no key; auth.json holds a "${login}" login, which only a project plugin's auth hook for ${info.id} uses; ${users}`, {
      hint: `Keep the plugin in the config's "plugin" list (docs/plugins.md), or run \`opencode auth login ${info.id}\` to store a key.`,
    });
  }
  if (info.needsKey === undefined) {
    return r.warn(info.id, `no key found (fine if the server needs none); ${users}`, { hint: keyHint(info) });
  }
  const stuck = dependents(info, usage);
  if (stuck.length === 0) return r.warn(info.id, `no key: chains skip it and use their other providers; ${users}`, { hint: keyHint(info) });
  return r.fail(info.id, `no key, and nothing else in the chain of ${listAgents(stuck)}`, { hint: keyHint(info) });
}

export async function checkAuth(ctx: DoctorContext): Promise<CheckResult[]> {
  const results = await store(ctx);
  if (!ctx.usage) {
    results.push(r.skip('credentials', 'not checked: the config did not load (see config)'));
    return results;
  }
  const providers = [...ctx.usage.providers.values()];
  if (providers.length === 0) results.push(r.ok('credentials', 'no agent names a provider'));
  for (const info of providers) results.push(credential(info, ctx.usage, ctx.store));
  return results;
}
