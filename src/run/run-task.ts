import { randomUUID } from '../random-bytes.ts';
import type { ModelMessage, ToolSet } from 'ai';
import { loadInstructionSet } from '../agents/instructions.ts';
import { resolveAgent, type ResolvedAgent } from '../agents/resolve-agent.ts';
import { formatModelRef, parseModelRef } from '../providers/model-ref.ts';
import { providerOff } from '../providers/provider-filter.ts';
import type { Config } from '../config/schema-types.ts';
import { PantheonError } from '../errors.ts';
import type { EventBus, FileDiff, Usage } from '../events.ts';
import { resolveModel, type ResolvedModel } from '../providers/resolve-model.ts';
import { createChainModel } from '../scheduler/chain-model.ts';
import type { Ahead } from '../scheduler/scheduler.ts';
import { agentTools, type AgentToolsOptions, type Workspace } from './agent-tools.ts';
import { fitHistory } from './history.ts';
import { loadedInstructions } from './loaded-instructions.ts';
import type { Runtime } from './runtime.ts';
import type { StepLoopPart } from './step-loop.ts';
import { storable } from './storable.ts';
import { budgetGate, type BudgetGate } from './budget.ts';
import { costOf, UsageTally, type UsageEntry } from './usage-tally.ts';
import type { Delegations } from './delegations.ts';
import type { AskDetails } from '../permissions/authorize.ts';
import { buildUserContent, type AddedPart, type InlineFile, type UserContent } from './user-content.ts';
import type { SessionFile } from '../session/store.ts';
import { newMessageId } from '../session/ids.ts';
import { callPreparer } from '../plugins/call-hooks.ts';
import { providerAuthOf } from '../plugins/auth-loader.ts';
import type { PluginHost } from '../plugins/types.ts';
import { pluginUserMessage, type TurnMessage } from '../plugins/hook-shapes.ts';
import { markTurn } from '../session/model-history.ts';
import type { Skill } from '../agents/skills.ts';
import { turnSystemPrompt } from './turn-system.ts';
import { unlessAborted } from '../unless-aborted.ts';

export type { Workspace } from './agent-tools.ts';

export interface RunTaskOptions {
  config: Config;
  runtime: Runtime;
  bus: EventBus;
  message: string;
  agent?: string;
  model?: string;
  /** `--variant`: the head of the chain with this variant (OpenCode's `run --variant`). */
  variant?: string;
  /** Files sent with the message: paths (relative to `cwd`) or inline files. */
  files?: readonly (string | InlineFile)[];
  /** Parts the server adds after the user's (an `@`-mentioned MCP resource's text: OpenCode's synthetic parts). */
  added?: readonly AddedPart[];
  /** Added to the end of the system prompt (OpenCode's message `system`). */
  system?: string;
  /** Sampling temperature for this task, over the agent's `temperature`. */
  temperature?: number;
  /** At most this many tokens per answer, over the model's `limit.output`. */
  maxOutputTokens?: number;
  /** Tools switched on or off over the agent's `tools` (`{bash: false}`). */
  tools?: Record<string, boolean>;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  signal?: AbortSignal;
  fetch?: typeof globalThis.fetch;
  taskID?: string;
  /** Tools run here (built-ins, `task`, MCP). Without it the agent gets no tools. */
  workspace?: Workspace;
  /** Earlier turns of the session, oldest first; trimmed to fit the head model's context. */
  history?: ModelMessage[];
  /** Called before the model is asked when earlier messages had to be left out. */
  onHistoryTrimmed?: (dropped: number, contextTokens: number) => void;
  /**
   * Run this sub-task first, as OpenCode runs a command that is a sub-task (its `/review`): its
   * agent's own task in a child session, as a `task` call of this one that the model did not make;
   * then the model is asked to go on from its answer (SUBTASK_CONTINUE). `message` is then OpenCode's
   * note (SUBTASK_NOTE).
   */
  subtask?: CommandSubtask;
  /** Filled with this turn's messages: the user's at once, the answer's (assistant, tool) at the end. */
  turn?: ModelMessage[];
  /** The tally this task's usage is counted into as well (a run's, or the delegating task's). */
  tally?: UsageTally;
  /** The delegating task, for `parentTaskID` on this task's events. */
  parentTaskID?: string;
  /** The agents that delegated down to this task, top-level first. */
  lineage?: readonly string[];
  /** Told of each sub-task this task (or one below it) starts, which may get a session of its own (a server turn's child sessions). */
  delegations?: Delegations;
  /** The run's budgets (default: from the config's `budget`, the run being the bus's session). */
  budget?: BudgetGate;
  /**
   * A process that runs this one task (`opencode run`): its first request is admitted before the
   * tools and the AI SDK are loaded, or, when it must wait long, the process sleeps first
   * (Scheduler.admitAhead). Only without a response cache, whose hit would need no admission.
   */
  admitAhead?: boolean;
  /** The project's plugins for a task that runs without a workspace (a compaction): their hooks on its model calls. */
  plugins?: PluginHost;
  /** The turn's message ids (a session's turn: its user message and the reply), as the plugins' hooks are told them; else made up. */
  ids?: { user: string; assistant: string };
  /** The session this task's messages belong to when not the bus's (a sub-task's child session), as the plugins' hooks are told it. */
  sessionID?: string;
  /** The task is a compaction (its message the summary request): the plugins see its message as OpenCode's `compaction` part. */
  compaction?: boolean;
}

/** How long before a rate-limit wait ends a process that slept through it (admitAhead) wakes to load what the request needs. */
const AHEAD_LEAD_MS = 500;

export interface RunTaskResult {
  taskID: string;
  agent: string;
  /** Everything the agent said, every step. */
  text: string;
  /** The final answer: the text of the last step that had any. */
  answer: string;
  /** Tokens of this task and every task it delegated to. */
  usage: Usage;
  costUSD?: number;
  byAgent: Record<string, UsageEntry>;
  byProvider: Record<string, UsageEntry>;
  /** Models that answered, in order (provider/model labels). */
  servedBy: string[];
  /** The unified patches of the files this task and the tasks it delegated to changed (`edit`, `write`), in order. */
  patches: string[];
}

function resolveCtxOf(options: RunTaskOptions) {
  // The project's plugins' auth loaders: a provider they serve is called with their fetch.
  const providerAuth = providerAuthOf(options.workspace?.plugins ?? options.plugins, options.env);
  return {
    ...(providerAuth ? { providerAuth } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  };
}

/** budget.downgrade as models (checked when a budget is first crossed). */
function downgradeChain(options: RunTaskOptions): ResolvedModel[] {
  const specs = options.config.budget?.downgrade ?? [];
  return specs.map((spec, i) => resolveModel(options.config, spec, resolveCtxOf(options), `budget.downgrade[${i}]`));
}

function chainOf(options: RunTaskOptions, agent: ResolvedAgent): ResolvedModel[] {
  // Every model of the chain gets the agent's options and variant, as OpenCode gives its one model.
  const resolveCtx = { ...resolveCtxOf(options), agentOptions: agent.options, ...(agent.variant ? { agentVariant: agent.variant } : {}) };
  const where = (i: number): string => (i === 0 ? (options.model ? '--model' : options.variant ? '--variant' : `agent.${agent.name}.model`) : `agent.${agent.name}.fallbacks[${i - 1}]`);
  const specs = agent.chain.map((spec, i) => ({ spec, where: where(i), ref: parseModelRef(spec, where(i)) }));
  const on = specs.filter((s) => providerOff(options.config, s.ref.provider) === undefined);
  if (on.length === 0) {
    const off = specs.map((s) => `${formatModelRef(s.ref)} (${providerOff(options.config, s.ref.provider)})`);
    throw new PantheonError('UNKNOWN_PROVIDER', `agent ${agent.name}: every model of its chain is on a provider that is switched off: ${off.join(', ')}.`, {
      hint: 'Remove the provider from disabled_providers (or add it to enabled_providers), or give the agent a model on another provider.',
    });
  }
  return on.map((s) => resolveModel(options.config, s.spec, resolveCtx, s.where));
}

/** A command run as a sub-task: the agent that runs it, its prompt (the expanded template), the command's description and name. */
export interface CommandSubtask {
  agent: string;
  prompt: string;
  description: string;
  command: string;
  /** The model it runs on (`provider/model[:variant]`), else its agent's chain. */
  model?: string;
}

/** What the model is told of a sub-task the user ran (a command's), and asked after it, in OpenCode's words. */
export const SUBTASK_NOTE = 'The following tool was executed by the user';
export const SUBTASK_CONTINUE = 'Summarize the task tool output above and continue with your task.';

/** The instructions of a config, read once per working directory. */
const instructionCache = new WeakMap<object, Map<string, Promise<{ texts: string[]; files: string[] }>>>();

function instructionsFor(options: RunTaskOptions): Promise<{ texts: string[]; files: string[] }> {
  const cwd = options.cwd ?? process.cwd();
  const byCwd = instructionCache.get(options.config) ?? new Map<string, Promise<{ texts: string[]; files: string[] }>>();
  instructionCache.set(options.config, byCwd);
  let found = byCwd.get(cwd);
  if (!found) {
    found = loadInstructionSet({
      config: options.config,
      cwd,
      projectRoot: options.workspace?.projectRoot ?? cwd,
      env: options.env ?? process.env,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      onWarning: (w) => options.bus.emit({ type: 'warning', code: w.code, message: w.message }),
    });
    byCwd.set(cwd, found);
  }
  return found;
}

/** OpenCode's `task` result for a sub-task sent to the background (its TaskTool's). */
export function backgroundStarted(sessionID: string): string {
  return taskBlock(sessionID, 'running', 'Background task started', BACKGROUND_NOTE);
}

const BACKGROUND_NOTE = [
  'The task is working in the background. You will be notified automatically when it finishes.',
  "DO NOT sleep, poll for progress, ask the task for status, or duplicate this task's work \u2014 avoid working with the same files or topics it is using.",
  'Work on non-overlapping tasks, or briefly tell the user what you launched and end your response.',
].join('\n');

/** OpenCode's frame of a task's state for the model: `<task id state>[<summary/>]<task_result|task_error/></task>` (a foreground answer has no summary). */
export function taskBlock(sessionID: string, state: 'running' | 'completed' | 'error', summary: string | undefined, text: string): string {
  const tag = state === 'error' ? 'task_error' : 'task_result';
  return [`<task id="${sessionID}" state="${state}">`, ...(summary === undefined ? [] : [`<summary>${summary}</summary>`]), `<${tag}>`, text, `</${tag}>`, '</task>'].join('\n');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs one agent task: resolves the agent and its model chain, runs the tool loop with every model
 * call sent through the scheduler (limits, retries, fallbacks, cache) and streams it as events.
 * A `task` tool call runs another agent's task through this same function.
 */
export async function runTask(options: RunTaskOptions): Promise<RunTaskResult> {
  const taskID = options.taskID ?? `task_${randomUUID().slice(0, 8)}`;
  const resolved = resolveAgent(options.config, options.agent, options.model, options.variant);
  const agent: ResolvedAgent = { ...resolved, ...(options.tools ? { tools: { ...resolved.tools, ...options.tools } } : {}) };
  const chain = chainOf(options, agent);
  const head = chain[0] as ResolvedModel;
  const { content, files, added } = await buildUserContent(options.message, options.files ?? [], head, options.cwd ?? process.cwd(), options.added);
  const ahead = options.admitAhead && chain.length === 1 && !options.runtime.cache ? await admitAhead(options, head, { agent: agent.name, taskID }) : undefined;
  try {
    return await runPrepared(options, { taskID, agent, chain, head, content, files, ...(added ? { added } : {}), ...(ahead ? { ahead } : {}) });
  } finally {
    if (ahead) await options.runtime.scheduler.dropAhead(ahead);
  }
}

/** Scheduler.admitAhead for the task's only model, its wait announced as the task's. */
function admitAhead(options: RunTaskOptions, head: ResolvedModel, tags: { agent: string; taskID: string }): Promise<Ahead | undefined> {
  return options.runtime.scheduler.admitAhead(head, { emit: (e) => options.bus.emit(e), tags, ...(options.signal ? { signal: options.signal } : {}) }, AHEAD_LEAD_MS);
}

/** A task whose agent, model chain and message are known, with what admitAhead did for its first request. */
interface PreparedTask {
  taskID: string;
  agent: ResolvedAgent;
  chain: ResolvedModel[];
  head: ResolvedModel;
  content: UserContent;
  /** The attachments as clients show them. */
  files: SessionFile[];
  /** The indexes of the content's items the server added (SessionMessage.added). */
  added?: number[];
  ahead?: Ahead;
}

/**
 * A tool message with the patches of the calls it answers (SessionMessage.diffs), kept for OpenCode's
 * TUI: an `edit`'s or `write`'s under its call id, a delegation's under `<call id>#<n>`; and the
 * sessions of the `task` calls it answers (SessionMessage.children), by call id; and the titles
 * tools made of the calls (SessionMessage.titles: `webfetch`'s URL and content type), by call id.
 */
function withPatches(message: ModelMessage, patches: ReadonlyMap<string, string>, children: ReadonlyMap<string, string>, titles: ReadonlyMap<string, string>): ModelMessage {
  if ((patches.size === 0 && children.size === 0 && titles.size === 0) || message.role !== 'tool') return message;
  const answered = new Set<string>();
  for (const part of message.content) if (part.type === 'tool-result') answered.add(part.toolCallId);
  const own: Record<string, string> = {};
  for (const [key, patch] of patches) {
    const hash = key.indexOf('#');
    if (answered.has(hash < 0 ? key : key.slice(0, hash))) own[key] = patch;
  }
  const sessions: Record<string, string> = {};
  for (const [callId, sessionID] of children) if (answered.has(callId)) sessions[callId] = sessionID;
  const named: Record<string, string> = {};
  for (const [callId, title] of titles) if (answered.has(callId)) named[callId] = title;
  return {
    ...message,
    ...(Object.keys(own).length ? { diffs: own } : {}),
    ...(Object.keys(sessions).length ? { children: sessions } : {}),
    ...(Object.keys(named).length ? { titles: named } : {}),
  } as ModelMessage;
}

async function runPrepared(options: RunTaskOptions, { taskID, agent, chain, head, content, files, added, ahead }: PreparedTask): Promise<RunTaskResult> {
  const tags = { agent: agent.name, taskID, ...(options.parentTaskID ? { parentTaskID: options.parentTaskID } : {}) };
  const tally = new UsageTally(options.tally);
  const budget = options.budget ?? budgetGate(options.config, options.runtime.ledger, options.bus.sessionID);
  const lineage = [...(options.lineage ?? []), agent.name];
  // What each `edit` or `write` call changed, until its tool_use event carries it; the patches by call id (a
  // delegation's as `<task call id>#<n>`), until the turn keeps them; and all of them in order, for the result.
  const diffs = new Map<string, FileDiff>();
  const patches = new Map<string, string>();
  const made: string[] = [];
  // The sessions of this task's delegations, by `task` call id (a server turn's child sessions).
  const children = new Map<string, string>();
  // The titles tools made of this task's calls, by call id: on their tool_use events, and kept with the turn.
  const titles = new Map<string, string>();
  // This task's questions say whose they are (a sub-task's are put in its child session).
  const confirm = options.workspace?.confirm;
  const workspace = options.workspace && confirm ? { ...options.workspace, confirm: (question: string, details: AskDetails) => confirm(question, { ...details, taskID }) } : options.workspace;
  // Runs a sub-task (a `task` call's, or a command run as one): its own task, its session a child of this one.
  const delegate: AgentToolsOptions['delegate'] = async (name, prompt, signal, toolCallId, description, how) => {
    const subID = `task_${randomUUID().slice(0, 8)}`;
    // The sub-task's own messages and usage, for its session when it gets one.
    const subTurn: ModelMessage[] = [];
    const subTally = new UsageTally(tally);
    const start = { taskID: subID, parentTaskID: taskID, ...(toolCallId === undefined ? {} : { callID: toolCallId }), agent: name, ...(description ? { description } : {}), prompt };
    // Resuming needs a session to go on in: a run that keeps none (a workflow step's) says so. (`background` there, with
    // nobody to tell of its end later, runs in the foreground, as in a local run: core/child-sessions.ts.)
    if (how?.resume !== undefined && !options.delegations) {
      throw new Error(`task_id ${JSON.stringify(how.resume.slice(0, 60))}: this run keeps no task sessions, so no task can be resumed here; leave task_id out to start a new task.`);
    }
    const child = await options.delegations?.start({ ...start, time: Date.now(), ...(how?.resume === undefined ? {} : { resume: how.resume }), ...(how?.background ? { background: true } : {}) });
    if (child && toolCallId !== undefined) children.set(toolCallId, child.sessionID);
    options.bus.emit({ ...start, type: 'subtask_start', ...(child ? { childSessionID: child.sessionID } : {}) });
    const ended = (status: 'success' | 'failed' | 'cancelled', error?: unknown, answer?: string) =>
      child?.end({ status, ...(error === undefined ? {} : { error }), turn: subTurn, usage: { ...subTally.usage }, ...(subTally.costUSD === undefined ? {} : { costUSD: subTally.costUSD }), servedBy: [...subTally.servedBy], ...(answer === undefined ? {} : { answer }) });
    const work = (async (): Promise<string> => {
      try {
        const sub = await runTask({
          ...options,
          message: prompt,
          agent: name,
          model: how?.model,
          files: [],
          system: undefined,
          tools: undefined,
          taskID: subID,
          history: child?.history,
          turn: child ? subTurn : undefined,
          onHistoryTrimmed: undefined,
          tally: subTally,
          parentTaskID: taskID,
          lineage,
          admitAhead: undefined,
          subtask: undefined,
          ids: undefined,
          compaction: undefined,
          sessionID: child?.sessionID,
          ...(budget ? { budget } : {}),
          ...(signal ?? options.signal ? { signal: signal ?? options.signal } : {}),
        });
        for (const [n, patch] of sub.patches.entries()) {
          made.push(patch);
          if (toolCallId !== undefined) patches.set(`${toolCallId}#${n + 1}`, patch);
        }
        await ended('success', undefined, sub.answer);
        // OpenCode's frame: the child session's id is the `task_id` that resumes it.
        return child ? taskBlock(child.sessionID, 'completed', undefined, sub.answer) : sub.answer;
      } catch (error) {
        const cancelled = Boolean(signal?.aborted || options.signal?.aborted);
        await ended(cancelled ? 'cancelled' : 'failed', error);
        if (cancelled) throw error;
        throw new Error(child ? `Subagent failed (task_id: ${child.sessionID}): ${name}: ${errorText(error)}` : `${name} failed: ${errorText(error)}`, { cause: error });
      }
    })();
    if (!child?.background) return work;
    // Sent to the background: the call ends now with what OpenCode answers; the sub-task runs on, and its session's parent is told when it ends.
    const moved = await Promise.race([work.then(() => false, () => false), child.background.then(() => true)]);
    if (!moved) return work;
    work.catch(() => undefined);
    return backgroundStarted(child.sessionID);
  };
  /**
   * The command's sub-task, run before the model is asked (OpenCode's handleSubtask): a `task` call
   * (its events, its part, its child session) whose answer, or failure, the model then reads, and
   * OpenCode's request to go on from it; the call and its result are kept with the turn.
   */
  const runSubtask = async (s: CommandSubtask): Promise<ModelMessage[]> => {
    const callID = `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
    const input = { prompt: s.prompt, description: s.description, subagent_type: s.agent, command: s.command };
    const began = Date.now();
    let output = '';
    let failed: unknown;
    try {
      output = await delegate(s.agent, s.prompt, options.signal, callID, s.description, s.model ? { model: s.model } : undefined);
    } catch (error) {
      failed = error;
    }
    const call: ModelMessage = { role: 'assistant', content: [{ type: 'tool-call', toolCallId: callID, toolName: 'task', input }] };
    const result: ModelMessage = { role: 'tool', content: [{ type: 'tool-result', toolCallId: callID, toolName: 'task', output: failed === undefined ? { type: 'text', value: output } : { type: 'error-text', value: errorText(failed) } }] };
    options.bus.emit({ ...tags, type: 'tool_use', tool: 'task', input, ...(failed === undefined ? { output } : { error: errorText(failed) }), durationMs: Date.now() - began, callID });
    options.turn?.push(storable(call), withPatches(storable(result), patches, children, titles));
    if (options.signal?.aborted) throw new PantheonError('CANCELLED', 'Cancelled.');
    return [call, result, { role: 'user', content: SUBTASK_CONTINUE }];
  };
  // The turn as the project's plugins are told it: the user's message, the reply's id, the session.
  const plugins = workspace?.plugins ?? options.plugins;
  // Ids are made up only for plugins to be told (a run without any makes none).
  const replyID = options.ids?.assistant ?? (plugins ? newMessageId() : '');
  const turnMessage: TurnMessage = {
    id: options.ids?.user ?? (plugins ? newMessageId() : ''),
    sessionID: options.sessionID ?? options.bus.sessionID,
    created: Date.now(),
    agent: agent.name,
    model: { providerID: head.provider, modelID: head.modelKey },
    ...(options.system ? { system: options.system } : {}),
    ...(options.tools ? { tools: options.tools } : {}),
  };
  // The user's message is kept from here on, whatever happens to the turn next, as OpenCode saves it before its loop: a turn
  // cancelled while it sets up (its MCP servers' tools, a skills registry, its instructions) keeps it, its reply aborted.
  // The attachments as sent, for clients (SessionMessage.files), and which items the server added (SessionMessage.added): the saved message carries them beside its content.
  const record = (message: ModelMessage, items: readonly number[] | undefined): void => {
    const kept = { ...(files.length ? { files } : {}), ...(items?.length ? { added: items } : {}) };
    options.turn?.push(Object.keys(kept).length ? ({ ...storable(message), ...kept } as unknown as ModelMessage) : storable(message));
  };
  // The plugins see the new message first (`chat.message`, as OpenCode calls it before it saves the message); their hooks on the tools, each model call and its texts follow.
  let sent = content;
  let sentAdded = added;
  let userSystem = options.system;
  let shownMessage: Record<string, unknown> | undefined;
  // (Not for a compaction's prompt, which OpenCode makes without asking the plugins.)
  if (workspace?.plugins?.has('chat.message')) {
    const { chatMessage } = await import('../plugins/turn-hooks.ts');
    const changed = await chatMessage(workspace.plugins, { ...turnMessage, ...(head.ref.variant ? { variant: head.ref.variant } : {}) }, content, options.signal, added).catch((error: unknown) => {
      // Cancelled while the hooks had it: the message is kept as the user sent it (a hook that failed keeps nothing, as in OpenCode).
      if (options.signal?.aborted) record({ role: 'user', content }, added);
      throw error;
    });
    sent = changed.content;
    sentAdded = changed.added;
    shownMessage = changed.message;
    // The message's system text as the hook left it, as OpenCode sends it.
    userSystem = changed.system;
  }
  const userMessage: ModelMessage = { role: 'user', content: sent };
  record(userMessage, sentAdded);
  // Instructions from URLs (5 s each at most, read once per config and folder for every turn) hold the turn, but not past its cancel.
  const instructions = await unlessAborted(instructionsFor(options), options.signal);
  let skills: readonly Skill[] | undefined;
  const tools: ToolSet = workspace
    ? await agentTools({
        config: options.config,
        agent,
        workspace,
        lineage,
        // What the session's context holds already: a read brings in a folder's AGENTS.md only once.
        loadedInstructions: loadedInstructions(instructions.files, options.history ?? [], workspace.projectRoot),
        onFileDiff: (diff, toolCallId) => {
          if (toolCallId !== undefined) diffs.set(toolCallId, diff);
        },
        onTitle: (title, toolCallId) => {
          if (toolCallId !== undefined) titles.set(toolCallId, title);
        },
        ...(options.signal ? { signal: options.signal } : {}),
        sessionID: turnMessage.sessionID,
        messageID: replyID,
        delegate,
        onSkills: (found) => {
          skills = found;
        },
      })
    : {};
  // A sub-task's turn (an agent delegated it) and a compaction's (no workspace) were not sent by a person.
  const initiator = (options.lineage?.length ?? 0) > 0 || !workspace ? ('agent' as const) : undefined;
  const { systemPrompt, prepare } = await turnSystemPrompt({ options, agent, head, instructions: instructions.texts, tools, skills, userSystem });
  const prepareCall = prepare(plugins ? callPreparer(plugins, { sessionID: turnMessage.sessionID, agent: agent.name, message: shownMessage ?? pluginUserMessage(turnMessage), ...(initiator ? { initiator } : {}) }) : undefined);
  const completeText = plugins?.has('experimental.text.complete') ? (await import('../plugins/turn-hooks.ts')).textCompleter(plugins, { sessionID: turnMessage.sessionID, messageID: replyID }, options.signal) : undefined;
  // The plugins' view of the messages of each call (`experimental.chat.messages.transform`): this turn's ids, as clients read them.
  const transformMessages = plugins?.has('experimental.chat.messages.transform')
    ? (await import('../plugins/messages-transform.ts')).messagesTransformer(plugins, { sessionID: turnMessage.sessionID, directory: workspace?.projectRoot ?? plugins.worktree, agent: agent.name, model: turnMessage.model }, options.signal)
    : undefined;
  if (transformMessages) {
    markTurn(userMessage, { id: turnMessage.id, time: turnMessage.created, agent: agent.name, reply: { id: replyID, provider: head.provider, model: head.label, usage: { inputTokens: 0, outputTokens: 0 }, steps: [] }, ...(options.compaction ? { compaction: true as const } : {}) });
  }
  const messages = fitHistory({ history: options.history ?? [], current: userMessage, head, system: systemPrompt, tools, onTrimmed: options.onHistoryTrimmed });
  if (options.subtask && workspace) messages.push(...(await runSubtask(options.subtask)));
  const served: { model: ResolvedModel; usage: Usage; fromCache: boolean }[] = [];
  // The model answering now, for the provider/model fields of text and tool events.
  let current: ResolvedModel | undefined;
  const model = createChainModel({
    chain,
    scheduler: options.runtime.scheduler,
    ...(options.runtime.cache ? { cache: options.runtime.cache } : {}),
    ctx: { emit: (e) => options.bus.emit(e), tags, ...(options.signal ? { signal: options.signal } : {}), ...(ahead ? { ahead } : {}) },
    runId: options.bus.sessionID,
    // As OpenCode keys a session's calls to a provider's prompt cache.
    sessionID: turnMessage.sessionID,
    // As OpenCode samples an agent's calls: the model family's defaults where the agent sets none.
    samplingDefaults: true,
    ...(prepareCall ? { prepareCall } : {}),
    ...(budget ? { budget: { gate: budget, agent: agent.name, downgrade: () => downgradeChain(options) } } : {}),
    onServed: (model, u, fromCache) => {
      served.push({ model, usage: u, fromCache });
    },
    onModel: (model) => {
      current = model;
    },
  });
  const { runStepLoop } = await import('./step-loop.ts');
  let text = '';
  let stepStart = 0;
  let answer = '';
  let failure: unknown;
  // The answer's messages, kept by the loop as it goes: a turn that fails or is interrupted saves what it had.
  const responseMessages: ModelMessage[] = [];
  const where = () => (current ? { provider: current.provider, model: current.label } : {});
  const handle = (part: StepLoopPart): void => {
    if (part.type === 'step-start') stepStart = text.length;
    else if (part.type === 'discard-text') text = text.slice(0, stepStart);
    else if (part.type === 'step-finish') {
      // The chain model reports which model served the call; the loop says when the step is done.
      const stepText = text.slice(stepStart);
      if (stepText.trim()) answer = stepText;
      const step = served.shift();
      if (!step) return;
      const usage = step.usage;
      const cacheReadTokens = part.usage.inputTokenDetails.cacheReadTokens ?? 0;
      const cacheWriteTokens = part.usage.inputTokenDetails.cacheWriteTokens ?? 0;
      const cost = step.fromCache ? undefined : costOf(step.model.cost, { ...usage, cacheReadTokens, cacheWriteTokens });
      tally.record({ agent: agent.name, provider: step.model.provider, model: step.model.label, usage, ...(cost === undefined ? {} : { costUSD: cost }) });
      options.bus.emit({ ...tags, provider: step.model.provider, model: step.model.label, type: 'step_finish', usage, ...(cost === undefined ? {} : { costUSD: cost }), reason: part.reason });
    } else if (part.type === 'text') {
      text += part.text;
      options.bus.emit({ ...tags, ...where(), type: 'text', text: part.text });
    } else if (part.type === 'reasoning') {
      options.bus.emit({ ...tags, ...where(), type: 'reasoning', text: part.text });
    } else if (part.type === 'tool-pending') {
      options.bus.emit({ ...tags, ...where(), type: 'tool_pending', tool: part.toolName, callID: part.toolCallId });
    } else if (part.type === 'tool-start') {
      options.bus.emit({ ...tags, ...where(), type: 'tool_start', tool: part.toolName, input: part.input, callID: part.toolCallId });
    } else if (part.type === 'tool-result') {
      const diff = diffs.get(part.toolCallId);
      diffs.delete(part.toolCallId);
      if (diff?.patch !== undefined) {
        patches.set(part.toolCallId, diff.patch);
        made.push(diff.patch);
      }
      const title = titles.get(part.toolCallId);
      options.bus.emit({ ...tags, ...where(), type: 'tool_use', tool: part.toolName, input: part.input, output: part.output, durationMs: Math.round(part.ms), ...(diff ? { diff } : {}), ...(title === undefined ? {} : { title }), callID: part.toolCallId });
    } else {
      diffs.delete(part.toolCallId);
      options.bus.emit({ ...tags, ...where(), type: 'tool_use', tool: part.toolName, input: part.input, error: errorText(part.error), ...(part.ms === undefined ? {} : { durationMs: Math.round(part.ms) }), callID: part.toolCallId });
    }
  };
  try {
    await runStepLoop(
      {
        model,
        ...(systemPrompt ? { system: systemPrompt } : {}),
        messages,
        tools,
        maxSteps: agent.steps,
        ...((options.temperature ?? agent.temperature) === undefined ? {} : { temperature: options.temperature ?? agent.temperature }),
        ...(agent.topP === undefined ? {} : { topP: agent.topP }),
        ...(options.maxOutputTokens === undefined ? {} : { maxOutputTokens: options.maxOutputTokens }),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(completeText ? { completeText } : {}),
        mediaAccepted: { image: head.acceptsImages, pdf: head.acceptsPdf === true },
        ...(transformMessages ? { transformMessages } : {}),
      },
      handle,
      responseMessages,
    );
  } catch (error) {
    failure = error;
  }
  if (options.turn) options.turn.push(...responseMessages.map((m) => withPatches(storable(m), patches, children, titles)));
  if (options.signal?.aborted) throw new PantheonError('CANCELLED', 'Cancelled.');
  if (failure) throw failure instanceof PantheonError ? failure : new PantheonError('PROVIDER_ERROR', `The run failed: ${errorText(failure)}`);
  return {
    taskID,
    agent: agent.name,
    text,
    answer,
    usage: { ...tally.usage },
    ...(tally.costUSD === undefined ? {} : { costUSD: tally.costUSD }),
    byAgent: tally.byAgent(),
    byProvider: tally.byProvider(),
    servedBy: [...tally.servedBy],
    patches: made,
  };
}
