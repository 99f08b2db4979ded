/**
 * The MCP servers' status in OpenCode's words (`GET /mcp`, `POST /mcp`): `connected`, `disabled`,
 * `failed` with why, or `needs_auth` (a remote server that answered 401). OpenCode's `needs_auth`
 * has no `error` (its TUI says "run: opencode mcp auth NAME"); Pantheon has no OAuth flow, so it
 * adds one saying what to set instead. (`needs_client_registration`, OpenCode's state for an OAuth
 * server without dynamic client registration, does not arise: Pantheon registers no OAuth client.)
 */
import type { ServerStatus } from '../../mcp/types.ts';

export type OpenCodeMcpStatus = { status: 'connected' } | { status: 'disabled' } | { status: 'failed'; error: string } | { status: 'needs_auth'; error: string };

/** OpenCode's MCP status of a server as Pantheon's manager knows it (a server disconnected is `disabled`, as in OpenCode). */
export function openCodeMcpStatus(state: ServerStatus['state'], reason: string | undefined, name: string): OpenCodeMcpStatus {
  switch (state) {
    case 'needs_auth':
      return { status: 'needs_auth', error: `MCP server ${JSON.stringify(name)} needs authentication: ${reason ?? 'HTTP 401'}` };
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
  return Object.fromEntries(servers.map((s) => [s.name, openCodeMcpStatus(s.state, s.reason, s.name)]));
}
