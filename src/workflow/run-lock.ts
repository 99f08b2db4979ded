/**
 * Which process is running a workflow run: `workflow-runs/<run id>.lock` beside the journal,
 * holding the pid of the process that runs it (src/pid-lock.ts), taken when a run starts or is
 * resumed and let go when it ends. A second `--resume` of a run being run now is refused instead of
 * running its tasks a second time beside the first; a run whose process died (`kill -9`, a crash)
 * has a leftover lock, taken over by the next resume.
 */
import path from 'node:path';
import { makeDirSync } from '../make-dir.ts';
import { lockOwner, tryPidLock, type HeldLock } from '../pid-lock.ts';

/** Run ids that can name a file (ids from newRunId always can). */
const FILE_SAFE = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,200}$/;

function lockFile(journalPath: string, runId: string): string | undefined {
  return FILE_SAFE.test(runId) ? path.join(path.dirname(journalPath), 'workflow-runs', `${runId}.lock`) : undefined;
}

/** The pid of the live process running `runId` now, or undefined. */
export function runOwner(journalPath: string, runId: string): number | undefined {
  const file = lockFile(journalPath, runId);
  return file === undefined ? undefined : lockOwner(file);
}

/** Claims `runId` for this process, or says which live process runs it. */
export function claimRun(journalPath: string, runId: string): HeldLock | { owner: number } {
  const file = lockFile(journalPath, runId);
  if (file === undefined) return { release: () => undefined };
  makeDirSync(path.dirname(file), 0o700);
  return tryPidLock(file);
}
