/**
 * The AI SDK's stream parts as OpenAI's Responses API output: one `response` object, or its SSE
 * events (`response.created`, `response.in_progress`, `response.output_item.added`,
 * `response.content_part.added`, `response.output_text.delta` … `.done`, the function calls'
 * `response.function_call_arguments.delta`/`.done`, `response.output_item.done`, then
 * `response.completed` or `response.incomplete`), each with its `sequence_number`. The model's
 * reasoning, when it sends any, is a `reasoning` item first. A failure after the first event is an
 * `error` event and `response.failed`.
 */
import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { randomBytes } from '../../random-bytes.ts';
import { eachPart, usageOf, type PartsOrStream } from '../../scheduler/stream-parts.ts';
import type { ResponsesBody } from './responses-request.ts';
import { sseOfParts, type SseOutcome } from './sse-parts.ts';

type Json = Record<string, unknown>;
type Finish = Extract<LanguageModelV4StreamPart, { type: 'finish' }>;

/** Ids: a random prefix per process and a counter. */
const PREFIX = randomBytes(9).toString('base64url');
let seq = 0;
export const newId = (kind: string): string => `${kind}_${PREFIX}${(++seq).toString(36)}`;

export interface ResponseMeta {
  id: string;
  createdAt: number;
  /** The model that served (`provider/model`). */
  model: string;
  /** The request's settings the response object repeats, as OpenAI's does. */
  echo: Json;
  /**
   * Keeps a completed (or incomplete) response before the client has it, so the next request may
   * continue it at once (stored-responses.ts); false when it could not be kept (it then says
   * `store: false`). Absent with `store: false`.
   */
  keep?: (response: Json, output: Json[]) => Promise<boolean>;
}

export function newResponse(model: string, body: ResponsesBody): ResponseMeta {
  return {
    id: newId('resp'),
    createdAt: Math.floor(Date.now() / 1000),
    model,
    echo: {
      background: body.background === true,
      store: body.store !== false,
      previous_response_id: body.previous_response_id ?? null,
      instructions: body.instructions ?? null,
      max_output_tokens: body.max_output_tokens ?? null,
      parallel_tool_calls: body.parallel_tool_calls ?? true,
      temperature: body.temperature ?? null,
      top_p: body.top_p ?? null,
      tool_choice: body.tool_choice ?? 'auto',
      tools: body.tools ?? [],
      text: { format: body.text?.format ?? { type: 'text' } },
      reasoning: { effort: body.reasoning?.effort ?? null, summary: null },
      metadata: body.metadata ?? {},
      user: body.user ?? null,
    },
  };
}

function usageJson(finish: Finish | undefined): Json {
  if (!finish) return { input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 };
  const u = usageOf(finish.usage);
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: { cached_tokens: finish.usage.inputTokens.cacheRead ?? 0 },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: finish.usage.outputTokens.reasoning ?? 0 },
    total_tokens: u.inputTokens + u.outputTokens,
  };
}

/** `completed`, or `incomplete` with its reason when the answer was cut (its length, a content filter). */
function statusOf(finish: Finish | undefined): { status: string; incomplete_details: Json | null } {
  const why = finish?.finishReason.unified;
  if (why === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (why === 'content-filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

export function responseJsonOf(meta: ResponseMeta, fields: { status: string; incomplete_details: Json | null; output: Json[]; usage: Json | null; error?: Json | null }): Json {
  return {
    id: meta.id,
    object: 'response',
    created_at: meta.createdAt,
    status: fields.status,
    error: fields.error ?? null,
    incomplete_details: fields.incomplete_details,
    model: meta.model,
    output: fields.output,
    usage: fields.usage,
    truncation: 'disabled',
    ...meta.echo,
  };
}

const messageItem = (id: string, text: string, status: string): Json => ({ type: 'message', id, status, role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] });
const reasoningItem = (id: string, text: string): Json => ({ type: 'reasoning', id, summary: [], content: [{ type: 'reasoning_text', text }] });
const callItem = (id: string, part: { toolCallId: string; toolName: string }, args: string, status: string): Json => ({ type: 'function_call', id, call_id: part.toolCallId, name: part.toolName, arguments: args, status });
const argsOf = (part: Extract<LanguageModelV4StreamPart, { type: 'tool-call' }>): string => (typeof part.input === 'string' ? part.input : JSON.stringify(part.input));

/** Reads the whole answer into one `response` object. */
export async function responseJson(meta: ResponseMeta, answer: PartsOrStream): Promise<object> {
  let text = '';
  let reasoning = '';
  const calls: Json[] = [];
  let finish: Finish | undefined;
  await eachPart(answer, (part) => {
    if (part.type === 'text-delta') text += part.delta;
    else if (part.type === 'reasoning-delta') reasoning += part.delta;
    else if (part.type === 'tool-call') calls.push(callItem(newId('fc'), part, argsOf(part), 'completed'));
    else if (part.type === 'finish') finish = part;
  });
  const output: Json[] = [...(reasoning ? [reasoningItem(newId('rs'), reasoning)] : []), ...(text || calls.length === 0 ? [messageItem(newId('msg'), text, 'completed')] : []), ...calls];
  return await kept(meta, responseJsonOf(meta, { ...statusOf(finish), output, usage: usageJson(finish) }), output);
}

/** The response, kept first when it is to be (`store: false` in it when that failed). */
async function kept(meta: ResponseMeta, response: Json, output: Json[]): Promise<Json> {
  if (meta.keep && !(await meta.keep(response, output))) response.store = false;
  return response;
}

/**
 * The answer as Responses SSE events. `renderError` gives the failure's `{error: {message, type,
 * param, code}}` (the gateway's OpenAI error); `onEnd` hears how the stream ended.
 */
export function responseSse(
  meta: ResponseMeta,
  stream: ReadableStream<LanguageModelV4StreamPart>,
  options: { renderError: (error: unknown) => object; onEnd?: (status: SseOutcome, error?: unknown) => void },
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let sequence = 0;
  const event = (type: string, data: Json): Uint8Array => encoder.encode(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`);
  const output: Json[] = [];
  /** The item being streamed: text or reasoning, with what came so far. */
  let open: { kind: 'text' | 'reasoning'; id: string; index: number; text: string } | undefined;
  const inProgress = (): Json => responseJsonOf(meta, { status: 'in_progress', incomplete_details: null, output: [], usage: null });

  const close = (out: Uint8Array[]): void => {
    if (!open) return;
    const { id, index, text, kind } = open;
    if (kind === 'text') {
      const part = { type: 'output_text', text, annotations: [] };
      out.push(event('response.output_text.done', { item_id: id, output_index: index, content_index: 0, text }), event('response.content_part.done', { item_id: id, output_index: index, content_index: 0, part }));
      output[index] = messageItem(id, text, 'completed');
    } else {
      out.push(event('response.reasoning_text.done', { item_id: id, output_index: index, content_index: 0, text }), event('response.content_part.done', { item_id: id, output_index: index, content_index: 0, part: { type: 'reasoning_text', text } }));
      output[index] = reasoningItem(id, text);
    }
    out.push(event('response.output_item.done', { output_index: index, item: output[index] as Json }));
    open = undefined;
  };
  const openItem = (kind: 'text' | 'reasoning', out: Uint8Array[]): NonNullable<typeof open> => {
    if (open?.kind === kind) return open;
    close(out);
    const id = newId(kind === 'text' ? 'msg' : 'rs');
    const index = output.length;
    const item = kind === 'text' ? { type: 'message', id, status: 'in_progress', role: 'assistant', content: [] } : { type: 'reasoning', id, summary: [], content: [] };
    output.push(item);
    out.push(event('response.output_item.added', { output_index: index, item }));
    out.push(event('response.content_part.added', { item_id: id, output_index: index, content_index: 0, part: kind === 'text' ? { type: 'output_text', text: '', annotations: [] } : { type: 'reasoning_text', text: '' } }));
    return (open = { kind, id, index, text: '' });
  };
  const finished = async (finish: Finish | undefined, out: Uint8Array[]): Promise<void> => {
    // An answer with nothing in it is still one (empty) message, as OpenAI's is.
    if (output.length === 0) openItem('text', out);
    close(out);
    const status = statusOf(finish);
    const response = await kept(meta, responseJsonOf(meta, { ...status, output, usage: usageJson(finish) }), output);
    out.push(event(status.status === 'completed' ? 'response.completed' : 'response.incomplete', { response }));
  };
  let finish: Finish | undefined;
  return sseOfParts(
    stream,
    {
      opening(out) {
        out.push(event('response.created', { response: inProgress() }), event('response.in_progress', { response: inProgress() }));
      },
      part(part, out) {
        if (part.type === 'text-delta' || part.type === 'reasoning-delta') {
          if (!part.delta) return;
          const kind = part.type === 'text-delta' ? 'text' : 'reasoning';
          const item = openItem(kind, out);
          item.text += part.delta;
          out.push(event(kind === 'text' ? 'response.output_text.delta' : 'response.reasoning_text.delta', { item_id: item.id, output_index: item.index, content_index: 0, delta: part.delta }));
        } else if (part.type === 'tool-call') {
          close(out);
          const id = newId('fc');
          const index = output.length;
          const args = argsOf(part);
          output.push(callItem(id, part, '', 'in_progress'));
          out.push(event('response.output_item.added', { output_index: index, item: output[index] as Json }));
          out.push(event('response.function_call_arguments.delta', { item_id: id, output_index: index, delta: args }));
          out.push(event('response.function_call_arguments.done', { item_id: id, output_index: index, name: part.toolName, arguments: args }));
          output[index] = callItem(id, part, args, 'completed');
          out.push(event('response.output_item.done', { output_index: index, item: output[index] as Json }));
        } else if (part.type === 'finish') finish = part;
      },
      closing(out) {
        return finished(finish, out);
      },
      failed(error, out) {
        const { error: detail } = options.renderError(error) as { error: Json };
        out.push(event('error', { code: detail.code ?? null, message: detail.message, param: detail.param ?? null }));
        out.push(event('response.failed', { response: responseJsonOf(meta, { status: 'failed', incomplete_details: null, output, usage: null, error: { code: String(detail.code ?? 'server_error'), message: String(detail.message) } }) }));
      },
    },
    options.onEnd,
  );
}
