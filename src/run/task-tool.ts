import type { JSONSchema7, Tool } from 'ai';
import { opencodeDescription } from '../tools/opencode-tools.ts';
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
  /** Pantheon's built-ins a plugin's `config` hook replaced (`LoadedConfig.leftByPlugins`): not offered, as OpenCode has no agent of those names. */
  replaced?: readonly string[];
  /** Runs the sub-agent's task and resolves with its answer (`toolCallId`: the `task` call's, under which the files it changed are kept). */
  delegate: (agent: string, prompt: string, signal: AbortSignal | undefined, toolCallId: string | undefined, description?: string, how?: DelegateHow) => Promise<string>;
}

/** How a `task` call runs its sub-task beside the agent and prompt: OpenCode's `task_id` (go on in that session) and `background`. */
export interface DelegateHow {
  resume?: string;
  background?: boolean;
  /** The head of the sub-task's chain instead of its agent's (`provider/model[:variant]`): a command's sub-task names the model it runs on, as OpenCode's subtask part does. */
  model?: string;
}

export interface TaskInput {
  agent: string;
  prompt: string;
  /** OpenCode's short description of the task (3–5 words), shown with the call. */
  description?: string;
  /** OpenCode's `task_id`: the session of an earlier task to go on in. */
  taskId?: string;
  /** OpenCode's `background`: answer at once; the result comes back later as a prompt. */
  background?: boolean;
}

/** OpenCode's `command` (the command that triggered the task): accepted, not used. */
const IGNORED = new Set(['command']);

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
    for (const key of ['description', 'task_id', ...IGNORED]) if (record[key] !== undefined && typeof record[key] !== 'string') problems.push(`"${key}" must be a string`);
    if (record.background !== undefined && typeof record.background !== 'boolean') problems.push('"background" must be true or false');
    for (const key of Object.keys(record)) if (!['agent', 'subagent_type', 'prompt', 'description', 'task_id', 'background', ...IGNORED].includes(key)) problems.push(`unknown argument "${key}"`);
  }
  if (problems.length) return `invalid arguments for task: ${problems.join('; ')}. Expected {description: string, prompt: string, subagent_type: string, task_id?: string, background?: boolean}.`;
  const description = text('description');
  const taskId = text('task_id')?.trim();
  return {
    agent: (text('subagent_type') ?? text('agent')) as string,
    prompt: text('prompt') as string,
    ...(description ? { description } : {}),
    ...(taskId ? { taskId } : {}),
    ...(record?.background === true ? { background: true } : {}),
  };
}

/** The subagents this agent may name: not itself, and not denied outright by its `task` permission. */
export function delegationTargets(options: Pick<TaskToolOptions, 'config' | 'lineage' | 'permission' | 'replaced'>): Subagent[] {
  const self = options.lineage[options.lineage.length - 1];
  return subagents(options.config).filter((s) => s.name !== self && !options.replaced?.includes(s.name) && evaluatePermission(options.permission.permission, 'task', s.name).action !== 'deny');
}

/** OpenCode 1.18.33's description of its `task` tool, word for word: what models tuned on OpenCode's prompts expect (OpenCode's text, MIT licence: schema/opencode/LICENSE). */
/** OpenCode's description of `task` (data/opencode-tools/), without the agents it lists (taskDescription adds them). */
export function opencodeTaskDescription(): string {
  return opencodeDescription('task');
}

/** What OpenCode adds to it when background subagents are on (as they always are in Pantheon: GET /experimental/capabilities). */
export const OPENCODE_BACKGROUND_NOTE = [
  'Background mode: background=true launches the subagent asynchronously and returns immediately.',
  'Foreground is the default; use it when you need the result before continuing.',
  'Use background only for independent work that can run while you continue elsewhere.',
  'You will be notified automatically when it finishes.',
].join(' ');

/** OpenCode's description, then the agents this one may delegate to. */
export function taskDescription(targets: readonly Subagent[]): string {
  const lines = targets.map((t) => `- ${t.name}${t.description ? `: ${t.description}` : ''}`);
  return [opencodeTaskDescription(), OPENCODE_BACKGROUND_NOTE, ['Available agent types:', ...lines].join('\n')].join('\n\n');
}

/** Why this delegation may not start, or undefined when it may. */
export function refusal(options: Pick<TaskToolOptions, 'config' | 'lineage' | 'maxDepth' | 'permission' | 'replaced'>, agent: string): string | undefined {
  const available = delegationTargets(options).map((s) => s.name);
  const list = `available subagents: ${available.join(', ') || 'none'}`;
  const target = options.config.agent?.[agent];
  if (!target) return `unknown agent "${agent}"; ${list}.`;
  if (options.replaced?.includes(agent)) return `unknown agent "${agent}" (a plugin's config hook replaced it); ${list}.`;
  if (target.disable) return `agent "${agent}" is disabled; ${list}.`;
  if (options.lineage.includes(agent)) return `delegation cycle: ${[...options.lineage, agent].join(' → ')}; an agent already in the chain cannot be delegated to again.`;
  if (options.lineage.length > options.maxDepth) {
    return `delegation depth cap reached: ${options.lineage.join(' → ')} is ${options.lineage.length - 1} levels deep and the cap is ${options.maxDepth}; do the work here instead.`;
  }
  if (target.mode === 'primary') return `agent "${agent}" is a primary agent and cannot be delegated to; ${list}.`;
  return undefined;
}

/** The `task` tool's input as OpenCode 1.18.33's with background subagents on, word for word (`{agent, prompt}` is taken too: checkTaskInput). */
export const TASK_INPUT_SCHEMA: JSONSchema7 = {
  type: 'object',
  properties: {
    description: { type: 'string', description: 'A short (3-5 words) description of the task' },
    prompt: { type: 'string', description: 'The task for the agent to perform' },
    subagent_type: { type: 'string', description: 'The type of specialized agent to use for this task' },
    task_id: { type: 'string', description: 'This should only be set if you mean to resume a previous task (you can pass a prior task_id and the task will continue the same subagent session as before instead of creating a fresh one)' },
    command: { type: 'string', description: 'The command that triggered this task' },
    background: { type: 'boolean', description: 'Run the agent in the background. You will be notified when it completes. DO NOT sleep, poll, or proactively check on its progress' },
  },
  required: ['description', 'prompt', 'subagent_type'],
  additionalProperties: false,
};

/**
 * The `task` tool: `{description, prompt, subagent_type}` starts the agent's own task in a child
 * session; its answer is the result, in OpenCode's `<task id="<child session>" state="completed">`
 * frame. `task_id` goes on in that earlier session instead; `background: true` answers at once
 * (`state="running"`) and the result comes back later as a prompt. The same checks and the same
 * `task` permission apply to all three.
 */
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
      const how: DelegateHow = { ...(checked.taskId ? { resume: checked.taskId } : {}), ...(checked.background ? { background: true } : {}) };
      return options.delegate(checked.agent, checked.prompt, abortSignal, toolCallId, checked.description, how);
    },
  });
}
