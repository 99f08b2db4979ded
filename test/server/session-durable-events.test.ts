/**
 * A session's durable events (OpenCode's `session.next.*`) against the real `opencode serve` (with
 * the server password) and the scripted provider: a turn with a tool call numbered 1, 2, 3, … in
 * …/history pages and on …/event as it commits, the same after a restart and numbered on from there;
 * replay then live with no gap and no repeat while events are committed as streams open; POST
 * /sync/history; the workspace sync routes' 501; bad input.
 */
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { basic, getJson, serve, type Served } from './serve-helper.ts';

type Event = { id: string; type: string; durable: { aggregateID: string; seq: number; version: number }; data: Record<string, unknown> };

const PASSWORD = 'pw-durable-events';
const auth = { authorization: basic('opencode', PASSWORD) };
let sb: Sandbox;
let s: Served;
let model: ScriptedServer;

beforeAll(async () => {
  model = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', {
    model: 'p/m',
    provider: { p: { options: { baseURL: model.url, apiKey: SECRET }, models: { m: {} } } },
    agent: { alpha: { prompt: 'You are ALPHA.' }, beta: { prompt: 'You are BETA.' } },
    permission: { bash: 'allow' },
  });
  s = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: PASSWORD });
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

async function call(path: string, init: RequestInit = {}) {
  return getJson(`${s.url}${path}`, { ...init, headers: { ...auth, 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) } });
}

async function history(id: string, query = ''): Promise<{ data: Event[]; hasMore: boolean }> {
  const { status, body } = await call(`/api/session/${id}/history${query}`);
  expect(status, JSON.stringify(body)).toBe(200);
  return body as { data: Event[]; hasMore: boolean };
}

async function all(id: string): Promise<Event[]> {
  const out: Event[] = [];
  for (let after = 0; ; ) {
    const page = await history(id, `?after=${after}&limit=100`);
    out.push(...page.data);
    if (!page.hasMore) return out;
    after = page.data.at(-1)?.durable.seq as number;
  }
}

/** A …/event reader: `until(n)` reads until it holds events up to seq n; `close` leaves. */
async function stream(id: string, after?: number) {
  const stop = new AbortController();
  const asked = performance.now();
  const res = await fetch(`${s.url}/api/session/${id}/event${after === undefined ? '' : `?after=${after}`}`, { headers: auth, signal: stop.signal });
  expect(res.status).toBe(200);
  // The head comes at once, with nothing to replay too (not with the first heartbeat, 10 s on).
  expect(performance.now() - asked).toBeLessThan(5000);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  const events: Event[] = [];
  return {
    events,
    async until(seq: number) {
      while ((events.at(-1)?.durable.seq ?? after ?? 0) < seq) {
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        text += decoder.decode(value, { stream: true });
        let end;
        while ((end = text.indexOf('\n\n')) >= 0) {
          const frame = text.slice(0, end);
          text = text.slice(end + 2);
          if (frame.startsWith('data: ')) events.push(JSON.parse(frame.slice(6)) as Event);
        }
      }
      return events;
    },
    close: () => stop.abort(),
  };
}

async function created(): Promise<string> {
  const { status, body } = await call('/api/session', { method: 'POST', body: JSON.stringify({}) });
  expect(status).toBe(200);
  return (body as { data: { id: string } }).data.id;
}

async function turn(id: string, text: string): Promise<void> {
  expect((await call(`/api/session/${id}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: { text } }) })).status).toBe(200);
  expect((await call(`/api/session/${id}/wait`, { method: 'POST' })).status).toBe(204);
}

const seqs = (events: Event[]) => events.map((e) => e.durable.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('durable session events', () => {
  let id: string;
  let before: Event[];

  it('numbers a turn’s events 1, 2, 3, … (OpenCode’s types and shapes), pages them, and streams them as they commit', async () => {
    id = await created();
    expect(await history(id)).toEqual({ data: [], hasMore: false });
    const live = await stream(id);
    expect((await call(`/api/session/${id}/agent`, { method: 'POST', body: JSON.stringify({ agent: 'alpha' }) })).status).toBe(204);
    model.script('m', { type: 'tool_calls', text: 'Let me look.', calls: [{ name: 'bash', arguments: { command: 'echo made-it', description: 'say it' } }] }, { type: 'text', text: 'All done.' });
    await turn(id, 'make it');

    before = await all(id);
    expect(before.map((e) => e.type)).toEqual([
      'session.next.agent.switched',
      'session.next.prompt.admitted',
      'session.next.prompted',
      'session.next.step.started',
      'session.next.text.started',
      'session.next.text.ended',
      'session.next.tool.input.started',
      'session.next.tool.input.ended',
      'session.next.tool.called',
      'session.next.tool.success',
      'session.next.step.ended',
      'session.next.step.started',
      'session.next.text.started',
      'session.next.text.ended',
      'session.next.step.ended',
    ]);
    expect(seqs(before)).toEqual(range(1, 15));
    for (const e of before) {
      expect(e).toMatchObject({ id: expect.stringMatching(/^evt_/), durable: { aggregateID: id, version: 1 }, data: { sessionID: id, timestamp: expect.any(Number) } });
    }
    expect(before[0]?.data).toMatchObject({ agent: 'alpha', messageID: expect.stringMatching(/^msg_/) });
    expect(before[2]?.data).toMatchObject({ prompt: { text: 'make it' }, delivery: 'steer', messageID: expect.stringMatching(/^msg_/) });
    expect(before[3]?.data).toMatchObject({ agent: 'alpha', model: { id: 'm', providerID: 'p' }, assistantMessageID: expect.stringMatching(/^msg_/) });
    expect(before[5]?.data).toMatchObject({ textID: 'text-0', text: 'Let me look.' });
    expect(before[8]?.data).toMatchObject({ tool: 'bash', input: { command: 'echo made-it' }, provider: { executed: false } });
    expect(JSON.stringify(before[9]?.data)).toContain('made-it');
    expect(before[10]?.data).toMatchObject({ finish: 'tool-calls', tokens: { input: expect.any(Number), output: expect.any(Number) } });
    expect(before[14]?.data).toMatchObject({ finish: 'stop' });
    expect(before[13]?.data).toMatchObject({ text: 'All done.' });
    // The messages and the events name the same turn.
    const messages = (await call(`/api/session/${id}/message?order=asc`)).body as { data: { id: string; type: string }[] };
    expect(messages.data.map((m) => m.id)).toEqual([before[2]?.data.messageID, before[3]?.data.assistantMessageID]);
    // The stream opened before had them as they were committed, the same, once each.
    expect(await live.until(15)).toEqual(before);
    live.close();
    // No secret in any event.
    expect(JSON.stringify(before)).not.toContain(SECRET);

    // Pages: `after` is exclusive; hasMore while more follow.
    const page = await history(id, '?after=1&limit=2');
    expect([seqs(page.data), page.hasMore]).toEqual([[2, 3], true]);
    expect(await history(id, '?after=14')).toEqual({ data: [before[14]], hasMore: false });
    expect(await history(id, '?after=15')).toEqual({ data: [], hasMore: false });
  });

  it('answers bad input with one sentence naming the field, an unknown session 404, and nothing without the password', async () => {
    for (const [query, field, words] of [
      ['?after=abc', 'after', 'expected a whole number, 0 or more'],
      ['?after=-1', 'after', 'expected a whole number, 0 or more'],
      ['?after=1.5', 'after', 'expected a whole number, 0 or more'],
      ['?after=16', 'after', '16 is past the session’s latest event (seq 15)'],
      ['?limit=0', 'limit', 'expected a whole number from 1 to 100'],
      ['?limit=101', 'limit', 'expected a whole number from 1 to 100'],
      ['?limit=x', 'limit', 'expected a whole number from 1 to 100'],
    ] as const) {
      for (const route of field === 'limit' ? ['history'] : ['history', 'event']) {
        const { status, body } = await call(`/api/session/${id}/${route}${query}`);
        expect([route, query, status]).toEqual([route, query, 400]);
        expect(body).toMatchObject({ _tag: 'InvalidRequestError', field, kind: 'Query', message: expect.stringContaining(words) });
      }
    }
    for (const route of ['history', 'event']) {
      const missing = await call(`/api/session/ses_nothere/${route}`);
      expect([missing.status, missing.body]).toEqual([404, expect.objectContaining({ _tag: 'SessionNotFoundError', sessionID: 'ses_nothere' })]);
      expect((await call(`/api/session/nothing/${route}`)).status).toBe(400);
      expect((await getJson(`${s.url}/api/session/${id}/${route}`)).status).toBe(401);
    }
    expect((await getJson(`${s.url}/sync/history`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    const bad = await call(`/sync/history?directory=${encodeURIComponent(sb.project)}`, { method: 'POST', body: JSON.stringify({ [id]: -2 }) });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('at least 0');
  });

  it('POST /sync/history lists the project’s events past the numbers known; the workspace sync routes answer 501', async () => {
    const q = `?directory=${encodeURIComponent(sb.project)}`;
    const everything = (await call(`/sync/history${q}`, { method: 'POST', body: '{}' })).body as { id: string; aggregate_id: string; seq: number; type: string; data: unknown }[];
    const mine = everything.filter((e) => e.aggregate_id === id);
    expect(mine.map((e) => [e.id, e.seq, e.type])).toEqual(before.map((e) => [e.id, e.durable.seq, `${e.type}.1`]));
    const known = (await call(`/sync/history${q}`, { method: 'POST', body: JSON.stringify({ [id]: 13 }) })).body as { aggregate_id: string; seq: number }[];
    expect(known.filter((e) => e.aggregate_id === id).map((e) => e.seq)).toEqual([14, 15]);
    for (const path of ['/sync/replay', '/sync/start', '/sync/steal']) {
      const { status, body } = await call(`${path}${q}`, { method: 'POST', body: '{}' });
      expect([path, status]).toEqual([path, 501]);
      expect(JSON.stringify(body)).toContain('Pantheon has no workspaces');
    }
  });

  it('replays then goes on live with no gap and no repeat while events are committed as streams open', async () => {
    const other = await created();
    // One event first, so that a stream may start after it.
    expect((await call(`/api/session/${other}/agent`, { method: 'POST', body: JSON.stringify({ agent: 'beta' }) })).status).toBe(204);
    const streams: Awaited<ReturnType<typeof stream>>[] = [];
    const switches: Promise<unknown>[] = [];
    for (let i = 0; i < 24; i++) {
      // Each switch is one event committed; streams open between and during them.
      switches.push(call(`/api/session/${other}/agent`, { method: 'POST', body: JSON.stringify({ agent: i % 2 ? 'beta' : 'alpha' }) }));
      if (i % 3 === 0) streams.push(await stream(other, i % 2 ? 1 : undefined));
    }
    expect((await Promise.all(switches)).map((r) => (r as { status: number }).status)).toEqual(new Array(24).fill(204));
    const committed = await all(other);
    expect(seqs(committed)).toEqual(range(1, committed.length));
    const last = committed.at(-1)?.durable.seq as number;
    for (const st of streams) {
      const got = await st.until(last);
      const from = (got[0]?.durable.seq ?? 1) === 2 ? 2 : 1;
      expect(seqs(got)).toEqual(range(from, last));
      expect(got).toEqual(committed.slice(from - 1));
      st.close();
    }
  });

  it('a model switch, a shell command, a compaction and reverts are events too; a fork starts with none', async () => {
    const sid = await created();
    const q = `?directory=${encodeURIComponent(sb.project)}`;
    expect((await call(`/api/session/${sid}/model`, { method: 'POST', body: JSON.stringify({ model: { id: 'm', providerID: 'p' } }) })).status).toBe(204);
    await turn(sid, 'first');
    const first = (await history(sid)).data.find((e) => e.type === 'session.next.prompted')?.data.messageID as string;
    expect((await call(`/session/${sid}/shell${q}`, { method: 'POST', body: JSON.stringify({ command: 'echo shell-out', agent: 'build' }) })).status).toBe(200);
    expect((await call(`/api/session/${sid}/compact`, { method: 'POST' })).status).toBe(204);
    await turn(sid, 'second');
    const second = (await all(sid)).filter((e) => e.type === 'session.next.prompted').at(-1)?.data.messageID as string;
    expect((await call(`/api/session/${sid}/revert/stage`, { method: 'POST', body: JSON.stringify({ messageID: second }) })).status).toBe(200);
    expect((await call(`/api/session/${sid}/revert/clear`, { method: 'POST' })).status).toBe(204);
    expect((await call(`/api/session/${sid}/revert/stage`, { method: 'POST', body: JSON.stringify({ messageID: second }) })).status).toBe(200);
    expect((await call(`/api/session/${sid}/revert/commit`, { method: 'POST' })).status).toBe(204);
    const events = await all(sid);
    expect(seqs(events)).toEqual(range(1, events.length));
    const types = events.map((e) => e.type.replace('session.next.', ''));
    expect(types[0]).toBe('model.switched');
    expect(events[0]?.data).toMatchObject({ model: { id: 'm', providerID: 'p' } });
    expect(types.filter((t) => /^(shell|compaction|revert)\./.test(t))).toEqual(['shell.started', 'shell.ended', 'compaction.started', 'compaction.ended', 'revert.staged', 'revert.cleared', 'revert.staged', 'revert.committed']);
    expect(events.find((e) => e.type === 'session.next.shell.started')?.data).toMatchObject({ command: 'echo shell-out', callID: expect.any(String) });
    expect(events.find((e) => e.type === 'session.next.shell.ended')?.data.output).toContain('shell-out');
    expect(events.find((e) => e.type === 'session.next.compaction.ended')?.data).toMatchObject({ reason: 'manual', text: expect.stringContaining('echo:') });
    expect(events.find((e) => e.type === 'session.next.revert.staged')?.data).toMatchObject({ revert: { messageID: second } });
    expect(events.at(-1)?.data).toMatchObject({ messageID: second });
    expect(first).toMatch(/^msg_/);
    // An interrupted turn ends in a failed step.
    const count = model.log.length;
    model.script('m', { type: 'hang' });
    expect((await call(`/api/session/${sid}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: { text: 'never answered' } }) })).status).toBe(200);
    await model.waitFor((log) => log.length > count);
    expect((await call(`/api/session/${sid}/interrupt`, { method: 'POST' })).status).toBe(204);
    const ended = await all(sid);
    expect(ended.slice(events.length).map((e) => e.type.replace('session.next.', ''))).toEqual(['prompt.admitted', 'prompted', 'step.started', 'step.failed']);
    expect(ended.at(-1)?.data).toMatchObject({ error: { type: 'unknown', message: expect.stringMatching(/interrupt/i) } });
    // A fork is a session of its own: its numbering starts anew.
    const fork = (await call(`/session/${sid}/fork${q}`, { method: 'POST', body: '{}' })).body as { id: string };
    expect(await history(fork.id)).toEqual({ data: [], hasMore: false });
  });

  it('keeps the events across a restart and numbers on from the last', async () => {
    await s.stop();
    s = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: PASSWORD });
    expect(await all(id)).toEqual(before);
    const live = await stream(id, 15);
    await turn(id, 'again');
    const after = (await history(id, '?after=15')).data;
    expect(after[0]).toMatchObject({ type: 'session.next.prompt.admitted', durable: { seq: 16 }, data: { prompt: { text: 'again' } } });
    expect(seqs(after)).toEqual(range(16, 15 + after.length));
    expect(await live.until(after.at(-1)?.durable.seq as number)).toEqual(after);
    live.close();

    // OpenCode's own SDK reads them: a page, and the stream from a number on.
    const sdk = createOpencodeClient({ baseUrl: s.url, directory: sb.project, headers: auth }).v2.session;
    const page = (await sdk.history({ sessionID: id, after: 15, limit: 2 })).data as { data: Event[]; hasMore: boolean };
    expect(page).toEqual({ data: after.slice(0, 2), hasMore: true });
    const last = after.at(-1) as Event;
    const stop = new AbortController();
    const sub = await sdk.events({ sessionID: id, after: String(last.durable.seq - 1) }, { signal: stop.signal });
    for await (const event of sub.stream) {
      expect(event).toEqual(last);
      break;
    }
    stop.abort();
  });
});
