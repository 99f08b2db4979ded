import type { Config } from '../config/schema-types.ts';
import { PantheonError } from '../errors.ts';
import type { ModelSpecInput } from '../providers/model-ref.ts';

/** An agent ready to run: its prompt, sampling settings and model chain (head first). */
export interface ResolvedAgent {
  name: string;
  description?: string;
  prompt?: string;
  temperature?: number;
  topP?: number;
  steps: number;
  chain: ModelSpecInput[];
  /** Where the chain came from: the agent's own model, or the top-level default. */
  chainSource: 'agent' | 'top-level';
}

/** Names of agents that are not disabled, sorted. */
export function agentNames(config: Config): string[] {
  return Object.entries(config.agent ?? {})
    .filter(([, a]) => !a.disable)
    .map(([name]) => name)
    .sort();
}

/**
 * Resolves an agent by name (default: `default_agent`, else the first primary agent). Its chain is
 * its `model` then its `fallbacks`; with no `model`, the top-level `model` and `fallbacks`;
 * `modelOverride` (`--model`) replaces the head.
 */
export function resolveAgent(config: Config, name: string | undefined, modelOverride?: string): ResolvedAgent {
  const wanted = name ?? config.default_agent;
  const names = agentNames(config);
  // With no name and no default_agent: the first agent that may run on its own (not a subagent).
  const agentName = wanted ?? names.find((n) => config.agent?.[n]?.mode !== 'subagent') ?? names[0];
  const agent = agentName ? config.agent?.[agentName] : undefined;
  if (wanted && (!agent || agent.disable)) {
    throw new PantheonError('UNKNOWN_AGENT', `${name ? '--agent' : 'default_agent'}: no agent named "${wanted}"${agent?.disable ? ' (it is disabled)' : ''}.`, {
      hint: names.length ? `Available agents: ${names.join(', ')}.` : 'Define one under "agent" in opencode.json.',
    });
  }
  let chain: ModelSpecInput[];
  let chainSource: ResolvedAgent['chainSource'];
  if (agent?.model) {
    chain = [agent.model, ...(agent.fallbacks ?? config.fallbacks ?? [])];
    chainSource = 'agent';
  } else {
    chain = [...(config.model ? [config.model] : []), ...(agent?.fallbacks ?? config.fallbacks ?? [])];
    chainSource = 'top-level';
  }
  if (modelOverride) chain = [modelOverride, ...chain.slice(1)];
  if (chain.length === 0) {
    throw new PantheonError('USAGE', `No model configured for agent "${agentName ?? '(none)'}".`, {
      hint: 'Pass --model provider/model, or set "model" at the top level or on the agent in opencode.json.',
    });
  }
  const basePrompt = agent?.prompt ?? agent?.systemPrompt;
  const prompt = agent?.prompt_append ? [basePrompt, agent.prompt_append].filter(Boolean).join('\n\n') : basePrompt;
  return {
    name: agentName ?? 'default',
    ...(agent?.description ? { description: agent.description } : {}),
    ...(prompt ? { prompt } : {}),
    ...(agent?.temperature === undefined ? {} : { temperature: agent.temperature }),
    ...(agent?.top_p === undefined ? {} : { topP: agent.top_p }),
    steps: agent?.steps ?? agent?.maxSteps ?? 1,
    chain,
    chainSource,
  };
}
