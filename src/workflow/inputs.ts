/**
 * A run's inputs: every input the workflow uses must be given, and a `forEach: "{{input.x}}"`
 * input is a JSON array or comma-separated text (trimmed, empty entries dropped).
 */
import { formatJsonPath } from '../config/json-path.ts';
import { structureProblem } from '../config/structure-guard.ts';
import { PantheonError } from '../errors.ts';
import { requiredInputs, type ValidatedStep, type ValidatedWorkflow } from './validate.ts';

/** Throws USAGE naming every input the workflow needs that `inputs` lacks. */
export function checkInputs(wf: ValidatedWorkflow, inputs: Readonly<Record<string, string>>): void {
  const required = requiredInputs(wf);
  const missing = required.filter((name) => !Object.hasOwn(inputs, name));
  if (missing.length === 0) return;
  throw new PantheonError('USAGE', `Workflow ${wf.name} needs ${missing.length === 1 ? 'input' : 'inputs'} ${missing.join(', ')}.`, {
    hint: `Pass ${missing.map((name) => `--input ${name}=…`).join(' ')} (it uses: ${required.join(', ')}).`,
  });
}

function parseList(name: string, text: string): unknown[] {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) {
    return trimmed
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (error) {
    throw new PantheonError('USAGE', `--input ${name}: not a valid JSON array (${(error as Error).message}).`, {
      hint: 'Give a JSON array (["a","b"]) or comma-separated text (a, b).',
      cause: error,
    });
  }
  if (!Array.isArray(parsed)) throw new PantheonError('USAGE', `--input ${name}: expected a JSON array.`);
  // Items are written to the journal and into prompts as JSON: a list nested thousands deep would
  // overflow the stack there (reported as a journal failure, with a run left behind).
  const problem = structureProblem(parsed);
  if (problem) {
    const where = problem.kind === 'key' ? ` (at ${formatJsonPath(problem.path)})` : '';
    throw new PantheonError('USAGE', `--input ${name}: ${problem.message}${where}.`, {
      hint: problem.kind === 'depth' ? 'Give a flat list of items (strings, or objects a few levels deep).' : 'Rename that key: "__proto__", "constructor" and "prototype" are not accepted as keys of items.',
    });
  }
  return parsed;
}

/** The items a step runs over: undefined for a step without `forEach`. */
export function stepItems(step: ValidatedStep, inputs: Readonly<Record<string, string>>): unknown[] | undefined {
  if (!step.forEach) return undefined;
  if (step.forEach.kind === 'list') return step.forEach.items;
  return parseList(step.forEach.name, inputs[step.forEach.name] ?? '');
}
