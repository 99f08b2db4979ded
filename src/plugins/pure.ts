/** OpenCode's `OPENCODE_PURE` (also set by `--pure`): no plugins are loaded. */
export function isPure(env: NodeJS.ProcessEnv): boolean {
  const value = env.OPENCODE_PURE;
  return value === '1' || value?.toLowerCase() === 'true';
}
