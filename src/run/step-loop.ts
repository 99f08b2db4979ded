import type { LanguageModelV4, LanguageModelV4CallOptions, LanguageModelV4StreamPart, LanguageModelV4ToolCall } from '@ai-sdk/provider';
import type { LanguageModelUsage, ModelMessage, ToolSet } from 'ai';
import { asSchema } from '@ai-sdk/provider-utils';
import { asLanguageModelUsage, convertToLanguageModelPrompt, createNullLanguageModelUsage, parseToolCall, prepareToolChoice, prepareTools, toResponseMessages } from 'ai/internal';
import { finishWord } from '../providers/finish-reason.ts';
import { isDiscardText } from '../scheduler/text-replay.ts';
import { mediaOf, withToolMedia, type MediaAccepted, type ToolMediaItem } from './tool-media.ts';

/**
 * Pantheon's tool loop over a language model (the chain model): each step asks the model, runs the
 * tool calls it makes as they arrive, and asks again with their results until the model answers
 * without tools or the steps run out. It reads the model's parts itself instead of going through
 * `streamText`, whose pipeline passes every part through about ten web streams (docs/performance.md,
 * issue #18); the prompt, the tool definitions, the tool-call checks and the stored messages come
 * from the AI SDK's own functions (`ai/internal`), so requests and session files are the SDK's.
 */

export interface StepLoopOptions {
  model: LanguageModelV4;
  system?: string;
  messages: ModelMessage[];
  /** The tools offered; none means a single step with no tools. */
  tools: ToolSet;
  /** At most this many model calls; the last of several is asked to answer without tools. */
  maxSteps: number;
  temperature?: number;
  topP?: number;
  /** At most this many tokens per answer (else the model's `limit.output`). */
  maxOutputTokens?: number;
  signal?: AbortSignal;
  /**
   * Each text part's final text, replaced as it ends (the plugins' `experimental.text.complete`):
   * its text is then reported whole, once replaced, instead of as it streams (as OpenCode's `run`
   * prints a text part once it has ended), and kept replaced.
   */
  completeText?: (text: string) => Promise<string>;
  /**
   * The messages of each model call, changed before it is made (the plugins'
   * `experimental.chat.messages.transform`): the call is made from what it answers; the turn's
   * own messages stay as they are.
   */
  transformMessages?: (messages: ModelMessage[]) => Promise<ModelMessage[]>;
  /** What the model takes of the files a tool answers with (run/tool-media.ts); default neither images nor PDFs. */
  mediaAccepted?: MediaAccepted;
}

/** What the loop reports, in order. */
export type StepLoopPart =
  | { type: 'step-start' }
  /** The chain model asked again and the new answer differs: drop this step's text so far. */
  | { type: 'discard-text' }
  | { type: 'text'; text: string }
  /** A reasoning block, whole, once it ends (shown by `run --thinking`). */
  | { type: 'reasoning'; text: string }
  /** A tool that ran (`ms`: how long it took), or a call that could not run (an unknown tool, bad arguments: no `ms`). */
  /** The model started to write a call (its input streams on): once per call, before its `tool-start` or `tool-error`. */
  | { type: 'tool-pending'; toolCallId: string; toolName: string }
  /** A call the model made starts to run. */
  | { type: 'tool-start'; toolCallId: string; toolName: string; input: unknown }
  | { type: 'tool-result'; toolCallId: string; toolName: string; input: unknown; output: unknown; ms: number }
  | { type: 'tool-error'; toolCallId: string; toolName: string; input: unknown; error: unknown; ms?: number }
  /** `reason`: `tool-calls` for a step whose calls ran, else the model's own (`stop` if it gave none). */
  | { type: 'step-finish'; usage: LanguageModelUsage; reason: string };

type Content = Parameters<typeof toResponseMessages>[0]['content'][number];
type ParsedCall = Awaited<ReturnType<typeof parseToolCall>>;

/** A step's content as `toResponseMessages` takes it: text and reasoning by part id, tool calls and their outputs. */
class StepContent {
  readonly parts: Content[] = [];
  private readonly open = new Map<string, { type: 'text' | 'reasoning'; text: string; providerMetadata?: unknown }>();

  start(type: 'text' | 'reasoning', id: string, providerMetadata: unknown): void {
    const part = { type, text: '', ...(providerMetadata === undefined ? {} : { providerMetadata }) };
    this.open.set(`${type}:${id}`, part);
    this.parts.push(part as Content);
  }

  delta(type: 'text' | 'reasoning', id: string, delta: string, providerMetadata: unknown): void {
    const key = `${type}:${id}`;
    if (!this.open.has(key)) this.start(type, id, providerMetadata);
    const part = this.open.get(key) as { text: string; providerMetadata?: unknown };
    part.text += delta;
    if (providerMetadata !== undefined) part.providerMetadata = providerMetadata;
  }

  /** The part open under `id`. */
  opened(type: 'text' | 'reasoning', id: string): { text: string } | undefined {
    return this.open.get(`${type}:${id}`);
  }

  /** Closes a part; answers its text. */
  end(type: 'text' | 'reasoning', id: string, providerMetadata: unknown): string {
    const part = this.open.get(`${type}:${id}`);
    if (part && providerMetadata !== undefined) part.providerMetadata = providerMetadata;
    this.open.delete(`${type}:${id}`);
    return part?.text ?? '';
  }

  /** Drops the text said so far in this step (reasoning and tool calls stay). */
  discardText(): void {
    for (const part of this.parts) if (part.type === 'text') part.text = '';
  }
}

/** A tool error that ends the turn after its step (a person's plain "reject" of the call: the permission error's `stopsTurn`). */
function stopsTurn(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { stopsTurn?: unknown }).stopsTurn === true;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** Runs a tool as the SDK does: its result, or the last value of a tool that yields several. */
async function execute(tool: NonNullable<ToolSet[string]['execute']>, input: unknown, options: Parameters<NonNullable<ToolSet[string]['execute']>>[1]): Promise<unknown> {
  const result: unknown = tool(input, options);
  if (!isAsyncIterable(result)) return await result;
  let last: unknown;
  for await (const value of result) last = value;
  return last;
}

/**
 * A tool call whose input is plain JSON, parsed and checked against its tool's schema as the SDK's
 * `parseToolCall` does, or undefined to leave it to that function: for a call the SDK would reject
 * (its message is the model's to read), and for any input that mentions `__proto__` or
 * `constructor` or holds a \u escape, whose prototype checks are the SDK's (secure-json-parse). Its
 * regular expressions cost ~0.5 ms on their first call and ~0.2 ms on the second (compiled, then
 * tiered up), in the first two gaps of every tool loop.
 */
async function plainToolCall(chunk: LanguageModelV4ToolCall, tools: ToolSet | undefined): Promise<ParsedCall | undefined> {
  const tool = tools && Object.hasOwn(tools, chunk.toolName) ? tools[chunk.toolName] : undefined;
  const text = chunk.input;
  if (!tool || chunk.providerExecuted || text.includes('\\u') || text.includes('__proto__') || text.includes('constructor')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text.trim() === '' ? '{}' : text);
  } catch {
    return undefined;
  }
  const schema = asSchema(tool.inputSchema);
  const checked = schema.validate ? await schema.validate(value) : { success: true as const, value };
  if (!checked.success) return undefined;
  const base = {
    type: 'tool-call' as const,
    toolCallId: chunk.toolCallId,
    toolName: chunk.toolName,
    input: checked.value,
    providerExecuted: chunk.providerExecuted,
    providerMetadata: chunk.providerMetadata,
    ...(tool.metadata == null ? {} : { toolMetadata: tool.metadata }),
    title: tool.title,
  };
  return (tool.type === 'dynamic' ? { ...base, dynamic: true } : base) as ParsedCall;
}

/** The prompt's files and URLs as the SDK sends them, with the model's provider name for provider options. */
async function promptFor(model: LanguageModelV4, system: string | undefined, messages: ModelMessage[], signal: AbortSignal | undefined) {
  return convertToLanguageModelPrompt({
    prompt: { instructions: system, messages },
    supportedUrls: await model.supportedUrls,
    download: undefined,
    ...(signal ? { abortSignal: signal } : {}),
    provider: model.provider.split('.')[0] as string,
  });
}

/** What a step cut short said and did: its words and the calls that ran with their results (nothing when it had neither). */
async function partialStep(parts: readonly Content[], tools: ToolSet | undefined): Promise<ModelMessage[]> {
  const kept = parts.filter((part) => (part.type === 'text' || part.type === 'reasoning' ? part.text.trim() !== '' : true));
  // Reasoning alone would be stored as an assistant message with no content, which providers refuse in a history.
  if (!kept.some((part) => part.type !== 'reasoning')) return [];
  try {
    return await toResponseMessages({ content: kept, tools });
  } catch {
    return [];
  }
}

/**
 * Runs the loop and returns the answer's messages (assistant and tool), as `streamText`'s
 * `responseMessages`, in `answer`. Throws the first error a model call ends with, after the step's
 * running tools have finished; `answer` then holds what the loop had: the steps done, and the
 * failed step's words and the calls it ran (a turn interrupted keeps them, as OpenCode's does).
 */
export async function runStepLoop(options: StepLoopOptions, report: (part: StepLoopPart) => void, answer: ModelMessage[] = []): Promise<ModelMessage[]> {
  const { model, signal } = options;
  const hasTools = Object.keys(options.tools).length > 0;
  const tools = hasTools ? options.tools : undefined;
  const maxSteps = hasTools ? Math.max(1, options.maxSteps) : 1;
  const toolDefs = await prepareTools({ tools });
  // The files tools answered with, by call id: sent after their results in the turn's later calls (tool-media.ts).
  const media = new Map<string, readonly ToolMediaItem[]>();
  for (let step = 0; step < maxSteps; step += 1) {
    // The last allowed step of several must answer in words: a tool call there would go unanswered.
    const answerOnly = hasTools && maxSteps > 1 && step === maxSteps - 1;
    const given = withToolMedia([...options.messages, ...answer], media, options.mediaAccepted ?? { image: false, pdf: false });
    const messages = options.transformMessages ? await options.transformMessages(given) : given;
    const callOptions: LanguageModelV4CallOptions = {
      prompt: await promptFor(model, options.system, messages, signal),
      ...(toolDefs ? { tools: toolDefs } : {}),
      toolChoice: prepareToolChoice({ toolChoice: answerOnly ? 'none' : undefined }),
      ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
      ...(options.topP === undefined ? {} : { topP: options.topP }),
      ...(options.maxOutputTokens === undefined ? {} : { maxOutputTokens: options.maxOutputTokens }),
      includeRawChunks: true,
      ...(signal ? { abortSignal: signal } : {}),
    };
    report({ type: 'step-start' });
    const content = new StepContent();
    const running: Promise<void>[] = [];
    let calls = 0;
    let outputs = 0;
    let usage = createNullLanguageModelUsage();
    let finishReason: string | undefined;
    let failure: { error: unknown } | undefined;
    let stop = false;
    /** Calls whose input started to stream this step (reported `tool-pending` once). */
    const pending = new Set<string>();
    // Calls are parsed one after another, so that they keep their order in the stored message and
    // a refused call is reported in turn; each runs as soon as it is parsed, beside the others.
    let parsing: Promise<unknown> = Promise.resolve();
    const parseCall = async (chunk: LanguageModelV4ToolCall): Promise<ParsedCall | undefined> => {
      const call: ParsedCall =
        (await plainToolCall(chunk, tools)) ??
        (await parseToolCall({ toolCall: chunk, tools, repairToolCall: undefined, instructions: options.system, messages, ...(signal ? { abortSignal: signal } : {}) }));
      content.parts.push(call as Content);
      if (call.providerExecuted) return undefined;
      calls += 1;
      if (!call.invalid) return call;
      const error = call.error instanceof Error ? call.error.message : String(call.error);
      content.parts.push({ type: 'tool-error', toolCallId: call.toolCallId, toolName: call.toolName, input: call.input, error, dynamic: true } as Content);
      outputs += 1;
      report({ type: 'tool-error', toolCallId: call.toolCallId, toolName: call.toolName, input: call.input, error });
      return undefined;
    };
    const runCall = async (call: ParsedCall): Promise<void> => {
      const run = tools && Object.hasOwn(tools, call.toolName) ? tools[call.toolName]?.execute : undefined;
      if (!run) return;
      report({ type: 'tool-start', toolCallId: call.toolCallId, toolName: call.toolName, input: call.input });
      const started = performance.now();
      try {
        const result = await execute(run, call.input, { toolCallId: call.toolCallId, messages, ...(signal ? { abortSignal: signal } : {}) } as Parameters<typeof run>[1]);
        const withFiles = mediaOf(result);
        if (withFiles && withFiles.media.length > 0) media.set(call.toolCallId, withFiles.media);
        const output = withFiles ? withFiles.output : result;
        content.parts.push({ type: 'tool-result', toolCallId: call.toolCallId, toolName: call.toolName, input: call.input, output, dynamic: call.dynamic } as Content);
        outputs += 1;
        report({ type: 'tool-result', toolCallId: call.toolCallId, toolName: call.toolName, input: call.input, output, ms: performance.now() - started });
      } catch (error) {
        content.parts.push({ type: 'tool-error', toolCallId: call.toolCallId, toolName: call.toolName, input: call.input, error, dynamic: call.dynamic } as Content);
        outputs += 1;
        if (stopsTurn(error)) stop = true;
        report({ type: 'tool-error', toolCallId: call.toolCallId, toolName: call.toolName, input: call.input, error, ms: performance.now() - started });
      }
    };
    // Text parts replaced as they end, in turn with the calls (a text before a call is reported before it).
    const complete = options.completeText;
    const completed = new Set<{ text: string }>();
    const finishText = (open: { text: string }): void => {
      completed.add(open);
      parsing = parsing
        .then(async () => {
          if (open.text === '' || !complete) return;
          open.text = await complete(open.text);
          if (open.text) report({ type: 'text', text: open.text });
        })
        .catch((error: unknown) => void (failure ??= { error }));
    };
    const onToolCall = (chunk: LanguageModelV4ToolCall): void => {
      const parsed = parsing.then(() => parseCall(chunk));
      parsing = parsed.catch(() => undefined);
      running.push(parsed.then((call) => (call ? runCall(call) : undefined)).catch((error: unknown) => void (failure ??= { error })));
    };
    const take = (part: LanguageModelV4StreamPart): void => {
      switch (part.type) {
        case 'raw':
          if (isDiscardText(part.rawValue)) {
            content.discardText();
            report({ type: 'discard-text' });
          }
          return;
        case 'text-start':
        case 'reasoning-start':
          content.start(part.type === 'text-start' ? 'text' : 'reasoning', part.id, part.providerMetadata);
          return;
        case 'text-delta':
          content.delta('text', part.id, part.delta, part.providerMetadata);
          if (part.delta && !complete) report({ type: 'text', text: part.delta });
          return;
        case 'reasoning-delta':
          content.delta('reasoning', part.id, part.delta, part.providerMetadata);
          return;
        case 'text-end': {
          const open = content.opened('text', part.id);
          content.end('text', part.id, part.providerMetadata);
          if (complete && open) finishText(open);
          return;
        }
        case 'reasoning-end': {
          const text = content.end('reasoning', part.id, part.providerMetadata);
          if (text.trim()) report({ type: 'reasoning', text });
          return;
        }
        case 'tool-input-start':
          // The call's input starts to stream: said once, as OpenCode shows a call `pending` until it is whole.
          if (answerOnly || part.providerExecuted || pending.has(part.id)) return;
          pending.add(part.id);
          report({ type: 'tool-pending', toolCallId: part.id, toolName: part.toolName });
          return;
        case 'tool-call':
          // A model that calls a tool when asked to answer in words: the call is left out, its words kept.
          if (answerOnly) return;
          onToolCall(part);
          return;
        case 'finish':
          usage = asLanguageModelUsage(part.usage);
          finishReason = finishWord(part.finishReason);
          return;
        case 'error':
          failure ??= { error: part.error };
          return;
        default:
          return;
      }
    };
    try {
      const { stream } = await model.doStream(callOptions);
      const reader = stream.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        take(value);
      }
    } catch (error) {
      failure ??= { error };
    }
    // A text part the stream never ended is replaced all the same.
    if (complete) for (const part of content.parts) if (part.type === 'text' && !completed.has(part)) finishText(part);
    await parsing;
    await Promise.all(running);
    if (failure) {
      answer.push(...(await partialStep(content.parts, tools)));
      throw failure.error;
    }
    answer.push(...(await toResponseMessages({ content: content.parts, tools })));
    report({ type: 'step-finish', usage, reason: calls > 0 ? 'tool-calls' : (finishReason ?? 'stop') });
    if (calls === 0 || outputs !== calls || finishReason === 'interrupted' || stop) break;
  }
  return answer;
}
