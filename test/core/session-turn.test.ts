import { describe, expect, it } from 'vitest';
import { openTurn } from '../../src/core/session-turn.ts';
import type { PantheonEvent } from '../../src/events.ts';
import { SessionStore } from '../../src/session/store.ts';
import { configFor, useHarness } from '../run/harness.ts';

const h = useHarness();

async function place() {
  return { store: new SessionStore(await h.tempDir()), projectRoot: await h.tempDir() };
}

function record(turn: { bus: { subscribe(l: (e: PantheonEvent) => void): unknown } }): PantheonEvent[] {
  const events: PantheonEvent[] = [];
  turn.bus.subscribe((e) => events.push(e));
  return events;
}

const permissions = { auto: false, interactive: false };

describe('a session turn (the core every front-end calls)', () => {
  it('runs, saves the session and ends with done; the next turn continues it with the earlier messages', async () => {
    const server = await h.server();
    server.script('a', { type: 'text', text: 'first answer' });
    const config = configFor(server);
    const services = { config, runtime: await h.runtime(config) };
    const where = await place();
    const turn = await openTurn(where);
    const events = record(turn);
    const result = await turn.run(services, { message: 'hello', permissions });
    expect(result).toMatchObject({ status: 'success', saved: true, sessionID: turn.sessionID, answer: 'first answer', servedBy: ['local/a'] });
    expect(events.at(-1)).toMatchObject({ type: 'done', status: 'success', sessionID: turn.sessionID });
    const saved = await where.store.load(turn.sessionID);
    expect(saved.messages.map((m) => m.role)).toEqual(['user', 'assistant']);

    const next = await openTurn(where, { sessionID: turn.sessionID });
    expect(next.previous?.id).toBe(turn.sessionID);
    const second = await next.run(services, { message: 'again', permissions });
    expect(second.error).toBeUndefined();
    // The system prompt (the environment block), the earlier two messages, the new one.
    expect((server.log.at(-1)?.messages ?? []).map((m) => (m as { role: string }).role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect((await where.store.load(turn.sessionID)).messages).toHaveLength(4);
  });

  it('a failed turn returns its error (not thrown), emits error then done, and keeps the user message', async () => {
    const server = await h.server();
    server.script('a', { type: 'status', status: 400, message: 'bad request from the model' });
    const config = configFor(server, { model: 'local/a' });
    const services = { config, runtime: await h.runtime(config) };
    const where = await place();
    const turn = await openTurn(where);
    const events = record(turn);
    const result = await turn.run(services, { message: 'hello', permissions });
    expect(result.status).toBe('failed');
    expect(result.saved).toBe(true);
    expect(result.error).toMatchObject({ code: expect.any(String) });
    expect(events.slice(-2).map((e) => e.type)).toEqual(['error', 'done']);
    expect(events.at(-1)).toMatchObject({ status: 'failed' });
    expect((await where.store.load(turn.sessionID)).messages.map((m) => m.role)).toEqual(['user']);
  });

  it('an unknown agent fails before anything is saved; a cancelled turn ends cancelled', async () => {
    const server = await h.server();
    server.script('a', { type: 'hang' });
    const config = configFor(server);
    const services = { config, runtime: await h.runtime(config) };
    const where = await place();
    const unknown = await openTurn(where);
    const failed = await unknown.run(services, { message: 'x', agent: 'nobody', permissions });
    expect(failed).toMatchObject({ status: 'failed', saved: false, error: { code: 'UNKNOWN_AGENT' } });
    await expect(where.store.load(unknown.sessionID)).rejects.toMatchObject({ code: 'USAGE' });

    const controller = new AbortController();
    const turn = await openTurn(where);
    const running = turn.run(services, { message: 'wait', permissions, signal: controller.signal });
    await server.waitFor((log) => log.length === 1);
    controller.abort();
    expect(await running).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
  });
});
