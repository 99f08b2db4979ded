/**
 * Sending one call of a chain model through the scheduler: each attempt goes to one model of the
 * chain, and commits to it only once content arrives (failures before that are retried or fall
 * back); what arrived so far and the rest of the stream are handed back.
 */
import type { LanguageModelV4, LanguageModelV4CallOptions, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import type { EventInput } from '../events.ts';
import type { ResolvedModel } from '../providers/resolve-model.ts';
import type { Reservation } from '../run/budget.ts';
import type { ActiveChain } from './chain-budget.ts';
import { estimateTokens } from './chain-request.ts';
import { counting, waitEnded, type CallCounts } from './chain-usage.ts';
import type { Lease } from './lease.ts';
import type { ExecuteContext, Scheduler } from './scheduler.ts';
import { partsFromGenerate, readToFirstContent, type PartReader } from './stream-parts.ts';
import { wireAttempt, type WireCall } from './wire-attempt.ts';
import { baseCall, noteSent, takePrepared } from './hooked-call.ts';
import type { PrepareCall } from '../plugins/call-hooks.ts';
import { secretMasker } from '../config/secrets.ts';
import { asAgentCall, withSessionOptions } from '../providers/session-options.ts';

export interface Started {
  model: ResolvedModel;
  lease: Lease;
  spend: Reservation | undefined;
  buffered: LanguageModelV4StreamPart[];
  rest: PartReader | undefined;
}

export interface AttemptSetup {
  scheduler: Scheduler;
  active: ActiveChain;
  ctx: ExecuteContext;
  counts: CallCounts;
  /** The request in OpenAI's format (the gateway's): models with a wire target are sent it directly (wire-attempt.ts). */
  wire?: WireCall;
  /** An agent's call: each model is sent OpenCode's sampling defaults for its family where the call sets none (sampling-defaults.ts). */
  samplingDefaults?: boolean;
  /** The project's plugins' hooks on each attempt's call, for the model it goes to (plugins/call-hooks.ts). */
  prepareCall?: PrepareCall;
  /** The session an agent's calls belong to: its id as the provider's prompt cache key, as OpenCode sends it (providers/session-options.ts). */
  sessionID?: string;
}

/** One attempt against `model`: the whole answer (non-streaming), or the stream up to its first content. */
async function attempt(model: ResolvedModel, lease: Lease, options: LanguageModelV4CallOptions, onSend: (model: ResolvedModel) => void, defaults: boolean, prepare: PrepareCall | undefined, sessionID: string | undefined) {
  const lm = await model.languageModel();
  onSend(model);
  // As sent (after the cache's key and the hooks): the session's prompt cache key, and an agent's call marked as one (`defaults`: OpenCode's options for its model).
  const send = (lm: LanguageModelV4, model: ResolvedModel, lease: Lease, call: LanguageModelV4CallOptions) => {
    const sent = withSessionOptions(model, call, sessionID);
    return sendCall(lm, model, lease, defaults ? asAgentCall(sent) : sent);
  };
  if (!prepare) return send(lm, model, lease, baseCall(model, options, defaults, lease.signal));
  // The hooks ran for the cache's lookup already (hooked-call.ts): that run is this attempt's.
  const ahead = takePrepared(model, options);
  const { call: made, secrets } = ahead ?? (await prepare(model, baseCall(model, options, defaults, lease.signal)));
  const call = ahead ? { ...made, abortSignal: lease.signal } : made;
  noteSent(model, options, call);
  if (secrets.length === 0) return send(lm, model, lease, call);
  // A header a plugin added that looks like a secret is never shown in what the attempt's failure says.
  try {
    return await send(lm, model, lease, call);
  } catch (error) {
    throw masked(error, secretMasker(secrets));
  }
}

async function sendCall(lm: LanguageModelV4, model: ResolvedModel, lease: Lease, call: LanguageModelV4CallOptions) {
  if (!model.streaming) {
    const result = await lm.doGenerate(call);
    return { buffered: partsFromGenerate(result), rest: undefined };
  }
  const result = await lm.doStream(call);
  return readToFirstContent(result.stream.getReader(), () => lease.touch());
}

/** An error with `mask` applied to its message and the response body it carries. */
function masked(error: unknown, mask: (text: string) => string): unknown {
  if (!(error instanceof Error)) return error;
  error.message = mask(error.message);
  const body = (error as { responseBody?: unknown }).responseBody;
  if (typeof body === 'string') Object.defineProperty(error, 'responseBody', { value: mask(body), configurable: true });
  return error;
}

/**
 * Reserves the call's spend, then sends it through the scheduler; `onSend` runs as each attempt
 * goes on the wire (after any rate-limit wait). Retries, fallbacks and waits are added to `counts`.
 */
export async function startCall(setup: AttemptSetup, options: LanguageModelV4CallOptions, onSend: (model: ResolvedModel) => void): Promise<Started> {
  const { active, ctx, counts } = setup;
  const emit = counting(counts, (e) => ctx.emit(e));
  // A wait that Scheduler.admitAhead began for the task's first request is this call's wait.
  if (ctx.ahead?.waitingSince !== undefined) {
    counts.waitingSince ??= ctx.ahead.waitingSince;
    ctx.ahead.waitingSince = undefined;
  }
  // Awaited only when there is a budget: a turn of the microtask queue less on every other request's way out.
  const spend = active.budgeted ? await active.reserveSpend(options, (e: EventInput) => emit({ ...ctx.tags, ...e } as EventInput)) : undefined;
  const sent = (model: ResolvedModel): void => {
    waitEnded(counts);
    onSend(model);
  };
  const wire = setup.wire;
  // Load the head's provider package before a slot is reserved, so admission and sending stay close.
  // A failure (a missing package) is thrown again to the attempt below, which reports it.
  if (!(wire && active.head.wire)) await active.head.languageModel().catch(() => undefined);
  const send = (model: ResolvedModel, lease: Lease) => {
    if (wire && model.wire) return wireAttempt(model as ResolvedModel & { wire: NonNullable<ResolvedModel['wire']> }, lease, wire, sent);
    // Through the AI SDK: the provider's time of this attempt is not measured on the wire.
    if (wire?.timing) wire.timing.unmeasured = true;
    return attempt(model, lease, options, sent, setup.samplingDefaults === true, setup.prepareCall, setup.sessionID);
  };
  let executed;
  try {
    executed = await setup.scheduler.execute(active.chain, (scheduled, lease) => send(scheduled as ResolvedModel, lease), {
      ...ctx,
      emit,
      estimatedTokens: estimateTokens(options, active.head),
    });
  } catch (error) {
    await active.settle(spend, active.head, { inputTokens: 0, outputTokens: 0 });
    throw error;
  }
  const { value, lease, model } = executed;
  return { model: model as ResolvedModel, lease, spend, buffered: value.buffered, rest: value.rest };
}
