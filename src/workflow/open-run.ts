/**
 * Starts a new run in the journal, or picks up one to resume: the given id, or the newest
 * unfinished run of the workflow. A resumed run keeps its inputs (inputs given again must match)
 * and its successful tasks.
 */
import { PantheonError } from '../errors.ts';
import type { HeldLock } from '../pid-lock.ts';
import type { Journal, RunRecord } from './journal.ts';
import { claimRun } from './run-lock.ts';
import type { TaskState } from './task-state.ts';
import type { ValidatedWorkflow } from './validate.ts';

export interface OpenedRun {
  run: RunRecord;
  /** Tasks the run already finished successfully, by taskID. */
  done: Map<string, TaskState>;
  /** This process's claim on the run (run-lock.ts), to let go when it ends. */
  lock: HeldLock;
}

function busy(run: RunRecord, owner: number): PantheonError {
  return new PantheonError('USAGE', `Run ${run.id} of workflow ${run.workflow} is being run now${owner > 0 ? ` by process ${owner}` : ''}.`, {
    hint: `Wait for it to end (\`opencode workflow show ${run.id}\` shows how far it is), or stop that process and resume then.`,
  });
}

/** The run to resume, claimed for this process: the given one, or the newest unfinished one that no live process is running. */
function runToResume(journal: Journal, wf: ValidatedWorkflow, resume: string | true): { run: RunRecord; lock: HeldLock } {
  if (resume === true) {
    const candidates = journal.unfinishedRuns(wf.name);
    let first: { run: RunRecord; owner: number } | undefined;
    for (const run of candidates) {
      const claim = claimRun(journal.path, run.id);
      if ('release' in claim) return { run, lock: claim };
      first ??= { run, owner: claim.owner };
    }
    if (first) throw busy(first.run, first.owner);
    throw new PantheonError('USAGE', `No unfinished run of workflow ${wf.name} to resume.`, {
      hint: `Start one with \`opencode workflow run ${wf.name}\`.`,
    });
  }
  const { run } = journal.getRun(resume);
  if (run.workflow !== wf.name) {
    throw new PantheonError('USAGE', `Run ${run.id} belongs to workflow ${run.workflow}, not ${wf.name}.`, {
      hint: `Resume it with \`opencode workflow run ${run.workflow} --resume ${run.id}\`.`,
    });
  }
  if (run.status === 'success') {
    throw new PantheonError('USAGE', `Run ${run.id} is already finished.`, { hint: `See it with \`opencode workflow show ${run.id}\`.` });
  }
  const claim = claimRun(journal.path, run.id);
  if (!('release' in claim)) throw busy(run, claim.owner);
  return { run, lock: claim };
}

/** The inputs of a resumed run; inputs given again must be the same ones. */
export function resumeInputs(run: RunRecord, given: Readonly<Record<string, string>>): Record<string, string> {
  const differing = Object.keys(given).filter((name) => run.inputs[name] !== given[name]);
  if (differing.length > 0) {
    throw new PantheonError('USAGE', `Run ${run.id} was started with other inputs (${differing.join(', ')}).`, {
      hint: 'Resume without --input (the run keeps its own), or start a new run.',
    });
  }
  return { ...run.inputs };
}

/** The run to resume, checked and claimed, with its finished tasks; not yet marked running again. */
export function findResumable(journal: Journal, wf: ValidatedWorkflow, resume: string | true): OpenedRun {
  const { run, lock } = runToResume(journal, wf, resume);
  try {
    const { tasks } = journal.getRun(run.id);
    return { run, done: new Map(tasks.filter((t) => t.status === 'success').map((t) => [t.taskID, t])), lock };
  } catch (error) {
    lock.release();
    throw error;
  }
}
