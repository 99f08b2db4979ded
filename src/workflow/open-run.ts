/**
 * Starts a new run in the journal, or picks up one to resume: the given id, or the newest
 * unfinished run of the workflow. A resumed run keeps its inputs (inputs given again must match)
 * and its successful tasks.
 */
import { PantheonError } from '../errors.ts';
import type { Journal, RunRecord } from './journal.ts';
import type { TaskState } from './task-state.ts';
import type { ValidatedWorkflow } from './validate.ts';

export interface OpenedRun {
  run: RunRecord;
  /** Tasks the run already finished successfully, by taskID. */
  done: Map<string, TaskState>;
}

function runToResume(journal: Journal, wf: ValidatedWorkflow, resume: string | true): RunRecord {
  if (resume === true) {
    const latest = journal.latestUnfinished(wf.name);
    if (!latest) {
      throw new PantheonError('USAGE', `No unfinished run of workflow ${wf.name} to resume.`, {
        hint: `Start one with \`opencode workflow run ${wf.name}\`.`,
      });
    }
    return latest;
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
  return run;
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

/** The run to resume, checked, with its finished tasks; not yet marked running again. */
export function findResumable(journal: Journal, wf: ValidatedWorkflow, resume: string | true): OpenedRun {
  const run = runToResume(journal, wf, resume);
  const { tasks } = journal.getRun(run.id);
  return { run, done: new Map(tasks.filter((t) => t.status === 'success').map((t) => [t.taskID, t])) };
}
