/**
 * The reader of the CLI's output goes away (`opencode run --format json | head -5`, `opencode models
 * --json | head -c 100`): the CLI stops at once and quietly with 141, as `git log | head` does — no
 * unhandled EPIPE with a stack trace — and what it keeps on disk stays readable. Real CLI processes
 * whose stdout pipe the test closes, a scripted provider that streams slowly.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { hasStack, providerConfig, sandbox, SECRET, type Sandbox } from './cli-helper.ts';

const CHUNKS = Array.from({ length: 40 }, (_, i) => `word${i} `);
let server: ScriptedServer;
let sb: Sandbox;

beforeAll(async () => {
  server = await startScriptedServer({ apiKey: SECRET, models: { m: { default: { type: 'slow', text: CHUNKS.join(''), chunks: CHUNKS, chunkDelayMs: 50 } } } });
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  server.reset();
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(server, { m: {} }), model: 'p/m', cache: { enabled: false } });
});
afterEach(async () => {
  await sb.remove();
});

for (const format of ['json', 'default']) {
  it(`run --format ${format} whose reader stops after the first words: exit 141 at the next write, no stack trace, the answer cut off`, async () => {
    const p = sb.start(['run', '--format', format, 'talk for a while']);
    await p.stdoutMatches(/word0/);
    // The reader goes away, as `head` does once it has its lines.
    p.child.stdout?.destroy();
    const r = await p.exited;
    expect(r.code).toBe(141);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|node:events/);
    expect(hasStack(r.stderr)).toBe(false);
    // It stopped at once: the provider's stream was cut well before its end (40 words, 2 s).
    await server.waitFor((log) => log.length === 1 && log[0]?.endedAt !== null);
    expect(server.log[0]?.clientAborted).toBe(true);
    // What is on disk is whole: the next run in the project works.
    const next = await sb.run(['session', 'list', '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(() => JSON.parse(next.stdout) as unknown).not.toThrow();
  });
}

it('a listing whose reader has gone before it writes (`models --json | head -c 0`): exit 141, nothing on stderr', async () => {
  const p = sb.start(['models', '--json']);
  p.child.stdout?.destroy();
  const r = await p.exited;
  expect(r.code).toBe(141);
  expect(r.stderr).toBe('');
});
