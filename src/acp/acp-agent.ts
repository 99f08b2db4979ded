/**
 * `opencode acp`: the Agent Client Protocol (JSON-RPC over stdio) that editors — Zed, JetBrains,
 * Neovim's CodeCompanion and avante — speak to OpenCode, answered by a thin adapter over the host
 * (core/host.ts) that `opencode serve` runs: sessions are the host's (the store `run` and `serve`
 * use), each prompt one turn through the scheduler, `ask` permissions put to the editor
 * (`session/request_permission`), `session/cancel` the turn's abort. What OpenCode 1.18's `acp`
 * answers is followed: its initialize answer, agents as modes, models, their variants (`effort`) and
 * modes as config options (session-options.ts), the project's commands as slash commands, the
 * editor's MCP servers added to the session's project, a loaded or forked session replayed. Bad input is a JSON-RPC error naming what was wrong; nothing here prints.
 */
import path from 'node:path';
import { agent, RequestError, type AgentApp, type AgentContext, type ClientCapabilities, type McpServer, type SessionUpdate } from '@agentclientprotocol/sdk';
import type { Host } from '../core/host.ts';
import type { Instance } from '../core/instances.ts';
import type { HostEvent } from '../core/event-hub.ts';
import type { PromptInput } from '../core/sessions.ts';
import type { SessionRecord } from '../session/store.ts';
import { mcpServersOf } from '../core/mcp-servers.ts';
import { isPantheonError, PantheonError } from '../errors.ts';
import { commandInput } from '../server/command-input.ts';
import { acpCatalog } from './acp-catalog.ts';
import { after, cursorOf, parseCursor } from './list-cursor.ts';
import { askedToolCall, PERMISSION_OPTIONS, replyOf } from './permission-call.ts';
import { promptMessage, slashCommand } from './prompt-content.ts';
import { replayUpdates } from './replay.ts';
import { configOptions, pickEffort, pickModel, savedVariant, turnModel, type OptionState } from './session-options.ts';
import { TurnUpdates } from './turn-updates.ts';

/** OpenCode's one auth method: a login in the terminal (keys are the auth store's, as for `run`). */
const LOGIN_METHOD = 'opencode-login';
/** For an editor that runs logins in its terminal (Zed's `terminal-auth`), as OpenCode offers it: the same login, one click away. */
const TERMINAL_AUTH = { 'terminal-auth': { command: 'opencode', args: ['auth', 'login'], label: 'OpenCode Login' } };
const PAGE = 100;
/** A fork's replay: its last messages, as OpenCode's `acp` tells them. */
const FORK_REPLAY = 20;

interface AcpSession extends OptionState {
  id: string;
  projectRoot: string;
  directory: string;
  /** The prompt under way, from the moment it is received (a cancel may come before its turn has started). */
  turn?: PromptTurn;
}

interface PromptTurn {
  /** A cancel came: the turn is not started, or is stopped as soon as it is. */
  cancelled: boolean;
  /** Stops the turn, once it is under way. */
  cancel?: () => void;
}

export interface AcpAgentOptions {
  version: string;
}

function usageError(error: unknown): RequestError {
  if (error instanceof RequestError) return error;
  if (isPantheonError(error)) {
    const text = `${error.message}${error.hint ? ` ${error.hint}` : ''}`;
    if (error.code === 'SESSION_NOT_FOUND') return new RequestError(-32002, text, { code: error.code });
    return RequestError.invalidParams({ code: error.code }, text);
  }
  const status = (error as { status?: unknown } | null)?.status;
  // A command's problem, as the server's 400 words it (server/command-input.ts).
  if (typeof status === 'number' && status < 500 && error instanceof Error) return RequestError.invalidParams({}, error.message);
  return RequestError.internalError({}, error instanceof Error ? error.message : String(error));
}

/** A finished turn's stop reason, from why its last model step ended: the output limit, a refusal (content filter), else the end of the turn. */
function stopReasonOf(reason: string | undefined): 'end_turn' | 'max_tokens' | 'refusal' {
  return reason === 'length' ? 'max_tokens' : reason === 'content-filter' ? 'refusal' : 'end_turn';
}

/** The editor's MCP servers as the config's `mcp.<name>` entries (OpenCode adds them to the project). */
function mcpEntry(server: McpServer): Record<string, unknown> {
  if ('type' in server && (server.type === 'http' || server.type === 'sse')) return { type: 'remote', url: server.url, headers: Object.fromEntries(server.headers.map((h) => [h.name, h.value])) };
  const local = server as Extract<McpServer, { command: string }>;
  return { type: 'local', command: [local.command, ...local.args], environment: Object.fromEntries(local.env.map((e) => [e.name, e.value])) };
}

/** What a new or loaded session is answered with: its config options, and modes and models for editors that read those. */
function sessionState(session: AcpSession) {
  const options = configOptions(session);
  const model = options[0]?.currentValue as string;
  return {
    configOptions: options,
    ...(session.catalog.modes.length ? { modes: { currentModeId: session.mode, availableModes: session.catalog.modes } } : {}),
    models: { currentModelId: model, availableModels: session.catalog.models.map((m) => ({ modelId: m.modelId, name: m.name })) },
  };
}

/** The ACP agent over `host`; connect it to a stream (`app.connect(ndJsonStream(…))`). */
export function acpAgent(host: Host, options: AcpAgentOptions): AgentApp {
  const sessions = new Map<string, AcpSession>();
  let client: ClientCapabilities = {};

  const sessionOf = (id: string) => {
    const found = sessions.get(id);
    if (!found) throw new RequestError(-32002, `Session ${id} is not open on this connection.`, { sessionId: id, hint: 'Open it with session/new, session/load or session/resume first.' });
    return found;
  };

  const checkCwd = (cwd: string): void => {
    if (!path.isAbsolute(cwd)) throw RequestError.invalidParams({ cwd }, `cwd: expected an absolute path, found "${cwd}".`);
  };

  const instanceOf = async (cwd: string): Promise<Instance> => {
    checkCwd(cwd);
    try {
      return await host.instance(cwd);
    } catch (error) {
      throw usageError(error);
    }
  };

  const addMcp = async (instance: Instance, servers: readonly McpServer[] | undefined): Promise<void> => {
    if (!servers?.length) return;
    const { checkMcpEntry, checkServerName } = await import('../server/opencode/mcp-config-check.ts');
    const mcp = await mcpServersOf(instance);
    for (const server of servers) {
      try {
        await mcp.manager.add(checkServerName(server.name), checkMcpEntry(mcpEntry(server)));
      } catch (error) {
        throw RequestError.invalidParams({ mcpServer: server.name }, `mcpServers: the server "${server.name}" cannot be added: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    await mcp.manager.start();
  };

  /** A session opened on the connection: its agent, and its model and effort (the saved ones, or `from`'s, a forked session's choices). */
  const open = async (id: string, instance: Instance, stored: { agent?: string; model?: string; lastReplyModel?: string }, from?: AcpSession) => {
    const catalog = await acpCatalog(instance.config, instance.projectRoot, host.env, instance.loaded.leftByPlugins);
    const agent = from?.mode ?? stored.agent;
    const mode = agent && catalog.modes.some((m) => m.id === agent) ? agent : catalog.defaultMode;
    const session: AcpSession = { id, projectRoot: instance.projectRoot, directory: instance.directory, catalog, config: instance.config, mode };
    const model = from?.model ?? stored.model;
    let named = false;
    if (model) {
      try {
        named = pickModel(session, model);
      } catch {
        // A model the config no longer lists: kept as the session's, as a run takes it.
        session.model = model;
      }
    }
    if (from) {
      if (from.variant === undefined) delete session.variant;
      else session.variant = from.variant;
    } else if (!named) {
      const saved = savedVariant(session, stored.lastReplyModel);
      if (saved !== undefined) session.variant = saved;
    }
    sessions.set(id, session);
    return session;
  };

  const sendCommands = (cx: AgentContext, session: AcpSession) =>
    cx.notify('session/update', { sessionId: session.id, update: { sessionUpdate: 'available_commands_update', availableCommands: session.catalog.commands.map((c) => ({ name: c.name, description: c.description, ...(c.hint ? { input: { hint: c.hint } } : {}) })) } }).catch(() => undefined);

  /**
   * The commands, once the answer that opened the session is out (as OpenCode sends them); then,
   * when the project has MCP servers, again with their prompts (`server:prompt`) once the servers
   * have started and listed them, so that opening a session never waits on them.
   */
  const announceCommands = (cx: AgentContext, session: AcpSession, instance: Instance) => {
    setImmediate(() => {
      void sendCommands(cx, session);
      if (!instance.mcp && (!instance.config.mcp || Object.keys(instance.config.mcp).length === 0)) return;
      void mcpServersOf(instance)
        .then((mcp) => mcp.manager.prompts())
        .then((prompts) => {
          const added = prompts.filter((p) => !session.catalog.commands.some((c) => c.name === p.key));
          if (added.length === 0 || !sessions.has(session.id)) return;
          for (const p of added) session.catalog.commands.push({ name: p.key, description: p.description ?? '', ...(p.arguments.length ? { hint: p.arguments.map((a) => a.name).join(' ') } : {}) });
          session.catalog.commands.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
          return sendCommands(cx, session);
        })
        .catch(() => undefined);
    });
  };

  const turnInput = async (session: AcpSession, text: string, attachments: PromptInput['attachments']): Promise<PromptInput> => {
    const chosen = turnModel(session);
    const own = { agent: session.mode, ...chosen, askClient: true as const, unheard: true as const };
    const slash = slashCommand(text);
    const command = slash && session.catalog.commands.find((c) => c.name === slash.name);
    if (!slash || !command) return { text, ...(attachments?.length ? { attachments } : {}), ...own };
    const instance = await host.instance(session.projectRoot);
    if (command.name === 'compact' && !instance.config.command?.compact) return { text: '', compaction: true, ...own };
    const { subtask, attachments: files, ...input } = await commandInput(instance.config, { command: command.name, arguments: slash.args, agent: session.mode, model: chosen.model, sessionAgent: session.mode, what: `the command /${command.name}`, replaced: instance.loaded.leftByPlugins }, session.projectRoot, host.env, { plugins: instance.plugins, sessionID: session.id });
    if (subtask) return { text: '', subtask, ...own };
    return { ...own, ...input, ...(files.length ? { attachments: files } : {}) };
  };

  const app = agent({ name: 'pantheon' })
    .onRequest('initialize', ({ params }) => {
      client = params.clientCapabilities ?? {};
      return {
        protocolVersion: 1,
        agentCapabilities: {
          loadSession: true,
          mcpCapabilities: { http: true, sse: true },
          promptCapabilities: { embeddedContext: true, image: true },
          // `fork` is unstable in ACP (the stable SDK's types do not have it); OpenCode offers it.
          sessionCapabilities: { close: {}, list: {}, resume: {}, ...{ fork: {} } },
        },
        authMethods: [{ id: LOGIN_METHOD, name: 'Login with opencode', description: 'Run `opencode auth login` in the terminal', ...(client._meta?.['terminal-auth'] === true ? { _meta: TERMINAL_AUTH } : {}) }],
        agentInfo: { name: 'OpenCode', title: 'Pantheon', version: options.version },
      };
    })
    .onRequest('authenticate', ({ params }) => {
      if (params.methodId !== LOGIN_METHOD) throw RequestError.invalidParams({ methodId: params.methodId }, `unknown auth method "${params.methodId}": the one method is "${LOGIN_METHOD}" (run \`opencode auth login\` in a terminal).`);
      return {};
    })
    .onRequest('session/new', async ({ params, client: cx }) => {
      const instance = await instanceOf(params.cwd);
      await addMcp(instance, params.mcpServers);
      const catalog = await acpCatalog(instance.config, instance.projectRoot, host.env, instance.loaded.leftByPlugins);
      const record = await host.sessions.create(instance.projectRoot, { agent: catalog.defaultMode }).catch((error: unknown) => {
        throw usageError(error);
      });
      const session = await open(record.id, instance, { agent: catalog.defaultMode });
      announceCommands(cx, session, instance);
      return { sessionId: session.id, ...sessionState(session) };
    })
    .onRequest('session/load', async ({ params, client: cx }) => {
      const record = await host.sessions.get(params.sessionId).catch((error: unknown) => {
        throw usageError(error);
      });
      checkCwd(params.cwd);
      // The session's own project (not the folder of `cwd` when they differ): its turns run there.
      const instance = await instanceOf(record.projectRoot);
      await addMcp(instance, params.mcpServers);
      const session = await open(record.id, instance, storedChoices(record));
      // The history first: the answer says the session is ready.
      for (const update of replayUpdates(record)) await cx.notify('session/update', { sessionId: record.id, update });
      announceCommands(cx, session, instance);
      return sessionState(session);
    })
    .onRequest('session/resume', async ({ params, client: cx }) => {
      const record = await host.sessions.get(params.sessionId).catch((error: unknown) => {
        throw usageError(error);
      });
      checkCwd(params.cwd);
      const instance = await instanceOf(record.projectRoot);
      await addMcp(instance, params.mcpServers ?? []);
      const session = await open(record.id, instance, storedChoices(record));
      announceCommands(cx, session, instance);
      return sessionState(session);
    })
    // Unstable in ACP, offered by OpenCode: a copy of the session (`POST /session/:id/fork`'s) under a new id, opened with the history replayed.
    .onRequest('session/fork', parseFork, async ({ params, client: cx }) => {
      checkCwd(params.cwd);
      const copy = await host.sessions.fork(params.sessionId).catch((error: unknown) => {
        throw usageError(error);
      });
      const instance = await instanceOf(copy.projectRoot);
      await addMcp(instance, params.mcpServers);
      const session = await open(copy.id, instance, storedChoices(copy), sessions.get(params.sessionId));
      for (const update of replayUpdates(copy, FORK_REPLAY)) await cx.notify('session/update', { sessionId: copy.id, update });
      announceCommands(cx, session, instance);
      return { sessionId: copy.id, ...sessionState(session) };
    })
    .onRequest('session/list', async ({ params }) => {
      const dir = params.cwd ? path.resolve(params.cwd) : undefined;
      const all = (await host.sessions.listAll()).filter((s) => s.parentID === undefined && (dir === undefined || dir === s.projectRoot || dir.startsWith(s.projectRoot + path.sep)));
      const left = params.cursor ? all.filter(after(parseCursor(params.cursor))) : all;
      const page = left.slice(0, PAGE);
      const last = page.at(-1);
      return {
        sessions: page.map((s) => ({ sessionId: s.id, cwd: s.projectRoot, title: s.title || null, updatedAt: new Date(s.updatedAt).toISOString() })),
        ...(left.length > PAGE && last ? { nextCursor: cursorOf(last) } : {}),
      };
    })
    .onRequest('session/close', async ({ params }) => {
      const session = sessions.get(params.sessionId);
      sessions.delete(params.sessionId);
      if (session?.turn) await cancelTurn(session, session.turn);
      return {};
    })
    .onRequest('session/set_mode', async ({ params }) => {
      const session = sessionOf(params.sessionId);
      if (!session.catalog.modes.some((m) => m.id === params.modeId)) throw RequestError.invalidParams({ modeId: params.modeId }, `mode "${params.modeId}" is not one of this project's agents: ${session.catalog.modes.map((m) => m.id).join(', ')}.`);
      session.mode = params.modeId;
      if (!session.turn) await host.sessions.update(session.id, { agent: params.modeId }).catch(() => undefined);
      return {};
    })
    .onRequest('session/set_config_option', async ({ params, client: cx }) => {
      const session = sessionOf(params.sessionId);
      const value = params.value;
      if (typeof value !== 'string') throw RequestError.invalidParams({ configId: params.configId }, `config option "${params.configId}": expected a string value.`);
      if (params.configId === 'model') {
        pickModel(session, value);
        // As OpenCode does: the new options told as an update too (the effort option may come or go).
        void cx.notify('session/update', { sessionId: session.id, update: { sessionUpdate: 'config_option_update', configOptions: configOptions(session) } }).catch(() => undefined);
      } else if (params.configId === 'effort') pickEffort(session, value);
      else if (params.configId === 'mode') {
        if (!session.catalog.modes.some((m) => m.id === value)) throw RequestError.invalidParams({ value }, `mode "${value}" is not one of this project's agents: ${session.catalog.modes.map((m) => m.id).join(', ')}.`);
        session.mode = value;
        void cx.notify('session/update', { sessionId: session.id, update: { sessionUpdate: 'current_mode_update', currentModeId: value } }).catch(() => undefined);
      } else throw RequestError.invalidParams({ configId: params.configId }, `unknown config option "${params.configId}": the options are "model", "effort" (a model with variants) and "mode".`);
      return { configOptions: configOptions(session) };
    })
    // OpenCode's unstable model switch (older editors send it; newer ones set the `model` config option).
    .onRequest('session/set_model', parseSetModel, async ({ params, client: cx }) => {
      const session = sessionOf(params.sessionId);
      pickModel(session, params.modelId);
      await cx.notify('session/update', { sessionId: session.id, update: { sessionUpdate: 'config_option_update', configOptions: configOptions(session) } }).catch(() => undefined);
      return {};
    })
    .onNotification('session/cancel', async ({ params }) => {
      const session = sessions.get(params.sessionId);
      if (session?.turn) await cancelTurn(session, session.turn);
    })
    .onRequest('session/prompt', async ({ params, client: cx }) => {
      const session = sessionOf(params.sessionId);
      if (session.turn) throw RequestError.invalidRequest({ sessionId: session.id }, `Session ${session.id} is busy with another prompt: wait for its answer, or send session/cancel.`);
      // Busy from now on: a second prompt is refused, a cancel is kept for the turn about to start.
      const turn: PromptTurn = { cancelled: false };
      session.turn = turn;
      try {
        const message = await promptMessage(params.prompt);
        let input: PromptInput;
        try {
          input = await turnInput(session, message.text, message.attachments);
        } catch (error) {
          throw usageError(error);
        }
        if (turn.cancelled) return { stopReason: 'cancelled' as const };
        return await runTurn(cx, session, input, turn);
      } finally {
        if (session.turn === turn) delete session.turn;
      }
    });

  const cancelTurn = async (session: AcpSession, turn: PromptTurn): Promise<void> => {
    turn.cancelled = true;
    if (turn.cancel) await host.sessions.abort(session.id);
  };

  /** One turn, its events sent as session updates; answers its stop reason once every update is out. */
  const runTurn = async (cx: AgentContext, session: AcpSession, input: PromptInput, turn: PromptTurn) => {
    let queue = Promise.resolve();
    const send = (update: SessionUpdate) => {
      queue = queue.then(() => cx.notify('session/update', { sessionId: session.id, update })).catch(() => undefined);
    };
    const mine = new Set([session.id]);
    let updates: TurnUpdates | undefined;
    let lastStep: { inputTokens: number; outputTokens: number } | undefined;
    let lastReason: string | undefined;
    const notices = client.session?.notices !== undefined && client.session.notices !== null;
    const listener = (event: HostEvent) => {
      if (event.type === 'child.started' && event.turn.delegated && mine.has(event.turn.delegated.parentSessionID)) mine.add(event.sessionID);
      if (!mine.has(event.sessionID)) return;
      if (event.type === 'turn.started' && event.sessionID === session.id) updates = new TurnUpdates({ projectRoot: session.projectRoot, messageId: event.turn.assistantMessageID, notices, send });
      else if (event.type === 'pantheon' && event.sessionID === session.id) {
        updates?.handle(event.event);
        if (event.event.type === 'step_finish' && event.event.parentTaskID === undefined) {
          lastStep = event.event.usage;
          lastReason = event.event.reason;
        }
      } else if (event.type === 'permission.asked') void askEditor(cx, session, event.question, event.tool, event.input);
    };
    const unsubscribe = host.hub.subscribe(listener);
    try {
      const started = await host.sessions.start(session.id, input).catch((error: unknown) => {
        throw usageError(error);
      });
      turn.cancel = started.cancel;
      // A cancel that came while the turn was starting.
      if (turn.cancelled) started.cancel();
      const { result, session: saved } = await started.done;
      await queue;
      const served = result.servedBy.at(-1);
      const limit = session.catalog.models.find((m) => m.modelId === served)?.contextLimit;
      if (lastStep && limit) {
        await cx.notify('session/update', { sessionId: session.id, update: { sessionUpdate: 'usage_update', used: lastStep.inputTokens + lastStep.outputTokens, size: limit, ...(saved?.costUSD !== undefined ? { cost: { amount: saved.costUSD, currency: 'USD' } } : {}) } }).catch(() => undefined);
      }
      const usage = { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens, totalTokens: result.usage.inputTokens + result.usage.outputTokens };
      if (result.status === 'cancelled') return { stopReason: 'cancelled' as const, usage };
      if (result.status === 'failed') {
        const error = result.error;
        if (isPantheonError(error) && error.code === 'PROVIDER_AUTH') throw RequestError.authRequired({ code: error.code }, `${error.message}${error.hint ? ` ${error.hint}` : ''}`);
        const text = error instanceof PantheonError ? `${error.message}${error.hint ? ` ${error.hint}` : ''}` : error instanceof Error ? error.message : 'The turn failed.';
        throw RequestError.internalError({ code: isPantheonError(error) ? error.code : 'TURN_FAILED' }, text);
      }
      return { stopReason: stopReasonOf(lastReason), usage, userMessageId: result.ids.user };
    } finally {
      unsubscribe();
    }
  };

  /** A permission question of the session's turn, put to the editor; its answer given back to the turn. */
  const askEditor = async (cx: AgentContext, session: AcpSession, question: Parameters<typeof askedToolCall>[0], tool: string, input: unknown): Promise<void> => {
    let reply: 'once' | 'always' | 'reject';
    try {
      const answer = await cx.request('session/request_permission', { sessionId: session.id, toolCall: askedToolCall(question, tool, input, session.projectRoot), options: PERMISSION_OPTIONS });
      reply = replyOf(answer);
    } catch {
      reply = 'reject';
    }
    try {
      await host.sessions.asks.reply(question.id, reply, undefined);
    } catch {
      // Closed meanwhile (the turn was cancelled): nothing waits for the answer.
    }
  };

  return app;
}

/** What a saved session brings to the connection: its agent, its own model, and the model its last reply ran (for the effort). */
function storedChoices(record: SessionRecord): { agent?: string; model?: string; lastReplyModel?: string } {
  const last = record.messages.findLast((m) => m.info?.reply.model !== undefined)?.info?.reply.model;
  return { agent: record.agent, ...(record.model ? { model: record.model } : {}), ...(last ? { lastReplyModel: last } : {}) };
}

function parseFork(params: unknown): { sessionId: string; cwd: string; mcpServers: McpServer[] } {
  const p = (params ?? {}) as { sessionId?: unknown; cwd?: unknown; mcpServers?: unknown };
  if (typeof p.sessionId !== 'string' || typeof p.cwd !== 'string') throw RequestError.invalidParams({}, 'session/fork: expected {"sessionId": string, "cwd": string, "mcpServers"?: [...]}.');
  const servers = p.mcpServers ?? [];
  if (!Array.isArray(servers) || servers.some((m) => typeof (m as { name?: unknown } | null)?.name !== 'string')) throw RequestError.invalidParams({}, 'session/fork: mcpServers: expected an array of MCP servers, as in session/new.');
  return { sessionId: p.sessionId, cwd: p.cwd, mcpServers: servers as McpServer[] };
}

function parseSetModel(params: unknown): { sessionId: string; modelId: string } {
  const p = (params ?? {}) as { sessionId?: unknown; modelId?: unknown };
  if (typeof p.sessionId !== 'string' || typeof p.modelId !== 'string') throw RequestError.invalidParams({}, 'session/set_model: expected {"sessionId": string, "modelId": string}.');
  return { sessionId: p.sessionId, modelId: p.modelId };
}
