/**
 * A tool call in progress as OpenCode's TUI draws it: its part is sent `running` (input, title,
 * start time) as the call starts, and the same part `completed` when it ends — not only once done.
 */
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { collect, idleOf } from './sdk-helper.ts';
import { serve, type Served } from './serve-helper.ts';

type Part = { id: string; type: string; tool?: string; callID?: string; state?: { status: string; input?: Record<string, unknown>; output?: string; title?: string; time?: { start: number; end?: number } } };

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
});
