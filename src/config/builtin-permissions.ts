/**
 * OpenCode's order for a built-in agent's permission: the agent's built-in rules, then the user's
 * top-level `permission`, then the user's own rules for that agent. Merged as layers, the built-in
 * defaults' agent rules would sit over the user's top level (an agent's own rule beats the top
 * level's), so `"permission": {"bash": "allow"}` would never reach `build` or `sisyphus`. Here a
 * built-in agent's `ask` or `allow` for a tool the user's top level also governs is taken out of the
 * merged agent, unless the user's own layers set that tool for that agent too. A built-in `deny`
 * (or a pattern list) stays: it is what the agent is (reviewers and planners change nothing), where
 * OpenCode would let a top-level `edit: allow` make even `plan` edit.
 */
import type { ConfigLayer } from './layer.ts';
import { isPlainObject } from './jsonc.ts';
import { matchesWildcard } from '../permissions/wildcard.ts';

/** The tools a `permission` value governs: every one for an action alone, else its keys (which may be wildcards). */
function governed(permission: unknown): { all: boolean; keys: string[] } {
  if (typeof permission === 'string') return { all: true, keys: [] };
  return { all: false, keys: isPlainObject(permission) ? Object.keys(permission) : [] };
}

function agentPermission(layer: ConfigLayer, name: string): unknown {
  const agents = layer.data.agent;
  const agent = isPlainObject(agents) ? agents[name] : undefined;
  return isPlainObject(agent) ? agent.permission : undefined;
}

export function builtinAgentRulesUnderTopLevel(merged: Record<string, unknown>, layers: readonly ConfigLayer[]): void {
  const builtin = layers.filter((l) => l.kind === 'default');
  const user = layers.filter((l) => l.kind !== 'default');
  const top = user.map((l) => governed(l.data.permission));
  if (!top.some((t) => t.all || t.keys.length > 0)) return;
  const coversTool = (tool: string) => top.some((t) => t.all || t.keys.some((key) => key === tool || matchesWildcard(tool, key)));
  const agents = merged.agent;
  if (!isPlainObject(agents)) return;
  for (const [name, agent] of Object.entries(agents)) {
    if (!isPlainObject(agent) || !isPlainObject(agent.permission)) continue;
    const rules = agent.permission;
    const own = user.map((l) => governed(agentPermission(l, name)));
    if (own.some((o) => o.all)) continue;
    const ownKeys = new Set(own.flatMap((o) => o.keys));
    for (const layer of builtin) {
      const given = agentPermission(layer, name);
      for (const tool of governed(given).keys) {
        const rule = (given as Record<string, unknown>)[tool];
        if ((rule === 'ask' || rule === 'allow') && !ownKeys.has(tool) && coversTool(tool)) delete rules[tool];
      }
    }
  }
}
