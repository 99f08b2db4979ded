/**
 * A long-running `opencode serve` keeps nothing per prompt: the heap in use after garbage collection
 * (read in the server by a preloaded probe, test/fixtures/heap-probe.mjs) grows by less than a few
 * KB a prompt over 300 prompts across 30 sessions: a guard against anything kept per prompt for good.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { v1Calls } from './sdk-clients.ts';
import { serve, type Served } from './serve-helper.ts';

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

/** Asks the probe for a reading and waits for its line (the file is the signal, not a delay). */
async function heapUsed(served: Served, file: string): Promise<number> {
  const lines = () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : []);
  const before = lines().length;
  served.proc.child.kill('SIGUSR2');
  const seen = new Promise<void>((resolve) => {
    const watcher = fs.watch(path.dirname(file), () => {
      if (lines().length > before) {
        watcher.close();
        resolve();
      }
    });
    if (lines().length > before) {
      watcher.close();
      resolve();
    }
  });
  await seen;
  return Number(lines()[before]);
}

describe('opencode serve: memory over many prompts', () => {
  it('keeps no memory per prompt: heap after GC grows < 8 KB a prompt over 300 prompts', { timeout: 240_000 }, async () => {
    model = await startScriptedServer({ apiKey: SECRET, models: { m: { default: { type: 'text', text: 'ok' } } } });
    sb = await sandbox();
    sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false } });
    const probeDir = fs.mkdtempSync(path.join(sb.root, 'probe-'));
    const file = path.join(probeDir, 'heap.txt');
    s = await serve(sb, [], { NODE_OPTIONS: `--expose-gc --import ${path.join(FIXTURES, 'heap-probe.mjs')}`, HEAP_PROBE_FILE: file });
    const api = v1Calls(s.url, sb.project);
    const ids = await Promise.all(Array.from({ length: 30 }, async () => ((await api.create()).data as { id: string }).id));
    const prompts = async (n: number, tag: string) => {
      await Promise.all(
        Array.from({ length: 5 }, async (_, lane) => {
          for (let i = lane; i < n; i += 5) expect((await api.prompt(ids[i % ids.length] as string, `${tag} ${i}`)).error).toBeUndefined();
        }),
      );
    };
    await prompts(100, 'warm'); // every session has turns; bounded buffers fill
    const before = await heapUsed(s, file);
    await prompts(300, 'load');
    const after = await heapUsed(s, file);
    expect(model.log.length).toBe(400);
    expect((after - before) / 300).toBeLessThan(8 * 1024);
  });
});
