import type { Config } from '../config/schema-types.ts';
import type { EventBus } from '../events.ts';
import type { McpManager } from '../mcp/manager.ts';
import type { McpWarning } from '../mcp/types.ts';
import type { McpToolSource } from '../run/agent-tools.ts';

/** The MCP servers' manager, when the config declares any (servers start when an agent needs them). */
export async function openMcp(config: Config, projectRoot: string, bus: EventBus): Promise<{ manager: McpManager; tools: McpToolSource } | undefined> {
  if (!config.mcp || Object.keys(config.mcp).length === 0) return undefined;
  const [{ McpManager }, { trackMcpManager }, { toolsForAgent }, { BUILTIN_TOOL_NAMES }] = await Promise.all([
    import('../mcp/manager.ts'),
    import('../mcp/process-servers.ts'),
    import('../mcp/agent-tools.ts'),
    import('../tools/index.ts'),
  ]);
  // The manager's own warnings and those of toolsForAgent overlap: each is shown once.
  const shown = new Set<string>();
  const onWarning = (w: McpWarning): void => {
    if (shown.has(w.message)) return;
    shown.add(w.message);
    bus.emit({ type: 'warning', code: w.code, message: w.message });
  };
  const manager = trackMcpManager(new McpManager(config.mcp, { cwd: projectRoot, reservedToolNames: [...BUILTIN_TOOL_NAMES, 'task'], onWarning }));
  return { manager, tools: (agent) => toolsForAgent(config, agent, { manager, onWarning }) };
}
