/** The MCP servers' status in OpenCode's words (`GET /mcp`, `POST /mcp`): `connected`, `disabled`, or `failed` with why. */
import type { ServerStatus } from '../../mcp/types.ts';

export type OpenCodeMcpStatus = { status: 'connected' } | { status: 'disabled' } | { status: 'failed'; error: string };

/** OpenCode's MCP status of a server as Pantheon's manager knows it (a server disconnected is `disabled`, as in OpenCode). */
export function openCodeMcpStatus(state: ServerStatus['state'], reason: string | undefined): OpenCodeMcpStatus {
  switch (state) {
    case 'connected':
      return { status: 'connected' };
    case 'disabled':
      return { status: 'disabled' };
    case 'idle':
      return { status: 'failed', error: 'not started (it starts when a turn needs it)' };
    default:
      return { status: 'failed', error: reason ?? state };
  }
}

/** Every server's status by name, in the manager's order. */
export function openCodeMcpStatuses(servers: readonly ServerStatus[]): Record<string, OpenCodeMcpStatus> {
  return Object.fromEntries(servers.map((s) => [s.name, openCodeMcpStatus(s.state, s.reason)]));
}
