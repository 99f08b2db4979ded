/**
 * One turn in a session, the same for every front-end (`opencode run`, the server): open or create
 * the session, resolve the agent, its tools, permissions and MCP servers, run the tool loop through
 * the scheduler, count usage and cost, save the session, and end with `done` (after `error` when it
 * failed). Everything that happens goes out on the turn's event bus; front-ends subscribe to it.
 */
import type { ModelMessage } from 'ai';
import { resolveAgent } from '../agents/resolve-agent.ts';
import type { Config } from '../config/schema-types.ts';
import { PantheonError, isPantheonError } from '../errors.ts';
import { EventBus, type Usage, type UsageBreakdown } from '../events.ts';
import type { McpInstructionSource, McpToolSource, Workspace } from '../run/agent-tools.ts';
import { openSession, sessionAfter, type OpenedSession, type TurnOutcome } from '../run/run-session.ts';
import { budgetGate } from '../run/budget.ts';
import { runTask, type CommandSubtask } from '../run/run-task.ts';
import { TodoList } from '../run/todo-list.ts';
import type { Runtime } from '../run/runtime.ts';
import { UsageTally } from '../run/usage-tally.ts';
import { newMessageId } from '../session/ids.ts';
import { modelHistory, sinceCompaction } from '../session/model-history.ts';
import { withoutReverted } from '../session/revert.ts';
import { appendEvents } from '../session/durable-events.ts';
import { turnEvents } from '../session/turn-events.ts';
import { formatModelRef, parseModelRef, type ModelSpecInput } from '../providers/model-ref.ts';
import type { SessionMessage, SessionProblem, SessionRecord, SessionStore, StepInfo, TurnInfo } from '../session/store.ts';
import type { AddedPart, InlineFile } from '../run/user-content.ts';
import type { Delegations } from '../run/delegations.ts';
import { ChildSessions } from './child-sessions.ts';
import type { McpServers } from './mcp-servers.ts';
import type { PluginHost } from '../plugins/types.ts';
import { shellEnvOf } from '../plugins/ask-shell-hooks.ts';
import { watchLedger } from '../state/fallback-ledger.ts';

/** Where sessions live: the store, and the project new sessions belong to. */
export interface SessionPlace {
  store: SessionStore;
  projectRoot: string;
}

/** The long-lived things a turn runs with: opened once per CLI process, once per server instance. */
export interface TurnServices {
  config: Readonly<Config>;
  runtime: Runtime;
  /** The MCP servers, when the config has any. */
  mcp?: McpServers;
  /** The project's OpenCode plugins and custom tools, when it has any (src/plugins/). */
  plugins?: PluginHost;
  /** Pantheon's built-ins the plugins' `config` hooks replaced (`LoadedConfig.leftByPlugins`): the `task` tool does not offer them. */
  replacedAgents?: readonly string[];
}

export interface SessionChoice {
  /** Continue this session (unknown → a usage error). */
  sessionID?: string;
  /** Continue the project's latest session (a new one when it has none). */
  continue?: boolean;
  /** Continue a copy of that session instead (`run --fork`). */
  fork?: boolean;
  /** The session `sessionID` names, when the caller has just loaded it (not read again). */
  loaded?: SessionRecord;
}

/** How tool calls whose permission is `ask` are decided in this turn, and who answers the `question` tool. */
export type TurnPermissions = Pick<Workspace, 'auto' | 'interactive' | 'confirm' | 'approve' | 'askHint' | 'askQuestions'>;

export interface TurnRequest {
  message: string;
  /** Files attached to the message: paths relative to `cwd`, or sent inline. */
  files?: readonly (string | InlineFile)[];
  /** Parts the server adds after the user's (an `@`-mentioned MCP resource's text: OpenCode's synthetic parts). */
  added?: readonly AddedPart[];
  /** Added to the agent's system prompt for this turn. */
  system?: string;
  /** Sampling temperature and answer length for this turn, over the agent's and the model's. */
  temperature?: number;
  maxOutputTokens?: number;
  /** Tools switched on or off for this turn (`{bash: false}`). */
  tools?: Record<string, boolean>;
  /** Ids for the turn's user message and reply (default: new ones). */
  ids?: { user?: string; assistant?: string };
  /**
   * When the turn started, as its messages' `time.created` (default: now). The server's events
   * announce the turn before it runs; the saved messages must carry the same time, since OpenCode's
   * TUI keys its messages by creation time and id (a message whose time changed is drawn twice).
   */
  startedAt?: number;
  /** The agent (default: the session's, else the config's default). */
  agent?: string;
  /** `provider/model[:variant]` replacing the head of the agent's chain. */
  model?: string;
  /** The head of the chain with this variant (`run --variant`). */
  variant?: string;
  /** The title of a session this turn starts (`run --title`; default: its first message). */
  title?: string;
  /** Per-attempt timeout (ms). */
  timeoutMs?: number;
  /** Cancels the turn: in-flight requests are aborted, the turn ends `cancelled`. */
  signal?: AbortSignal;
  permissions: TurnPermissions;
  /** Working directory for `files` (default process.cwd()). */
  cwd?: string;
  /** Called when earlier messages had to be left out to fit the model's context. */
  onHistoryTrimmed?: (dropped: number, contextTokens: number) => void;
  /** The process runs this one turn (`opencode run`): see RunTaskOptions.admitAhead. */
  admitAhead?: boolean;
  /** Run this command with `bash` instead of asking the model (OpenCode's shell): the turn is the command and its output. */
  shell?: string;
  /** Summarize the session for going on without its earlier turns (OpenCode's compaction): `message` is ignored, no tools. */
  compaction?: boolean;
  /** Run this command's sub-task first (RunTaskOptions.subtask); `message` is then OpenCode's note of it. */
  subtask?: CommandSubtask;
  /** The server's own prompt (a background sub-task's end): kept as a synthetic part. */
  synthetic?: boolean;
  /**
   * Told of each delegation. Default: each sub-task gets its child session in the store, as OpenCode
   * makes one (core/child-sessions.ts); a server passes its own, which announces them on its hub too.
   */
  delegations?: Delegations;
}

/**
 * What the model is asked for a compaction; its answer stands in for every earlier turn from then
 * on (sinceCompaction).
 */
export const COMPACTION_PROMPT =
  'Summarize this conversation so that it can be continued without the earlier messages. Give the goal, what has been done ' +
  '(the files read and changed, the commands run and what they showed, the decisions taken and why), what is left to do, ' +
  'and every fact, name or value needed to go on. Be specific and concise. Do not call tools.';

/** The synthetic prompt after an automatic compaction (`summarize` with `auto`), in OpenCode's words. */
export const COMPACTION_CONTINUE = 'Continue if you have next steps, or stop and ask for clarification if you are unsure how to proceed.';

/** The user message of a shell turn, as OpenCode writes it (a synthetic part its TUI does not show). */
export const SHELL_NOTE = 'The following tool was executed by the user';

export interface TurnResult {
  status: 'success' | 'failed' | 'cancelled';
  sessionID: string;
  /** The ids of the turn's user message and reply. */
  ids: { user: string; assistant: string };
  /** Whether the session was written (a turn that failed before its first message is not). */
  saved: boolean;
  /** The session as written after the turn, when it was. */
  session?: SessionRecord;
  /** The failure, for a turn that did not succeed (a PantheonError when the cause is known). */
  error?: unknown;
  /** The final answer (the text of the last step that had any). */
  answer: string;
  usage: Usage;
  costUSD?: number;
  byAgent: Record<string, UsageBreakdown>;
  byProvider: Record<string, UsageBreakdown>;
  /** Models that answered, in order (provider/model labels; cache hits included). */
  servedBy: string[];
}

/** A turn about to run: its session is known (front-ends subscribe to `bus` before `run`). */
export interface Turn {
  readonly sessionID: string;
  readonly bus: EventBus;
  /** The session continued, or undefined for a new one. */
  readonly previous: SessionRecord | undefined;
  /** `continue` found no earlier session in the project, so a new one starts. */
  readonly nothingToContinue: boolean;
  /** `continue`: session files that could not be read to find the latest one (skipped). */
  readonly skipped: readonly SessionProblem[];
  run(services: TurnServices, request: TurnRequest): Promise<TurnResult>;
}

/** The agent the session ran with, while the config still has it (else the default agent runs). */
function sessionAgent(config: Readonly<Config>, previous: SessionRecord | undefined): string | undefined {
  const name = previous?.agent;
  const agent = name ? config.agent?.[name] : undefined;
  return agent && !agent.disable ? name : undefined;
}

/** Saves the session after the turn; the record as saved, or undefined when nothing was (or could be) saved. */
async function save(place: SessionPlace, opened: OpenedSession, outcome: TurnOutcome, onError: (error: unknown) => void): Promise<SessionRecord | undefined> {
  if (outcome.turn.length === 0) return undefined;
  try {
    return await place.store.update(opened.id, async (now) => {
      // Another process (another `opencode run -s`, a server) saved a turn of this session meanwhile: this turn goes after it, nothing is lost.
      const moved = now.header !== undefined && opened.read !== undefined && (now.header.updatedAt !== opened.read.updatedAt || now.header.messageCount !== opened.read.messageCount);
      const base = moved ? { ...opened, previous: withoutReverted(await now.load()) } : opened;
      // The turn's durable events go into the same write as its messages.
      return appendEvents(sessionAfter(base, place.projectRoot, outcome, Date.now()), turnEvents(opened.id, outcome.turn as readonly SessionMessage[]));
    });
  } catch (error) {
    onError(error);
    return undefined;
  }
}

async function runTurn(place: SessionPlace, opened: OpenedSession, bus: EventBus, services: TurnServices, request: TurnRequest): Promise<TurnResult> {
  const watch = services.mcp?.watch((w) => bus.emit({ type: 'warning', code: w.code, message: w.message }));
  const unwatchState = watchLedger(services.runtime.ledger, (w) => bus.emit({ type: 'warning', code: w.code, message: w.message }));
  // A cache that could not be opened: the turn goes on without it, and says so once.
  if (services.runtime.cacheUnavailable) bus.emit({ type: 'warning', code: 'CACHE_UNAVAILABLE', message: services.runtime.cacheUnavailable });
  // The project's own plugins, not the built-ins every project has (plugins/builtin/): they have no client to look.
  const held = services.plugins?.sources.some((s) => s.kind === 'plugin') ? await holdNewSession(place, opened, request) : false;
  let saved = false;
  try {
    const result = await runWatched(place, opened, bus, services, request, watch);
    saved = result.saved;
    return result;
  } finally {
    watch?.close();
    unwatchState();
    // A turn that saved nothing leaves no session behind, as without plugins.
    if (held && !saved) await place.store.remove(opened.id).catch(() => undefined);
  }
}

/**
 * A new session is saved (empty) before its turn when plugins run, as OpenCode's exists before its
 * first prompt: a plugin's client finds it while the turn runs (oh-my-opencode's `task` reads the
 * session's lineage with `session.get` before it makes a child session). Whether one was saved.
 */
async function holdNewSession(place: SessionPlace, opened: OpenedSession, request: TurnRequest): Promise<boolean> {
  if (opened.previous !== undefined) return false;
  const now = request.startedAt ?? Date.now();
  try {
    await place.store.save({ id: opened.id, projectRoot: place.projectRoot, agent: request.agent ?? '', title: request.title ?? '', createdAt: now, updatedAt: now, messages: [], usage: { inputTokens: 0, outputTokens: 0 }, models: [] });
    return true;
  } catch {
    // The turn's own save says why the session could not be written.
    return false;
  }
}

/** The turn's messages with its info on the user message (the first one). */
function withInfo(turn: readonly ModelMessage[], info: TurnInfo): ModelMessage[] {
  const [user, ...rest] = turn;
  return user ? [{ ...user, info } as unknown as ModelMessage, ...rest] : [];
}

/** Records the top-level task's model calls (usage, cost, model) from the turn's events. */
function watchSteps(bus: EventBus): { steps: StepInfo[]; answering: { provider?: string; model?: string }; stop: () => void } {
  const steps: StepInfo[] = [];
  // The model the top-level task's latest words or call came from (a step cut short has no step_finish).
  const answering: { provider?: string; model?: string } = {};
  const stop = bus.subscribe((e) => {
    if (e.parentTaskID !== undefined) return;
    if ((e.type === 'text' || e.type === 'tool_use') && e.provider && e.model) Object.assign(answering, { provider: e.provider, model: e.model });
    if (e.type !== 'step_finish') return;
    steps.push({ provider: e.provider ?? '', model: e.model ?? '', usage: { ...e.usage }, ...(e.costUSD === undefined ? {} : { costUSD: e.costUSD }), ...(e.reason === undefined ? {} : { reason: e.reason }) });
  });
  return { steps, answering, stop };
}

/** A reply no step of which finished names the model that was answering, else the head of the agent's chain, as OpenCode's names the model it asked. */
function nameModel(turnInfo: TurnInfo, answering: { provider?: string; model?: string }, head: ModelSpecInput | undefined): TurnInfo {
  if (turnInfo.reply.model) return turnInfo;
  if (answering.provider && answering.model) Object.assign(turnInfo.reply, { provider: answering.provider, model: answering.model });
  else if (head !== undefined) {
    const ref = parseModelRef(head);
    Object.assign(turnInfo.reply, { provider: ref.provider, model: formatModelRef(ref) });
  }
  return turnInfo;
}

function failureEvent(failure: unknown) {
  if (!isPantheonError(failure)) return { type: 'error' as const, code: 'INTERNAL', message: failure instanceof Error ? failure.message : String(failure) };
  return { type: 'error' as const, code: failure.code, message: failure.message, ...(failure.hint ? { hint: failure.hint } : {}), ...(failure.details.length ? { details: failure.details } : {}) };
}

async function runWatched(
  place: SessionPlace,
  opened: OpenedSession,
  bus: EventBus,
  services: TurnServices,
  request: TurnRequest,
  mcp: { tools: McpToolSource; instructions: McpInstructionSource } | undefined,
): Promise<TurnResult> {
  const tally = new UsageTally();
  // The folder the session is saved to is made ready while the model works, not after its answer.
  place.store.prepare();
  // perRun counts this turn (one `opencode run`, one prompt to the server).
  const budget = budgetGate(services.config, services.runtime.ledger, `${opened.id}/${newMessageId()}`);
  const budgets = async (agents: string[]) => (budget ? { budgets: await budget.status(agents).catch(() => []) } : {});
  const turn: ModelMessage[] = [];
  // The session's task list: the agent's `todowrite` changes it, the save keeps it.
  const todos = new TodoList(opened.previous?.todos);
  const agent = request.agent ?? sessionAgent(services.config, opened.previous);
  // The session's own model and system prompt (set over the REST API) for a turn that names none.
  const model = request.model ?? opened.previous?.model;
  const system = [opened.previous?.system, request.system].filter(Boolean).join('\n\n');
  const ids = { user: request.ids?.user ?? newMessageId(), assistant: request.ids?.assistant ?? newMessageId() };
  const started = request.startedAt ?? Date.now();
  const watched = watchSteps(bus);
  const info = (agentName: string, usage: Usage, costUSD: number | undefined, error?: unknown): TurnInfo => {
    const last = watched.steps.at(-1);
    const event = error === undefined ? undefined : failureEvent(error);
    return {
      id: ids.user,
      time: started,
      agent: agentName,
      reply: {
        id: ids.assistant,
        completed: Date.now(),
        ...(last ? { provider: last.provider, model: last.model } : {}),
        usage: { ...usage },
        ...(costUSD === undefined ? {} : { costUSD }),
        steps: watched.steps,
        ...(event ? { error: { code: event.code, message: event.message } } : {}),
      },
      ...(request.subtask ? { subtask: { ...request.subtask } } : {}),
      ...(request.synthetic ? { synthetic: true as const } : {}),
    };
  };
  const warnUnsaved = (error: unknown): void =>
    bus.emit({ type: 'warning', code: 'SESSION_NOT_SAVED', message: `the session was not saved: ${error instanceof Error ? error.message : String(error)}` });
  if (request.shell !== undefined) {
    watched.stop();
    const resolved = resolveAgent(services.config, agent, model);
    const agentName = resolved.name;
    const { messages, failed } = await shellTurn(request.shell, { projectRoot: place.projectRoot, agent: agentName, bus, ...(request.signal ? { signal: request.signal } : {}), ...(services.plugins ? { plugins: services.plugins, sessionID: opened.id } : {}) });
    const usage = { inputTokens: 0, outputTokens: 0 };
    // No model answered; the reply names the agent's, as OpenCode's does.
    const turnInfo = nameModel(info(agentName, usage, undefined, failed), {}, resolved.chain[0]);
    const session = await save(place, opened, { agent: agentName, turn: withInfo(messages, { ...turnInfo, shell: true }), usage, costUSD: undefined, servedBy: [], todos: todos.todos }, warnUnsaved);
    bus.emit({ type: 'done', agent: agentName, usage, status: failed ? 'failed' : 'success', byAgent: {}, byProvider: {} });
    return { status: failed ? 'failed' : 'success', sessionID: opened.id, ids, saved: session !== undefined, ...(session ? { session } : {}), ...(failed ? { error: failed } : {}), answer: '', usage, byAgent: {}, byProvider: {}, servedBy: [] };
  }
  // Each delegation's sub-task gets a child session (a local run's are kept as a server's are).
  let delegations = request.delegations;
  let unfollow: (() => void) | undefined;
  if (!delegations) {
    const children = new ChildSessions({ store: place.store, projectRoot: opened.previous?.projectRoot ?? place.projectRoot, sessionID: opened.id });
    unfollow = bus.subscribe((e) => children.handle(e));
    delegations = children;
  }
  try {
    // A compaction's prompt, as the plugins' `experimental.session.compacting` leaves it.
    const message = request.compaction ? await (await import('../plugins/compaction-hooks.ts')).compactionPrompt(services.plugins, opened.id, COMPACTION_PROMPT, request.signal) : request.message;
    const result = await runTask({
      config: services.config,
      runtime: services.runtime,
      bus,
      message,
      ...(agent ? { agent } : {}),
      ...(model ? { model } : {}),
      ...(request.variant ? { variant: request.variant } : {}),
      ...(request.files ? { files: request.files } : {}),
      ...(request.added?.length ? { added: request.added } : {}),
      ...(system ? { system } : {}),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.maxOutputTokens === undefined ? {} : { maxOutputTokens: request.maxOutputTokens }),
      ...(request.tools ? { tools: request.tools } : {}),
      ...(request.cwd ? { cwd: request.cwd } : {}),
      ...(request.timeoutMs ? { timeoutMs: request.timeoutMs } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
      // A compaction answers from what the model has read; it gets no tools.
      ...(request.compaction ? {} : { workspace: { projectRoot: place.projectRoot, ...request.permissions, ...(mcp ? { mcp: mcp.tools, mcpInstructions: mcp.instructions } : {}), ...(services.plugins ? { plugins: services.plugins } : {}), ...(services.replacedAgents ? { replacedAgents: services.replacedAgents } : {}), todos } }),
      // Its model calls go through the plugins' hooks all the same (a `chat.headers` a gateway needs, say).
      ...(request.compaction && services.plugins ? { plugins: services.plugins, compaction: true } : {}),
      history: modelHistory(sinceCompaction(opened.previous?.messages ?? [])),
      ...(request.onHistoryTrimmed ? { onHistoryTrimmed: request.onHistoryTrimmed } : {}),
      ...(request.admitAhead ? { admitAhead: true } : {}),
      ...(request.subtask && !request.compaction ? { subtask: request.subtask } : {}),
      delegations,
      turn,
      tally,
      ids,
      ...(budget ? { budget } : {}),
    });
    watched.stop();
    const messages = withInfo(turn, { ...info(result.agent, result.usage, result.costUSD), ...(request.compaction ? { compaction: true as const } : {}) });
    const session = await save(place, opened, { agent: result.agent, turn: messages, usage: result.usage, costUSD: result.costUSD, servedBy: result.servedBy, todos: todos.todos, ...(request.title ? { title: request.title } : {}) }, warnUnsaved);
    bus.emit({
      type: 'done',
      agent: result.agent,
      taskID: result.taskID,
      usage: result.usage,
      status: 'success',
      ...(result.costUSD === undefined ? {} : { costUSD: result.costUSD }),
      byAgent: result.byAgent,
      byProvider: result.byProvider,
      ...(await budgets(Object.keys(result.byAgent))),
    });
    return {
      status: 'success',
      sessionID: opened.id,
      ids,
      saved: session !== undefined,
      ...(session ? { session } : {}),
      answer: result.answer,
      usage: result.usage,
      ...(result.costUSD === undefined ? {} : { costUSD: result.costUSD }),
      byAgent: result.byAgent,
      byProvider: result.byProvider,
      servedBy: result.servedBy,
    };
  } catch (error) {
    watched.stop();
    const cancelled = Boolean(request.signal?.aborted) || (isPantheonError(error) && error.code === 'CANCELLED');
    const failure = cancelled ? new PantheonError('CANCELLED', 'Interrupted; in-flight requests were aborted.') : error;
    const usage = { ...tally.usage };
    let session: SessionRecord | undefined;
    if (turn.length) {
      // A recorded turn means the agent resolved (with the same --model) before the failure, so resolving it again cannot throw.
      const resolved = resolveAgent(services.config, agent, model);
      const agentName = resolved.name;
      const turnInfo = nameModel(info(agentName, usage, tally.costUSD, failure), watched.answering, resolved.chain[0]);
      const messages = withInfo(turn, { ...turnInfo, ...(request.compaction ? { compaction: true as const } : {}) });
      session = await save(place, opened, { agent: agentName, turn: messages, usage, costUSD: tally.costUSD, servedBy: tally.servedBy, todos: todos.todos, ...(request.title ? { title: request.title } : {}) }, warnUnsaved);
    }
    bus.emit(failureEvent(failure));
    const status = cancelled ? 'cancelled' : 'failed';
    bus.emit({
      type: 'done',
      usage,
      status,
      ...(tally.costUSD === undefined ? {} : { costUSD: tally.costUSD }),
      byAgent: tally.byAgent(),
      byProvider: tally.byProvider(),
      ...(await budgets(Object.keys(tally.byAgent()))),
    });
    return {
      status,
      sessionID: opened.id,
      ids,
      saved: session !== undefined,
      ...(session ? { session } : {}),
      error: failure,
      answer: '',
      usage,
      ...(tally.costUSD === undefined ? {} : { costUSD: tally.costUSD }),
      byAgent: tally.byAgent(),
      byProvider: tally.byProvider(),
      servedBy: [...tally.servedBy],
    };
  } finally {
    unfollow?.();
  }
}

/**
 * A command the user runs in the session (OpenCode's shell): `bash` in the project, as the agent's
 * tool runs it (its timeout, output bounds and process group), without a permission question (the
 * user typed it). The turn's messages are OpenCode's: its synthetic note, a `bash` call and its
 * output, so the next turn's model sees what was run.
 */
async function shellTurn(command: string, where: { projectRoot: string; agent: string; bus: EventBus; signal?: AbortSignal; plugins?: PluginHost; sessionID?: string }): Promise<{ messages: ModelMessage[]; failed?: PantheonError }> {
  const { executeTool } = await import('../tools/index.ts');
  const toolCallId = `shell_${newMessageId().slice(4)}`;
  const input = { command };
  const started = performance.now();
  where.bus.emit({ type: 'tool_start', agent: where.agent, tool: 'bash', input, callID: toolCallId });
  let output: { type: 'text' | 'error-text'; value: string };
  let failed: PantheonError | undefined;
  try {
    // The plugins' `shell.env` sets the command's variables, as for OpenCode's session shell.
    const shellEnv = shellEnvOf(where.plugins, where.sessionID);
    const text = await executeTool('bash', input, { projectRoot: where.projectRoot, permission: { bash: 'allow' }, auto: true, interactive: false, toolCallId, ...(shellEnv ? { shellEnv } : {}), ...(where.signal ? { signal: where.signal } : {}) });
    output = { type: 'text', value: text };
    where.bus.emit({ type: 'tool_use', agent: where.agent, tool: 'bash', input, output: text, durationMs: Math.round(performance.now() - started), callID: toolCallId });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    output = { type: 'error-text', value: message };
    failed = where.signal?.aborted ? new PantheonError('CANCELLED', 'Interrupted; the command was stopped.') : undefined;
    where.bus.emit({ type: 'tool_use', agent: where.agent, tool: 'bash', input, error: message, durationMs: Math.round(performance.now() - started), callID: toolCallId });
  }
  const messages = [
    { role: 'user', content: [{ type: 'text', text: SHELL_NOTE }] },
    { role: 'assistant', content: [{ type: 'tool-call', toolCallId, toolName: 'bash', input }] },
    { role: 'tool', content: [{ type: 'tool-result', toolCallId, toolName: 'bash', output }] },
  ] as ModelMessage[];
  return { messages, ...(failed ? { failed } : {}) };
}

/** Opens the session a turn belongs to — the one named, the project's latest, or a new one — and its event bus. */
export async function openTurn(place: SessionPlace, choice: SessionChoice = {}): Promise<Turn> {
  const opened = await openSession(place.store, {
    ...(choice.sessionID ? { id: choice.sessionID } : {}),
    continue: Boolean(choice.continue),
    ...(choice.fork ? { fork: true } : {}),
    projectRoot: place.projectRoot,
    ...(choice.loaded ? { loaded: choice.loaded } : {}),
  });
  const bus = new EventBus(opened.id);
  return {
    sessionID: opened.id,
    bus,
    previous: opened.previous,
    nothingToContinue: opened.nothingToContinue,
    skipped: opened.skipped ?? [],
    run: (services, request) => runTurn(place, opened, bus, services, request),
  };
}
