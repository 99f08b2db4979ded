/**
 * Template checks of a workflow, run with the config's cross-checks at every load: placeholders
 * that are malformed or near misses of ours (`{{inputs.x}}`, `{{step.ID.output}}`, `{{items}}`:
 * they were sent to the model as they were written), `{{item}}` outside a `forEach` step, `{{steps.ID.output}}` naming a step that
 * does not exist or is not upstream, and a `forEach` text that is not `"{{input.NAME}}"`.
 */
import { didYouMean } from '../config/did-you-mean.ts';
import type { JsonPath } from '../config/json-path.ts';
import type { Problem } from '../config/schema-problems.ts';
import type { WorkflowStep } from '../config/schema-types.ts';
import { forEachInputName, templateRefs } from './template.ts';
import { excerpt, quote } from '../config/excerpt.ts';
import { formatFound } from '../config/found-value.ts';

function stepPath(name: string, i: number, ...rest: JsonPath): JsonPath {
  return ['workflow', name, 'steps', i, ...rest];
}

/**
 * Whether a step is upstream of another (needed by it, directly or through other steps): a walk
 * over `needs` from the step asked about, nearest steps first, that stops once it finds the other.
 * Memory stays linear in the steps (a workflow of thousands of steps in a chain used to keep every
 * step's whole upstream, quadratic in time and memory: 15,000 steps took 42 s and 3.4 GB at every
 * config load). Unknown needs and cycles are passed over; other checks report them.
 */
export class Upstream {
  readonly #needs: Map<string, readonly string[]>;

  constructor(steps: readonly WorkflowStep[]) {
    this.#needs = new Map(steps.map((step) => [step.id, step.needs ?? []]));
  }

  /** Whether `up` is upstream of `id`. */
  has(id: string, up: string): boolean {
    return this.#walk(id, (step) => step === up);
  }

  /** Every step upstream of `id`. */
  of(id: string): Set<string> {
    const all = new Set<string>();
    this.#walk(id, (step) => {
      all.add(step);
      return false;
    });
    return all;
  }

  /** Visits each step upstream of `id` once, nearest first, until `found` says to stop; whether it did. */
  #walk(id: string, found: (step: string) => boolean): boolean {
    const seen = new Set<string>([id]);
    const queue: string[] = [id];
    for (let i = 0; i < queue.length; i++) {
      for (const need of this.#needs.get(queue[i] as string) ?? []) {
        if (seen.has(need) || !this.#needs.has(need)) continue;
        if (found(need)) return true;
        seen.add(need);
        queue.push(need);
      }
    }
    return false;
  }
}

export function templateProblems(name: string, steps: readonly WorkflowStep[], upstream: Upstream = new Upstream(steps)): Problem[] {
  const ids = new Set(steps.map((step) => step.id));
  const problems: Problem[] = [];
  steps.forEach((step, i) => {
    for (const ref of templateRefs(step.prompt)) {
      const at = stepPath(name, i, 'prompt');
      if (ref.kind === 'malformed') {
        const guess = ref.suggestion ? `; did you mean ${ref.suggestion}?` : '';
        const message =
          ref.head === undefined
            ? `${excerpt(ref.text)} in step ${quote(step.id)} is not a placeholder${guess || '; use {{input.NAME}}, {{steps.ID.output}} or {{item}}'}`
            : `${excerpt(ref.text)} in step ${quote(step.id)} names ${quote(ref.head)}, which is not a placeholder name (input, steps or item)${guess}`;
        problems.push({ path: at, message, hint: 'Placeholders are {{input.NAME}}, {{steps.ID.output}} and, in a forEach step, {{item}}.' });
      } else if (ref.kind === 'item' && step.forEach === undefined) {
        problems.push({ path: at, message: `${excerpt(ref.text)} is used but the step has no forEach` });
      } else if (ref.kind === 'step' && !ids.has(ref.id)) {
        problems.push({ path: at, message: `${excerpt(ref.text)} in step ${quote(step.id)} names step ${quote(ref.id)}, which does not exist${didYouMean(ref.id, [...ids])}` });
      } else if (ref.kind === 'step' && !upstream.has(step.id, ref.id)) {
        problems.push({
          path: at,
          message: `${excerpt(ref.text)} names step ${quote(ref.id)}, which is not upstream of ${quote(step.id)}`,
          hint: `Add the step to \`needs\` so that it finishes first.`,
        });
      }
    }
    if (typeof step.forEach === 'string' && forEachInputName(step.forEach) === undefined) {
      problems.push({ path: stepPath(name, i, 'forEach'), message: `expected a list or "{{input.NAME}}", found ${typeof step.forEach === 'string' ? quote(step.forEach) : formatFound(step.forEach, [])}` });
    }
  });
  return problems;
}
