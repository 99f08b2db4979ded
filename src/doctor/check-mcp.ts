/**
 * mcp: every enabled MCP server started (or reached) through the MCP manager, its tools listed,
 * the time that took; then every server stopped again. A server that cannot start fails with the
 * manager's reason. Starts are bounded by each server's `timeout` and by doctor's own bound.
 */
import { addedByPlugin } from '../agents/provenance.ts';
import type { McpConfig } from '../config/schema-types.ts';
import type { ServerStatus } from '../mcp/types.ts';
import type { DoctorContext } from './context.ts';
import { resultsFor, type CheckResult } from './types.ts';
import { formatDuration, plural } from './words.ts';

const r = resultsFor('mcp');
const TRANSPORTS: Record<NonNullable<ServerStatus['transport']>, string> = { stdio: 'stdio', 'streamable-http': 'streamable HTTP', sse: 'HTTP+SSE' };

function hintFor(name: string, server: McpConfig | undefined): string {
  return server?.type === 'local'
    ? `Check mcp.${name}.command by running it by hand; it gets mcp.${name}.environment plus a safe list of your variables.`
    : `Check mcp.${name}.url, that the server is up, and mcp.${name}.headers.`;
}

function describe(status: ServerStatus, server: McpConfig | undefined): CheckResult {
  const ms = status.startMs;
  const timing = ms === undefined ? {} : { ms };
  switch (status.state) {
    case 'connected': {
      const via = status.transport ? ` (${TRANSPORTS[status.transport]})` : '';
      return r.ok(status.name, `${plural(status.toolCount, 'tool')}, ready in ${formatDuration(ms ?? 0)}${via}`, timing);
    }
    case 'disabled':
      return r.skip(status.name, 'disabled (enabled: false)');
    case 'needs_auth':
      return r.fail(status.name, `needs authentication: ${status.reason ?? 'HTTP 401'}`, {
        ...timing,
        hint: status.reason?.includes('`opencode mcp auth ')
          ? `Sign in with \`opencode mcp auth ${status.name}\` (a browser opens, or open the URL it prints).`
          : `Put the server's token in mcp.${status.name}.headers, e.g. {"Authorization": "Bearer {env:TOKEN}"}.`,
      });
    case 'needs_client_registration':
      return r.fail(status.name, `needs a registered OAuth client: ${status.reason ?? ''}`, {
        ...timing,
        hint: `Register a client with the server's provider, then set mcp.${status.name}.oauth.clientId (and clientSecret, as {env:VAR}); \`opencode mcp auth ${status.name}\` then signs in.`,
      });
    default:
      return r.fail(status.name, `did not start: ${status.reason ?? status.state}`, { ...timing, hint: hintFor(status.name, server) });
  }
}

export async function checkMcp(ctx: DoctorContext): Promise<CheckResult[]> {
  if (!ctx.loaded) return [r.skip('servers', 'not checked: the config did not load (see config)')];
  const configured = ctx.loaded.config.mcp ?? {};
  if (Object.keys(configured).length === 0) return [r.ok('servers', 'none configured')];
  const { DEFAULT_TIMEOUT_MS, McpManager } = await import('../mcp/manager.ts');
  // Each start is bounded by the server's timeout and by what is left of doctor's bound.
  const left = ctx.remainingMs();
  const servers = Object.fromEntries(
    Object.entries(configured).map(([name, server]) => [name, { ...server, timeout: Math.min(server.timeout ?? DEFAULT_TIMEOUT_MS, left) }]),
  );
  const manager = new McpManager(servers, { env: ctx.env, cwd: ctx.cwd, graceMs: 500 });
  const stop = (): void => {
    void manager.shutdown();
  };
  ctx.signal.addEventListener('abort', stop, { once: true });
  try {
    await manager.start();
    const layers = ctx.loaded.layers;
    return manager.status().map((status) => {
      const result = describe(status, configured[status.name]);
      // A server a plugin's config hook added: say so, as the config's files do not show it.
      const plugin = addedByPlugin(layers, ['mcp', status.name]);
      return plugin ? { ...result, message: `${result.message} (added by ${plugin})` } : result;
    });
  } finally {
    ctx.signal.removeEventListener('abort', stop);
    await manager.shutdown();
  }
}
