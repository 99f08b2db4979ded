/** runTask with earlier turns: sent before the new message, trimmed to the context, and the turn recorded. */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ModelMessage } from 'ai';
import { describe, expect, it } from 'vitest';
import { storable } from '../../src/run/storable.ts';
import { configFor, useHarness } from './harness.ts';

const h = useHarness();

describe('history and the turn', () => {
  it('sends the history first and records the user message, the tool call, its result and the answer', async () => {
    const server = await h.server();
    const root = await h.tempDir();
    await fs.writeFile(path.join(root, 'f.txt'), 'content');
    const config = configFor(server);
    server.script('a', { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'f.txt' }, id: 'c1' }] }, { type: 'text', text: 'read it' });
    const runtime = await h.runtime(config);
    const history: ModelMessage[] = [
      { role: 'user', content: 'before' },
      { role: 'assistant', content: 'earlier answer' },
    ];
    const turn: ModelMessage[] = [];
    const { error } = await h.run({ config, runtime, message: 'now', history, turn, workspace: { projectRoot: root } });
    expect(error).toBeUndefined();
    // The environment block (a task with a workspace gets it), then the history and the new message.
    expect(server.log[0]?.messages).toEqual([
      { role: 'system', content: expect.stringContaining(`\n  Workspace root folder: ${root}\n`) },
      { role: 'user', content: 'before' },
      { role: 'assistant', content: 'earlier answer' },
      { role: 'user', content: 'now' },
    ]);
    expect(turn.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(JSON.stringify(turn[2])).toContain('content');
    expect(JSON.parse(JSON.stringify(turn))).toEqual(turn);
  });

  it("leaves out the oldest turns that do not fit the head model's context, and says how many", async () => {
    const server = await h.server();
    const config = configFor(server, {}, { a: { limit: { context: 600, output: 100 } } });
    const runtime = await h.runtime(config);
    const history: ModelMessage[] = [
      { role: 'user', content: `old ${'x'.repeat(2400)}` },
      { role: 'assistant', content: 'old answer' },
      { role: 'user', content: 'recent' },
      { role: 'assistant', content: 'recent answer' },
    ];
    const trimmed: [number, number][] = [];
    await h.run({ config, runtime, message: 'now', history, onHistoryTrimmed: (d, c) => trimmed.push([d, c]) });
    expect(trimmed).toEqual([[2, 600]]);
    expect(server.log[0]?.messages).toEqual([
      { role: 'user', content: 'recent' },
      { role: 'assistant', content: 'recent answer' },
      { role: 'user', content: 'now' },
    ]);
  });

  it('a model without a context limit gets the whole history', async () => {
    const server = await h.server();
    const config = configFor(server);
    const runtime = await h.runtime(config);
    const history: ModelMessage[] = [{ role: 'user', content: 'x'.repeat(100_000) }];
    let called = false;
    await h.run({ config, runtime, message: 'now', history, onHistoryTrimmed: () => (called = true) });
    expect(called).toBe(false);
    expect(server.log[0]?.messages).toHaveLength(2);
  });
});

describe('storable', () => {
  it('turns binary file data into base64 text and leaves the rest alone', () => {
    const message: ModelMessage = { role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'file', data: new Uint8Array([1, 2, 3]), mediaType: 'image/png' }] };
    expect(storable(message)).toEqual({ role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'file', data: 'AQID', mediaType: 'image/png' }] });
    expect(storable({ role: 'user', content: 'plain' })).toEqual({ role: 'user', content: 'plain' });
  });
});
