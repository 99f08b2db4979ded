/**
 * `GET /metrics` scraped from a real `opencode serve` after real turns against the scripted
 * provider: the counts, tokens, cost, retries, fallbacks and waits match what the turns did; the
 * route needs the server password like every other; the gateway's overhead function records into
 * the same registry.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Counter, Histogram, Registry, type Metric } from 'prom-client';
import { HttpCounts } from '../../src/core/http-counts.ts';
import { Metrics, recordGatewayOverhead } from '../../src/core/metrics.ts';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { before } from '../support/before.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { v1Calls } from './sdk-clients.ts';
import { collect, idleOf } from './sdk-helper.ts';
import { parseMetrics as parse } from './metrics-text.ts';
import { basic, serve, type Served } from './serve-helper.ts';

let sb: Sandbox | undefined;
let model: ScriptedServer | undefined;
let s: Served | undefined;
afterEach(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
  s = undefined;
  model = undefined;
  sb = undefined;
});

describe('GET /metrics', () => {
  it('counts what real turns did: requests, tokens, cost, retries, fallbacks, rate-limit waits, turns; nothing left queued or in flight', async () => {
    // The fourth prompt must still find g's window full when it is admitted: between the third's start
    // and the fourth's admission lie a turn, its reply and a new request, which took more than 1.5 s
    // on a loaded machine (load average 18). 4 s leaves room for that; the fourth waits the rest.
    const limit = { maxRequests: 1, windowMs: 4000 };
    model = await startScriptedServer({
      apiKey: SECRET,
      models: { m: { script: [{ type: 'status', status: 503 }, { type: 'text', text: 'first' }, { type: 'status', status: 401 }] }, f: {}, g: {} },
    });
    sb = await sandbox();
    sb.write('opencode.json', {
      ...providerConfig(model, { m: { cost: { input: 1, output: 2 } }, f: {}, g: { rateLimit: limit } }),
      model: 'p/m',
      fallbacks: ['p/f'],
      agent: { slow: { model: 'p/g', fallbacks: [] } },
      retry: { maxRetries: 2, baseDelay: 50, maxDelay: 100 },
      cache: { enabled: false },
    });
    s = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: 'pw' });
    const auth = { authorization: basic('opencode', 'pw') };
    const api = v1Calls(s.url, sb.project, auth);
    const id = ((await api.create()).data as { id: string }).id;
    type Reply = { info: { tokens: { input: number; output: number }; cost: number; providerID: string; modelID: string } };
    const replies: Reply[] = [];
    const abort = new AbortController();
    const stream = collect(await api.events(abort.signal));
    await stream.until((e) => e.type === 'server.connected');
    // 1: 503 then "first" on m (a retry); 2: 401 on m → fallback to f; 3 and 4: agent slow on g (1 start per 4 s): 4 waits.
    for (const [text, extra] of [['one', {}], ['two', {}], ['three', { agent: 'slow' }]] as const) {
      replies.push((await api.prompt(id, text, extra)).data as Reply);
    }
    // The fourth waits on g's window: scraped while it waits, it is queued on p/g and not in flight.
    const seen = stream.events.length;
    const waiting = stream.until((e) => e.type === 'pantheon.rate_limited' && e.properties.sessionID === id);
    const fourth = api.prompt(id, 'four', { agent: 'slow' });
    await before(waiting, fourth, `the fourth prompt was answered without waiting on p/g's window (${limit.windowMs} ms): the machine took longer than that between the third's start and the fourth`);
    const during = parse(await (await fetch(`${s.url}/metrics`, { headers: auth })).text());
    expect(during.value('pantheon_queue_depth', { provider: 'p', model: 'p/g' })).toBe(1);
    expect(during.value('pantheon_requests_in_flight')).toBe(0);
    expect(during.value('pantheon_rate_window_used', { model: 'p/g' })).toBe(1);
    expect(during.value('pantheon_rate_window_limit', { model: 'p/g' })).toBe(1);
    expect(during.value('pantheon_next_slot_seconds', { model: 'p/g' })).toBeGreaterThan(0);
    expect(during.value('pantheon_sessions_busy')).toBe(1);
    replies.push((await fourth).data as Reply);
    await stream.until((e) => idleOf(id)(e) && stream.events.indexOf(e) >= seen);
    abort.abort();
    expect(replies.map((r) => `${r.info.providerID}/${r.info.modelID}`)).toEqual(['p/m', 'p/f', 'p/g', 'p/g']);

    expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
    const res = await fetch(`${s.url}/metrics`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const m = parse(text);

    const answered = model.log.filter((e) => e.status === 200);
    expect(m.value('pantheon_model_requests_total', { outcome: 'ok' })).toBe(answered.length);
    expect(m.value('pantheon_model_requests_total', { model: 'p/m', outcome: 'ok' })).toBe(answered.filter((e) => e.model === 'm').length);
    expect(m.value('pantheon_model_requests_total', { model: 'p/f', provider: 'p' })).toBe(1);
    expect(m.value('pantheon_model_requests_total', { model: 'p/g' })).toBe(2);
    expect(m.value('pantheon_model_request_duration_seconds_count')).toBe(answered.length);
    const tokens = (dir: 'input' | 'output') => replies.reduce((sum, r) => sum + r.info.tokens[dir], 0);
    expect(m.value('pantheon_tokens_total', { direction: 'input' })).toBe(tokens('input'));
    expect(m.value('pantheon_tokens_total', { direction: 'output' })).toBe(tokens('output'));
    expect(m.value('pantheon_cost_usd_total', { model: 'p/m' })).toBeCloseTo(replies.reduce((sum, r) => sum + r.info.cost, 0), 9);
    expect(m.value('pantheon_cost_usd_total')).toBeGreaterThan(0);
    expect(m.value('pantheon_retries_total', { model: 'p/m', status: '503' })).toBe(1);
    expect(m.value('pantheon_retries_total')).toBe(1);
    expect(m.value('pantheon_fallbacks_total', { from: 'p/m', to: 'p/f', reason: 'auth' })).toBe(1);
    expect(m.value('pantheon_fallbacks_total')).toBe(1);
    // Two starts on g within its 1-per-4-s window: the second waited, about the rest of the window.
    const starts = model.log.filter((e) => e.model === 'g').map((e) => e.startedAt);
    expect(m.value('pantheon_rate_limit_wait_seconds_count', { model: 'p/g' })).toBe(1);
    expect(m.value('pantheon_rate_limit_wait_seconds_sum', { model: 'p/g' })).toBeGreaterThan(0.5);
    expect(m.value('pantheon_rate_limit_wait_seconds_sum', { model: 'p/g' })).toBeLessThanOrEqual(((starts[1] ?? 0) - (starts[0] ?? 0)) / 1000 + 0.05);
    expect(m.value('pantheon_turns_total', { status: 'success' })).toBe(4);
    expect(m.value('pantheon_turn_duration_seconds_count')).toBe(4);
    expect(m.value('pantheon_queue_depth')).toBe(0);
    // Every configured model has its lane series, at 0 when idle.
    expect(m.value('pantheon_queue_depth', { model: 'p/f' })).toBe(0);
    expect(/^pantheon_queue_depth\{provider="p",model="p\/f"\} 0$/m.test(text)).toBe(true);
    expect(m.value('pantheon_requests_in_flight')).toBe(0);
    expect(m.value('pantheon_sessions_busy')).toBe(0);
    expect(m.value('process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it("HTTP requests by method, route template and status (the guide's http_requests_total); tool calls by tool and outcome, with how long they ran", async () => {
    model = await startScriptedServer({
      apiKey: SECRET,
      models: {
        m: {
          script: [
            { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'notes.txt' } }, { name: 'teleport_everyone', arguments: {} }] },
            { type: 'text', text: 'read it' },
          ],
        },
        stuck: { default: { type: 'hang' } },
      },
    });
    sb = await sandbox();
    sb.write('opencode.json', { ...providerConfig(model, { m: {}, stuck: {} }), model: 'p/m', cache: { enabled: false }, server: { keys: ['sk-client-0123456789'] } });
    sb.write('notes.txt', 'hello');
    s = await serve(sb);
    const bearer = { authorization: 'Bearer sk-client-0123456789' };
    const created = await fetch(`${s.url}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer }, body: '{}' });
    const id = ((await created.json()) as { id: string }).id;
    const prompt = await fetch(`${s.url}/api/v1/sessions/${id}/prompt`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer }, body: JSON.stringify({ text: 'read my notes' }) });
    expect(prompt.status).toBe(200);
    await (await fetch(`${s.url}/api/v1/sessions/${id}`, { headers: bearer })).text();
    // Refused by the key check, before the route's handler: still counted under the route.
    expect((await fetch(`${s.url}/api/v1/sessions/${id}`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(`${s.url}/no/such/route/${'x'.repeat(40)}`)).status).toBe(404);
    const models = await fetch(`${s.url}/v1/models`, { headers: bearer });
    expect(models.status).toBe(200);
    await models.text();
    // A client that leaves before any answer: counted once its connection closes, as 499.
    const leaving = new AbortController();
    const left = fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer }, body: JSON.stringify({ model: 'p/stuck', messages: [{ role: 'user', content: 'hi' }] }), signal: leaving.signal }).catch((e: unknown) => e);
    await model?.waitFor((log) => log.some((e) => e.model === 'stuck'));
    leaving.abort();
    await left;
    await model?.waitFor((log) => log.some((e) => e.model === 'stuck' && e.clientAborted));
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const m = parse(text);
    expect(m.value('pantheon_http_requests_total', { method: 'POST', route: '/api/v1/sessions', status: '201' })).toBe(1);
    expect(m.value('pantheon_http_requests_total', { method: 'POST', route: '/api/v1/sessions/{session_id}/prompt', status: '200' })).toBe(1);
    expect(m.value('pantheon_http_requests_total', { method: 'GET', route: '/api/v1/sessions/{session_id}', status: '200' })).toBe(1);
    expect(m.value('pantheon_http_requests_total', { method: 'GET', route: '/api/v1/sessions/{session_id}', status: '401' })).toBe(1);
    expect(m.value('pantheon_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(m.value('pantheon_http_requests_total', { method: 'GET', route: '/v1/models', status: '200' })).toBe(1);
    expect(m.value('pantheon_http_requests_total', { method: 'POST', route: '/v1/chat/completions', status: '499' })).toBe(1);
    expect(m.value('pantheon_http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/sessions/{session_id}/prompt' })).toBe(1);
    // No raw path is a label: neither the session id nor the unknown route.
    expect(text).not.toContain(id);
    expect(text).not.toContain('no/such/route');
    // The read ran; the made-up tool could not, and its name is not a label.
    expect(m.value('pantheon_tool_calls_total', { tool: 'read', outcome: 'ok' })).toBe(1);
    expect(m.value('pantheon_tool_duration_seconds_count', { tool: 'read' })).toBe(1);
    expect(m.value('pantheon_tool_calls_total', { tool: '(invalid)', outcome: 'invalid' })).toBe(1);
    expect(text).not.toContain('teleport_everyone');
  });

  it("the HTTP series kept outside prom-client render exactly as prom-client's own counter and histogram would", async () => {
    const buckets = [0.001, 0.01, 0.1, 1];
    const samples: [string, string, number, number][] = [
      ['GET', '/a', 200, 0.0005],
      ['GET', '/a', 200, 0.001],
      ['GET', '/a', 404, 0.05],
      ['POST', '/b/{id}', 201, 3],
      ['GET', '/a', 200, 0.2],
    ];
    const ours = new HttpCounts(buckets);
    const registry = new Registry();
    for (const series of ours.series()) registry.registerMetric(series as unknown as Metric);
    const theirs = new Registry();
    const counter = new Counter({ name: 'pantheon_http_requests_total', help: 'h', labelNames: ['method', 'route', 'status'], registers: [theirs] });
    const histogram = new Histogram({ name: 'pantheon_http_request_duration_seconds', help: 'h', labelNames: ['method', 'route'], buckets, registers: [theirs] });
    for (const [method, route, status, seconds] of samples) {
      ours.record(method, route, status, seconds);
      counter.inc({ method, route, status: String(status) });
      histogram.observe({ method, route }, seconds);
    }
    const lines = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#')).sort();
    expect(lines(await registry.metrics())).toEqual(lines(await theirs.metrics()));
  });

  it('recordGatewayOverhead: total time minus the provider’s time, in seconds, per provider and model', async () => {
    const metrics = new Metrics({ processMetrics: false });
    recordGatewayOverhead(metrics, { model: 'p/m', totalMs: 130, upstreamMs: 120 });
    recordGatewayOverhead(metrics, { model: 'p/m', totalMs: 50, upstreamMs: 48 });
    recordGatewayOverhead(metrics, { provider: 'q', model: 'q/x', totalMs: 5, upstreamMs: 9 });
    const m = parse(await metrics.render());
    expect(m.value('pantheon_gateway_overhead_seconds_count', { provider: 'p', model: 'p/m' })).toBe(2);
    expect(m.value('pantheon_gateway_overhead_seconds_sum', { model: 'p/m' })).toBeCloseTo(0.012, 9);
    expect(m.value('pantheon_gateway_overhead_seconds_bucket', { model: 'p/m', le: '0.0025' })).toBe(1);
    expect(m.value('pantheon_gateway_overhead_seconds_sum', { model: 'q/x' })).toBe(0);
  });
});
