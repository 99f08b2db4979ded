import type { JSONSchema7, Tool } from 'ai';
import { subagents, type Subagent } from '../agents/subagents.ts';
import type { Config } from '../config/schema-types.ts';
import { authorize, type PermissionContext } from '../permissions/authorize.ts';
import { evaluatePermission } from '../permissions/rules.ts';

/** Delegation deeper than this (the top-level task is depth 0) is refused. */
export const DEFAULT_MAX_DEPTH = 3;

export interface TaskToolOptions {
  config: Config;
  /** Agents from the top-level task down to the one that gets this tool (it is last). */
  lineage: readonly string[];
  maxDepth: number;
  /** The delegating agent's permission context (`task` patterns match agent names). */
  permission: PermissionContext;
  /** Runs the sub-agent's task and resolves with its answer (`toolCallId`: the `task` call's, under which the files it changed are kept). */
  delegate: (agent: string, prompt: string, signal: AbortSignal | undefined, toolCallId: string | undefined, description?: string) => Promise<string>;
}

export interface TaskInput {
  agent: string;
  prompt: string;
  /** OpenCode's short description of the task (3–5 words), shown with the call. */
  description?: string;
}

/** Arguments OpenCode's `task` takes beside its three: accepted, not used (Pantheon's sub-tasks are not resumed by id). */
const IGNORED = new Set(['task_id', 'command']);

/**
 * The input, or a message naming what is wrong with it. OpenCode's arguments
 * (`{description, prompt, subagent_type}`, what its agents' prompts and models trained on it
 * write) and Pantheon's first ones (`{agent, prompt}`) are both taken.
 */
export function checkTaskInput(input: unknown): TaskInput | string {
  const problems: string[] = [];
  const record = input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>) : undefined;
  const text = (key: string): string | undefined => (typeof record?.[key] === 'string' && (record[key] as string).trim() ? (record[key] as string) : undefined);
  if (!record) problems.push('arguments must be an object');
  else {
    const agentKey = record.subagent_type !== undefined || record.agent === undefined ? 'subagent_type' : 'agent';
    if (record.subagent_type !== undefined && record.agent !== undefined) problems.push('give the agent once, as "subagent_type"');
    for (const key of [agentKey, 'prompt']) {
      if (record[key] === undefined) problems.push(`missing required argument "${key}"`);
      else if (text(key) === undefined) problems.push(`"${key}" must be a non-empty string`);
    }
    for (const key of ['description', ...IGNORED]) if (record[key] !== undefined && typeof record[key] !== 'string') problems.push(`"${key}" must be a string`);
    for (const key of Object.keys(record)) if (!['agent', 'subagent_type', 'prompt', 'description', ...IGNORED].includes(key)) problems.push(`unknown argument "${key}"`);
  }
  if (problems.length) return `invalid arguments for task: ${problems.join('; ')}. Expected {description: string, prompt: string, subagent_type: string}.`;
  const description = text('description');
  return { agent: (text('subagent_type') ?? text('agent')) as string, prompt: text('prompt') as string, ...(description ? { description } : {}) };
}

/** The subagents this agent may name: not itself, and not denied outright by its `task` permission. */
export function delegationTargets(options: Pick<TaskToolOptions, 'config' | 'lineage' | 'permission'>): Subagent[] {
  const self = options.lineage[options.lineage.length - 1];
  return subagents(options.config).filter((s) => s.name !== self && evaluatePermission(options.permission.permission, 'task', s.name).action !== 'deny');
}

export function taskDescription(targets: readonly Subagent[]): string {
  const lines = targets.map((t) => `- ${t.name}${t.description ? `: ${t.description}` : ''}`);
  return [
    'Delegate a self-contained piece of work to another agent. It runs with its own model and tools and returns its final answer as this tool\'s result.',
    'Name the agent in `subagent_type` and give it everything it needs in `prompt`: it does not see this conversation. Several task calls in one step run in parallel.',
    'Available agents:',
    ...lines,
  ].join('\n');
}

/** Why this delegation may not start, or undefined when it may. */
export function refusal(options: Pick<TaskToolOptions, 'config' | 'lineage' | 'maxDepth' | 'permission'>, agent: string): string | undefined {
  const available = delegationTargets(options).map((s) => s.name);
  const list = `available subagents: ${available.join(', ') || 'none'}`;
  const target = options.config.agent?.[agent];
  if (!target) return `unknown agent "${agent}"; ${list}.`;
  if (target.disable) return `agent "${agent}" is disabled; ${list}.`;
  if (options.lineage.includes(agent)) return `delegation cycle: ${[...options.lineage, agent].join(' → ')}; an agent already in the chain cannot be delegated to again.`;
  if (options.lineage.length > options.maxDepth) {
    return `delegation depth cap reached: ${options.lineage.join(' → ')} is ${options.lineage.length - 1} levels deep and the cap is ${options.maxDepth}; do the work here instead.`;
  }
  if (target.mode === 'primary') return `agent "${agent}" is a primary agent and cannot be delegated to; ${list}.`;
  return undefined;
}

/** The `task` tool's input as OpenCode's (`{agent, prompt}` is taken too: checkTaskInput). */
export const TASK_INPUT_SCHEMA: JSONSchema7 = {
  type: 'object',
  properties: {
    description: { type: 'string', description: 'A short (3-5 words) description of the task.' },
    prompt: { type: 'string', description: 'The complete task for that agent: goal, context, constraints and what to report back.' },
    subagent_type: { type: 'string', description: 'The agent to delegate to (one of the available agents).' },
  },
  required: ['description', 'prompt', 'subagent_type'],
  additionalProperties: false,
};

/** The `task` tool: `{description, prompt, subagent_type}` starts the agent's own task; its answer is the result. */
export async function createTaskTool(options: TaskToolOptions): Promise<Tool> {
  const { tool, jsonSchema } = await import('../ai-sdk.ts');
  return tool({
    description: taskDescription(delegationTargets(options)),
    inputSchema: jsonSchema<TaskInput>(TASK_INPUT_SCHEMA),
    execute: async (input, { abortSignal, toolCallId }) => {
      const checked = checkTaskInput(input);
      if (typeof checked === 'string') throw new Error(checked);
      const refused = refusal(options, checked.agent);
      if (refused) throw new Error(refused);
      const self = options.lineage[options.lineage.length - 1] ?? 'agent';
      await authorize(options.permission, { key: 'task', subject: checked.agent, question: `Allow ${self} to delegate to ${checked.agent}?` });
      return options.delegate(checked.agent, checked.prompt, abortSignal, toolCallId, checked.description);
    },
  });
}
