/**
 * The MCP tools an agent may use: the servers named in `agent.<name>.mcp` (default: every enabled
 * server), started lazily through the process-wide manager. An agent with no servers to use
 * loads nothing of MCP (no manager, no SDK) and starts nothing.
 */
import type { Tool } from 'ai';
import type { Config } from '../config/schema-types.ts';
import type { McpManager } from './manager.ts';
import type { McpInstructions, McpWarning } from './types.ts';

/**
 * The servers an agent may use: its `mcp` list (unknown and disabled names dropped), else every
 * enabled server. `servers`: the servers and their switches (default the config's; a long-lived
 * server's manager knows those added, connected and disconnected since).
 */
export function mcpServersForAgent(
  config: Config,
  agentName: string | undefined,
  servers: Readonly<Record<string, { enabled?: boolean | undefined }>> = config.mcp ?? {},
): { servers: string[]; unknown: string[]; disabled: string[] } {
  const configured = servers;
  const listed = agentName === undefined ? undefined : config.agent?.[agentName]?.mcp;
  const enabled = (name: string) => configured[name]?.enabled !== false;
  if (listed === undefined) return { servers: Object.keys(configured).filter(enabled), unknown: [], disabled: [] };
  const unique = [...new Set(listed)];
  return {
    servers: unique.filter((n) => Object.hasOwn(configured, n) && enabled(n)),
    unknown: unique.filter((n) => !Object.hasOwn(configured, n)),
    disabled: unique.filter((n) => Object.hasOwn(configured, n) && !enabled(n)),
  };
}

export interface AgentToolsOptions {
  /** The manager to use (default: the process-wide one for `config`). */
  manager?: McpManager;
  /** Warnings while the servers start: failures, name collisions, unknown server names. */
  onWarning?: (warning: McpWarning) => void;
  /** Tool names MCP tools must not take (the built-in tools), used when the manager is created here. */
  reservedToolNames?: readonly string[];
}

/**
 * The agent's MCP tools as AI SDK tools, keyed `<server>_<tool>`, and OpenCode's
 * `list_mcp_resources`, `list_mcp_resource_templates` and `read_mcp_resource` when one of its
 * servers serves resources (mcp/resource-tools.ts); `{}` (and nothing loaded) when it uses no server.
 */
export async function toolsForAgent(config: Config, agentName: string | undefined, options: AgentToolsOptions = {}): Promise<Record<string, Tool>> {
  const { servers, unknown } = mcpServersForAgent(config, agentName, options.manager?.switches());
  for (const name of unknown) {
    options.onWarning?.({ code: 'MCP_UNKNOWN_SERVER', server: name, message: `agent "${agentName ?? ''}" lists MCP server "${name}", which is not configured under "mcp".` });
  }
  if (servers.length === 0) return {};
  const manager = options.manager ?? (await import('./process-servers.ts')).mcpManagerFor(config, options.reservedToolNames ? { reservedToolNames: options.reservedToolNames } : {});
  const off = options.onWarning ? manager.onWarning(options.onWarning) : undefined;
  try {
    const tools = await manager.toolsFor(servers);
    // OpenCode's tools for resources, when one of the agent's servers that connected serves them.
    if ((await manager.resourceServers(servers)).length === 0) return tools;
    const { createResourceTools } = await import('./resource-tools.ts');
    return { ...(await createResourceTools(manager, servers)), ...tools };
  } finally {
    off?.();
  }
}

/** The instructions of the agent's servers (mcpServersForAgent) as McpManager.instructions gives them; `[]` when it uses none. */
export async function instructionsForAgent(config: Config, agentName: string | undefined, manager: McpManager): Promise<McpInstructions[]> {
  const { servers } = mcpServersForAgent(config, agentName, manager.switches());
  return servers.length === 0 ? [] : manager.instructions(servers);
}
