import type { LanguageModelV4GenerateResult, LanguageModelV4StreamPart, LanguageModelV4Usage, SharedV4ProviderMetadata } from '@ai-sdk/provider';
import { finishWord } from '../providers/finish-reason.ts';
import { AttemptError } from './retry-policy.ts';

/** A response reduced to what the cache keeps and replays. */
export interface CollectedResponse {
  text: string;
  /** Its reasoning blocks, in order, each with what the provider said of it (an item id, a signature, encrypted content), when it had any. */
  reasoning?: CollectedReasoning[];
  toolCalls: { toolCallId: string; toolName: string; input: string }[];
  finishReason: string;
  usage: { inputTokens: number; outputTokens: number };
}

/** A reasoning block of an answer: its text, and the provider's metadata of it as its parts left it. */
export interface CollectedReasoning {
  text: string;
  providerMetadata?: SharedV4ProviderMetadata;
}

/** `metadata` laid over `into`, provider by provider (a later part's fields win, as the AI SDK keeps a block's). */
export function mergeMetadata(into: SharedV4ProviderMetadata | undefined, metadata: SharedV4ProviderMetadata | undefined): SharedV4ProviderMetadata | undefined {
  if (!metadata) return into;
  if (!into) return metadata;
  const merged: SharedV4ProviderMetadata = { ...into };
  for (const [provider, fields] of Object.entries(metadata)) merged[provider] = { ...into[provider], ...fields };
  return merged;
}

/** What reads the rest of an attempt's answer: a web stream's reader, or the gateway's own client's (openai-wire-parts.ts). */
export type PartRead = { done: false; value: LanguageModelV4StreamPart } | { done: true; value: LanguageModelV4StreamPart | undefined };
export interface PartReader {
  read(): Promise<PartRead>;
  cancel(reason?: unknown): Promise<void>;
}

export function isContentPart(part: LanguageModelV4StreamPart): boolean {
  return part.type === 'text-delta' || part.type === 'tool-call' || part.type === 'reasoning-delta' || part.type === 'tool-input-start';
}

/**
 * Reads an attempt's answer up to its first content, so that the attempt commits to its model only
 * then (failures before that are retried or fall back): the parts read so far, and the reader for
 * the rest (none when the answer ended without content). `onRead` runs after every read.
 */
export async function readToFirstContent(reader: PartReader, onRead?: () => void): Promise<{ buffered: LanguageModelV4StreamPart[]; rest: PartReader | undefined }> {
  const buffered: LanguageModelV4StreamPart[] = [];
  for (;;) {
    const { done, value: part } = await reader.read();
    onRead?.();
    if (done) throw new AttemptError('truncated', 'the stream ended before any content');
    if (part.type === 'error') throw part.error;
    buffered.push(part);
    if (isContentPart(part)) return { buffered, rest: reader };
    if (part.type === 'finish') {
      if (part.finishReason.unified === 'error') throw new AttemptError('truncated', 'the stream ended without a finish reason');
      return { buffered, rest: undefined };
    }
  }
}

export function usageOf(usage: LanguageModelV4Usage | undefined): { inputTokens: number; outputTokens: number } {
  return { inputTokens: usage?.inputTokens.total ?? 0, outputTokens: usage?.outputTokens.total ?? 0 };
}

export function emptyUsage(inputTokens = 0, outputTokens = 0): LanguageModelV4Usage {
  return {
    inputTokens: { total: inputTokens, noCache: inputTokens, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: outputTokens, text: outputTokens, reasoning: undefined },
  };
}

/** Accumulates a stream's parts into a CollectedResponse. */
export class Collector {
  readonly response: CollectedResponse = { text: '', toolCalls: [], finishReason: 'other', usage: { inputTokens: 0, outputTokens: 0 } };
  finished = false;
  failed = false;
  /** Input tokens the provider reported as read from or written to its prompt cache (priced apart). */
  readonly promptCache = { read: 0, write: 0 };

  /** The reported usage with its prompt-cache reads and writes, for pricing (usage-tally's costOf). */
  stepUsage(): { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number } {
    return { ...this.response.usage, cacheReadTokens: this.promptCache.read, cacheWriteTokens: this.promptCache.write };
  }

  /** The reasoning blocks still open, by id (a block's parts may interleave with another's). */
  #reasoning: Map<string, CollectedReasoning> | undefined;

  add(part: LanguageModelV4StreamPart): void {
    if (part.type === 'text-delta') this.response.text += part.delta;
    else if (part.type === 'reasoning-start' || part.type === 'reasoning-delta' || part.type === 'reasoning-end') this.#addReasoning(part);
    else if (part.type === 'tool-call') this.response.toolCalls.push({ toolCallId: part.toolCallId, toolName: part.toolName, input: part.input });
    else if (part.type === 'error') this.failed = true;
    else if (part.type === 'finish') {
      this.finished = true;
      this.response.finishReason = finishWord(part.finishReason);
      if (part.finishReason.unified === 'error') this.failed = true;
      this.response.usage = usageOf(part.usage);
      this.promptCache.read = part.usage?.inputTokens.cacheRead ?? 0;
      this.promptCache.write = part.usage?.inputTokens.cacheWrite ?? 0;
    }
  }

  #addReasoning(part: Extract<LanguageModelV4StreamPart, { type: 'reasoning-start' | 'reasoning-delta' | 'reasoning-end' }>): void {
    this.#reasoning ??= new Map();
    let block = this.#reasoning.get(part.id);
    if (!block) {
      block = { text: '' };
      this.#reasoning.set(part.id, block);
      (this.response.reasoning ??= []).push(block);
    }
    if (part.type === 'reasoning-delta') block.text += part.delta;
    const metadata = mergeMetadata(block.providerMetadata, part.providerMetadata);
    if (metadata) block.providerMetadata = metadata;
    if (part.type === 'reasoning-end') this.#reasoning.delete(part.id);
  }
}

/** Replays a collected (e.g. cached) response as stream parts. */
export function partsFromResponse(r: CollectedResponse): LanguageModelV4StreamPart[] {
  const parts: LanguageModelV4StreamPart[] = [{ type: 'stream-start', warnings: [] }];
  // The reasoning first, as a model thinks before it answers: shown again (`run --thinking`, the TUI), and sent back with the turn as it was.
  (r.reasoning ?? []).forEach((block, i) => {
    const id = `cached-reasoning-${i}`;
    const meta = block.providerMetadata === undefined ? {} : { providerMetadata: block.providerMetadata };
    parts.push({ type: 'reasoning-start', id, ...meta }, { type: 'reasoning-delta', id, delta: block.text }, { type: 'reasoning-end', id, ...meta });
  });
  if (r.text) {
    parts.push({ type: 'text-start', id: 'cached-0' }, { type: 'text-delta', id: 'cached-0', delta: r.text }, { type: 'text-end', id: 'cached-0' });
  }
  for (const call of r.toolCalls) parts.push({ type: 'tool-call', toolCallId: call.toolCallId, toolName: call.toolName, input: call.input });
  parts.push({
    type: 'finish',
    finishReason: { unified: r.finishReason as 'stop', raw: r.finishReason },
    usage: emptyUsage(r.usage.inputTokens, r.usage.outputTokens),
  });
  return parts;
}

/** Turns a non-streamed result into stream parts (for models configured with `supports.streaming: false`). */
export function partsFromGenerate(result: LanguageModelV4GenerateResult): LanguageModelV4StreamPart[] {
  const parts: LanguageModelV4StreamPart[] = [{ type: 'stream-start', warnings: [] }];
  let n = 0;
  for (const content of result.content) {
    if (content.type === 'text') {
      const id = `gen-${n++}`;
      parts.push({ type: 'text-start', id }, { type: 'text-delta', id, delta: content.text }, { type: 'text-end', id });
    } else if (content.type === 'reasoning') {
      // Kept as a streamed answer keeps it: saved with the turn, shown by `run --thinking`.
      const id = `gen-${n++}`;
      const meta = content.providerMetadata === undefined ? {} : { providerMetadata: content.providerMetadata };
      parts.push({ type: 'reasoning-start', id, ...meta }, { type: 'reasoning-delta', id, delta: content.text }, { type: 'reasoning-end', id, ...meta });
    } else if (content.type === 'tool-call') parts.push(content);
  }
  parts.push({ type: 'finish', finishReason: result.finishReason, usage: result.usage });
  return parts;
}

/**
 * A model call's answer: its parts themselves, when it came whole and its caller reads it whole
 * (ChainModel.answer), or its stream.
 */
export type PartsOrStream = { parts: readonly LanguageModelV4StreamPart[] } | { stream: ReadableStream<LanguageModelV4StreamPart> };

/** A stream of parts known already. */
export function streamOfParts(parts: readonly LanguageModelV4StreamPart[]): ReadableStream<LanguageModelV4StreamPart> {
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
}

/** The answer as a stream (its parts in one, when it came as parts). */
export function streamOf(answer: PartsOrStream): ReadableStream<LanguageModelV4StreamPart> {
  return 'stream' in answer ? answer.stream : streamOfParts(answer.parts);
}

/**
 * Hands each part of the answer to `each`, in order: at once for parts, as they are read for a
 * stream (a reader rather than `for await`: the stream's async iterator costs a promise more per part).
 */
export async function eachPart(answer: PartsOrStream, each: (part: LanguageModelV4StreamPart) => void): Promise<void> {
  if ('parts' in answer) {
    for (const part of answer.parts) each(part);
    return;
  }
  const reader = answer.stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    each(value);
  }
}
