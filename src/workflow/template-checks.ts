/**
 * Template checks of a workflow, run with the config's cross-checks at every load: placeholders
 * that are malformed, `{{item}}` outside a `forEach` step, `{{steps.ID.output}}` naming a step that
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

/** Every step each step transitively needs (unknown needs and cycles are skipped; other checks report them). */
export function upstreamOf(steps: readonly WorkflowStep[]): Map<string, Set<string>> {
  const byId = new Map(steps.map((step) => [step.id, step]));
  const memo = new Map<string, Set<string>>();
  const visit = (id: string, trail: Set<string>): Set<string> => {
    const known = memo.get(id);
    if (known) return known;
    const all = new Set<string>();
    for (const need of byId.get(id)?.needs ?? []) {
      if (!byId.has(need) || trail.has(need)) continue;
      all.add(need);
      for (const up of visit(need, new Set([...trail, need]))) all.add(up);
    }
    memo.set(id, all);
    return all;
  };
  for (const step of steps) visit(step.id, new Set([step.id]));
  return memo;
}

export function templateProblems(name: string, steps: readonly WorkflowStep[], upstream: Map<string, Set<string>>): Problem[] {
  const ids = steps.map((step) => step.id);
  const problems: Problem[] = [];
  steps.forEach((step, i) => {
    for (const ref of templateRefs(step.prompt)) {
      const at = stepPath(name, i, 'prompt');
      if (ref.kind === 'malformed') {
        problems.push({ path: at, message: `${excerpt(ref.text)} is not a placeholder; use {{input.NAME}}, {{steps.ID.output}} or {{item}}` });
      } else if (ref.kind === 'item' && step.forEach === undefined) {
        problems.push({ path: at, message: `${excerpt(ref.text)} is used but the step has no forEach` });
      } else if (ref.kind === 'step' && !ids.includes(ref.id)) {
        problems.push({ path: at, message: `${excerpt(ref.text)} names step ${quote(ref.id)}, which does not exist${didYouMean(ref.id, ids)}` });
      } else if (ref.kind === 'step' && !upstream.get(step.id)?.has(ref.id)) {
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
