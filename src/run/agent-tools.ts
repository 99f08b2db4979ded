import { configSecrets } from '../config/secrets.ts';
import type { Tool, ToolSet } from 'ai';
import type { ResolvedAgent } from '../agents/resolve-agent.ts';
import { deniedOutright, offeredTools, toolEnabled } from '../agents/tool-filter.ts';
import type { Config } from '../config/schema-types.ts';
import { formattersOf } from '../format/formatters.ts';
import { authorize, type PermissionContext } from '../permissions/authorize.ts';
import { evaluatePermission, type PermissionAction } from '../permissions/rules.ts';
import { createTaskTool, DEFAULT_MAX_DEPTH, delegationTargets, type DelegateHow } from './task-tool.ts';
import type { ToolContext } from '../tools/types.ts';
import type { QuestionAsker } from '../tools/question.ts';
import type { TodoList } from './todo-list.ts';
import type { PluginHost } from '../plugins/types.ts';
import { permissionAsker, shellEnvOf, type ToolTurn } from '../plugins/ask-shell-hooks.ts';
import type { McpInstructions } from '../mcp/types.ts';
import type { ResourceAsk } from '../mcp/resource-tools.ts';
import type { Skill } from '../agents/skills.ts';
import { unlessAborted } from '../unless-aborted.ts';

/** Where MCP tools come from: the AI SDK tools of the servers an agent may use (`<server>_<tool>`). */

/** The plugin hooks on an agent's tools (plugins/tool-hooks.ts). */
const TOOL_HOOKS = ['tool.definition', 'tool.execute.before', 'tool.execute.after'] as const;
export type McpToolSource = (agent: string) => Promise<Record<string, Tool>>;
/** The instructions the agent's MCP servers gave (for the system prompt: run/system-prompt.ts). */
export type McpInstructionSource = (agent: string) => Promise<McpInstructions[]>;

/** What an agent's tools run against. Without a workspace, a task runs with no tools at all. */
export interface Workspace {
  /** Absolute path of the project root: every path a tool takes is resolved inside it. */
  projectRoot: string;
  /** Approve every `ask` (`--auto`). */
  auto?: boolean;
  /** A person can answer permission questions (through `confirm`). */
  interactive?: boolean;
  confirm?: PermissionContext['confirm'];
  /** Approves an `ask` without a question (a server turn's approval rules). */
  approve?: PermissionContext['approve'];
  /** Why an unapproved `ask` was refused (default: the CLI's "pass --auto"). */
  askHint?: string;
  mcp?: McpToolSource;
  /** What the MCP servers said about using them, with `mcp`. */
  mcpInstructions?: McpInstructionSource;
  /** Delegation depth cap (default 3). */
  maxDepth?: number;
  /** Environment for `bash` (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The session's task list: `todowrite` and `todoread` for the agent the turn runs (not its delegates). */
  todos?: TodoList;
  /** Someone may answer questions (a turn an OpenCode client sent): OpenCode's `question` tool for the agent the turn runs. */
  askQuestions?: QuestionAsker;
  /** The project's OpenCode plugins and custom tools (src/plugins/), when it has any. */
  plugins?: PluginHost;
  /** Pantheon's built-ins the plugins' `config` hooks replaced: not offered to `task` (a workflow's steps, which name them, give none). */
  replacedAgents?: readonly string[];
}

export interface AgentToolsOptions {
  config: Config;
  agent: ResolvedAgent;
  workspace: Workspace;
  /** Agents from the top-level task down to this one (it is last). */
  lineage: readonly string[];
  signal?: AbortSignal;
  /** Runs the agent's task (`toolCallId`: the `task` call's, under which the files it changed are kept). */
  delegate: (agent: string, prompt: string, signal: AbortSignal | undefined, toolCallId: string | undefined, description?: string, how?: DelegateHow) => Promise<string>;
  /** Told what each `edit` or `write` call changed (its diff), by the call's id. */
  onFileDiff?: ToolContext['onFileDiff'];
  /** Told a call's title when its tool makes one (ToolContext.onTitle). */
  onTitle?: ToolContext['onTitle'];
  /** The instruction files in the session's context already (ToolContext.loadedInstructions). */
  loadedInstructions?: Set<string>;
  /** The session the tools run in (plugins' tool context and hooks). */
  sessionID?: string;
  /** The reply the tools' calls belong to, as the plugins' `permission.ask` is told it. */
  messageID?: string;
  /** Told the skills the `skill` tool offers, when it is offered (the system prompt lists them, as OpenCode's does). */
  onSkills?: (skills: readonly Skill[]) => void;
}

function permissionContext(agent: ResolvedAgent, workspace: Workspace, turn: ToolTurn): PermissionContext {
  const pluginAsk = permissionAsker(workspace.plugins, turn);
  return {
    ...(pluginAsk ? { pluginAsk } : {}),
    permission: agent.permission,
    auto: workspace.auto ?? false,
    interactive: workspace.interactive ?? false,
    ...(workspace.confirm ? { confirm: workspace.confirm } : {}),
    ...(workspace.approve ? { approve: workspace.approve } : {}),
    ...(workspace.askHint ? { askHint: workspace.askHint } : {}),
  };
}

/** The config's formatters as a tool option (none when its `formatter` turns none on). */
function formatterOption(config: Readonly<Config>, projectRoot: string, env: NodeJS.ProcessEnv): Pick<ToolContext, 'format'> {
  const formatters = formattersOf(config, projectRoot, env);
  return formatters ? { format: (file, signal) => formatters.format(file, signal) } : {};
}

/**
 * The config's language servers as a tool option (none when its `lsp` turns none on); their code loads on the first file touched.
 * A server starting (up to 45 s) or its diagnostics (5 s) hold an `edit` or `write`, but not past the turn's cancel (the server
 * goes on starting for the next turn).
 */
function lspOption(config: Readonly<Config>, projectRoot: string, env: NodeJS.ProcessEnv, signal: AbortSignal | undefined): Pick<ToolContext, 'diagnostics'> {
  const setting: unknown = config.lsp;
  if (setting !== true && (setting === null || typeof setting !== 'object')) return {};
  const diagnostics = async (file: string) => {
    const { lspOf } = await import('../lsp/lsp.ts');
    const lsp = lspOf(config, projectRoot, env);
    if (!lsp) return new Map();
    await lsp.touch(file);
    return lsp.diagnostics();
  };
  return { diagnostics: (file) => unlessAborted(diagnostics(file), signal) };
}

/** An MCP tool behind the agent's permission for its name (unlisted tools are allowed). */
function guarded(name: string, tool: Tool, permission: PermissionContext): Tool {
  const execute = tool.execute;
  if (!execute) return tool;
  return {
    ...tool,
    execute: async (input: unknown, options: Parameters<typeof execute>[1]) => {
      await authorize({ ...permission, toolCallId: options.toolCallId, toolInput: input }, { key: name, subject: name, question: `Allow the MCP tool ${name}?` });
      return execute(input, options);
    },
  } as Tool;
}

/** One of OpenCode's tools for MCP resources (mcp/resource-tools.ts). */
function isMcpResourceTool(tool: Tool): boolean {
  return (tool as { metadata?: { mcpResources?: unknown } }).metadata?.mcpResources === true;
}

/**
 * An MCP resource tool, asking the agent's `read` permission as OpenCode's does: a read on
 * `mcp:<server>:<uri>`, a listing on `mcp:<server>:*` of each server listed (the strictest rule of
 * them decides); "always" approves `mcp:<server>:*`.
 */
function readGuarded(tool: Tool, permission: PermissionContext): Tool {
  const execute = tool.execute;
  if (!execute) return tool;
  return {
    ...tool,
    execute: (input: unknown, options: Parameters<typeof execute>[1]) => {
      const authorizeRead = async (ask: ResourceAsk): Promise<void> => {
        const [first = '', ...rest] = ask.patterns;
        await authorize(
          { ...permission, toolCallId: options.toolCallId, toolInput: input },
          { key: 'read', tool: ask.tool, subject: first, ...(rest.length ? { patterns: ask.patterns, question: `Allow ${ask.tool} \`${ask.patterns.join(' ')}\`?` } : {}), always: ask.always, preview: () => Promise.resolve(ask.metadata) },
        );
      };
      return execute(input, { ...options, authorizeRead } as Parameters<typeof execute>[1]);
    },
  } as Tool;
}

/** The agents OpenCode offers `question` to unless the config denies it (its build and plan); the rest go without unless it allows it. */
const ASKING_AGENTS = new Set(['build', 'plan']);

/** The `question` rule for an agent: the config's (top-level or the agent's own), else OpenCode's default for that agent. */
function questionAction(agent: ResolvedAgent): PermissionAction {
  const decision = evaluatePermission(agent.permission, 'question', '*');
  if (decision.source === 'config') return decision.action;
  return ASKING_AGENTS.has(agent.name) ? 'allow' : 'deny';
}

/**
 * The tools an agent is offered: the built-ins its `tools` enable and its permission does not deny
 * outright, `task` when it may delegate to someone, `skill` when skills are found, `todowrite` and
 * `todoread` in a session's turn, `question` where someone can answer, and the tools of its MCP servers.
 */
export async function agentTools(given: AgentToolsOptions): Promise<ToolSet> {
  const { agent, workspace } = given;
  // The plugins' `tool.execute.after` is told each call's title and metadata, as OpenCode's tools give them: the patches and titles the tools report are kept for it.
  const facts = workspace.plugins?.has('tool.execute.after') ? { patches: new Map<string, string>(), titles: new Map<string, string>() } : undefined;
  const options: AgentToolsOptions = facts
    ? {
        ...given,
        onFileDiff: (diff, toolCallId) => {
          if (toolCallId !== undefined && diff.patch !== undefined) facts.patches.set(toolCallId, diff.patch);
          given.onFileDiff?.(diff, toolCallId);
        },
        onTitle: (title, toolCallId) => {
          if (toolCallId !== undefined) facts.titles.set(toolCallId, title);
          given.onTitle?.(title, toolCallId);
        },
      }
    : given;
  const permission = permissionContext(agent, workspace, { sessionID: options.sessionID ?? '', messageID: options.messageID ?? '', ...(options.signal ? { signal: options.signal } : {}) });
  const shellEnv = shellEnvOf(workspace.plugins, options.sessionID, options.signal);
  const { createBuiltinTools } = await import('../tools/index.ts');
  const builtins = await createBuiltinTools({
    projectRoot: workspace.projectRoot,
    permission: agent.permission,
    auto: permission.auto,
    interactive: permission.interactive,
    ...(workspace.confirm ? { confirm: workspace.confirm } : {}),
    ...(workspace.approve ? { approve: workspace.approve } : {}),
    ...(workspace.askHint ? { askHint: workspace.askHint } : {}),
    ...(permission.pluginAsk ? { pluginAsk: permission.pluginAsk } : {}),
    ...(shellEnv ? { shellEnv } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(workspace.env ? { env: workspace.env } : {}),
    secrets: configSecrets(options.config),
    ...formatterOption(options.config, workspace.projectRoot, workspace.env ?? process.env),
    ...lspOption(options.config, workspace.projectRoot, workspace.env ?? process.env, options.signal),
    ...(options.onFileDiff ? { onFileDiff: options.onFileDiff } : {}),
    ...(options.loadedInstructions ? { loadedInstructions: options.loadedInstructions } : {}),
    ...(options.onTitle ? { onTitle: options.onTitle } : {}),
  });
  const tools: ToolSet = offeredTools(builtins, agent.tools, agent.permission);
  const taskOptions = { config: options.config, lineage: options.lineage, maxDepth: workspace.maxDepth ?? DEFAULT_MAX_DEPTH, permission, delegate: options.delegate, ...(workspace.replacedAgents ? { replaced: workspace.replacedAgents } : {}) };
  if (toolEnabled(agent.tools, 'task') && !deniedOutright(agent.permission, 'task') && delegationTargets(taskOptions).length > 0) {
    tools.task = await createTaskTool(taskOptions);
  }
  // OpenCode's skills of the project and the user, when the agent may load them.
  if (toolEnabled(agent.tools, 'skill') && !deniedOutright(agent.permission, 'skill')) {
    const { skillsFor } = await import('../agents/skills.ts');
    // A registry of `skills.urls` being read (each request up to 10 s, a skill's files one after another) holds the turn, but not past its cancel
    // (the download stops then, unless another turn still waits for it).
    const found = await unlessAborted(skillsFor(workspace.projectRoot, workspace.env ?? process.env, options.config as { skills?: { paths?: unknown; urls?: unknown } }, options.signal), options.signal);
    // As OpenCode lists them: a skill the agent's permission denies is not offered.
    const skills = found.filter((s) => evaluatePermission(agent.permission, 'skill', s.name).action !== 'deny');
    if (skills.length > 0) {
      tools.skill = await (await import('./skill-tool.ts')).createSkillTool(skills, permission);
      options.onSkills?.(skills);
    }
  }
  // OpenCode's task list, for the agent the turn runs; the agents it delegates to go without (as in OpenCode).
  if (workspace.todos && options.lineage.length <= 1) {
    const offer = (name: string): boolean => toolEnabled(agent.tools, name) && !deniedOutright(agent.permission, name);
    if (offer('todowrite') || offer('todoread')) {
      const { createTodoTools } = await import('./todo-tools.ts');
      Object.assign(tools, await createTodoTools(workspace.todos, permission, { write: offer('todowrite'), read: offer('todoread') }));
    }
  }
  // OpenCode's `question`, for the agent the turn runs, where a person at an OpenCode client may answer (the agents it delegates to go without).
  if (workspace.askQuestions && options.lineage.length <= 1 && toolEnabled(agent.tools, 'question') && questionAction(agent) !== 'deny') {
    const { createQuestionTool } = await import('../tools/index.ts');
    tools.question = await createQuestionTool({ projectRoot: workspace.projectRoot, permission: agent.permission, auto: permission.auto, interactive: true, askQuestions: workspace.askQuestions, ...(options.signal ? { signal: options.signal } : {}) });
  }
  // The agent's servers as the manager has them now: the config's and those added while the process runs (`POST /mcp`, an ACP editor's).
  if (workspace.mcp) {
    // A server still starting holds the turn up to its `timeout`, but not past the turn's cancel (a person's, or a server's drain grace running out).
    const mcp = offeredTools(await unlessAborted(workspace.mcp(agent.name), options.signal), agent.tools, agent.permission);
    for (const [name, tool] of Object.entries(mcp)) {
      if (name in tools) continue;
      if (!isMcpResourceTool(tool)) tools[name] = guarded(name, tool, permission);
      // OpenCode's resource tools go with `read`: not offered when the agent may not read at all (`tools: {read: false}`, `permission.read: "deny"`).
      else if (toolEnabled(agent.tools, 'read') && !deniedOutright(agent.permission, 'read')) tools[name] = readGuarded(tool, permission);
    }
  }
  // The project's OpenCode plugins: their custom tools, and their hooks on every tool (the built-in plugins have neither).
  if (workspace.plugins && (workspace.plugins.tools.size > 0 || TOOL_HOOKS.some((hook) => workspace.plugins?.has(hook)))) {
    const { withPlugins } = await import('../plugins/tool-hooks.ts');
    await withPlugins(tools, {
      plugins: workspace.plugins,
      sessionID: options.sessionID ?? '',
      ...(options.messageID ? { messageID: options.messageID } : {}),
      agent: agent.name,
      permission,
      offer: (custom) => offeredTools(custom, agent.tools, agent.permission),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onTitle ? { onTitle: options.onTitle } : {}),
      ...(facts
        ? {
            describe: async (tool: string, input: unknown, output: string, toolCallId: string) => {
              const [{ toolTitle }, { toolMetadata }] = await Promise.all([import('../server/opencode/message-view.ts'), import('../server/opencode/tool-metadata.ts')]);
              const patch = facts.patches.get(toolCallId);
              const title = facts.titles.get(toolCallId);
              facts.patches.delete(toolCallId);
              facts.titles.delete(toolCallId);
              return { title: title ?? toolTitle(tool, input, workspace.projectRoot), metadata: toolMetadata(tool, output, { patch, input, projectRoot: workspace.projectRoot }) };
            },
          }
        : {}),
    });
  }
  return tools;
}
