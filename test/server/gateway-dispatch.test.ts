/**
 * What `/v1/chat/completions` and `/v1/models` get on the server's fast path (dispatched straight
 * from Node's request listener, not through Hono), over real HTTP against `opencode serve` and the
 * scripted provider: CORS (preflight and answers), the request id, bad input (wrong key, not JSON,
 * a wrong field, a chunked body over the size limit, a method the route does not take), a limited
 * key's in-flight slot freed after every kind of answer, a client that goes away while a JSON
 * answer is pending, and the server password in place of keys.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { parseMetrics } from './metrics-text.ts';
import { getJson, serve, watchEvents, type Served } from './serve-helper.ts';

const KEY = 'pk-open-0123456789';
const ONE = 'pk-one-0123456789';
const PAGE = 'http://localhost:5173';
let sb: Sandbox;
let model: ScriptedServer;
let s: Served;

beforeAll(async () => {
  model = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(model, { m: {} }),
    model: 'p/m',
    cache: { enabled: false },
    server: { keys: [KEY, { key: ONE, name: 'one', rateLimit: { concurrency: 1 } }] },
  });
  s = await serve(sb);
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

const body = (content: string, extra: object = {}) => JSON.stringify({ model: 'p/m', messages: [{ role: 'user', content }], ...extra });
const chat = (init: { key?: string; headers?: Record<string, string>; body?: RequestInit['body']; signal?: AbortSignal; method?: string; duplex?: 'half' }) =>
  fetch(`${s.url}/v1/chat/completions`, {
    method: init.method ?? 'POST',
    headers: { ...(init.key === undefined ? {} : { authorization: `Bearer ${init.key}` }), 'content-type': 'application/json', ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
    ...(init.signal ? { signal: init.signal } : {}),
    ...(init.duplex ? { duplex: init.duplex } : {}),
  } as RequestInit);

describe('/v1 on the fast path', () => {
  it('CORS: a preflight is answered 204 with what may be sent; a localhost page’s answers carry its origin', async () => {
    const pre = await fetch(`${s.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: PAGE, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(PAGE);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')).toContain('authorization');
    const res = await chat({ key: KEY, headers: { origin: PAGE }, body: body('from a page') });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(PAGE);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-expose-headers')).toContain('x-pantheon-model');
    expect(res.headers.get('vary')).toBe('Origin');
    expect(res.headers.get('x-pantheon-model')).toBe('p/m');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe('echo: from a page');
    // Another site's page gets no Access-Control-Allow-Origin.
    const other = await fetch(`${s.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}`, origin: 'https://elsewhere.example' } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('the request id: a sane x-request-id comes back, anything else is replaced; errors carry it too', async () => {
    const given = await chat({ key: KEY, headers: { 'x-request-id': 'trace-42.a:b' }, body: body('id') });
    expect(given.headers.get('x-request-id')).toBe('trace-42.a:b');
    const replaced = await chat({ key: KEY, headers: { 'x-request-id': 'no spaces allowed' }, body: body('id') });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const refused = await chat({ key: 'pk-wrong-0123456789', headers: { 'x-request-id': 'trace-43' }, body: body('id') });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-request-id')).toBe('trace-43');
  });

  it('bad input: a wrong key, a body that is not JSON, a wrong field, a chunked body over the limit, a method the route does not take', async () => {
    const wrong = await chat({ key: 'pk-wrong-0123456789', body: body('x') });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="pantheon"');
    expect(await wrong.json()).toMatchObject({ error: { code: 'invalid_api_key', type: 'invalid_request_error' } });
    const notJson = await chat({ key: KEY, body: '{"model":' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { code: 'invalid_json', message: expect.stringContaining('not valid JSON') } });
    const field = await chat({ key: KEY, body: JSON.stringify({ model: 'p/m', messages: 'hi' }) });
    expect(field.status).toBe(400);
    expect(await field.json()).toMatchObject({ error: { param: 'messages', code: 'bad_request' } });
    // Without a content-length the body is counted as it arrives: over the limit it is a 413 answer, not a reset connection.
    const huge = body('x'.repeat(17 * 1024 * 1024));
    const chunked = await chat({ key: KEY, body: new Blob([huge]).stream(), duplex: 'half' });
    expect(chunked.status).toBe(413);
    expect(await chunked.json()).toMatchObject({ error: { code: 'request_too_large', type: 'invalid_request_error' } });
    const get = await fetch(`${s.url}/v1/chat/completions`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(get.status).toBe(405);
    expect(await get.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
    // The server goes on serving.
    expect((await chat({ key: KEY, body: body('still here') })).status).toBe(200);
  });

  it('a body read at once or as it arrives: whole with its head, in two parts, of length 0, or cut short', async () => {
    /**
     * POSTs `parts` over one new connection, the next part written once the previous one is out;
     * `declared` is the content-length sent. `cut`: the connection is closed after the last part.
     */
    const post = (parts: string[], declared: number, cut = false) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const url = new URL(`${s.url}/v1/chat/completions`);
        const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'content-length': declared } }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        const next = (i: number): void => {
          if (i === parts.length && !cut) return void req.end();
          if (i === parts.length) {
            req.destroy();
            return resolve({ status: 0, text: '' });
          }
          req.write(parts[i], () => setImmediate(() => next(i + 1)));
        };
        req.flushHeaders();
        next(0);
      });
    const whole = body('at once');
    const one = await post([whole], Buffer.byteLength(whole));
    expect(one.status).toBe(200);
    expect(JSON.parse(one.text)).toMatchObject({ object: 'chat.completion' });
    const split = body('in two parts');
    const two = await post([split.slice(0, 20), split.slice(20)], Buffer.byteLength(split));
    expect(two.status).toBe(200);
    expect(JSON.parse(two.text)).toMatchObject({ object: 'chat.completion' });
    const empty = await post([], 0);
    expect(empty.status).toBe(400);
    expect(JSON.parse(empty.text)).toMatchObject({ error: { type: 'invalid_request_error' } });
    // A client that sends part of what it declares and goes away: the server goes on.
    await post([split.slice(0, 20)], Buffer.byteLength(split), true);
    expect((await chat({ key: KEY, body: body('still here') })).status).toBe(200);
  });

  it('a key limited to one request in flight gets its slot back after every kind of answer', async () => {
    const one = (init: Parameters<typeof chat>[0]) => chat({ key: ONE, headers: { 'x-pantheon-max-wait': '0' }, ...init });
    for (const payload of ['nope', JSON.stringify({ model: 'p/m' }), body('a'), body('b', { stream: true }), body('c', { model: 'p/unknown' })]) {
      const res = await one({ body: payload });
      await res.arrayBuffer();
      expect(res.status).not.toBe(429);
    }
    const models = await fetch(`${s.url}/v1/models`, { headers: { authorization: `Bearer ${ONE}` } });
    expect(models.status).toBe(200);
    await models.arrayBuffer();
    expect((await one({ body: body('last') })).status).toBe(200);
  });

  it('a client that goes away while its JSON answer is pending: the upstream request is aborted, the call ends cancelled, the slots are free', async () => {
    const events = await watchEvents(s.url);
    await events.until(/server\.connected/);
    const before = model.log.length;
    model.script('m', { type: 'hang' });
    const gone = new AbortController();
    const pending = chat({ key: ONE, body: body('never answered'), signal: gone.signal });
    await model.waitFor((log) => log.length > before);
    gone.abort();
    await expect(pending).rejects.toThrow();
    await model.waitFor((log) => log[before]?.endedAt !== null && log[before]?.endedAt !== undefined);
    expect(model.log[before]).toMatchObject({ clientAborted: true });
    await events.until(/"status":"cancelled"/);
    events.close();
    // The key's only slot is free again (with no wait allowed, a held slot would be a 429).
    const next = await chat({ key: ONE, headers: { 'x-pantheon-max-wait': '0' }, body: body('after') });
    expect(next.status).toBe(200);
    await next.arrayBuffer();
    const metrics = parseMetrics(await (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })).text());
    expect(metrics.value('pantheon_requests_in_flight', { model: 'p/m' })).toBe(0);
    const state = (await getJson(`${s.url}/api/state`)).body as { lanes: { model: string; inFlight: number }[] };
    expect(state.lanes.find((l) => l.model === 'p/m')).toMatchObject({ inFlight: 0 });
  });
});

describe('/v1 on the fast path behind the server password (no keys configured)', () => {
  let locked: Served;
  let lockedSb: Sandbox;
  beforeAll(async () => {
    lockedSb = await sandbox();
    lockedSb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false } });
    locked = await serve(lockedSb, [], { OPENCODE_SERVER_PASSWORD: 'pw-0123456789' });
  });
  afterAll(async () => {
    await locked?.stop();
    await lockedSb?.remove();
  });

  it('needs the password, as a bearer token or Basic auth', async () => {
    const none = await fetch(`${locked.url}/v1/models`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="pantheon"');
    expect(await none.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
    const wrong = await fetch(`${locked.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer nope', 'content-type': 'application/json' }, body: body('x') });
    expect(wrong.status).toBe(401);
    const bearer = await fetch(`${locked.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer pw-0123456789', 'content-type': 'application/json' }, body: body('with the password') });
    expect(bearer.status).toBe(200);
    expect(((await bearer.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe('echo: with the password');
    const basic = await fetch(`${locked.url}/v1/models`, { headers: { authorization: `Basic ${Buffer.from('opencode:pw-0123456789').toString('base64')}` } });
    expect(basic.status).toBe(200);
    expect(((await basic.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toContain('p/m');
  });
});
