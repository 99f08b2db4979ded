import type { Config } from '../config/schema-types.ts';

export interface Subagent {
  name: string;
  description?: string;
}

/** Agents that may be delegated to: not disabled and not `primary`-only, sorted by name. */
export function subagents(config: Config): Subagent[] {
  return Object.entries(config.agent ?? {})
    .filter(([, a]) => !a.disable && a.mode !== 'primary')
    .map(([name, a]) => ({ name, ...(a.description ? { description: a.description } : {}) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
