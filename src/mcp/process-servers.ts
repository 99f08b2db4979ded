/**
 * The process's MCP managers: one per loaded config, so each server starts at most once per
 * process; and the hooks that stop them when the process ends (`shutdownAllMcp` for a clean
 * shutdown on Ctrl-C or at the end of a command, a synchronous SIGKILL on `exit` as a last resort).
 */
import type { Config } from '../config/schema-types.ts';
import { McpManager } from './manager.ts';
import type { McpManagerOptions } from './manager.ts';

const live = new Set<McpManager>();
const byConfig = new WeakMap<object, McpManager>();
let exitHook = false;

/** SIGKILL to every server process of every manager, synchronously. */
export function killAllMcpSync(): void {
  for (const manager of live) manager.killSync();
}

/** Registers a manager so that `shutdownAllMcp` and the `exit` hook stop its servers. */
export function trackMcpManager(manager: McpManager): McpManager {
  live.add(manager);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', killAllMcpSync);
  }
  return manager;
}

/** The process-wide manager for `config` (created, and tracked, on first use; again after `shutdownAllMcp`). */
export function mcpManagerFor(config: Config, options: McpManagerOptions = {}): McpManager {
  let manager = byConfig.get(config);
  if (!manager || !live.has(manager)) {
    manager = trackMcpManager(new McpManager(config.mcp, options));
    byConfig.set(config, manager);
  }
  return manager;
}

/** Stops every MCP server this process started; the CLI calls it on exit and on SIGINT/SIGTERM. */
export async function shutdownAllMcp(): Promise<void> {
  const managers = [...live];
  live.clear();
  await Promise.allSettled(managers.map((m) => m.shutdown()));
}
