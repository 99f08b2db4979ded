import { randomUUID } from 'node:crypto';
import type { TextStreamPart, ToolSet } from 'ai';
import { resolveAgent } from '../agents/resolve-agent.ts';
import type { Config } from '../config/schema-types.ts';
import { PantheonError } from '../errors.ts';
import type { EventBus, Usage } from '../events.ts';
import { resolveModel, type ResolvedModel } from '../providers/resolve-model.ts';
import { createChainModel } from '../scheduler/chain-model.ts';
import { isDiscardText } from '../scheduler/text-replay.ts';
import type { Runtime } from './runtime.ts';
import { buildUserContent, type UserContent } from './user-content.ts';

export interface RunTaskOptions {
  config: Config;
  runtime: Runtime;
  bus: EventBus;
  message: string;
  agent?: string;
  model?: string;
  files?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  signal?: AbortSignal;
  fetch?: typeof globalThis.fetch;
  taskID?: string;
}

export interface RunTaskResult {
  taskID: string;
  agent: string;
  text: string;
  usage: Usage;
  costUSD?: number;
  /** Models that answered, in order (provider/model labels). */
  servedBy: string[];
}

function costOf(model: ResolvedModel, usage: Usage): number | undefined {
  if (!model.cost || (model.cost.input === undefined && model.cost.output === undefined)) return undefined;
  return ((model.cost.input ?? 0) * usage.inputTokens + (model.cost.output ?? 0) * usage.outputTokens) / 1_000_000;
}

/**
 * Runs one agent task: resolves the agent and its model chain, sends the message through the
 * scheduler (limits, retries, fallbacks, cache) and streams the answer as events.
 */
export async function runTask(options: RunTaskOptions): Promise<RunTaskResult> {
  const taskID = options.taskID ?? `task_${randomUUID().slice(0, 8)}`;
  const agent = resolveAgent(options.config, options.agent, options.model);
  const resolveCtx = {
    ...(options.env ? { env: options.env } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  };
  const chain = agent.chain.map((spec, i) =>
    resolveModel(options.config, spec, resolveCtx, i === 0 ? (options.model ? '--model' : `agent.${agent.name}.model`) : `agent.${agent.name}.fallbacks[${i - 1}]`),
  );
  const content: UserContent = await buildUserContent(options.message, options.files ?? [], chain[0] as ResolvedModel, options.cwd ?? process.cwd());
  const tags = { agent: agent.name, taskID };
  const usage: Usage = { inputTokens: 0, outputTokens: 0 };
  let cost: number | undefined;
  const servedBy: string[] = [];
  const served: { model: ResolvedModel; usage: Usage; fromCache: boolean }[] = [];
  // The model answering now, for the provider/model fields of text events.
  let current: ResolvedModel | undefined;
  const model = createChainModel({
    chain,
    scheduler: options.runtime.scheduler,
    ...(options.runtime.cache ? { cache: options.runtime.cache } : {}),
    ctx: { emit: (e) => options.bus.emit(e), tags, ...(options.signal ? { signal: options.signal } : {}) },
    onServed: (model, u, fromCache) => {
      served.push({ model, usage: u, fromCache });
    },
    onModel: (model) => {
      current = model;
    },
  });
  const { streamText } = await import('ai');
  const result = streamText({
    model,
    ...(agent.prompt ? { system: agent.prompt } : {}),
    messages: [{ role: 'user', content }],
    ...(agent.temperature === undefined ? {} : { temperature: agent.temperature }),
    ...(agent.topP === undefined ? {} : { topP: agent.topP }),
    maxRetries: 0,
    // Raw parts carry the chain model's "drop this step's text" notice, in order with the text.
    includeRawChunks: true,
    // Errors arrive as stream parts and are handled below; the SDK's default would print them.
    onError: () => undefined,
    ...(options.signal ? { abortSignal: options.signal } : {}),
  });
  let text = '';
  let stepStart = 0;
  let failure: unknown;
  const handle = (part: TextStreamPart<ToolSet>): void => {
    if (part.type === 'start-step') stepStart = text.length;
    else if (part.type === 'raw') {
      if (isDiscardText(part.rawValue)) text = text.slice(0, stepStart);
    } else if (part.type === 'finish-step') {
      // The chain model reports which model served the call; the SDK's part says when it is done.
      const step = served.shift();
      if (!step) return;
      servedBy.push(step.model.label);
      usage.inputTokens += step.usage.inputTokens;
      usage.outputTokens += step.usage.outputTokens;
      const c = step.fromCache ? undefined : costOf(step.model, step.usage);
      if (c !== undefined) cost = (cost ?? 0) + c;
      options.bus.emit({ ...tags, provider: step.model.provider, model: step.model.label, type: 'step_finish', usage: step.usage });
    } else if (part.type === 'text-delta') {
      text += part.text;
      options.bus.emit({ ...tags, ...(current ? { provider: current.provider, model: current.label } : {}), type: 'text', text: part.text });
    } else if (part.type === 'error') failure ??= part.error;
  };
  try {
    for await (const part of result.fullStream) handle(part);
  } catch (error) {
    failure ??= error;
  }
  if (options.signal?.aborted) throw new PantheonError('CANCELLED', 'Cancelled.');
  if (failure) throw failure instanceof PantheonError ? failure : new PantheonError('PROVIDER_ERROR', `The run failed: ${(failure as Error).message ?? String(failure)}`);
  return { taskID, agent: agent.name, text, usage, ...(cost === undefined ? {} : { costUSD: cost }), servedBy };
}
