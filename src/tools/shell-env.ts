import { knownProvider, knownProviderIds } from '../providers/catalog.ts';

const SECRET_NAME = /(?:^|_)(?:API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$/i;

/**
 * The environment a model's `bash` command gets: the user's, minus anything that looks like a
 * credential (`*_API_KEY`, `*_TOKEN`, `*_SECRET`, `*_PASSWORD`, the catalogue's key variables) and
 * any variable whose value is one of `secrets` (the config's, whatever the variable is called:
 * `"apiKey": "{env:LLM_AUTH}"`), so a model running `env` or `printenv` never sees provider keys.
 */
export function shellEnv(env: NodeJS.ProcessEnv, secrets: readonly string[] = []): NodeJS.ProcessEnv {
  const known = new Set(knownProviderIds().flatMap((id) => knownProvider(id)?.env ?? []));
  const held = new Set(secrets);
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (known.has(name) || SECRET_NAME.test(name) || (value !== undefined && held.has(value))) continue;
    out[name] = value;
  }
  return out;
}
