/**
 * Checks one workflow before it runs and turns it into the engine's shape: steps in dependency
 * order, each with its model ref, its `forEach` source and every step upstream of it. Agent,
 * `needs`, cycle and template checks come from the config's cross-checks (the same ones run at
 * load). Any problem → CONFIG_INVALID naming `workflow.NAME.steps[i].field`.
 */
import { crossCheckProblems } from '../config/cross-checks.ts';
import { didYouMean } from '../config/did-you-mean.ts';
import { formatJsonPath, type JsonPath } from '../config/json-path.ts';
import type { Problem } from '../config/schema-problems.ts';
import type { Config, WorkflowConfig, WorkflowStep } from '../config/schema-types.ts';
import { PantheonError } from '../errors.ts';
import { formatModelRef, parseModelRef } from '../providers/model-ref.ts';
import { forEachInputName, templateRefs } from './template.ts';
import { Upstream } from './template-checks.ts';
import { quote } from '../config/excerpt.ts';

export type ForEachSource = { kind: 'list'; items: unknown[] } | { kind: 'input'; name: string };

export interface ValidatedStep {
  id: string;
  /** Position in the config's `steps` list. */
  index: number;
  agent: string;
  /** `provider/model[:variant]` replacing the head of the agent's chain. */
  model?: string;
  prompt: string;
  needs: string[];
  /** Every step this one transitively needs. */
  upstream: ReadonlySet<string>;
  forEach?: ForEachSource;
  onError: 'fail' | 'continue';
}

export interface ValidatedWorkflow {
  name: string;
  description?: string;
  concurrency?: number;
  /** In dependency order: every step comes after the steps it needs (config order otherwise). */
  steps: ValidatedStep[];
}

function stepPath(name: string, i: number, ...rest: JsonPath): JsonPath {
  return ['workflow', name, 'steps', i, ...rest];
}

function agentProblems(config: Config, name: string, steps: readonly WorkflowStep[]): Problem[] {
  return steps.flatMap((step, i) =>
    config.agent?.[step.agent]?.disable ? [{ path: stepPath(name, i, 'agent'), message: `agent ${quote(step.agent)} is disabled` }] : [],
  );
}

/**
 * Steps in dependency order: each time, the first step in config order whose needs are all placed
 * (Kahn's algorithm with the ready steps kept in config order; linear in steps and needs, for a
 * workflow of thousands of steps). Steps on a cycle are left out (validation has refused those).
 */
function inOrder(steps: readonly WorkflowStep[]): WorkflowStep[] {
  const index = new Map(steps.map((step, i) => [step.id, i]));
  const waiting = steps.map((step) => new Set(step.needs ?? []).size);
  const dependents = steps.map((): number[] => []);
  steps.forEach((step, i) => {
    for (const need of new Set(step.needs ?? [])) dependents[index.get(need) ?? -1]?.push(i);
  });
  const ready = new MinHeap();
  waiting.forEach((n, i) => n === 0 && ready.push(i));
  const out: WorkflowStep[] = [];
  for (let i = ready.pop(); i !== undefined; i = ready.pop()) {
    out.push(steps[i] as WorkflowStep);
    for (const d of dependents[i] ?? []) if (--(waiting[d] as number) === 0) ready.push(d);
  }
  return out;
}

/** The smallest of a set of numbers first. */
class MinHeap {
  readonly #items: number[] = [];

  push(n: number): void {
    const items = this.#items;
    let i = items.push(n) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as number) <= n) break;
      items[i] = items[parent] as number;
      i = parent;
    }
    items[i] = n;
  }

  pop(): number | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && (items[right] as number) < (items[left] as number) ? right : left;
      if ((items[child] as number) >= last) break;
      items[i] = items[child] as number;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

function invalid(problems: Problem[]): PantheonError {
  const lines = problems.map((p) => `${formatJsonPath(p.path)}: ${p.message}`);
  const hints = [...new Set(problems.flatMap((p) => (p.hint ? [p.hint] : [])))];
  return new PantheonError('CONFIG_INVALID', lines.length === 1 ? (lines[0] as string) : `Invalid workflow: ${lines.length} problems.`, {
    details: lines.length === 1 ? [] : lines,
    hint: hints.length ? hints.join(' ') : 'Fix the workflow in opencode.json.',
  });
}

function workflowOf(config: Config, name: string): WorkflowConfig {
  const workflows = Object.keys(config.workflow ?? {});
  const workflow = config.workflow?.[name];
  if (workflow) return workflow;
  throw new PantheonError('CONFIG_INVALID', `workflow.${name}: no workflow named ${quote(name)}${didYouMean(name, workflows)}`, {
    hint: workflows.length ? `Workflows: ${workflows.sort().join(', ')}.` : 'Declare one under "workflow" in opencode.json.',
  });
}

/** The workflow `name`, checked and ready to run; throws CONFIG_INVALID naming every problem's path. */
export function validateWorkflow(config: Config, name: string): ValidatedWorkflow {
  const workflow = workflowOf(config, name);
  const steps = workflow.steps;
  const own: JsonPath = ['workflow', name];
  // Agents, needs, cycles and templates: the checks every config load runs, for this workflow.
  const crossChecked = crossCheckProblems(config).errors.filter((p) => own.every((seg, i) => p.path[i] === seg));
  const upstream = new Upstream(steps);
  const problems = [...crossChecked, ...agentProblems(config, name, steps)];
  if (problems.length > 0) throw invalid(problems);
  const positions = new Map(steps.map((step, i) => [step, i]));
  const validated = inOrder(steps).map((step): ValidatedStep => {
    const index = positions.get(step) as number;
    const inputName = typeof step.forEach === 'string' ? forEachInputName(step.forEach) : undefined;
    return {
      id: step.id,
      index,
      agent: step.agent,
      ...(step.model === undefined ? {} : { model: formatModelRef(parseModelRef(step.model, formatJsonPath(stepPath(name, index, 'model')))) }),
      prompt: step.prompt,
      needs: [...(step.needs ?? [])],
      ...(Array.isArray(step.forEach) ? { forEach: { kind: 'list', items: [...step.forEach] } } : {}),
      ...(inputName === undefined ? {} : { forEach: { kind: 'input', name: inputName } }),
      onError: step.onError ?? 'fail',
    } as Omit<ValidatedStep, 'upstream'> as ValidatedStep;
  });
  for (const step of validated) {
    // Worked out when asked for: every step's whole upstream is quadratic in a long chain of steps.
    let all: ReadonlySet<string> | undefined;
    Object.defineProperty(step, 'upstream', { enumerable: true, get: () => (all ??= upstream.of(step.id)) });
  }
  return {
    name,
    ...(workflow.description === undefined ? {} : { description: workflow.description }),
    ...(workflow.concurrency === undefined ? {} : { concurrency: workflow.concurrency }),
    steps: validated,
  };
}

/** Input names the workflow uses (`{{input.x}}` in prompts, `forEach: "{{input.x}}"`), sorted. */
export function requiredInputs(wf: ValidatedWorkflow): string[] {
  const names = new Set<string>();
  for (const step of wf.steps) {
    for (const ref of templateRefs(step.prompt)) if (ref.kind === 'input') names.add(ref.name);
    if (step.forEach?.kind === 'input') names.add(step.forEach.name);
  }
  return [...names].sort();
}
