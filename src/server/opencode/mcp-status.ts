/**
 * The MCP servers' status in OpenCode's words (`GET /mcp`, `POST /mcp`): `connected`, `disabled`,
 * `failed` with why, `needs_auth` (a remote server that answered 401 with no usable OAuth tokens),
 * or `needs_client_registration` (its authorization server cannot register a client). OpenCode's
 * `needs_auth` has no `error` (its TUI says "run: opencode mcp auth NAME"); Pantheon adds one saying
 * what to do (sign in, or a token in the headers for a server without OAuth).
 */
import type { ServerStatus } from '../../mcp/types.ts';

export type OpenCodeMcpStatus = { status: 'connected' } | { status: 'disabled' } | { status: 'failed'; error: string } | { status: 'needs_auth'; error: string } | { status: 'needs_client_registration'; error: string };

/** OpenCode's MCP status of a server as Pantheon's manager knows it (a server disconnected is `disabled`, as in OpenCode). */
export function openCodeMcpStatus(state: ServerStatus['state'], reason: string | undefined, name: string): OpenCodeMcpStatus {
  switch (state) {
    case 'needs_auth':
      return { status: 'needs_auth', error: `MCP server ${JSON.stringify(name)} needs authentication: ${reason ?? 'HTTP 401'}` };
    case 'needs_client_registration':
      return { status: 'needs_client_registration', error: `MCP server ${JSON.stringify(name)} needs a registered OAuth client: ${reason ?? 'set oauth.clientId'}` };
    case 'connected':
      return { status: 'connected' };
    case 'disabled':
      return { status: 'disabled' };
    case 'idle':
      return { status: 'failed', error: 'not started (it starts when a turn needs it)' };
    case 'starting':
      return { status: 'failed', error: 'still starting: it has not connected yet and its `timeout` has not run out (its prompts and resources are listed once it connects)' };
    default:
      return { status: 'failed', error: reason ?? state };
  }
}

/** Every server's status by name, in the manager's order. */
export function openCodeMcpStatuses(servers: readonly ServerStatus[]): Record<string, OpenCodeMcpStatus> {
  return Object.fromEntries(servers.map((s) => [s.name, openCodeMcpStatus(s.state, s.reason, s.name)]));
}
