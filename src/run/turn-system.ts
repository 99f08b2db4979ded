/**
 * A turn's system prompt (run/system-prompt.ts) from what the turn knows: with a workspace (a turn
 * that runs tools: `run`, a server's session, a sub-task, a workflow step, `acp`), the environment
 * block, the MCP servers' instructions and the skills; without one (a compaction), the agent's
 * prompt, the instructions and the message's system text only, as OpenCode's compaction sends no
 * environment. An agent without a prompt of its own gets OpenCode's base prompt for the model's
 * family in its place (agents/base-prompt.ts), as OpenCode's agents without one do; a compaction
 * gets none, as OpenCode's compaction has its own agent. And the call preparer that makes a
 * fallback's call its own: its model named in the environment block, its family's base prompt.
 */
import type { ToolSet } from 'ai';
import { basePrompt } from '../agents/base-prompt.ts';
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
  const [place, mcp, headBase] = await Promise.all([
    // The working directory the instructions were found from (the process's, under `run`; the project's, under `serve`).
    promptPlace(options.cwd ?? process.cwd(), workspace.projectRoot),
    workspace.mcpInstructions ? unlessAborted(workspace.mcpInstructions(agent.name), options.signal) : [],
    agent.prompt ? undefined : basePrompt(head),
  ]);
  const systemPrompt = composeSystemPrompt({ ...base, agentPrompt: agent.prompt || headBase, environment: { model: head, place }, mcp: offeredServers(mcp, input.tools), skills: input.skills });
  const named = async (model: ResolvedModel, call: Parameters<PrepareCall>[1]) => {
    const own = asPromptModel(model);
    const based = headBase === undefined ? call : withBase(call, headBase, await basePrompt(own));
    return forModel(based, head, own);
  };
  return {
    systemPrompt,
    prepare: (plugins) => (plugins ? async (model, call) => plugins(model, await named(model, call)) : async (model, call) => ({ call: await named(model, call), secrets: [] })),
  };
}

/** A call whose system prompt begins with the head model's base prompt, given another model's (a fallback of another family). */
function withBase(call: Parameters<PrepareCall>[1], from: string, to: string): Parameters<PrepareCall>[1] {
  const first = call.prompt[0];
  if (from === to || first?.role !== 'system' || !first.content.startsWith(from)) return call;
  return { ...call, prompt: [{ ...first, content: to + first.content.slice(from.length) }, ...call.prompt.slice(1)] };
}
