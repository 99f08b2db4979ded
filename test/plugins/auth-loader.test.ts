/**
 * The auth loaders' bounds (plugins/auth-loader.ts), in-process with fake timers: a loader that
 * never answers fails after LOADER_MS with one sentence naming the hook; answers of several
 * plugins merge in load order; an answer that is not an object is named.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LOADER_MS, runLoaders } from '../../src/plugins/auth-loader.ts';

const getAuth = () => Promise.resolve({ type: 'oauth', access: 'a' });
const provider = () => ({ id: 'p' });

describe('runLoaders', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a loader that never answers fails after LOADER_MS, naming the hook', async () => {
    vi.useFakeTimers();
    const result = runLoaders([() => new Promise(() => undefined)], getAuth, provider, LOADER_MS);
    const settled = result.then(
      () => 'answered',
      (error: Error) => error.message,
    );
    await vi.advanceTimersByTimeAsync(LOADER_MS - 1);
    let seen: string | undefined;
    void settled.then((s) => (seen = s));
    await Promise.resolve();
    expect(seen).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled).toBe('The plugin hook auth.loader failed: it did not answer within 30 s');
  });

  it('merges the loaders in load order, headers together; nothing is no options', async () => {
    const merged = await runLoaders([async () => ({ apiKey: '', headers: { a: '1', b: '1' } }), async () => null, async () => ({ baseURL: 'http://x', headers: { b: '2' } })], getAuth, provider, 1000);
    expect(merged).toEqual({ apiKey: '', baseURL: 'http://x', headers: { a: '1', b: '2' } });
  });

  it('an answer that is not an object is a failure naming the hook', async () => {
    await expect(runLoaders([async () => 'yes'], getAuth, provider, 1000)).rejects.toThrow('The plugin hook auth.loader failed: it answered string, not an object of provider options');
  });
});
