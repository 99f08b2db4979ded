/**
 * Work the process does behind the requests (a `skills.urls` download, a Copilot model list's
 * refresh: src/background-work.ts) is abandoned when the process's last server stops, so that its
 * requests do not hold the exit; a server that stops while another of the same process still runs
 * (a library's, a test's) leaves that work to the one still serving.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBackgroundWork } from '../../src/background-work.ts';
import { startInProcess, type InProcess } from './in-process.ts';

const open: InProcess[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.stop();
});

describe('background work and the servers of one process', () => {
  it('goes on while another server of the process runs; abandoned when the last one stops', async () => {
    const first = await startInProcess('bgwork-a', 10_000);
    const second = await startInProcess('bgwork-b', 10_000);
    const work = startBackgroundWork();
    try {
      await first.stop();
      expect(work.signal.aborted).toBe(false);
      await second.stop();
      expect(work.signal.aborted).toBe(true);
      expect((work.signal.reason as Error).message).toBe('the server is shutting down');
    } finally {
      work.done();
    }
  });
});
