/**
 * A background response's events streamed again (`GET /v1/responses/{id}?stream=true`) while it
 * runs on another server: the stream polls the store until the run ends, which may be many
 * minutes. Each wait listens for the client going away, and lets go of that listener when it
 * ends: the request's signal holds one listener at most, however long the stream follows.
 */
import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resumeStream } from '../../src/server/openai/background-responses.ts';
import { SqliteResponseStore } from '../../src/server/openai/stored-responses.ts';
import type { RouteRequest } from '../../src/server/route.ts';

const dirs: string[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('a background response streamed again from the store', () => {
  it('keeps at most one abort listener on the request while it polls', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bg-listeners-'));
    dirs.push(dir);
    const store = new SqliteResponseStore(path.join(dir, 'responses.sqlite'));
    const id = 'resp_listeners0001';
    const response = { id, object: 'response', status: 'in_progress', background: true, output: [] };
    // Run by a server on another machine that still says it runs: the stream follows the store.
    await store.save({ id, owner: 'open', createdAt: Date.now(), response, input: [], output: [] }, { run: { runner: 'elsewhere\n42\nabcdef', beat: Date.now() + 3_600_000, streamed: true } });
    await store.addEvents(id, ['event: response.created\ndata: {"type":"response.created","sequence_number":0}\n\n']);
    vi.useFakeTimers();
    const controller = new AbortController();
    const req = { state: {}, signal: controller.signal, query: () => undefined, header: () => undefined } as unknown as RouteRequest;
    const answer = await resumeStream(req, store, id, 'open');
    if (!('stream' in answer)) throw new Error('expected a stream');
    const reader = answer.stream.getReader();
    expect((await reader.read()).done).toBe(false);
    const next = reader.read();
    // A minute of polls (every 200 ms) with nothing new.
    for (let i = 0; i < 300; i++) await vi.advanceTimersByTimeAsync(200);
    expect(getEventListeners(controller.signal, 'abort').length).toBeLessThanOrEqual(1);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect((await next).done).toBe(true);
    await store.close();
  });
});
