/**
 * OpenCode's built-in (internal) plugins, as Pantheon has them: plugins of OpenCode's own shape (a
 * function given the plugin input, answering hooks) that come with the program. As OpenCode
 * 1.18.33 loads its internal plugins, they are the first plugins of every project (an external
 * plugin's login for the same provider wins; loaders merge in load order), `--pure` keeps them
 * (it turns off external plugins only), and `OPENCODE_DISABLE_DEFAULT_PLUGINS=1` leaves them out.
 *
 * Unlike OpenCode, each is loaded only when its provider is first used: a call to one of its
 * models, a login to it, or a listing of the login methods (plugins/load-plugins.ts). A run that
 * does not use the provider imports none of a built-in's code.
 */

/** A plugin function of OpenCode's shape (`Plugin` of `@opencode-ai/plugin`). */
export type BuiltinPluginFunction = (input: Record<string, unknown>) => unknown;

export interface BuiltinPlugin {
  /** The provider it serves: its hooks act on that provider's logins and model calls only. */
  provider: string;
  /** The plugin function, imported when the provider is first used. */
  load: () => Promise<BuiltinPluginFunction>;
}

/** The built-ins, in OpenCode's load order. */
export const BUILTIN_PLUGINS: readonly BuiltinPlugin[] = [
  { provider: 'openai', load: () => import('./codex-auth.ts').then((m) => m.CodexAuthPlugin) },
  { provider: 'github-copilot', load: () => import('./copilot-auth.ts').then((m) => m.CopilotAuthPlugin) },
];

/**
 * Providers whose built-in login says which models it offers (GitHub Copilot's list from Copilot):
 * with that login, a model the config does not declare is the login's to accept or refuse, not the config's.
 */
export const LOGIN_LISTED_PROVIDERS: readonly string[] = ['github-copilot'];

/** Whether the built-ins are on (`OPENCODE_DISABLE_DEFAULT_PLUGINS` turns them off, as in OpenCode). */
export function builtinsEnabled(env: NodeJS.ProcessEnv): boolean {
  const off = env.OPENCODE_DISABLE_DEFAULT_PLUGINS?.toLowerCase();
  return !(off === '1' || off === 'true');
}

/** The providers a built-in logs in to (none when they are off). */
export function builtinProviders(env: NodeJS.ProcessEnv): string[] {
  return builtinsEnabled(env) ? BUILTIN_PLUGINS.map((p) => p.provider) : [];
}
