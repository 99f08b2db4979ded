import type { LanguageModelV4, LanguageModelV4CallOptions, LanguageModelV4StreamPart, LanguageModelV4StreamResult } from '@ai-sdk/provider';
import { cacheKey } from '../cache/key.ts';
import type { ResponseCache } from '../cache/response-cache.ts';
import { PantheonError } from '../errors.ts';
import type { ResolvedModel } from '../providers/resolve-model.ts';
import { BudgetExceededError, expectedSpend, type BudgetGate, type Reservation } from '../run/budget.ts';
import { costOf } from '../run/usage-tally.ts';
import type { EventInput } from '../events.ts';
import type { Lease } from './lease.ts';
import { AttemptError } from './retry-policy.ts';
import type { ExecuteContext, Scheduler } from './scheduler.ts';
import { Collector, isContentPart, partsFromGenerate, partsFromResponse, type CollectedResponse } from './stream-parts.ts';
import { TextReplay } from './text-replay.ts';

export interface ChainModelOptions {
  chain: ResolvedModel[];
  scheduler: Scheduler;
  cache?: ResponseCache;
  ctx: ExecuteContext;
  /** Called when a model call finishes, with the model that served it (for usage and cost). */
  onServed?: (model: ResolvedModel, usage: { inputTokens: number; outputTokens: number }, fromCache: boolean) => void;
  /** Called when a model (or the cache on its behalf) starts answering a call. */
  onModel?: (model: ResolvedModel) => void;
  /** Budgets checked before each request (`budget` in the config), and the chain to downgrade to. */
  budget?: { gate: BudgetGate; agent: string; downgrade: () => ResolvedModel[] };
  /** The run the calls belong to, for the usage log `opencode stats` reads. */
  runId?: string;
}

/**
 * Per model, how the reported input tokens compared with our estimate (chars ÷ 4) on its last
 * answers: budgets check the next request's expected cost with the estimate corrected by it.
 */
const inputRatios = new WeakMap<object, Map<string, number>>();

function ratiosOf(ledger: object): Map<string, number> {
  const found = inputRatios.get(ledger) ?? new Map<string, number>();
  inputRatios.set(ledger, found);
  return found;
}

/** What one call went through on its way, for the usage log. */
interface CallCounts {
  retries: number;
  fallbacks: number;
  waitedMs: number;
  waitingSince?: number;
}

interface Started {
  model: ResolvedModel;
  lease: Lease;
  spend: Reservation | undefined;
  counts: CallCounts;
  buffered: LanguageModelV4StreamPart[];
  rest: ReadableStreamDefaultReader<LanguageModelV4StreamPart> | undefined;
}

function promptTokens(options: LanguageModelV4CallOptions): number {
  const promptChars = JSON.stringify(options.prompt).length + (options.tools ? JSON.stringify(options.tools).length : 0);
  return Math.ceil(promptChars / 4);
}

function outputBudget(options: LanguageModelV4CallOptions, model: ResolvedModel | undefined): number {
  return options.maxOutputTokens ?? model?.maxOutputTokens ?? 1024;
}

function estimateTokens(options: LanguageModelV4CallOptions, model: ResolvedModel | undefined): number {
  return promptTokens(options) + outputBudget(options, model);
}

function keyFor(model: ResolvedModel, options: LanguageModelV4CallOptions): string {
  return cacheKey({
    upstreamModel: model.upstreamId,
    baseURL: model.baseURL ?? model.npm,
    messages: options.prompt,
    tools: options.tools,
    params: {
      temperature: model.acceptsTemperature ? options.temperature : undefined,
      topP: options.topP,
      maxOutputTokens: options.maxOutputTokens ?? model.maxOutputTokens,
      toolChoice: options.toolChoice,
      providerOptions: { ...options.providerOptions, ...model.providerOptions },
    },
  });
}

/**
 * A LanguageModel that is really a model chain behind the scheduler: every call (every step of a
 * tool loop) is rate-limited, retried and falls back as one scheduled request, and answers are
 * cached. The AI SDK's tool loop runs on top of it unchanged.
 */
export function createChainModel(opts: ChainModelOptions): LanguageModelV4 {
  // The chain in use: the configured one, or budget.downgrade once a budget would be crossed.
  let chain = opts.chain;
  let head = chain[0] as ResolvedModel;
  let downgraded = false;

  const logUsage = (model: ResolvedModel, usage: { inputTokens: number; outputTokens: number }, cached: boolean, counts?: CallCounts): void => {
    const cost = costOf(model.cost, usage);
    opts.scheduler.ledger
      .recordUsage({
        t: Date.now(),
        ...(opts.runId ? { runId: opts.runId } : {}),
        agent: opts.ctx.tags?.agent ?? 'default',
        provider: model.provider,
        model: model.label,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        ...(cached || cost === undefined ? {} : { costUSD: cost }),
        cached,
        ...(cached && cost !== undefined ? { savedUSD: cost } : {}),
        retries: counts?.retries ?? 0,
        fallbacks: counts?.fallbacks ?? 0,
        waitedMs: counts?.waitedMs ?? 0,
      })
      .catch(() => undefined);
  };

  /** Reserves the call's expected spend; downgrades or fails when a budget would be crossed. */
  async function reserveSpend(options: LanguageModelV4CallOptions): Promise<Reservation | undefined> {
    const budget = opts.budget;
    if (!budget) return undefined;
    const emit = (e: EventInput): void => opts.ctx.emit({ ...opts.ctx.tags, ...e } as EventInput);
    for (;;) {
      const ratio = ratiosOf(opts.scheduler.ledger).get(head.label) ?? 1;
      const expected = expectedSpend(chain, Math.ceil(promptTokens(options) * ratio), outputBudget(options, head));
      const result = await budget.gate.reserve(budget.agent, expected, emit);
      if (!('exceeded' in result)) return result;
      if (budget.gate.onExceeded === 'downgrade' && !downgraded) {
        const to = budget.downgrade();
        emit({ type: 'budget_exceeded', action: 'downgrade', to: (to[0] as ResolvedModel).label, ...result.exceeded });
        emit({ provider: head.provider, model: head.label, type: 'fallback', from: head.label, to: (to[0] as ResolvedModel).label, reason: 'budget' });
        chain = to;
        head = to[0] as ResolvedModel;
        downgraded = true;
        continue;
      }
      emit({ type: 'budget_exceeded', action: 'fail', ...result.exceeded });
      throw new BudgetExceededError(result.exceeded, downgraded);
    }
  }

  async function lookup(options: LanguageModelV4CallOptions, onHit: (model: ResolvedModel) => void): Promise<LanguageModelV4StreamPart[] | undefined> {
    if (!opts.cache) return undefined;
    for (const model of opts.chain) {
      const hit = await opts.cache.get(keyFor(model, options)).catch((error: unknown) => {
        opts.ctx.emit({ ...opts.ctx.tags, type: 'error', code: 'STORE_ERROR', message: `cache read failed, asking the model: ${(error as Error).message}` });
        return undefined;
      });
      if (!hit) continue;
      opts.onModel?.(model);
      onHit(model);
      opts.ctx.emit({ ...opts.ctx.tags, provider: model.provider, model: model.label, type: 'cache_hit' });
      const usage = { inputTokens: hit.usage?.inputTokens ?? 0, outputTokens: hit.usage?.outputTokens ?? 0 };
      opts.onServed?.(model, usage, true);
      logUsage(model, usage, true);
      return partsFromResponse({
        text: hit.text,
        toolCalls: (hit.toolCalls ?? []).map((c) => ({ toolCallId: c.toolCallId, toolName: c.toolName, input: typeof c.input === 'string' ? c.input : JSON.stringify(c.input) })),
        finishReason: hit.finishReason,
        usage,
      });
    }
    return undefined;
  }

  /** Sends the call through the scheduler; `onSend` runs as each attempt goes on the wire (after any rate-limit wait). */
  async function start(options: LanguageModelV4CallOptions, onSend: (model: ResolvedModel) => void): Promise<Started> {
    const spend = await reserveSpend(options);
    const counts: CallCounts = { retries: 0, fallbacks: 0, waitedMs: 0 };
    const counting = (e: EventInput): void => {
      if (e.type === 'retry') counts.retries += 1;
      else if (e.type === 'fallback') counts.fallbacks += 1;
      else if (e.type === 'rate_limited') counts.waitingSince ??= Date.now();
      opts.ctx.emit(e);
    };
    const sent = (model: ResolvedModel): void => {
      if (counts.waitingSince !== undefined) counts.waitedMs += Date.now() - counts.waitingSince;
      counts.waitingSince = undefined;
      onSend(model);
    };
    // Load the head's provider package before a slot is reserved, so admission and sending stay close.
    // A failure (a missing package) is thrown again to the attempt below, which reports it.
    await head.languageModel().catch(() => undefined);
    let executed;
    try {
      executed = await execute(options, sent, counting);
    } catch (error) {
      if (spend) await opts.budget?.gate.settle(spend, { usd: 0, tokens: 0 }).catch(() => undefined);
      throw error;
    }
    const { value, lease, model } = executed;
    opts.onModel?.(model as ResolvedModel);
    return { model: model as ResolvedModel, lease, spend, counts, buffered: value.buffered, rest: value.rest };
  }

  function execute(options: LanguageModelV4CallOptions, onSend: (model: ResolvedModel) => void, emit: (e: EventInput) => void) {
    return opts.scheduler.execute(
      chain,
      async (scheduled, lease) => {
        const model = scheduled as ResolvedModel;
        const lm = await model.languageModel();
        onSend(model);
        const call: LanguageModelV4CallOptions = {
          ...options,
          includeRawChunks: false,
          abortSignal: lease.signal,
          providerOptions: { ...options.providerOptions, ...model.providerOptions },
          ...(options.maxOutputTokens ?? model.maxOutputTokens ? { maxOutputTokens: options.maxOutputTokens ?? model.maxOutputTokens } : {}),
          // `temperature: false` in the model's config: it rejects the parameter, so none is sent.
          ...(model.acceptsTemperature ? {} : { temperature: undefined }),
        };
        if (!model.streaming) {
          const result = await lm.doGenerate(call);
          return { buffered: partsFromGenerate(result), rest: undefined };
        }
        const result = await lm.doStream(call);
        const reader = result.stream.getReader();
        const buffered: LanguageModelV4StreamPart[] = [];
        // Commit to this model only once content arrives: failures before that are retried/fallen back.
        for (;;) {
          const { done, value: part } = await reader.read();
          lease.touch();
          if (done) throw new AttemptError('truncated', 'the stream ended before any content');
          if (part.type === 'error') throw part.error;
          buffered.push(part);
          if (isContentPart(part)) return { buffered, rest: reader };
          if (part.type === 'finish') {
            if (part.finishReason.unified === 'error') throw new AttemptError('truncated', 'the stream ended without a finish reason');
            return { buffered, rest: undefined };
          }
        }
      },
      { ...opts.ctx, emit, estimatedTokens: estimateTokens(options, head) },
    );
  }

  async function finishCall(started: Started, collector: Collector, options: LanguageModelV4CallOptions): Promise<void> {
    const usage = collector.response.usage;
    await started.lease.release({ actualTokens: usage.inputTokens + usage.outputTokens });
    await settle(started, usage);
    const estimate = promptTokens(options);
    if (estimate > 0 && usage.inputTokens > 0) {
      const ratios = ratiosOf(opts.scheduler.ledger);
      const ratio = Math.min(10, Math.max(0.05, usage.inputTokens / estimate));
      const prev = ratios.get(started.model.label);
      ratios.set(started.model.label, prev === undefined ? ratio : (prev + ratio) / 2);
    }
    logUsage(started.model, usage, false, started.counts);
    if (opts.cache && collector.finished && !collector.failed) {
      const r: CollectedResponse = collector.response;
      await opts.cache.set(keyFor(started.model, options), {
        text: r.text,
        toolCalls: r.toolCalls,
        finishReason: r.finishReason,
        usage: r.usage,
        model: started.model.label,
        createdAt: Date.now(),
      }).catch((error: unknown) => {
        opts.ctx.emit({ ...opts.ctx.tags, type: 'error', code: 'STORE_ERROR', message: `cache write failed: ${(error as Error).message}` });
      });
    }
  }

  /** Corrects the call's budget reservation to what it cost (nothing, when it broke off unanswered). */
  async function settle(started: Started, usage: { inputTokens: number; outputTokens: number }): Promise<void> {
    if (!started.spend || !opts.budget) return;
    const spent = { usd: costOf(started.model.cost, usage) ?? 0, tokens: usage.inputTokens + usage.outputTokens };
    await opts.budget.gate.settle(started.spend, spent).catch(() => undefined);
  }

  async function doStream(options: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
    // step_start marks the step's request going out (after any rate-limit wait) or its cache hit, once per step,
    // with the model its first attempt goes to.
    let sent = false;
    const onSend = (model: ResolvedModel): void => {
      if (sent) return;
      sent = true;
      opts.ctx.emit({ ...opts.ctx.tags, provider: model.provider, model: model.label, type: 'step_start' });
    };
    const cached = await lookup(options, onSend);
    if (cached) {
      return { stream: new ReadableStream({ start: (c) => { for (const p of cached) c.enqueue(p); c.close(); } }) };
    }
    let started = await start(options, onSend);
    const text = new TextReplay(options.includeRawChunks === true);
    let restarts = 0;
    let cancelled = false;
    const stream = new ReadableStream<LanguageModelV4StreamPart>({
      async pull(controller) {
        try {
          for (;;) {
            const collector = new Collector();
            const pass = (part: LanguageModelV4StreamPart): void => {
              collector.add(part);
              // Report who served the call before the SDK sees the finish part and closes the step.
              if (part.type === 'finish') opts.onServed?.(started.model, collector.response.usage, false);
              text.forward(part, controller);
            };
            for (const part of started.buffered) pass(part);
            let broken = false;
            while (started.rest) {
              let chunk: Awaited<ReturnType<ReadableStreamDefaultReader<LanguageModelV4StreamPart>['read']>>;
              try {
                chunk = await started.rest.read();
              } catch {
                // The connection was cut or the idle timer aborted the request mid-answer.
                broken = true;
                break;
              }
              if (chunk.done) break;
              const value = chunk.value;
              started.lease.touch();
              if (value.type === 'error' || (value.type === 'finish' && value.finishReason.unified === 'error')) {
                broken = true;
                break;
              }
              pass(value);
            }
            if (cancelled) return;
            if (!broken && collector.finished) {
              await finishCall(started, collector, options);
              controller.close();
              return;
            }
            await started.lease.release();
            await settle(started, collector.response.usage);
            if (opts.ctx.signal?.aborted) throw new PantheonError('CANCELLED', 'Cancelled.', { cause: opts.ctx.signal.reason });
            // Cut off after content was already passed on: ask again (counts as a retry); the text
            // the new answer repeats is not passed on twice.
            restarts += 1;
            const status = started.lease.timeoutReason ? 'timeout' : 'truncated';
            const maxRestarts = opts.scheduler.retryPolicy.maxRetries;
            if (restarts > maxRestarts) {
              throw new PantheonError('PROVIDER_ERROR', `${started.model.label}: the answer was cut off (${status}) ${restarts} times.`, {
                hint: 'The provider keeps dropping the stream: try again later, raise --timeout, or add a fallback.',
              });
            }
            opts.ctx.emit({ ...opts.ctx.tags, provider: started.model.provider, model: started.model.label, type: 'retry', attempt: restarts, delayMs: 0, status, message: 'the response was cut off; asking again' });
            text.restart();
            started = await start(options, onSend);
          }
        } catch (error) {
          await started.lease.release();
          await settle(started, { inputTokens: 0, outputTokens: 0 });
          controller.error(error);
        }
      },
      async cancel(reason) {
        cancelled = true;
        await started.rest?.cancel(reason);
        await started.lease.release();
        await settle(started, { inputTokens: 0, outputTokens: 0 });
      },
    });
    return { stream };
  }

  return {
    specificationVersion: 'v4',
    provider: 'pantheon',
    modelId: opts.chain[0]?.label ?? 'pantheon',
    supportedUrls: {},
    doStream,
    async doGenerate(options) {
      const { stream } = await doStream(options);
      const parts: LanguageModelV4StreamPart[] = [];
      const reader = stream.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
      }
      const collector = new Collector();
      for (const p of parts) collector.add(p);
      const finish = parts.find((p) => p.type === 'finish');
      return {
        content: [
          ...(collector.response.text ? [{ type: 'text' as const, text: collector.response.text }] : []),
          ...collector.response.toolCalls.map((c) => ({ type: 'tool-call' as const, ...c })),
        ],
        finishReason: finish && finish.type === 'finish' ? finish.finishReason : { unified: 'other', raw: undefined },
        usage: finish && finish.type === 'finish' ? finish.usage : { inputTokens: { total: 0, noCache: 0, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 0, text: 0, reasoning: undefined } },
        warnings: [],
      };
    },
  };
}

