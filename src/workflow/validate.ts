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
import { upstreamOf } from './template-checks.ts';
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

function inOrder(steps: readonly WorkflowStep[]): WorkflowStep[] {
  const done = new Set<string>();
  const out: WorkflowStep[] = [];
  while (out.length < steps.length) {
    const next = steps.find((step) => !done.has(step.id) && (step.needs ?? []).every((need) => done.has(need)));
    if (!next) break;
    done.add(next.id);
    out.push(next);
  }
  return out;
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
  const upstream = upstreamOf(steps);
  const problems = [...crossChecked, ...agentProblems(config, name, steps)];
  if (problems.length > 0) throw invalid(problems);
  const validated = inOrder(steps).map((step): ValidatedStep => {
    const index = steps.indexOf(step);
    const inputName = typeof step.forEach === 'string' ? forEachInputName(step.forEach) : undefined;
    return {
      id: step.id,
      index,
      agent: step.agent,
      ...(step.model === undefined ? {} : { model: formatModelRef(parseModelRef(step.model, formatJsonPath(stepPath(name, index, 'model')))) }),
      prompt: step.prompt,
      needs: [...(step.needs ?? [])],
      upstream: upstream.get(step.id) ?? new Set(),
      ...(Array.isArray(step.forEach) ? { forEach: { kind: 'list', items: [...step.forEach] } } : {}),
      ...(inputName === undefined ? {} : { forEach: { kind: 'input', name: inputName } }),
      onError: step.onError ?? 'fail',
    };
  });
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
