/**
 * A tool call in progress as OpenCode's TUI draws it: its part is sent `pending` once while the
 * model still writes the call (its input streaming), `running` (input, title, start time) as the
 * call starts, and the same part `completed` when it ends — not only once done.
 */
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { collect, idleOf } from './sdk-helper.ts';
import { serve, type Served } from './serve-helper.ts';

type Part = { id: string; type: string; tool?: string; callID?: string; state?: { status: string; input?: Record<string, unknown>; output?: string; error?: string; title?: string; raw?: string; time?: { start: number; end?: number } } };

describe('a tool call in progress (OpenCode API)', () => {
  let sb: Sandbox;
  let model: ScriptedServer;
  let server: Served;
  let client: ReturnType<typeof createOpencodeClient>;

  beforeAll(async () => {
    model = await startScriptedServer({ models: { m: {} } });
    sb = await sandbox();
    sb.write('opencode.json', {
      model: 'p/m',
      provider: { p: { options: { baseURL: model.url, apiKey: SECRET }, models: { m: {} } } },
      permission: { bash: 'allow' },
      cache: { enabled: false },
    });
    server = await serve(sb);
    client = createOpencodeClient({ baseUrl: server.url, directory: sb.project });
  });

  afterAll(async () => {
    await server?.stop();
    await model?.close();
    await sb?.remove();
  });

  it('is sent running as it starts and completed, under the same part, when it ends', async () => {
    const abort = new AbortController();
    const stream = collect((await client.event.subscribe({}, { signal: abort.signal })).stream as AsyncIterable<unknown>);
    await stream.until((e) => e.type === 'server.connected');
    const session = (await client.session.create({ title: 'slow tool' })).data as { id: string };
    // The command waits for a file the test writes once it has seen the call running.
    const command = 'while [ ! -f go ]; do sleep 0.02; done; echo went';
    model.script('m', { type: 'tool_calls', calls: [{ name: 'bash', arguments: { command, description: 'Waits for go' }, id: 'call_slow' }] }, { type: 'text', text: 'Done.' });
    const isPart = (status: string) => (e: { type: string; properties: Record<string, unknown> }) => e.type === 'message.part.updated' && (e.properties.part as Part).callID === 'call_slow' && (e.properties.part as Part).state?.status === status;
    await client.session.promptAsync({ sessionID: session.id, parts: [{ type: 'text', text: 'run it' }] });

    const running = (await stream.until(isPart('running'))).properties.part as Part;
    expect(running).toMatchObject({ type: 'tool', tool: 'bash', state: { status: 'running', input: { command }, title: expect.any(String), time: { start: expect.any(Number) } } });
    // Still running: nothing completed it before the file exists.
    expect(stream.events.some(isPart('completed'))).toBe(false);
    fs.writeFileSync(path.join(sb.project, 'go'), '');

    const completed = (await stream.until(isPart('completed'))).properties.part as Part;
    expect(completed).toMatchObject({ id: running.id, state: { status: 'completed', output: expect.stringContaining('went') } });
    expect(completed.state?.time?.start).toBe(running.state?.time?.start);
    expect(completed.state?.title).toBe(running.state?.title);
    await stream.until(idleOf(session.id));
    // Read back: one part for the call, as streamed last.
    const messages = (await client.session.messages({ sessionID: session.id })).data as { parts: Part[] }[];
    const parts = messages.flatMap((m) => m.parts).filter((p) => p.callID === 'call_slow');
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatchObject({ id: running.id, state: { status: 'completed' } });
    abort.abort();
  });

  it('is sent pending once while the model writes the call (OpenCode\'s tool-input-start), then running and completed under the same part', async () => {
    const abort = new AbortController();
    const stream = collect((await client.event.subscribe({}, { signal: abort.signal })).stream as AsyncIterable<unknown>);
    await stream.until((e) => e.type === 'server.connected');
    const session = (await client.session.create({ title: 'slow call' })).data as { id: string };
    // Each piece of the calls' input comes after a wait, as a model writing them does; the second call's input is not JSON.
    model.script(
      'm',
      { type: 'tool_calls', chunkDelayMs: 30, calls: [{ name: 'bash', arguments: { command: 'echo written', description: 'Echo' }, id: 'call_a' }, { name: 'bash', arguments: '{"command": ', id: 'call_b' }] },
      { type: 'text', text: 'Done.' },
    );
    await client.session.promptAsync({ sessionID: session.id, parts: [{ type: 'text', text: 'write it' }] });
    await stream.until(idleOf(session.id));
    const updates = (callID: string) => stream.events.filter((e) => e.type === 'message.part.updated' && (e.properties.part as Part).callID === callID).map((e) => e.properties.part as Part);
    const a = updates('call_a');
    // OpenCode's order and shape: one pending update (not one per piece of input), then running, then completed.
    // (the end of the turn may send the saved part again, completed)
    expect(a.length).toBeGreaterThanOrEqual(3);
    expect(a.map((p) => p.state?.status)).toEqual(['pending', 'running', ...a.slice(2).map(() => 'completed')]);
    expect(a[0]).toMatchObject({ type: 'tool', tool: 'bash', state: { status: 'pending', input: {}, raw: '' } });
    expect(new Set(a.map((p) => p.id)).size).toBe(1);
    expect(a[2]?.state?.output).toContain('written');
    // A call whose input could not be used: pending, then the error, on its one part.
    const b = updates('call_b');
    expect(b[0]?.state).toEqual({ status: 'pending', input: {}, raw: '' });
    expect(b.map((p) => p.state?.status)).toEqual(['pending', ...b.slice(1).map(() => 'error')]);
    expect(b.at(-1)?.state).toMatchObject({ status: 'error', error: expect.any(String), time: { start: expect.any(Number), end: expect.any(Number) } });
    expect(new Set(b.map((p) => p.id)).size).toBe(1);
    // Read back: one part per call, none left pending.
    const messages = (await client.session.messages({ sessionID: session.id })).data as { parts: Part[] }[];
    const parts = messages.flatMap((m) => m.parts).filter((p) => p.type === 'tool');
    expect(parts.map((p) => [p.callID, p.id, p.state?.status])).toEqual([
      ['call_a', a[0]?.id, 'completed'],
      ['call_b', b[0]?.id, 'error'],
    ]);
    abort.abort();
  });
});
