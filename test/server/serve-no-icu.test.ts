import { afterEach, describe, expect, it, vi } from 'vitest';

describe('the server at start-up', () => {
  afterEach(() => vi.restoreAllMocks());

  it('loads no ICU number formatter or collator before it is ready (15–80 ms each: src/icu-free.ts)', async () => {
    const formats = vi.spyOn(Number.prototype, 'toLocaleString');
    const compares = vi.spyOn(String.prototype, 'localeCompare');
    // Imported here, after the spies, so that the modules' top levels are watched too.
    const { startInProcess } = await import('./in-process.ts');
    const server = await startInProcess('no-icu', 15_000);
    try {
      expect((await fetch(`${server.url}/global/health`)).status).toBe(200);
      expect(formats).not.toHaveBeenCalled();
      expect(compares).not.toHaveBeenCalled();
    } finally {
      await server.stop();
    }
  });
});
