/**
 * The response cache through runTask: a repeated request is a cache_hit with no request to the
 * server, noCache asks again, and neither the key nor the store depend on the API key.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema-types.ts';
import { openRuntime } from '../../src/run/runtime.ts';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import { KEY, configFor, useHarness } from './harness.ts';

const h = useHarness();

function withKey(config: Config, apiKey: string): Config {
  const local = config.provider?.local;
  return { ...config, provider: { local: { ...local, options: { ...local?.options, apiKey } } } };
}

describe('cache', () => {
  it('a second identical run is a cache_hit with no request, same text and usage, and no cost', async () => {
    const server = await h.server();
    const config = configFor(server, { cache: { store: 'memory' } }, { a: { cost: { input: 1, output: 1 } } });
    const runtime = await h.runtime(config);
    server.script('a', { type: 'text', text: 'computed once', usage: { prompt_tokens: 12, completion_tokens: 3 } });
    const first = await h.run({ config, runtime, message: 'same question' });
    const second = await h.run({ config, runtime, message: 'same question' });
    expect(server.log).toHaveLength(1);
    expect(first.rec.of('cache_hit')).toEqual([]);
    expect(second.result).toMatchObject({ text: 'computed once', usage: { inputTokens: 12, outputTokens: 3 }, servedBy: ['local/a'] });
    expect(second.result).not.toHaveProperty('costUSD');
    expect(second.rec.types()).toEqual(['step_start', 'cache_hit', 'text', 'step_finish']);
    expect(second.rec.of('cache_hit')[0]).toMatchObject({ provider: 'local', model: 'local/a', agent: 'default' });
    expect(second.rec.of('text')[0]).toMatchObject({ text: 'computed once', model: 'local/a' });
    const third = await h.run({ config, runtime, message: 'another question' });
    expect(third.rec.of('cache_hit')).toEqual([]);
    expect(server.log).toHaveLength(2);
  });

  it('noCache sends the request again', async () => {
    const server = await h.server();
    const config = configFor(server, { cache: { store: 'memory' } });
    const runtime = await h.runtime(config, { noCache: true });
    const first = await h.run({ config, runtime, message: 'q' });
    const second = await h.run({ config, runtime, message: 'q' });
    expect(server.log).toHaveLength(2);
    expect([first.rec.of('cache_hit'), second.rec.of('cache_hit')]).toEqual([[], []]);
  });

  it('failed answers are not cached', async () => {
    const server = await h.server();
    const config = configFor(server, { cache: { store: 'memory' } });
    const runtime = await h.runtime(config);
    server.script('a', { type: 'status', status: 400 });
    expect((await h.run({ config, runtime, message: 'q' })).error).toMatchObject({ code: 'PROVIDER_BAD_REQUEST' });
    const second = await h.run({ config, runtime, message: 'q' });
    expect(second.result?.text).toBe('echo: q');
    expect(server.log).toHaveLength(2);
  });

  it('is shared through the file store, keyed without the API key, and never stores it', async () => {
    const server = await h.server();
    const dir = await h.tempDir();
    const store = path.join(dir, 'cache.sqlite');
    const config = configFor(server, { cache: { store } });
    const env = await h.env();
    const first = await openRuntime(config, { ledger: new MemoryLedger(), env });
    await h.run({ config, runtime: first, message: 'shared', env });
    await first.close();
    const other = withKey(config, 'sk-someone-else-9876');
    const second = await openRuntime(other, { ledger: new MemoryLedger(), env });
    const { result, rec } = await h.run({ config: other, runtime: second, message: 'shared', env });
    await second.close();
    expect(result?.text).toBe('echo: shared');
    expect(rec.of('cache_hit')).toHaveLength(1);
    expect(server.log).toHaveLength(1);
    for (const name of await fs.readdir(dir)) {
      const bytes = await fs.readFile(path.join(dir, name));
      expect(bytes.includes(KEY)).toBe(false);
      expect(bytes.includes('sk-someone-else-9876')).toBe(false);
    }
  });

  it('a different model or different parameters miss', async () => {
    const server = await h.server();
    const config = configFor(server, { cache: { store: 'memory' }, agent: { cold: { temperature: 0.1 }, warm: { temperature: 0.9 } } });
    const runtime = await h.runtime(config);
    await h.run({ config, runtime, agent: 'cold', message: 'q' });
    const otherModel = await h.run({ config, runtime, agent: 'cold', model: 'local/b', message: 'q' });
    const otherTemperature = await h.run({ config, runtime, agent: 'warm', message: 'q' });
    expect(otherModel.rec.of('cache_hit')).toEqual([]);
    expect(otherTemperature.rec.of('cache_hit')).toEqual([]);
    expect(server.log.map((e) => e.model)).toEqual(['a', 'b', 'a']);
  });
});
