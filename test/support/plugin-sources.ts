/**
 * Source text shared by the tests' plugin files (written into a sandbox's `.opencode/plugin/`).
 */

/**
 * An `auth` hook's `loader` (as the text of an object method) whose fetch sends the stored login's
 * `access` token as a Bearer key, and `x-served-by: <servedBy>` when given, so that a scripted
 * provider that requires the token shows the request went through the plugin.
 */
export function tokenLoader(servedBy?: string): string {
  const mark = servedBy === undefined ? '' : `\n          headers.set("x-served-by", ${JSON.stringify(servedBy)})`;
  return `async loader(getAuth) {
      return {
        apiKey: "",
        async fetch(input, init) {
          const auth = await getAuth()
          const headers = new Headers(init && init.headers)
          headers.set("authorization", "Bearer " + auth.access)${mark}
          return fetch(input, { ...init, headers })
        },
      }
    },`;
}

/** oh-my-opencode's agent assembly: its own agents under display names, the entries it owns dropped, its default agent. */
export const AGENTS_HOOK = `export const Agents = async () => ({
  config: async (config) => {
    const mine = new Set(["sisyphus", "prometheus", "metis", "momus", "atlas", "oracle", "librarian", "explore", "multimodal-looker", "sisyphus-junior"])
    const kept = Object.fromEntries(Object.entries(config.agent ?? {}).filter(([name]) => !mine.has(name)))
    config.agent = {
      "Sisyphus - ultraworker": { mode: "primary", description: "The plugin's orchestrator", prompt: "You are the plugin's Sisyphus." },
      "Momus - Plan Critic": { mode: "subagent", description: "The plugin's critic", prompt: "You are the plugin's Momus." },
      oracle: { mode: "subagent", description: "The plugin's oracle", prompt: "You are the plugin's oracle." },
      explore: { mode: "subagent", description: "The plugin's explore" },
      ...kept,
      build: { ...kept.build, mode: "subagent", hidden: true },
    }
    config.default_agent = "Sisyphus - ultraworker"
    config.command = { ...config.command, "start-work": { description: "Start work", agent: "Sisyphus - ultraworker", template: "Start working on $ARGUMENTS" } }
  },
})
`;
