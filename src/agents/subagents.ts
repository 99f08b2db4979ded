import type { Config } from '../config/schema-types.ts';
import { byCodeUnit } from '../icu-free.ts';

export interface Subagent {
  name: string;
  description?: string;
}

/**
 * Agents that may be delegated to: not disabled and not `primary`-only, sorted by name (code-unit
 * order: icu-free.ts).
 */
export function subagents(config: Config): Subagent[] {
  return Object.entries(config.agent ?? {})
    .filter(([, a]) => !a.disable && a.mode !== 'primary')
    .map(([name, a]) => ({ name, ...(a.description ? { description: a.description } : {}) }))
    .sort((a, b) => byCodeUnit(a.name, b.name));
}
