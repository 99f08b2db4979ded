/**
 * The providers and models OpenCode's clients list to pick from (`/provider`, `/config/providers`,
 * v2 `/api/provider` and `/api/model`, ACP's model picker): the config's (catalog-view.ts) and
 * those logins offer beyond it (GitHub Copilot's list: plugins/builtin/copilot-offered.ts).
 */
import type { Config } from '../../config/schema-types.ts';
import { providersView, type OcProvider } from './catalog-view.ts';

export async function offeredProvidersView(config: Config, env: NodeJS.ProcessEnv): Promise<{ providers: OcProvider[]; default: Record<string, string> }> {
  // Imported when asked: in the run bundle, the Copilot login's side file (scripts/build-cli.ts).
  const { loginOffers } = await import('../../plugins/builtin/copilot-offered.ts');
  return providersView(config, env, await loginOffers(config, env));
}
