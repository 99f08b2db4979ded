import type { Config } from '../config/schema-types.ts';

export interface Subagent {
  name: string;
  description?: string;
}

/**
 * Agents that may be delegated to: not disabled and not `primary`-only, sorted by name (code-unit
 * order: `localeCompare` would load ICU's collator, ~30–90 ms of every run's start-up).
 */
export function subagents(config: Config): Subagent[] {
  return Object.entries(config.agent ?? {})
    .filter(([, a]) => !a.disable && a.mode !== 'primary')
    .map(([name, a]) => ({ name, ...(a.description ? { description: a.description } : {}) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
