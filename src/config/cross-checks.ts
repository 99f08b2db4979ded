/**
 * Checks that span several parts of a config the schema cannot express. Errors (Pantheon's own
 * keys): workflow steps naming existing agents, `needs` naming existing steps without cycles,
 * prompt templates naming only inputs, `{{item}}` in forEach steps and upstream steps. Warnings
 * (OpenCode loads such a file, so Pantheon does too; a run that needs the value fails then): model
 * refs that are not `provider/model` or name a provider neither declared nor catalogued, a
 * provider's base URL that is not an http(s) URL (providers/base-url.ts), and a `default_agent`
 * that no layer defines, and a new language server without `extensions`. Run on a schema-valid config.
 */
import { BASE_URL_HINT, baseURLFinding, configuredBaseURL } from '../providers/base-url.ts';
import { knownProvider, knownProviderIds } from '../providers/catalog.ts';
import { BUILTIN_SERVER_IDS } from '../lsp/server-ids.ts';
import { templateProblems } from '../workflow/template-checks.ts';
import { didYouMean } from './did-you-mean.ts';
import type { JsonPath } from './json-path.ts';
import type { Problem } from './schema-problems.ts';
import type { Config, ModelSpec, WorkflowStep } from './schema-types.ts';
import { excerpt, quote } from './excerpt.ts';

interface ModelRefAt {
  path: JsonPath;
  spec: ModelSpec;
}

function modelRefs(config: Config): ModelRefAt[] {
  const refs: ModelRefAt[] = [];
  const chain = (base: JsonPath, model: ModelSpec | undefined, fallbacks: ModelSpec[] | undefined): void => {
    if (model !== undefined) refs.push({ path: [...base, 'model'], spec: model });
    fallbacks?.forEach((spec, i) => refs.push({ path: [...base, 'fallbacks', i], spec }));
  };
  chain([], config.model, config.fallbacks);
  config.budget?.downgrade?.forEach((spec, i) => refs.push({ path: ['budget', 'downgrade', i], spec }));
  if (config.small_model !== undefined) refs.push({ path: ['small_model'], spec: config.small_model });
  for (const [name, agent] of Object.entries(config.agent ?? {})) chain(['agent', name], agent.model, agent.fallbacks);
  for (const [name, workflow] of Object.entries(config.workflow ?? {})) {
    workflow.steps.forEach((step, i) => {
      if (step.model !== undefined) refs.push({ path: ['workflow', name, 'steps', i, 'model'], spec: step.model });
    });
  }
  return refs;
}

/** The problems of a config: errors stop loading, warnings are reported and loading goes on. */
export interface Findings {
  errors: Problem[];
  warnings: Problem[];
}

const REF_FORM = /^[^/\s]+\/\S+$/;

function providerProblems(config: Config): Problem[] {
  const declared = Object.keys(config.provider ?? {});
  const problems: Problem[] = [];
  for (const { path, spec } of modelRefs(config)) {
    if (typeof spec === 'string' && !REF_FORM.test(spec)) {
      problems.push({ path, message: `expected a model reference provider/model[:variant], found ${quote(spec)}; a run that uses it fails` });
      continue;
    }
    const provider = typeof spec === 'string' ? spec.slice(0, spec.indexOf('/')) : spec.provider;
    if (declared.includes(provider) || knownProvider(provider)) continue;
    problems.push({
      path: typeof spec === 'string' ? path : [...path, 'provider'],
      message: `provider ${quote(provider)} is neither declared nor in the models.dev catalogue, so a run that uses it fails${didYouMean(provider, [...declared, ...knownProviderIds()])}`,
      hint: `Declare a provider under \`provider.<id>\` (npm, options.baseURL, models), or use a catalogued provider id (\`opencode models\`).`,
    });
  }
  for (const id of declared) {
    const configured = configuredBaseURL(config, id);
    const finding = configured && baseURLFinding(configured.value, configured.path);
    if (finding) problems.push({ path: configured.path, message: `${finding}; a run that uses provider ${quote(id)} fails`, hint: BASE_URL_HINT });
  }
  return problems;
}

function unknownAgent(name: string, agents: string[], consequence = ''): string {
  return `agent ${quote(name)} is not defined${consequence}${didYouMean(name, agents)}`;
}

/**
 * Cycles among steps' `needs`, each as the step ids around it (`a → b → a`) and where it starts.
 * A depth-first walk with a stack of its own, not recursion: a chain of many thousands of steps
 * does not overflow the call stack.
 */
function needCycles(steps: WorkflowStep[]): { index: number; ids: string[] }[] {
  const byId = new Map(steps.map((step, index) => [step.id, index]));
  const state = new Map<string, 'open' | 'done'>();
  const cycles: { index: number; ids: string[] }[] = [];
  for (const root of steps) {
    if (state.has(root.id)) continue;
    // The path walked so far, each step with the position of its next need to look at.
    const path: { id: string; next: number }[] = [{ id: root.id, next: 0 }];
    const onPath = new Map<string, number>([[root.id, 0]]);
    state.set(root.id, 'open');
    while (path.length > 0) {
      const top = path[path.length - 1] as { id: string; next: number };
      const needs = steps[byId.get(top.id) as number]?.needs ?? [];
      if (top.next >= needs.length) {
        path.pop();
        onPath.delete(top.id);
        state.set(top.id, 'done');
        continue;
      }
      const need = needs[top.next++] as string;
      if (!byId.has(need)) continue;
      if (state.get(need) === 'open') {
        const ids = [...path.slice(onPath.get(need)).map((p) => p.id), need];
        cycles.push({ index: byId.get(need) ?? 0, ids });
      } else if (!state.has(need)) {
        state.set(need, 'open');
        onPath.set(need, path.length);
        path.push({ id: need, next: 0 });
      }
    }
  }
  return cycles;
}

function workflowProblems(config: Config, agents: string[]): Problem[] {
  const problems: Problem[] = [];
  for (const [name, workflow] of Object.entries(config.workflow ?? {})) {
    const base: JsonPath = ['workflow', name, 'steps'];
    const ids = workflow.steps.map((step) => step.id);
    const known = new Set(ids);
    const seen = new Set<string>();
    workflow.steps.forEach((step, i) => {
      if (seen.has(step.id)) problems.push({ path: [...base, i, 'id'], message: `duplicate step id ${quote(step.id)}` });
      seen.add(step.id);
      if (!agents.includes(step.agent)) problems.push({ path: [...base, i, 'agent'], message: unknownAgent(step.agent, agents) });
      step.needs?.forEach((need, j) => {
        if (known.has(need)) return;
        problems.push({
          path: [...base, i, 'needs', j],
          message: `step ${quote(need)} does not exist in workflow ${quote(name)}${didYouMean(need, ids)}`,
        });
      });
    });
    for (const cycle of needCycles(workflow.steps)) {
      problems.push({ path: [...base, cycle.index, 'needs'], message: `steps need each other in a cycle: ${cycle.ids.map((id) => excerpt(id)).join(' → ')}` });
    }
  }
  return problems;
}

/** A budget's time zone must be one the runtime knows; downgrading needs a chain; perAgent names agents. */
function budgetProblems(config: Config, agents: string[]): Problem[] {
  const budget = config.budget;
  if (!budget) return [];
  const problems: Problem[] = [];
  if (budget.timeZone !== undefined) {
    try {
      new Intl.DateTimeFormat('en-CA', { timeZone: budget.timeZone });
    } catch {
      problems.push({ path: ['budget', 'timeZone'], message: `expected an IANA time zone such as "Europe/Berlin" or "UTC", found ${JSON.stringify(budget.timeZone)}` });
    }
  }
  if (budget.onExceeded === 'downgrade' && !budget.downgrade?.length) {
    problems.push({ path: ['budget', 'onExceeded'], message: '"downgrade" needs a chain to downgrade to: set budget.downgrade, e.g. ["opencode-zen/big-pickle"]' });
  }
  for (const name of Object.keys(budget.perAgent ?? {})) {
    if (!agents.includes(name)) problems.push({ path: ['budget', 'perAgent', name], message: unknownAgent(name, agents) });
  }
  return problems;
}

/**
 * OpenCode's `lsp` rule beyond its schema (which judges the shape, schema/opencode): a server by a
 * name that is not one of its built-ins needs `extensions`; OpenCode 1.18.33 loads the file and
 * drops such an entry without a word, Pantheon drops it with a warning.
 */
function lspProblems(config: Config): Problem[] {
  const lsp: unknown = config.lsp;
  if (lsp === null || typeof lsp !== 'object') return [];
  const problems: Problem[] = [];
  for (const [name, entry] of Object.entries(lsp as Record<string, unknown>)) {
    if (entry === null || typeof entry !== 'object' || BUILTIN_SERVER_IDS.includes(name)) continue;
    const { disabled, extensions } = entry as { disabled?: unknown; extensions?: unknown };
    if (disabled === true || extensions !== undefined) continue;
    problems.push({
      path: ['lsp', name, 'extensions'],
      message: `${name} is not one of OpenCode's built-in language servers and has no "extensions" (the files it takes, e.g. [".my"]), so it is not used (OpenCode drops it too)`,
    });
  }
  return problems;
}

/** Problems of a schema-valid config that the schema alone cannot find. */
export function crossCheckProblems(config: Config): Findings {
  const agents = Object.keys(config.agent ?? {});
  const warnings = providerProblems(config);
  if (config.default_agent !== undefined && !agents.includes(config.default_agent)) {
    warnings.push({ path: ['default_agent'], message: unknownAgent(config.default_agent, agents, ', so a run without --agent fails') });
  }
  warnings.push(...lspProblems(config));
  const errors = [...workflowProblems(config, agents), ...budgetProblems(config, agents)];
  for (const [name, workflow] of Object.entries(config.workflow ?? {})) {
    for (const problem of templateProblems(name, workflow.steps)) errors.push(problem);
  }
  return { errors, warnings };
}
