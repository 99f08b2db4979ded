/**
 * Plays one scripted step onto an HTTP response: JSON or SSE answers, errors, and the
 * failure kinds (hang, reset, bad JSON, truncated).
 */
import type { ServerResponse } from 'node:http';
import type { Answer } from './payloads.ts';
import {
  closingEvents,
  completionBody,
  cutChunks,
  errorBody,
  estimateTokens,
  lastUserText,
  makeUsage,
  openingEvents,
  promptChars,
  splitWords,
  sseFrame,
} from './payloads.ts';
import type { Outcome, RequestLogEntry, Step, StepKind, UsageOverride } from './types.ts';

/** One request being answered. */
export interface Exchange {
  res: ServerResponse;
  entry: RequestLogEntry;
  model: string;
  /** Unix seconds for the `created` fields. */
  created: number;
  stream: boolean;
  includeUsage: boolean;
  messages: unknown[];
  maxTokens: number | undefined;
  /** The request asked for `logprobs`: each text chunk comes with its token's (made up) log probability. */
  logprobs: boolean;
  /** A text completion (`/v1/completions`): answered as `text_completion` objects. */
  textCompletion?: boolean;
  /** Aborted when the connection closes or the server shuts down. */
  signal: AbortSignal;
  /** Tells the server that the connection is being cut on purpose (not a client abort). */
  markCut: () => void;
}

const OUTCOME: Record<StepKind, Outcome> = {
  text: 'ok',
  echo: 'ok',
  slow: 'ok',
  tool_calls: 'ok',
  status: 'status',
  hang: 'hang',
  reset: 'reset',
  bad_json: 'bad_json',
  truncated: 'truncated',
};

const DEFAULT_BAD_BODY = '<html><body><h1>502 Bad Gateway</h1><p>The upstream sent something else.</p></body></html>';
const DEFAULT_TRUNCATED_TEXT = 'This answer stops half-way thro';

/** Resolves true after `ms`, or false as soon as `signal` aborts (the timer is then cleared). */
/** Resolves true once `gate` settles, false if the request is cut first. */
function opened(gate: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (): void => {
      signal.removeEventListener('abort', onAbort);
      resolve(!signal.aborted);
    };
    gate.then(done, done);
  });
}

export function wait(ms: number | undefined, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms === undefined || ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Sends a complete response; objects are sent as JSON, strings as they are. */
export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
  res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** `send`, recording the status in the exchange's log entry. */
function reply(ex: Exchange, status: number, body: unknown, headers: Record<string, string> = {}): void {
  ex.entry.status = status;
  send(ex.res, status, body, headers);
}

function startStream(ex: Exchange): void {
  ex.entry.status = 200;
  ex.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
}

function answerFor(ex: Exchange, chunks: string[], toolCalls: Answer['toolCalls'], finishReason: string, usage: UsageOverride | undefined): Answer {
  const completionChars = chunks.join('').length + toolCalls.reduce((sum, call) => sum + call.name.length + call.arguments.length, 0);
  const text = ex.textCompletion === true;
  return {
    id: `${text ? 'cmpl' : 'chatcmpl'}-${ex.entry.seq}`,
    model: ex.model,
    created: ex.created,
    chunks,
    toolCalls: text ? [] : toolCalls,
    finishReason,
    logprobs: ex.logprobs,
    usage: makeUsage(estimateTokens(promptChars(ex.messages)), estimateTokens(completionChars), usage),
    ...(text ? { textCompletion: true } : {}),
  };
}

/** A text answer, cut to `max_tokens` (~4 chars each) with finish_reason `length` when longer. */
function textAnswer(ex: Exchange, text: string, given: string[] | undefined, finish: string | undefined, usage: UsageOverride | undefined): Answer {
  let chunks = given ?? splitWords(text);
  let finishReason = finish ?? 'stop';
  if (ex.maxTokens !== undefined && estimateTokens(text.length) > ex.maxTokens) {
    chunks = cutChunks(chunks, ex.maxTokens * 4);
    finishReason = finish ?? 'length';
  }
  return answerFor(ex, chunks, [], finishReason, usage);
}

function answerForStep(ex: Exchange, step: Step): Answer {
  switch (step.type) {
    case 'text': {
      const answer = textAnswer(ex, step.text ?? (step.chunks ?? []).join(''), step.chunks, step.finishReason, step.usage);
      return step.reasoning && !answer.textCompletion ? { ...answer, reasoning: step.reasoning } : answer;
    }
    case 'slow':
      return textAnswer(ex, step.text, step.chunks, undefined, step.usage);
    case 'echo':
      return textAnswer(ex, `${step.prefix ?? 'echo: '}${lastUserText(ex.messages)}`, undefined, undefined, undefined);
    case 'tool_calls': {
      const calls = step.calls.map((call, index) => ({
        id: call.id ?? `call_${ex.entry.seq}_${index}`,
        name: call.name,
        arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
      }));
      return answerFor(ex, splitWords(step.text ?? ''), calls, 'tool_calls', step.usage);
    }
    case 'truncated':
      return answerFor(ex, splitWords(step.text ?? DEFAULT_TRUNCATED_TEXT), [], 'stop', undefined);
    case 'hang':
      return answerFor(ex, splitWords(step.text ?? ''), [], 'stop', undefined);
    default:
      return answerFor(ex, [], [], 'stop', undefined);
  }
}

/** Writes the role chunk and the text chunks, waiting `chunkDelayMs` before each text chunk. */
async function writeOpening(ex: Exchange, answer: Answer, chunkDelayMs: number | undefined): Promise<boolean> {
  const texts = openingEvents(answer);
  const role = answer.textCompletion ? undefined : texts.shift();
  if (role !== undefined) ex.res.write(sseFrame(role));
  for (const event of texts) {
    if (!(await wait(chunkDelayMs, ex.signal))) return false;
    ex.res.write(sseFrame(event));
  }
  return true;
}

async function answerNormally(ex: Exchange, step: Step, chunkDelayMs: number | undefined): Promise<void> {
  const answer = answerForStep(ex, step);
  if (!ex.stream) {
    if (!(await wait((chunkDelayMs ?? 0) * answer.chunks.length, ex.signal))) return;
    ex.entry.usage = answer.usage;
    reply(ex, 200, completionBody(answer));
    return;
  }
  startStream(ex);
  if (!(await writeOpening(ex, answer, chunkDelayMs))) return;
  ex.entry.usage = answer.usage;
  const closing = closingEvents(answer, ex.includeUsage);
  // A tool call streamed slowly: each of its chunks after a wait (the finish and [DONE] at once).
  if (step.type === 'tool_calls' && chunkDelayMs && answer.toolCalls.length) {
    const calls = closing.length - (ex.includeUsage ? 3 : 2);
    for (const event of closing.splice(0, calls)) {
      if (!(await wait(chunkDelayMs, ex.signal))) return;
      ex.res.write(sseFrame(event));
    }
  }
  ex.res.end(closing.map(sseFrame).join(''));
}

function cutConnection(ex: Exchange, data: string | undefined): void {
  ex.markCut();
  const destroy = (): void => {
    ex.res.socket?.destroy();
  };
  if (data === undefined) destroy();
  else ex.res.write(data, destroy);
}

async function truncate(ex: Exchange, step: Step & { type: 'truncated' }): Promise<void> {
  const answer = answerForStep(ex, step);
  if (ex.stream) {
    startStream(ex);
    const events = openingEvents(answer).map(sseFrame);
    const last = events.pop();
    ex.res.write(events.join(''));
    if (step.abrupt === true) cutConnection(ex, last);
    else ex.res.end(last);
    return;
  }
  const full = JSON.stringify(completionBody(answer));
  const half = full.slice(0, Math.ceil(full.length / 2));
  if (step.abrupt !== true) {
    reply(ex, 200, half, { 'content-type': 'application/json' });
    return;
  }
  ex.entry.status = 200;
  ex.res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(full)) });
  cutConnection(ex, half);
}

/** Plays `step` for the exchange; resolves when the response is written (or left hanging). */
export async function respond(ex: Exchange, step: Step): Promise<void> {
  ex.entry.step = step.type;
  ex.entry.outcome = OUTCOME[step.type];
  if (step.after && !(await opened(step.after, ex.signal))) return;
  if (!(await wait(step.delayMs, ex.signal))) return;
  switch (step.type) {
    case 'text':
    case 'echo':
    case 'slow':
      await answerNormally(ex, step, step.chunkDelayMs);
      return;
    case 'tool_calls':
      await answerNormally(ex, step, step.chunkDelayMs);
      return;
    case 'status': {
      const headers: Record<string, string> = {};
      if (step.retryAfter !== undefined) headers['retry-after'] = String(step.retryAfter);
      if (step.retryAfterMs !== undefined) headers['retry-after-ms'] = String(step.retryAfterMs);
      reply(ex, step.status, step.body ?? errorBody(step.status, step.message), { ...headers, ...step.headers });
      return;
    }
    case 'hang':
      if (ex.stream && step.text !== undefined) {
        startStream(ex);
        ex.res.write(openingEvents(answerForStep(ex, step)).map(sseFrame).join(''));
      }
      return;
    case 'reset':
      ex.markCut();
      ex.res.socket?.resetAndDestroy();
      return;
    case 'bad_json': {
      const body = step.body ?? DEFAULT_BAD_BODY;
      if (!ex.stream) {
        reply(ex, 200, body, { 'content-type': 'application/json' });
        return;
      }
      startStream(ex);
      ex.res.end(sseFrame(body.replace(/\r?\n/g, ' ')) + sseFrame('[DONE]'));
      return;
    }
    case 'truncated':
      await truncate(ex, step);
      return;
  }
}
