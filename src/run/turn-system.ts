/**
 * A turn's system prompt (run/system-prompt.ts) from what the turn knows: with a workspace (a turn
 * that runs tools: `run`, a server's session, a sub-task, a workflow step, `acp`), the environment
 * block, the MCP servers' instructions and the skills; without one (a compaction), the agent's
 * prompt, the instructions and the message's system text only, as OpenCode's compaction sends no
 * environment. And the call preparer that names a fallback's model in its call's environment block.
 */
import type { ToolSet } from 'ai';
import type { ResolvedAgent } from '../agents/resolve-agent.ts';
import type { Skill } from '../agents/skills.ts';
import type { PrepareCall } from '../plugins/call-hooks.ts';
import type { ResolvedModel } from '../providers/resolve-model.ts';
import type { RunTaskOptions } from './run-task.ts';
import { unlessAborted } from '../unless-aborted.ts';
import { composeSystemPrompt, forModel, offeredServers, promptPlace, type PromptModel } from './system-prompt.ts';

export interface TurnSystemInput {
  options: RunTaskOptions;
  agent: ResolvedAgent;
  /** The head of the chain: the model the prompt names (a fallback's call is changed by `prepare`). */
  head: ResolvedModel;
  instructions: readonly string[];
  /** The tools the turn offers (an MCP server's instructions come with its tools). */
  tools: ToolSet;
  /** The skills the `skill` tool offers, when it is offered. */
  skills: readonly Skill[] | undefined;
  userSystem: string | undefined;
}

export interface TurnSystem {
  systemPrompt: string | undefined;
  /** The call preparer to use: the plugins' (given), after the model's name is made the call's own. */
  prepare(plugins: PrepareCall | undefined): PrepareCall | undefined;
}

const asPromptModel = (model: ResolvedModel): PromptModel => ({ provider: model.provider, upstreamId: model.upstreamId });

export async function turnSystemPrompt(input: TurnSystemInput): Promise<TurnSystem> {
  const { options, agent } = input;
  const workspace = options.workspace;
  const base = { agentPrompt: agent.prompt, instructions: input.instructions, userSystem: input.userSystem };
  if (!workspace) return { systemPrompt: composeSystemPrompt(base), prepare: (plugins) => plugins };
  const head = asPromptModel(input.head);
  const [place, mcp] = await Promise.all([
    // The working directory the instructions were found from (the process's, under `run`; the project's, under `serve`).
    promptPlace(options.cwd ?? process.cwd(), workspace.projectRoot),
    workspace.mcpInstructions ? unlessAborted(workspace.mcpInstructions(agent.name), options.signal) : [],
  ]);
  const systemPrompt = composeSystemPrompt({ ...base, environment: { model: head, place }, mcp: offeredServers(mcp, input.tools), skills: input.skills });
  const named = (model: ResolvedModel, call: Parameters<PrepareCall>[1]) => forModel(call, head, asPromptModel(model));
  return {
    systemPrompt,
    prepare: (plugins) => (plugins ? async (model, call) => plugins(model, named(model, call)) : async (model, call) => ({ call: named(model, call), secrets: [] })),
  };
}
