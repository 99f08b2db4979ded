/**
 * OpenCode's `disabled_providers` and `enabled_providers`: a disabled provider's models leave every
 * model chain, `models` and `doctor`; with `enabled_providers` set, only the providers it names stay.
 */
import type { Config } from '../config/schema-types.ts';

/** Why a provider is off (`disabled_providers` or `enabled_providers`), or undefined when it is on. */
export function providerOff(config: Readonly<Config>, id: string): 'disabled_providers' | 'enabled_providers' | undefined {
  if (config.disabled_providers?.includes(id)) return 'disabled_providers';
  if (config.enabled_providers && !config.enabled_providers.includes(id)) return 'enabled_providers';
  return undefined;
}
