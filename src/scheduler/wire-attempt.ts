/**
 * One attempt of a gateway request on a model of an OpenAI-compatible provider, through Pantheon's
 * own client (providers/openai-wire.ts) instead of the AI SDK: the client's OpenAI body goes up as
 * it is (model and options substituted; a text completion's to the provider's `/completions`), and the answer comes back as the same stream parts, so
 * everything above — retries and fallbacks on the status and headers, learned limits, restarts of
 * a cut-off stream, usage, budgets, the cache — is the chain model's, unchanged.
 */
import type { IncomingMessage } from 'node:http';
import { APICallError, type LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { completionsBody, endpointTarget, postChat, readBody, headerRecord, wireBody, type WireTarget } from '../providers/openai-wire.ts';
import { partsFromJson, readAnswer, WireStream } from '../providers/openai-wire-parts.ts';
import type { ResolvedModel } from '../providers/resolve-model.ts';
import { ARRIVAL_MARGIN_MS, type Lease } from './lease.ts';
import { readToFirstContent, type PartReader } from './stream-parts.ts';

/** A gateway request in OpenAI's format: sent as it is to models that take it. */
export interface WireCall {
  /** The client's chat-completions body (checked by the route). */
  body: Record<string, unknown>;
  /** Whether the client asked for a stream (a model configured as not streaming is asked for JSON). */
  stream: boolean;
  /** `completions`: the body is a text-completions request (`/v1/completions`), sent to the provider's `/completions`; else chat's. */
  endpoint?: 'completions';
  /**
   * Time spent waiting on providers, summed over the call's attempts: from each request handed to
   * node:http to its answer's last byte (the gateway's own overhead is the rest: /metrics).
   * `unmeasured`: an attempt went to a model through the AI SDK, whose waiting is not in the sum.
   */
  timing?: { providerMs: number; unmeasured?: boolean };
}

/** Error bodies longer than this are cut off (only their message is used). */
const MAX_ERROR_BODY = 64 * 1024;

/**
 * An answer's head, told to the lease (what it announces of the provider's limits is learned); a
 * status other than 2xx is thrown as the AI SDK's APICallError, with the start of its body, so
 * the scheduler retries, falls back and cools down on it as on any model's.
 */
export function answerHead(res: IncomingMessage, lease: Lease, url: URL): Promise<void> {
  const status = res.statusCode ?? 0;
  const headers = headerRecord(res);
  if (status >= 200 && status < 300) return lease.answered(status, headers);
  return refused(res, lease, url, status, headers);
}

async function refused(res: IncomingMessage, lease: Lease, url: URL, status: number, headers: Record<string, string>): Promise<never> {
  const text = await readBody(res, MAX_ERROR_BODY).catch(() => undefined);
  await lease.answered(status, headers, text);
  throw new APICallError({ message: res.statusMessage || `HTTP ${status}`, url: url.href, requestBodyValues: undefined, statusCode: status, responseHeaders: headers, ...(text === undefined ? {} : { responseBody: text }) });
}

/**
 * postChat, with `sent` (the call's `step_start`: its events, its metrics) told once the request is
 * on its way rather than before: node:http writes a request on a pooled connection in a `nextTick`
 * that http.request queued, which runs before the one queued here, so that work is no longer
 * between the admission and the provider. Told before the request's outcome is known whatever it is
 * (an answer comes later; a request cancelled already fails at once, and is told first).
 */
export async function sendThenTell(target: WireTarget, body: string, signal: AbortSignal, sent: () => void): Promise<IncomingMessage> {
  let told = false;
  // What `sent` threw fails the attempt, as it did when it ran before the request (thrown from the
  // `nextTick`, it would have been an uncaught exception).
  let failure: { error: unknown } | undefined;
  const tell = (): void => {
    if (told) return;
    told = true;
    try {
      sent();
    } catch (error) {
      failure = { error };
    }
  };
  const pending = postChat(target, body, signal);
  process.nextTick(tell);
  let res;
  try {
    res = await pending;
  } finally {
    tell();
  }
  if (failure) {
    res.destroy();
    throw failure.error;
  }
  return res;
}

export async function wireAttempt(
  model: ResolvedModel & { wire: WireTarget },
  lease: Lease,
  call: WireCall,
  onSend: (model: ResolvedModel) => void,
): Promise<{ buffered: LanguageModelV4StreamPart[]; rest: PartReader | undefined }> {
  lease.handOver();
  const stream = call.stream && model.streaming;
  const completions = call.endpoint === 'completions';
  const target = completions ? endpointTarget(model.wire, 'completions') : model.wire;
  const body = completions ? completionsBody(call.body, model.upstreamId, stream, model.wire.includeUsage) : wireBody(call.body, model, stream);
  lease.markSentWithin(ARRIVAL_MARGIN_MS);
  const sentAt = performance.now();
  const res = await sendThenTell(target, body, lease.signal, () => onSend(model));
  const timing = call.timing;
  let answered: (() => void) | undefined;
  if (timing) {
    // The answer's last byte (or the connection's end, if it breaks off) closes the provider's share
    // of this attempt: a whole answer's when it is read (readBody may take it before its `end`).
    let open = true;
    answered = (): void => {
      if (open) timing.providerMs += performance.now() - sentAt;
      open = false;
    };
    res.once('end', answered);
    res.once('close', answered);
  }
  lease.touch();
  try {
    await answerHead(res, lease, target.url);
    if (!stream) {
      // At most MAX_ANSWER_BYTES: an answer that never ends fails the attempt as a bad answer.
      const text = await readAnswer(res);
      answered?.();
      return { buffered: partsFromJson(text), rest: undefined };
    }
  } catch (error) {
    res.destroy();
    throw error;
  }
  const reader = new WireStream(res, () => lease.touch());
  try {
    return await readToFirstContent(reader);
  } catch (error) {
    await reader.cancel();
    throw error;
  }
}
