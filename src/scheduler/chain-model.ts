/**
 * A LanguageModel that is really a model chain behind the scheduler: every call (every step of a
 * tool loop) is rate-limited, retried and falls back as one scheduled request, checked against the
 * budgets, cached, and recorded in the usage log. Its callers: the tool loop (src/run/step-loop.ts)
 * and the gateway (src/core/gateway.ts). The parts: chain-request.ts (estimates, cache key),
 * chain-budget.ts (the chain in use and its budgets), chain-attempt.ts (sending through the
 * scheduler), chain-cache.ts, chain-usage.ts.
 */
import type { LanguageModelV4, LanguageModelV4CallOptions, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import type { ResponseCache } from '../cache/response-cache.ts';
import { PantheonError } from '../errors.ts';
import { AnswerTooLargeError, answerTooLarge, MAX_ANSWER_BYTES } from '../providers/openai-wire-parts.ts';
import type { ResolvedModel } from '../providers/resolve-model.ts';
import { pushStream } from '../push-stream.ts';
import type { StepUsage } from '../run/usage-tally.ts';
import { startCall, type Started } from './chain-attempt.ts';
import { ActiveChain, type ChainBudget } from './chain-budget.ts';
import { lookupCache, storeInCache } from './chain-cache.ts';
import { learnInputRatio } from './chain-request.ts';
import { logUsage, newCounts, type CallCounts } from './chain-usage.ts';
import type { ExecuteContext, Scheduler } from './scheduler.ts';
import { Collector, eachPart, streamOf, streamOfParts, type PartRead, type PartsOrStream } from './stream-parts.ts';
import { TextReplay } from './text-replay.ts';
import type { WireCall } from './wire-attempt.ts';
import type { PrepareCall } from '../plugins/call-hooks.ts';

export interface ChainModelOptions {
  chain: ResolvedModel[];
  scheduler: Scheduler;
  cache?: ResponseCache;
  ctx: ExecuteContext;
  /** Called when a model call finishes, with the model that served it (for usage and cost) and why its answer ended (`stop`, `length`, …). */
  onServed?: (model: ResolvedModel, usage: { inputTokens: number; outputTokens: number }, fromCache: boolean, reason: string) => void;
  /** Called when a model (or the cache on its behalf) starts answering a call. */
  onModel?: (model: ResolvedModel) => void;
  /** Budgets checked before each request (`budget` in the config), and the chain to downgrade to. */
  budget?: ChainBudget;
  /** The run the calls belong to, for the usage log `opencode stats` reads. */
  runId?: string;
  /** The call in OpenAI's format (a gateway request): sent as it is to models that take it (wire-attempt.ts). */
  wire?: WireCall;
  /** An agent's calls: each model gets OpenCode's sampling defaults for its family where a call sets none (sampling-defaults.ts). */
  samplingDefaults?: boolean;
  /** The project's plugins' hooks on each attempt's call (`chat.params`, `chat.headers`, the system transform): plugins/call-hooks.ts. */
  prepareCall?: PrepareCall;
  /** The session an agent's calls belong to (its id is the provider's prompt cache key, as in OpenCode: providers/session-options.ts). */
  sessionID?: string;
  /**
   * Takes what is left to do once a model's answer is complete — `onServed`, the lease's release,
   * the spend's settlement, the usage record, the cache — instead of the stream doing it before it
   * closes: the gateway runs it once it has sent the answer (the client does not wait for it), and
   * must run it. Without it (the tool loop) the stream closes after that work, as a step's end
   * depends on it.
   */
  deferFinish?: (finish: () => Promise<void>) => void;
}

const NO_USAGE: StepUsage = { inputTokens: 0, outputTokens: 0 };

/** Parts of a streamed answer that may wait for its consumer before the provider's answer is no longer read on. */
const QUEUED_PARTS = 32;

/** A streamed answer that went past MAX_ANSWER_BYTES (`tooLarge`), as its call's error: the provider's answer was bad (502 on the gateway). */
function tooLong(model: ResolvedModel, tooLarge: AnswerTooLargeError): PantheonError {
  return new PantheonError('PROVIDER_ERROR', `${model.label}: ${tooLarge.message}.`, {
    hint: 'The provider kept sending without ending its answer: ask for fewer tokens (max_tokens), or add a fallback.',
    cause: tooLarge,
  });
}

export interface ChainModel extends LanguageModelV4 {
  /**
   * doStream for a caller that may read the answer whole (`whole`: the gateway's JSON answers):
   * an answer that came whole (a provider's JSON answer, a cache hit) is handed over as its parts,
   * with no stream to make and read (~15 µs of a gateway request's path, docs/performance.md).
   * Without `whole`, or for an answer still coming, its stream.
   */
  answer(options: LanguageModelV4CallOptions, whole: boolean): Promise<PartsOrStream>;
}

export function createChainModel(opts: ChainModelOptions): ChainModel {
  const ledger = opts.scheduler.ledger;
  // The chain in use: the configured one, or budget.downgrade once a budget would be crossed.
  const active = new ActiveChain(opts.chain, opts.budget, ledger);
  const agent = opts.ctx.tags?.agent ?? 'default';
  const record = (model: ResolvedModel, usage: StepUsage, cached: boolean, counts?: CallCounts): Promise<void> =>
    logUsage({ ledger, ...(opts.runId ? { runId: opts.runId } : {}), agent, model, usage, cached, ...(counts ? { counts } : {}) });

  async function fromCache(cache: ResponseCache, options: LanguageModelV4CallOptions, onHit: (model: ResolvedModel) => void): Promise<LanguageModelV4StreamPart[] | undefined> {
    const hit = await lookupCache(cache, opts.chain, options, opts.ctx, opts.prepareCall ? { prepare: opts.prepareCall, samplingDefaults: opts.samplingDefaults === true } : undefined);
    if (!hit) return undefined;
    opts.onModel?.(hit.model);
    onHit(hit.model);
    opts.ctx.emit({ ...opts.ctx.tags, provider: hit.model.provider, model: hit.model.label, type: 'cache_hit' });
    opts.onServed?.(hit.model, hit.usage, true, hit.finishReason);
    await record(hit.model, hit.usage, true);
    return hit.parts;
  }

  async function start(options: LanguageModelV4CallOptions, onSend: (model: ResolvedModel) => void, counts: CallCounts): Promise<Started> {
    const started = await startCall({ scheduler: opts.scheduler, active, ctx: opts.ctx, counts, ...(opts.wire ? { wire: opts.wire } : {}), ...(opts.samplingDefaults ? { samplingDefaults: true } : {}), ...(opts.prepareCall ? { prepareCall: opts.prepareCall } : {}), ...(opts.sessionID ? { sessionID: opts.sessionID } : {}) }, options, onSend);
    opts.onModel?.(started.model);
    return started;
  }

  async function finishCall(started: Started, collector: Collector, options: LanguageModelV4CallOptions, counts: CallCounts): Promise<void> {
    const usage = collector.stepUsage();
    learnInputRatio(ledger, started.model.label, options, usage.inputTokens);
    // Started together, the release, the spend's settlement and the usage record share one commit.
    await Promise.all([
      started.lease.release({ actualTokens: usage.inputTokens + usage.outputTokens }),
      active.settle(started.spend, started.model, usage),
      record(started.model, usage, false, counts),
    ]);
    if (opts.cache && collector.finished && !collector.failed) await storeInCache(opts.cache, started.model, options, collector.response, opts.ctx, opts.prepareCall !== undefined);
  }

  async function answer(options: LanguageModelV4CallOptions, whole: boolean): Promise<PartsOrStream> {
    // step_start marks the step's request going out (after any rate-limit wait) or its cache hit, once per step,
    // with the model its first attempt goes to.
    let sent = false;
    const onSend = (model: ResolvedModel): void => {
      if (sent) return;
      sent = true;
      opts.ctx.emit({ ...opts.ctx.tags, provider: model.provider, model: model.label, type: 'step_start' });
    };
    const cached = opts.cache ? await fromCache(opts.cache, options, onSend) : undefined;
    if (cached) return whole ? { parts: cached } : { stream: streamOfParts(cached) };
    // Retries, fallbacks and waits of the whole call, restarts after a cut-off answer included.
    const counts = newCounts();
    let started = await start(options, onSend, counts);
    // Came whole, finish and all: what the stream below would pass on, as it is (nothing to replay on a first answer).
    if (whole && !started.rest && started.buffered.some((part) => part.type === 'finish')) {
      const collector = new Collector();
      for (const part of started.buffered) collector.add(part);
      const done = started;
      const finish = async (): Promise<void> => {
        opts.onServed?.(done.model, collector.response.usage, false, collector.response.finishReason);
        await finishCall(done, collector, options, counts);
      };
      if (opts.deferFinish) opts.deferFinish(finish);
      else await finish();
      return { parts: done.buffered };
    }
    const text = new TextReplay(options.includeRawChunks === true);
    let restarts = 0;
    let cancelled = false;
    // Back-pressure: the answer is read on only while the consumer takes its parts (up to
    // QUEUED_PARTS waiting), so a gateway client that stops reading stops the provider's answer in
    // its socket instead of in memory.
    const stream = pushStream<LanguageModelV4StreamPart>(
      async (controller, room) => {
        try {
          for (;;) {
            const collector = new Collector();
            // What is kept of the answer (its text here, the replay's, the cache's, a JSON answer's)
            // is bounded as its body is: an answer that never ends fails rather than filling memory.
            let kept = 0;
            const pass = (part: LanguageModelV4StreamPart): void => {
              if (part.type === 'text-delta' || part.type === 'reasoning-delta' || part.type === 'tool-input-delta') {
                kept += part.delta.length;
                if (kept > MAX_ANSWER_BYTES) throw new AnswerTooLargeError('the streamed answer', MAX_ANSWER_BYTES);
              }
              collector.add(part);
              // Report who served the call before the caller sees the finish part and closes the step.
              if (part.type === 'finish' && !opts.deferFinish) opts.onServed?.(started.model, collector.response.usage, false, collector.response.finishReason);
              text.forward(part, controller);
            };
            for (const part of started.buffered) pass(part);
            let broken = false;
            while (started.rest) {
              let chunk: PartRead;
              try {
                chunk = await started.rest.read();
              } catch (error) {
                // An answer too long is not asked again: the next one would most likely be too.
                if (answerTooLarge(error)) throw error;
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
              const wait = room();
              if (wait) {
                // Held back by the consumer, not the provider: no idle timeout meanwhile.
                started.lease.readerWaits(true);
                await wait;
                started.lease.readerWaits(false);
                if (cancelled) return;
              }
            }
            if (cancelled) return;
            // What is left of a broken answer is not read: its connection is let go.
            if (broken) await started.rest?.cancel().catch(() => undefined);
            if (!broken && collector.finished) {
              if (opts.deferFinish) {
                const done = started;
                opts.deferFinish(async () => {
                  opts.onServed?.(done.model, collector.response.usage, false, collector.response.finishReason);
                  await finishCall(done, collector, options, counts);
                });
              } else await finishCall(started, collector, options, counts);
              controller.close();
              return;
            }
            await started.lease.release();
            await active.settle(started.spend, started.model, collector.stepUsage());
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
            counts.retries += 1;
            opts.ctx.emit({ ...opts.ctx.tags, provider: started.model.provider, model: started.model.label, type: 'retry', attempt: restarts, delayMs: 0, status, message: 'the response was cut off; asking again' });
            text.restart();
            started = await start(options, onSend, counts);
          }
        } catch (error) {
          // An answer failed mid-way (too long) lets its connection go.
          await started.rest?.cancel().catch(() => undefined);
          await started.lease.release();
          await active.settle(started.spend, started.model, NO_USAGE);
          const tooLarge = answerTooLarge(error);
          controller.error(tooLarge ? tooLong(started.model, tooLarge) : error);
        }
      },
      async (reason) => {
        cancelled = true;
        await started.rest?.cancel(reason);
        await started.lease.release();
        await active.settle(started.spend, started.model, NO_USAGE);
      },
      QUEUED_PARTS,
    );
    return { stream };
  }

  return {
    specificationVersion: 'v4',
    provider: 'pantheon',
    modelId: opts.chain[0]?.label ?? 'pantheon',
    supportedUrls: {},
    answer,
    doStream: async (options) => ({ stream: streamOf(await answer(options, false)) }),
    async doGenerate(options) {
      const parts: LanguageModelV4StreamPart[] = [];
      await eachPart(await answer(options, true), (part) => parts.push(part));
      const collector = new Collector();
      for (const p of parts) collector.add(p);
      const finish = parts.find((p) => p.type === 'finish');
      return {
        content: [
          ...(collector.response.reasoning ?? []).map((r) => ({ type: 'reasoning' as const, text: r.text, ...(r.providerMetadata ? { providerMetadata: r.providerMetadata } : {}) })),
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
