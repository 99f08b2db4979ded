import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cacheKey } from '../../src/cache/key.ts';
import { openCache } from '../../src/cache/response-cache.ts';
import type { CachedResponse, ResponseCache } from '../../src/cache/response-cache.ts';
import { isPantheonError } from '../../src/errors.ts';

const run = promisify(execFile);
const moduleUrl = pathToFileURL(
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cache/response-cache.ts'),
).href;

let dir: string;
const opened: ResponseCache[] = [];

beforeEach(async () => {
  dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'pantheon-cache-'));
});
afterEach(async () => {
  vi.useRealTimers();
  for (const cache of opened.splice(0)) await cache.close();
  await fs.promises.rm(dir, { recursive: true, force: true });
});

async function open(cfg: Parameters<typeof openCache>[0], env: NodeJS.ProcessEnv = {}): Promise<ResponseCache> {
  const cache = await openCache(cfg, env);
  if (!cache) throw new Error('expected an enabled cache');
  opened.push(cache);
  return cache;
}

function answer(text: string): CachedResponse {
  return {
    text,
    toolCalls: [{ toolCallId: 'call_1', toolName: 'read', input: { filePath: 'README.md' } }],
    finishReason: 'stop',
    usage: { inputTokens: 12, outputTokens: 3 },
    model: 'nvidia/meta/llama-3.3-70b-instruct',
    createdAt: 1_700_000_000_000,
  };
}

async function storeError(promise: Promise<unknown>): Promise<{ code: string; message: string; hint?: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isPantheonError(error)) throw new Error(`expected a PantheonError, got ${String(error)}`);
  return { code: error.code, message: error.message, hint: error.hint };
}

describe('openCache', () => {
  it('returns undefined when disabled', async () => {
    expect(await openCache({ enabled: false, store: 'memory' }, {})).toBeUndefined();
  });

  it('defaults to a SQLite file in $XDG_CACHE_HOME/pantheon, in a private folder', async () => {
    const cache = await open(undefined, { XDG_CACHE_HOME: dir });
    const file = path.join(dir, 'pantheon', 'cache.sqlite');
    expect(cache.description).toBe(`sqlite:${file}`);
    await cache.set('k', answer('hello'));
    expect(await cache.get('k')).toEqual(answer('hello'));
    expect(fs.statSync(path.join(dir, 'pantheon')).mode & 0o777).toBe(0o700);
    expect(fs.existsSync(file)).toBe(true);
  });

  it('resolves a relative store path against the working directory and accepts a sqlite: prefix', async () => {
    const file = path.join(dir, 'rel', 'c.sqlite');
    const relative = await open({ store: path.relative(process.cwd(), file) });
    expect(relative.description).toBe(`sqlite:${file}`);
    const prefixed = await open({ store: `sqlite:${file}` });
    expect(prefixed.description).toBe(`sqlite:${file}`);
    await relative.set('k', answer('shared'));
    expect(await prefixed.get('k')).toEqual(answer('shared'));
  });

  it('keeps entries across openCache() calls on the same file', async () => {
    const store = path.join(dir, 'persist.sqlite');
    const key = cacheKey({ upstreamModel: 'm', baseURL: 'http://127.0.0.1:1/v1', messages: [{ role: 'user', content: 'hi' }] });
    const first = await open({ store });
    await first.set(key, answer('persisted'));
    await first.close();
    const second = await open({ store });
    expect(await second.get(key)).toEqual(answer('persisted'));
    expect(await second.get('other')).toBeUndefined();
  });

  it('stores only the fields of a response, never anything else passed along', async () => {
    const store = path.join(dir, 'fields.sqlite');
    const cache = await open({ store });
    const leaky = { ...answer('ok'), apiKey: 'sk-LEAK-1234567890', headers: { authorization: 'Bearer sk-LEAK-1234567890' } };
    await cache.set('k', leaky as CachedResponse);
    expect(await cache.get('k')).toEqual(answer('ok'));
    await cache.close();
    const bytes = ['', '-wal']
      .filter((suffix) => fs.existsSync(store + suffix))
      .map((suffix) => fs.readFileSync(store + suffix).toString('latin1'))
      .join('');
    expect(bytes).toContain('README.md');
    expect(bytes).not.toContain('sk-LEAK');
  });

  it("keeps an answer's reasoning blocks with their provider metadata, nothing else of a block; a malformed block is a miss", async () => {
    const store = path.join(dir, 'reasoning.sqlite');
    const cache = await open({ store });
    const reasoning = [
      { text: 'First, the file.', providerMetadata: { openai: { itemId: 'rs_1', reasoningEncryptedContent: 'gAAAA-opaque' } } },
      { text: 'Then the answer.' },
    ];
    const extra = reasoning.map((block) => ({ ...block, apiKey: 'sk-LEAK-1234567890' }));
    await cache.set('k', { ...answer('ok'), reasoning: extra } as CachedResponse);
    expect(await cache.get('k')).toEqual({ ...answer('ok'), reasoning });
    const db = new DatabaseSync(store);
    expect(String((db.prepare('SELECT value FROM cache_entries').get() as { value: string }).value)).not.toContain('sk-LEAK');
    db.prepare(`UPDATE cache_entries SET value = replace(value, '"text":"Then the answer."', '"text":7')`).run();
    db.close();
    expect(await cache.get('k')).toBeUndefined();
  });

  it('an entry with more reasoning blocks than an answer has (a hostile store) is a miss, not millions of parts replayed', async () => {
    const cache = await open({ store: path.join(dir, 'many-blocks.sqlite') });
    await cache.set('few', { ...answer('ok'), reasoning: Array.from({ length: 3 }, () => ({ text: 'r' })) } as CachedResponse);
    expect((await cache.get('few'))?.reasoning).toHaveLength(3);
    await cache.set('many', { ...answer('ok'), reasoning: Array.from({ length: 100_000 }, () => ({ text: '' })) } as CachedResponse);
    expect(await cache.get('many')).toBeUndefined();
  });

  it('treats an unreadable entry as a miss', async () => {
    const store = path.join(dir, 'corrupt.sqlite');
    const cache = await open({ store });
    await cache.set('k', answer('fine'));
    const db = new DatabaseSync(store);
    db.prepare("UPDATE cache_entries SET value = '{not json'").run();
    db.close();
    expect(await cache.get('k')).toBeUndefined();
  });

  it('expires entries after ttl seconds (sqlite)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    const cache = await open({ ttl: 60, store: path.join(dir, 'ttl.sqlite') });
    await cache.set('k', answer('fresh'));
    vi.setSystemTime(new Date('2026-01-01T00:00:59Z'));
    expect(await cache.get('k')).toEqual(answer('fresh'));
    vi.setSystemTime(new Date('2026-01-01T00:01:00.001Z'));
    expect(await cache.get('k')).toBeUndefined();
  });

  it('expires entries after ttl seconds (memory)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    const cache = await open({ ttl: 1, store: 'memory' });
    await cache.set('k', answer('fresh'));
    vi.setSystemTime(new Date('2026-01-01T00:00:01Z'));
    expect(await cache.get('k')).toEqual(answer('fresh'));
    vi.setSystemTime(new Date('2026-01-01T00:00:01.001Z'));
    expect(await cache.get('k')).toBeUndefined();
  });

  it.each(['memory', 'sqlite'])('evicts the least recently used entry at maxSize (%s)', async (kind) => {
    const cache = await open({ maxSize: 2, store: kind === 'memory' ? 'memory' : path.join(dir, 'lru.sqlite') });
    expect(cache.description).toMatch(kind === 'memory' ? /^memory$/ : /^sqlite:/);
    await cache.set('a', answer('A'));
    await cache.set('b', answer('B'));
    expect((await cache.get('a'))?.text).toBe('A');
    await cache.set('c', answer('C'));
    expect(await cache.get('b')).toBeUndefined();
    expect((await cache.get('a'))?.text).toBe('A');
    expect((await cache.get('c'))?.text).toBe('C');
  });

  it('is shared between processes on one machine', async () => {
    const store = path.join(dir, 'shared', 'cache.sqlite');
    const parent = await open({ store });
    await parent.set('from-parent', answer('parent wrote this'));
    const child = `
      const { openCache } = await import(process.env.CACHE_MODULE);
      const cache = await openCache({ store: process.env.CACHE_FILE }, {});
      await cache.set('from-child', { text: 'child wrote this', finishReason: 'stop', model: 'm', createdAt: 1 });
      const seen = await cache.get('from-parent');
      await cache.close();
      process.stdout.write(JSON.stringify(seen));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', child], {
      env: { ...process.env, CACHE_MODULE: moduleUrl, CACHE_FILE: store },
      timeout: 20_000,
    });
    expect(JSON.parse(stdout)).toEqual(answer('parent wrote this'));
    expect(await parent.get('from-child')).toEqual({ text: 'child wrote this', finishReason: 'stop', model: 'm', createdAt: 1 });
  });

  it('fails with one STORE_ERROR sentence when the folder cannot be created', async () => {
    const blocker = path.join(dir, 'not-a-folder');
    fs.writeFileSync(blocker, 'x');
    const store = path.join(blocker, 'cache.sqlite');
    const error = await storeError(openCache({ store }, {}));
    expect(error.code).toBe('STORE_ERROR');
    expect(error.message).toMatch(/^Could not open the cache store sqlite:\/.*not-a-folder\/cache\.sqlite: \/.*not-a-folder is a file, not a folder\.$/);
    expect(error.hint).toMatch(/cache\.store/);
  });

  it.runIf(process.platform === 'linux' && fs.existsSync('/proc/self'))('a store under /proc: one sentence at once (Node’s recursive mkdir looped there until SIGKILL)', async () => {
    const error = await storeError(openCache({ store: '/proc/pantheon-cache/cache.sqlite' }, {}));
    expect(error.message).toBe(
      "Could not open the cache store sqlite:/proc/pantheon-cache/cache.sqlite: no folder can be made at /proc/pantheon-cache (a file system of the kernel's, such as /proc, or a link to nothing).",
    );
  });

  it('fails with STORE_ERROR when the file is not a SQLite database', async () => {
    const store = path.join(dir, 'notes.txt');
    fs.writeFileSync(store, 'these are not the pages you are looking for, '.repeat(100));
    const error = await storeError(openCache({ store }, {}));
    expect(error.code).toBe('STORE_ERROR');
    expect(error.message).toMatch(/notes\.txt: file is not a database\.$/);
    const folder = await storeError(openCache({ store: dir }, {}));
    expect(folder.message).toBe(`Could not open the cache store sqlite:${dir}: ${dir} is a folder, not a file.`);
  });

  it('refuses unsupported URL schemes and invalid sizes', async () => {
    const scheme = await storeError(openCache({ store: 'memcached://127.0.0.1:11211' }, {}));
    expect(scheme).toMatchObject({ code: 'STORE_ERROR', message: 'The cache store scheme "memcached:" is not supported.' });
    const size = await storeError(openCache({ store: 'memory', maxSize: 0 }, {}));
    expect(size).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(size.message).toMatch(/cache\.maxSize/);
  });

  it('rejects with STORE_ERROR once closed', async () => {
    const cache = await openCache({ store: path.join(dir, 'closed.sqlite') }, {});
    await cache?.close();
    const error = await storeError(cache!.get('k'));
    expect(error.code).toBe('STORE_ERROR');
    expect(error.message).toMatch(/^Reading from the cache store sqlite:.*closed\.sqlite failed: .*closed\.$/);
  });
});
