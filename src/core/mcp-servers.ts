import type { Config } from '../config/schema-types.ts';
import type { McpManager } from '../mcp/manager.ts';
import type { McpWarning } from '../mcp/types.ts';
import type { McpInstructionSource, McpToolSource } from '../run/agent-tools.ts';

/** The MCP servers of one config: started when an agent first needs them, kept until `manager.shutdown()`. */
export interface McpServers {
  manager: McpManager;
  /**
   * The tool source for one run (a turn, a workflow run): its warnings — the manager's and those of
   * listing an agent's tools — go to `onWarning`, each once, until `close()`.
   */
  watch(onWarning: (warning: McpWarning) => void): { tools: McpToolSource; instructions: McpInstructionSource; close(): void };
}

/** The MCP servers' manager, when the config declares any (servers start when an agent needs them). */
export async function openMcp(config: Config, projectRoot: string): Promise<McpServers | undefined> {
  if (!config.mcp || Object.keys(config.mcp).length === 0) return undefined;
  return createMcp(config, projectRoot);
}

const created = new WeakMap<object, Promise<McpServers>>();
/** The MCP servers made for each config object (an instance's, a run's): what runs its MCP prompts as commands. */
const byConfig = new WeakMap<object, McpServers>();

/** The MCP servers made for this very config object (by openMcp or mcpServersOf), if any. */
export function mcpServersOfConfig(config: Readonly<Config>): McpServers | undefined {
  return byConfig.get(config);
}
/** Instances let go (closeMcpOf): a manager made for one afterwards is shut down at once. */
const closed = new WeakSet<object>();
const toolsChangedListeners = new Set<(projectRoot: string, server: string) => void>();

/**
 * Subscribes to every project's MCP tool changes (a server's tools listed anew after it said they
 * changed, or gone with its connection): `opencode serve` publishes OpenCode's `mcp.tools.changed`.
 */
export function onMcpToolsChanged(listener: (projectRoot: string, server: string) => void): () => void {
  toolsChangedListeners.add(listener);
  return () => toolsChangedListeners.delete(listener);
}

/**
 * Stops an instance's MCP servers as it is let go: those of a manager still being made for it (a
 * `POST /mcp` under way) too, and any made for it later, so no server outlives its instance.
 */
export async function closeMcpOf(instance: { mcp?: McpServers }): Promise<void> {
  closed.add(instance);
  const making = created.get(instance);
  const mcp = instance.mcp ?? (making ? await making.catch(() => undefined) : undefined);
  await mcp?.manager.shutdown();
}

/**
 * The MCP servers of a long-lived process's project, created (with none) when its config declares
 * none: a server added while the process runs (`POST /mcp`) needs a manager. Made once per instance.
 */
export function mcpServersOf(instance: { config: Config; projectRoot: string; mcp?: McpServers }): Promise<McpServers> {
  if (instance.mcp) return Promise.resolve(instance.mcp);
  let making = created.get(instance);
  if (!making) {
    making = createMcp(instance.config, instance.projectRoot).then(async (mcp) => {
      // Let go while it was made: it starts nothing (its servers are `failed`, the manager shut down).
      if (closed.has(instance)) await mcp.manager.shutdown();
      return (instance.mcp ??= mcp);
    });
    created.set(instance, making);
  }
  return making;
}

async function createMcp(config: Config, projectRoot: string): Promise<McpServers> {
  const [{ McpManager }, { trackMcpManager }, { toolsForAgent, instructionsForAgent }, { BUILTIN_TOOL_NAMES }] = await Promise.all([
    import('../mcp/manager.ts'),
    import('../mcp/process-servers.ts'),
    import('../mcp/agent-tools.ts'),
    import('../tools/index.ts'),
  ]);
  const manager = trackMcpManager(new McpManager(config.mcp, { cwd: projectRoot, reservedToolNames: [...BUILTIN_TOOL_NAMES, 'task'] }));
  manager.onToolsChanged((server) => {
    for (const listener of toolsChangedListeners) listener(projectRoot, server);
  });
  const servers: McpServers = {
    manager,
    watch(onWarning) {
      // The manager's own warnings and those of toolsForAgent overlap: each is shown once.
      const shown = new Set<string>();
      const once = (w: McpWarning): void => {
        if (shown.has(w.message)) return;
        shown.add(w.message);
        onWarning(w);
      };
      const off = manager.onWarning(once);
      return { tools: (agent) => toolsForAgent(config, agent, { manager, onWarning: once }), instructions: (agent) => instructionsForAgent(config, agent, manager), close: off };
    },
  };
  byConfig.set(config, servers);
  return servers;
}
