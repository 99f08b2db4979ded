/**
 * `GET /api/state` (the dashboard's state as one JSON document) and `GET /api/state/stream` (the
 * same as server-sent events: `snapshot` first, then `lanes`, `log`, `usage`, `sessions`,
 * `workflows` as they change), so the side panel or any other client can use it without the page.
 * Written by sse-stream.ts, as the server's other streams (slow clients dropped, gone ones forgotten).
 */
import { streamLive } from '../live-frames.ts';
import { ref, type JsonSchema, type RouteGroup, type ServerContext } from '../route.ts';
import { sseResponse } from '../sse-stream.ts';

const HEARTBEAT = new TextEncoder().encode(': heartbeat\n\n');
const RETRY = new TextEncoder().encode('retry: 1000\n\n');

function stateStream(c: ServerContext): Response {
  const state = c.get('state');
  return sseResponse(c, {
    heartbeatMs: state.options.heartbeatMs,
    heartbeat: () => HEARTBEAT,
    start: (sink) => {
      // A browser reconnects one second after the stream ends (a server restart).
      sink.write(RETRY);
      return streamLive(state.live, (bytes) => void sink.write(bytes), (error) => {
        if (error !== undefined) state.log(`error: GET /api/state/stream: ${error instanceof Error ? error.message : String(error)}`);
        sink.end();
      });
    },
  });
}

const figures: JsonSchema = { type: 'object', properties: { inputTokens: { type: 'integer' }, outputTokens: { type: 'integer' }, requests: { type: 'integer' }, costUSD: { type: 'number' } } };
const totals: JsonSchema = {
  type: 'object',
  properties: { ...figures.properties, byAgent: { type: 'object', additionalProperties: figures }, byProvider: { type: 'object', additionalProperties: figures }, byModel: { type: 'object', additionalProperties: figures } },
};
const bucket: JsonSchema = { type: 'object', properties: { t: { type: 'integer', description: 'Start of the minute or hour (ms)' }, ...figures.properties } };
const limitUse: JsonSchema = { type: 'object', properties: { label: { type: 'string' }, scope: { type: 'string', enum: ['default', 'provider', 'model'] }, used: { type: 'number' }, limit: { type: 'number' }, windowMs: { type: 'integer' }, nextFreeMs: { type: 'integer' } } };

export const liveStateRoutes: RouteGroup = {
  name: 'state',
  /** Pantheon's own: its errors in OpenCode's v1 shape, not v2's (routes/opencode-v2.ts). */
  prefix: '/api/state',
  description: 'The live state behind the dashboard: lanes, event log, usage and cost, sessions and workflow runs.',
  schemas: {
    Lane: {
      type: 'object',
      description: 'One provider+model lane of the scheduler.',
      properties: {
        key: { type: 'string' },
        provider: { type: 'string' },
        model: { type: 'string', description: 'provider/model' },
        state: { type: 'string', enum: ['idle', 'busy', 'waiting', 'full', 'cooling'] },
        inFlight: { type: 'integer' },
        queued: { type: 'integer' },
        started: { type: 'integer' },
        windows: { type: 'array', items: limitUse },
        tokens: { type: 'array', items: limitUse },
        concurrency: { type: 'array', items: limitUse },
        nextSlotMs: { type: 'integer', description: 'ms until a request could start (0: now)' },
        blockedBy: { type: 'string' },
        waitUntil: { type: 'integer', description: 'When the queued requests expect to start (ms since the epoch)' },
        tokensPerMinute: { type: 'integer' },
        tokensPerMinuteSource: { type: 'string', enum: ['ledger', 'process'] },
        cooldown: {
          type: 'object',
          properties: {
            until: { type: 'integer' },
            failures: { type: 'integer' },
            remainingMs: { type: 'integer' },
            refusedKey: { type: 'boolean', description: 'The provider refused the API key this server calls the model with (401/403): cooling for that key alone; processes and machines with another key still use the model' },
            unreachable: { type: 'boolean', description: 'This server could not reach the model (a name that did not resolve, a connection never made): cooling in this process alone' },
          },
        },
        learned: {
          type: 'array',
          description: 'The quota left as the provider’s rate-limit headers said (rateLimit.learn), with when it was learned.',
          items: { type: 'object', properties: { model: { type: 'string' }, name: { type: 'string' }, kind: { type: 'string', enum: ['requests', 'tokens'] }, limit: { type: 'integer' }, remaining: { type: 'integer' }, resetAt: { type: 'integer' }, learnedAt: { type: 'integer' }, expiresAt: { type: 'integer' }, exhausted: { type: 'boolean' }, source: { type: 'string' } } },
        },
        balances: {
          type: 'array',
          description: 'What the account has left as the provider’s answers on this lane said (Venice’s x-venice-balance-*), the latest per unit.',
          items: { type: 'object', properties: { unit: { type: 'string', description: 'USD, DIEM, VCU, …' }, amount: { type: 'number' }, source: { type: 'string', description: 'The header' }, at: { type: 'integer', description: 'When the answer came (ms since the epoch)' } } },
        },
        at: { type: 'integer' },
      },
      required: ['key', 'provider', 'model', 'state', 'inFlight', 'queued', 'windows', 'nextSlotMs'],
    },
    LogEntry: {
      type: 'object',
      description: 'A retry, fallback, rate-limit wait, cache hit, error or warning.',
      properties: {
        seq: { type: 'integer' },
        time: { type: 'integer' },
        type: { type: 'string', enum: ['retry', 'fallback', 'rate_limited', 'cache_hit', 'error', 'warning'] },
        sessionID: { type: 'string' },
        projectRoot: { type: 'string' },
        agent: { type: 'string' },
        provider: { type: 'string' },
        model: { type: 'string' },
        attempt: { type: 'integer' },
        delayMs: { type: 'integer' },
        status: { type: ['integer', 'string'] },
        from: { type: 'string' },
        to: { type: 'string' },
        reason: { type: 'string' },
        waitMs: { type: 'integer' },
        limit: { type: 'string' },
        code: { type: 'string' },
        message: { type: 'string' },
      },
      required: ['seq', 'time', 'type', 'sessionID'],
    },
    LiveState: {
      type: 'object',
      properties: {
        version: { type: 'string' },
        now: { type: 'integer' },
        lanes: { type: 'array', items: ref('Lane') },
        lanesError: { type: 'string', description: 'Why the lanes could not be read (the state store is away: Redis down); lanes is empty then' },
        log: { type: 'array', items: ref('LogEntry') },
        usage: {
          type: 'object',
          properties: {
            today: totals,
            sinceStart: totals,
            startedAt: { type: 'integer' },
            perMinute: { type: 'array', items: bucket },
            perHour: { type: 'array', items: bucket },
            projection: { type: 'object', properties: { costUSD: { type: 'number' }, tokens: { type: 'integer' }, perHourUSD: { type: 'number' }, perHourTokens: { type: 'integer' }, basisMinutes: { type: 'integer' } } },
          },
        },
        sessions: { type: 'array', items: { type: 'object' } },
        workflows: { type: 'array', items: { type: 'object' } },
      },
      required: ['version', 'now', 'lanes', 'log', 'usage', 'sessions', 'workflows'],
    },
  },
  routes: [
    {
      method: 'get',
      path: '/api/state',
      operationId: 'state.get',
      summary: 'The dashboard state',
      description: 'Lanes (in flight, queued, rate windows, next free slot, tokens per minute, cooldown), the event log, usage and cost (today, since start, per minute and hour, the day’s projection), sessions and workflow runs with per-step progress.',
      responses: { 200: { description: 'The state now', schema: ref('LiveState') } },
      handler: async (c) => c.json(await c.get('state').live.snapshot()),
    },
    {
      method: 'get',
      path: '/api/state/stream',
      operationId: 'state.stream',
      summary: 'The dashboard state as server-sent events',
      description: '`event: snapshot` (a LiveState) first, then `lanes` (Lane[]), `log` (new LogEntry[]), `usage`, `sessions` and `workflows` as they change, and `lanesError` (a string) when the lanes cannot be read now (the state store is away) until the next `lanes`; a `: heartbeat` comment every 10 s; `retry: 1000`.',
      responses: { 200: { description: 'Event stream', contentType: 'text/event-stream', schema: ref('LiveState') } },
      handler: (c) => stateStream(c),
    },
  ],
};
