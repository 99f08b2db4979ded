/** The coalescing of a server's `tools/list_changed` notifications (fake timers: the gap is time). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toolsRefresh } from '../../src/mcp/tools-refresh.ts';

describe('toolsRefresh', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lists at once on the first notification; a burst makes one more listing after the gap; the last notification is always followed by a listing', async () => {
    let calls = 0;
    let finish: () => void = () => undefined;
    const refresh = toolsRefresh(() => {
      calls += 1;
      return new Promise<void>((resolve) => (finish = resolve));
    }, 1000);
    refresh.poke();
    expect(calls).toBe(1);
    for (let i = 0; i < 500; i++) refresh.poke();
    expect(calls).toBe(1);
    const settled = refresh.settled();
    finish();
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
    finish();
    await settled;
    // Nothing more is due: however long one waits, no listing without a notification.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(2);
    // A notification long after: at once again.
    refresh.poke();
    expect(calls).toBe(3);
    finish();
  });

  it('a listing that fails is not retried by itself; cancel drops what is due and settles it', async () => {
    let calls = 0;
    const refresh = toolsRefresh(async () => {
      calls += 1;
      throw new Error('boom');
    }, 1000);
    refresh.poke();
    refresh.poke();
    const due = refresh.settled();
    refresh.cancel();
    await due;
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(1);
    refresh.poke();
    expect(calls).toBe(1);
  });
});
