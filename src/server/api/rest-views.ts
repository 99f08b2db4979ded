/**
 * What the guide's REST API (/api/v1) answers: sessions, models and MCP server states in its words
 * (snake_case fields, ISO times, its status names).
 */
import { modelCapabilities, type ConfiguredModel } from '../../agents/configured-models.ts';
import type { Config } from '../../config/schema-types.ts';
import type { ServerState as McpServerState } from '../../mcp/types.ts';
import type { SessionRecord, SessionSummary } from '../../session/store.ts';

export function sessionView(s: SessionSummary | SessionRecord) {
  const own = 'messages' in s ? { ...(s.model ? { model: s.model } : {}), ...(s.system ? { system_prompt: s.system } : {}) } : {};
  return {
    id: s.id,
    title: s.title,
    agent: s.agent,
    project: s.projectRoot,
    ...own,
    tags: s.tags ?? [],
    created_at: new Date(s.createdAt).toISOString(),
    updated_at: new Date(s.updatedAt).toISOString(),
  };
}

/** An MCP server's state in the guide's words (`GET /api/v1/mcp/status`); `state` keeps Pantheon's. */
export const GUIDE_STATUS: Record<McpServerState, 'connected' | 'disconnected' | 'error'> = {
  connected: 'connected',
  failed: 'error',
  needs_auth: 'error',
  needs_client_registration: 'error',
  exited: 'error',
  idle: 'disconnected',
  starting: 'disconnected',
  disabled: 'disconnected',
  stopped: 'disconnected',
};

/** A configured model as the REST API shows it (prices in USD per million tokens). */
export function modelView(config: Config, m: ConfiguredModel) {
  const { windows, tokens, concurrency } = m.rateLimits;
  return {
    id: m.ref,
    provider: m.provider,
    name: m.name ?? m.model,
    upstream_id: m.upstreamId,
    ...(m.limit?.context ? { context_length: m.limit.context } : {}),
    ...(m.limit?.output ? { max_output_tokens: m.limit.output } : {}),
    ...(m.cost && (m.cost.input !== undefined || m.cost.output !== undefined) ? { pricing: { input: m.cost.input, output: m.cost.output, ...(m.cost.cache_read === undefined ? {} : { cache_read: m.cost.cache_read }) } } : {}),
    capabilities: modelCapabilities(config, m),
    rate_limits: {
      requests: windows.map((w) => ({ limit: w.maxRequests, window_ms: w.windowMs, scope: w.scope })),
      tokens: tokens.map((t) => ({ limit: t.maxTokens, window_ms: t.windowMs, scope: t.scope })),
      concurrency: concurrency.map((x) => ({ limit: x.limit, scope: x.scope })),
    },
    variants: m.variants,
  };
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p: { type?: string; text?: unknown }) => (p.type === 'text' && typeof p.text === 'string' ? p.text : '')).join('');
}

export function detailView(s: SessionRecord) {
  return {
    ...sessionView(s),
    messages: s.messages.map((m) => ({ role: m.role, content: textOf(m.content) })),
    usage: { input_tokens: s.usage.inputTokens, output_tokens: s.usage.outputTokens, total_tokens: s.usage.inputTokens + s.usage.outputTokens },
    ...(s.costUSD === undefined ? {} : { cost_usd: s.costUSD }),
  };
}

