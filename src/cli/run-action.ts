import { loadConfig } from '../config/load.ts';
import { cliPlugins, type CliPlugins } from './cli-plugins.ts';
import type { PluginHost } from '../plugins/types.ts';
import { closeAllLsp } from '../lsp/live.ts';
import { openMcp } from '../core/mcp-servers.ts';
import { openTurn, type Turn } from '../core/session-turn.ts';
import { defaultAgentName } from '../agents/resolve-agent.ts';
import { replacedAgentWarning } from '../agents/replaced-agent.ts';
import { EXIT, PantheonError, isPantheonError } from '../errors.ts';
import { openRuntime } from '../run/runtime.ts';
import { SessionStore } from '../session/store.ts';
import { trimNote } from '../session/trim.ts';
import type { CommandSubtask } from '../run/run-task.ts';
import type { Config } from '../config/schema-types.ts';
import type { RunArgs } from './commands/run-flags.ts';
import { codeCacheRan } from './code-cache.ts';
import { SHARE_NOTE } from './commands/run-flags.ts';
import { printErr, printWarnings } from './print.ts';
import { JsonRenderer } from './render/json-renderer.ts';
import { RunStats } from './render/summary.ts';
import { TextRenderer } from './render/text-renderer.ts';
import { runMessage } from './run-message.ts';
import { startupDone } from './startup-done.ts';
import { safeText } from './terminal-text.ts';

/** Events after which a run's start-up is over. */
const STARTED = new Set(['step_start', 'rate_limited', 'error', 'done']);

/** `opencode run`: one turn of the core, rendered as text on a terminal or NDJSON under --format json. */
export async function runAction(given: RunArgs): Promise<void> {
  const message = await runMessage(given);
  // The project's OpenCode plugins, first: their `config` hooks may change the config everything else reads.
  const projectPlugins = await cliPlugins(await loadConfig({ ...(given.config ? { configPath: given.config } : {}) }));
  if (!projectPlugins.plugins) return runWith(given, message, projectPlugins);
  try {
    await runWith(given, message, projectPlugins);
  } finally {
    // Also after a failure before the turn (a command or session that is not there): their dispose, their `$` commands stopped.
    await projectPlugins.close();
  }
}

/**
 * The MCP servers' prompts as commands (`server:prompt`), for the "did you mean" of a `--command`
 * that names none: the project's enabled servers started for it (a listing's bounded wait), then stopped.
 */
async function mcpPromptNames(config: Config, projectRoot: string): Promise<string[]> {
  const mcp = await openMcp(config, projectRoot);
  if (!mcp) return [];
  try {
    const { LIST_WAIT_MS } = await import('../mcp/catalog-limits.ts');
    return (await mcp.manager.prompts(undefined, { waitMs: LIST_WAIT_MS })).map((p) => p.key);
  } finally {
    await mcp.manager.shutdown();
  }
}

/** The run, once the project's plugins (if any) are loaded. */
async function runWith(given: RunArgs, asked: string, projectPlugins: CliPlugins): Promise<void> {
  let message = asked;
  // A command's arguments as given (the plugins' `command.execute.before` is told them).
  const commandArguments = message;
  const { plugins, loaded } = projectPlugins;
  let args = given;
  if (args.agent !== undefined && loaded.leftByPlugins?.includes(args.agent)) {
    // A built-in agent a plugin's config hook took over (oh-my-opencode's sisyphus): OpenCode has no such agent then, and runs the default agent.
    const fallback = defaultAgentName(loaded.config, loaded.leftByPlugins);
    printErr(`warning: ${safeText(replacedAgentWarning(args.agent, fallback))}\n`);
    const { agent: _dropped, ...rest } = args;
    args = rest;
  }
  let subtask: CommandSubtask | undefined;
  // An MCP prompt as a command (`server:prompt`): its servers start before the turn, and the run keeps them.
  let early: Awaited<ReturnType<typeof openMcp>>;
  let promptMessage: string | undefined;
  if (given.command !== undefined && given.command.includes(':')) {
    const { configuredServers, mcpPromptMessage, promptServersFor } = await import('../core/commands/mcp-prompt-command.ts');
    const servers = promptServersFor(given.command, configuredServers(loaded.config));
    if (servers.length > 0) {
      early = await openMcp(loaded.config, loaded.projectRoot);
      try {
        promptMessage = early ? await mcpPromptMessage(early.manager, servers, given.command, message, '--command') : undefined;
      } catch (error) {
        await early?.manager.shutdown();
        throw error;
      }
      if (promptMessage === undefined) {
        // Not one of its prompts: a command of the config, perhaps; the servers start again when the agent needs them.
        await early?.manager.shutdown();
        early = undefined;
      }
    }
  }
  if (promptMessage !== undefined) message = promptMessage;
  else if (given.command !== undefined) {
    // The command (the config's, OpenCode's built-in `init` and `review`, a skill), resolved as the server resolves it: its template with the message as its arguments, its agent and model.
    const [{ expandCommand }, { resolveCommand }, { commandSubtask }, { SUBTASK_NOTE }] = await Promise.all([import('../run/command-template.ts'), import('../core/commands/resolve-command.ts'), import('../core/commands/command-subtask.ts'), import('../run/run-task.ts')]);
    const config = await resolveCommand(loaded.config, loaded.projectRoot, process.env, given.command, '--command', given.command.includes(':') ? () => mcpPromptNames(loaded.config, loaded.projectRoot) : undefined);
    const expanded = await expandCommand(config, given.command, message, loaded.projectRoot);
    const agent = expanded.agent ?? args.agent;
    // A command whose agent a plugin's config hook replaced is refused, as OpenCode refuses one whose agent it does not have.
    subtask = commandSubtask(config, given.command, { text: expanded.message, ...(agent ? { agent } : {}) }, undefined, loaded.leftByPlugins);
    if (subtask) {
      // A sub-task (OpenCode's `/review`) runs first in a child session, its text alone; the turn is the run's agent's, which goes on from its answer.
      message = SUBTASK_NOTE;
    } else {
      message = expanded.message;
      args = { ...args, ...(expanded.agent ? { agent: expanded.agent } : {}), ...(expanded.model ? { model: expanded.model } : {}), file: [...(given.file ?? []), ...expanded.files] };
    }
  }
  const json = args.format === 'json';
  if (!json) printWarnings(loaded.warnings);
  if (args.share) printErr(SHARE_NOTE);
  const turn = await openTurn({ store: SessionStore.open(process.env, { blockingSaves: true }), projectRoot: loaded.projectRoot }, {
    ...(args.session ? { sessionID: args.session } : {}),
    continue: Boolean(args.continue),
    ...(args.fork ? { fork: true } : {}),
  }).catch(async (error: unknown) => {
    // The MCP servers started for the command's prompt stop with it.
    await early?.manager.shutdown();
    throw error;
  });
  // A file that could not be read may have been the project's latest session: say so, rather than going on quietly with an older one.
  for (const p of turn.skipped) printErr(`warning: ${p.file}: ${p.reason}; skipped in looking for the latest session.\n`);
  if (turn.nothingToContinue) printErr('note: no earlier session in this project; starting a new one\n');
  const stats = new RunStats();
  turn.bus.subscribe((e) => stats.handle(e));
  turn.bus.subscribe((e) => {
    // A tool loop runs code a plain answer does not: the code cache is to hold it (code-cache.ts).
    if (e.type === 'tool_use') codeCacheRan('tools');
    // Loaded and sent (or answered from the cache), or asleep on a limit: the next run may start (start-gate.ts).
    else if (STARTED.has(e.type)) startupDone();
  });
  const live = Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
  const text = json ? undefined : new TextRenderer({ out: process.stdout, err: process.stderr, live, thinking: Boolean(args.thinking) });
  const jsonOut = json ? new JsonRenderer(process.stdout, { thinking: Boolean(args.thinking) }) : undefined;
  turn.bus.subscribe((e) => (text ?? jsonOut)?.handle(e));

  const controller = new AbortController();
  const onSignal = () => controller.abort(new PantheonError('CANCELLED', 'Interrupted.'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  const asking = interactive ? await import('../permissions/ask.ts') : undefined;
  const ask = asking?.ttyConfirm({ signal: controller.signal });
  // The question quotes the model's tool call: made safe for the terminal like everything else. A "no" is a plain reject, as at OpenCode's TUI.
  // The live line of a running call is cleared while a question is on the terminal, and drawn again after.
  const put = (question: string) => (ask as (q: string) => Promise<boolean>)(safeText(question));
  const confirm = asking && ask ? asking.personAnswers((question) => (text ? text.prompting(() => put(question)) : put(question)), { continueOnDeny: loaded.config.experimental?.continue_loop_on_deny === true }) : undefined;
  const mcp = early ?? (await openMcp(loaded.config, loaded.projectRoot));
  if (given.command !== undefined && plugins?.has('command.execute.before')) {
    // The command's parts, as OpenCode hands them to the plugins before the turn: what they leave is sent.
    try {
      const [{ commandHook }, { SUBTASK_NOTE }] = await Promise.all([import('../plugins/command-hook.ts'), import('../run/run-task.ts')]);
      const changed = await commandHook(plugins, { command: given.command, sessionID: turn.sessionID, arguments: commandArguments }, { text: subtask ? subtask.prompt : message, attachments: (args.file ?? []).map((name) => ({ name })), ...(subtask ? { subtask } : {}) }, controller.signal);
      subtask = changed.subtask;
      message = subtask ? SUBTASK_NOTE : changed.text;
      args = { ...args, file: changed.attachments.map((f) => f.name) };
    } catch (error) {
      await Promise.all([mcp?.manager.shutdown(), projectPlugins.close()]);
      throw error;
    }
  }
  const runtime = await openRuntime(loaded.config, { noCache: !args.cache });
  // The plugins' clients are answered by OpenCode's API over the run's own core, now open.
  await projectPlugins.serve({ runtime, ...(mcp ? { mcp } : {}), ...(given.config ? { configPath: given.config } : {}) });
  // The plugins' `event` hooks get the turn's events as OpenCode's bus carries them.
  const feed = plugins?.has('event') ? await pluginEventFeed(plugins, turn, loaded.projectRoot, message, args.agent) : undefined;
  try {
    const result = await turn.run(
      { config: loaded.config, runtime, ...(mcp ? { mcp } : {}), ...(plugins ? { plugins } : {}), ...(loaded.leftByPlugins ? { replacedAgents: loaded.leftByPlugins } : {}) },
      {
        ...(feed ? { ids: { user: feed.turn.userMessageID, assistant: feed.turn.assistantMessageID }, startedAt: feed.turn.time } : {}),
        message,
        ...(args.agent ? { agent: args.agent } : {}),
        ...(args.model ? { model: args.model } : {}),
        ...(args.variant ? { variant: args.variant } : {}),
        ...(args.title ? { title: args.title } : {}),
        ...(subtask ? { subtask } : {}),
        ...(args.file ? { files: args.file } : {}),
        ...(args.timeout ? { timeoutMs: args.timeout } : {}),
        signal: controller.signal,
        permissions: { auto: args.auto, interactive, ...(confirm ? { confirm } : {}) },
        onHistoryTrimmed: (dropped, context) => printErr(`note: ${trimNote(dropped, context)}\n`),
        // One turn per process: its first request is admitted before the SDK and tools load (docs/performance.md).
        admitAhead: true,
      },
    );
    feed?.ended(feed.turn, result, turn.previous === undefined);
    const failure = result.error;
    // A usage or config error (exit 2) is reported on its own; a summary line would only add noise.
    const usageError = isPantheonError(failure) && failure.exitCode === EXIT.usage;
    if (!usageError) {
      text?.finish(
        stats.line({
          status: result.status === 'success' ? 'done' : result.status,
          usage: result.usage,
          costUSD: result.costUSD,
          servedBy: result.servedBy,
          ...(result.status === 'success' || result.saved ? { sessionID: result.sessionID } : {}),
          byAgent: result.byAgent,
        }),
      );
    }
    if (result.status === 'success') return;
    if (json) {
      process.exitCode = isPantheonError(failure) ? failure.exitCode : EXIT.failed;
      return;
    }
    throw failure;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    feed?.close();
    await projectPlugins.close();
    await Promise.all([runtime.close(), mcp?.manager.shutdown(), closeAllLsp()]);
  }
}

async function pluginEventFeed(plugins: PluginHost, turn: Turn, projectRoot: string, message: string, agent: string | undefined) {
  const [{ runEventFeed }, { newMessageId }, { version }] = await Promise.all([import('../plugins/run-events.ts'), import('../session/ids.ts'), import('./version.ts')]);
  const start = { userMessageID: newMessageId(), assistantMessageID: newMessageId(), time: Date.now(), agent: agent ?? '', text: message, attachments: [] };
  const feed = runEventFeed(plugins, turn.bus, projectRoot, version);
  feed.started(start);
  return { turn: start, ended: feed.ended, close: feed.close };
}
