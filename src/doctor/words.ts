/** Small wording helpers for doctor's one-line messages. */

/** `3 s`, `1.5 s`, `250 ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  return rest ? `${m} min ${rest} s` : `${m} min`;
}

export function plural(n: number, noun: string, many = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : many}`;
}

/** `a, b, c, d (+8 more)` */
export function listNames(names: readonly string[], max = 4): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} (+${names.length - max} more)`;
}

/** `oracle`, or `12 agents (atlas, explore, metis (+9 more))` */
export function listAgents(agents: readonly string[]): string {
  return agents.length <= 3 ? agents.join(', ') : `${agents.length} agents (${listNames(agents, 3)})`;
}
