/**
 * What `opencode run` says when `--agent` names a built-in agent a plugin's `config` hook replaced
 * (oh-my-opencode's `sisyphus`): OpenCode has no such agent then, says so and runs the default
 * agent. The same words for a local run and `run --attach` (the server's warning).
 */
export function replacedAgentWarning(name: string, fallback: string | undefined): string {
  return `agent "${name}" not found: a plugin's config hook replaced it. Falling back to default agent${fallback ? ` "${fallback}"` : ''}, as OpenCode does.`;
}
