import { describe, expect, it } from 'vitest';
import { pushStream } from '../src/push-stream.ts';

/** Lets every pending callback and promise of this turn run. */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function readAll<T>(stream: ReadableStream<T>): Promise<T[]> {
  const reader = stream.getReader();
  const out: T[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    out.push(value);
  }
}

describe('pushStream', () => {
  it('reads what the producer enqueues, in order, to its close', async () => {
    const stream = pushStream<number>(async (controller) => {
      controller.enqueue(1);
      await settled();
      controller.enqueue(2);
      controller.enqueue(3);
      controller.close();
    });
    expect(await readAll(stream)).toEqual([1, 2, 3]);
  });

  it('keeps a producer that waits on room() to the reader’s pace', async () => {
    let produced = 0;
    const stream = pushStream<number>(async (controller, room) => {
      for (let i = 0; i < 5; i++) {
        controller.enqueue(i);
        produced += 1;
        const wait = room();
        if (wait) await wait;
      }
      controller.close();
    });
    await settled();
    // The queue holds one chunk (the default high-water mark): the producer waits.
    expect(produced).toBe(1);
    const reader = stream.getReader();
    expect(await reader.read()).toEqual({ done: false, value: 0 });
    await settled();
    expect(produced).toBe(2);
    expect(await reader.read()).toEqual({ done: false, value: 1 });
    expect(await reader.read()).toEqual({ done: false, value: 2 });
    await settled();
    expect(produced).toBe(4);
    const rest: number[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest.push(r.value);
    expect(rest).toEqual([3, 4]);
    expect(produced).toBe(5);
  });

  it('goes on at once when the reader asked while the producer was busy', async () => {
    let release!: () => void;
    const busy = new Promise<void>((resolve) => (release = resolve));
    const stream = pushStream<string>(async (controller, room) => {
      await busy;
      controller.enqueue('a');
      const wait = room();
      if (wait) await wait;
      controller.enqueue('b');
      controller.close();
    });
    const reader = stream.getReader();
    const first = reader.read();
    await settled();
    release();
    expect(await first).toEqual({ done: false, value: 'a' });
    expect(await reader.read()).toEqual({ done: false, value: 'b' });
    expect((await reader.read()).done).toBe(true);
  });

  it('wakes a waiting producer on cancel, and passes the reason to `cancel`', async () => {
    let sawCancel = false;
    let finished = false;
    const reasons: unknown[] = [];
    const stream = pushStream<number>(
      async (controller, room) => {
        controller.enqueue(1);
        const wait = room();
        if (wait) await wait;
        sawCancel = reasons.length === 1;
        finished = true;
      },
      (reason) => {
        reasons.push(reason);
      },
    );
    await settled();
    expect(finished).toBe(false);
    await stream.cancel('client gone');
    await settled();
    expect(reasons).toEqual(['client gone']);
    expect(finished).toBe(true);
    expect(sawCancel).toBe(true);
  });

  it('errors the stream with the producer’s failure', async () => {
    const stream = pushStream<number>(async (controller) => {
      controller.enqueue(1);
      throw new Error('upstream broke');
    });
    const reader = stream.getReader();
    expect(await reader.read()).toEqual({ done: false, value: 1 });
    await expect(reader.read()).rejects.toThrow('upstream broke');
  });

  it('lets a producer that enqueues after a cancel end quietly', async () => {
    let enqueued: unknown;
    const stream = pushStream<number>(async (controller) => {
      await settled();
      try {
        controller.enqueue(2);
      } catch (error) {
        enqueued = error;
        throw error;
      }
    });
    await stream.cancel();
    await settled();
    await settled();
    // The enqueue threw (the stream is closed) and pushStream swallowed the producer's rejection:
    // no unhandled rejection reaches the test run.
    expect(enqueued).toBeInstanceOf(TypeError);
  });
});
