/**
 * OpenAI's Responses API request (`POST /v1/responses`, what newer OpenAI clients speak: Codex CLI,
 * the Agents SDK) turned into the chat-completions body the gateway already serves: `instructions`
 * as a system message, the input items as messages (function calls joined into the assistant
 * message before their outputs), function tools flattened back into chat's shape, `text.format` as
 * `response_format`, `max_output_tokens` as `max_tokens`, `reasoning.effort` as `reasoning_effort`.
 * A conversation continued with `previous_response_id` comes in as the items before this input
 * (response-store.ts), item references already replaced by their items (`background` is the
 * route's: background-responses.ts); OpenAI's own tools (web search, file search, …) are a 400.
 * Every problem names the field as the client sent it (`input[3].call_id`).
 */
import { HttpError } from '../http-error.ts';
import { ref, type JsonSchema } from '../route.ts';
import type { ChatBody } from './chat-request.ts';
import { toolSchemaProblem } from './tool-schema.ts';

type Json = Record<string, unknown>;

export interface ResponsesBody {
  model: string;
  input: string | Json[];
  instructions?: string;
  tools?: Json[];
  tool_choice?: string | { type: string; name?: string };
  temperature?: number;
  top_p?: number;
  max_output_tokens?: number;
  stream?: boolean;
  text?: { format?: { type: string; name?: string; description?: string; schema?: Json; strict?: boolean } };
  reasoning?: { effort?: string };
  parallel_tool_calls?: boolean;
  previous_response_id?: string;
  background?: boolean;
  user?: string;
  [field: string]: unknown;
}

const nullable = (type: 'string' | 'boolean' | 'object'): JsonSchema => ({ type: [type, 'null'] });

export const RESPONSES_SCHEMAS: Record<string, JsonSchema> = {
  ResponsesInputItem: {
    type: 'object',
    description: 'A message (`{role, content}`), a `function_call` or a `function_call_output`; `reasoning` items are taken and left out',
    properties: {
      type: { type: 'string' },
      role: { type: 'string', enum: ['user', 'assistant', 'system', 'developer'] },
      content: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'object', properties: { type: { type: 'string' } }, required: ['type'] }, maxItems: 10_000 }] },
      call_id: { type: 'string', minLength: 1 },
      name: { type: 'string', minLength: 1 },
      arguments: { type: 'string' },
      output: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' }, maxItems: 10_000 }] },
    },
  },
  ResponsesTool: {
    type: 'object',
    properties: { type: { type: 'string' }, name: { type: 'string', minLength: 1, maxLength: 64 }, description: { type: 'string' }, parameters: { type: ['object', 'null'] }, strict: { type: ['boolean', 'null'] } },
    required: ['type'],
  },
  ResponsesRequest: {
    type: 'object',
    properties: {
      model: { type: 'string', minLength: 1, maxLength: 256, description: '`provider/model[:variant]` (then the top-level fallbacks) or `agent/<name>`' },
      input: { anyOf: [{ type: 'string' }, { type: 'array', items: ref('ResponsesInputItem'), maxItems: 10_000 }] },
      instructions: nullable('string'),
      tools: { type: 'array', items: ref('ResponsesTool'), maxItems: 128 },
      tool_choice: {
        anyOf: [
          { type: 'string', enum: ['auto', 'none', 'required'] },
          { type: 'object', properties: { type: { type: 'string' }, name: { type: 'string' } }, required: ['type'] },
        ],
      },
      temperature: { type: ['number', 'null'], minimum: 0, maximum: 2 },
      top_p: { type: ['number', 'null'], minimum: 0, maximum: 1 },
      max_output_tokens: { type: ['integer', 'null'], minimum: 1, maximum: 10_000_000 },
      stream: nullable('boolean'),
      text: {
        type: ['object', 'null'],
        properties: { format: { type: 'object', properties: { type: { type: 'string', enum: ['text', 'json_object', 'json_schema'] }, name: { type: 'string' }, schema: { type: 'object' }, strict: nullable('boolean') }, required: ['type'] } },
      },
      reasoning: { type: ['object', 'null'], properties: { effort: nullable('string') } },
      parallel_tool_calls: nullable('boolean'),
      previous_response_id: nullable('string'),
      store: nullable('boolean'),
      background: nullable('boolean'),
      user: nullable('string'),
      metadata: nullable('object'),
    },
    required: ['model', 'input'],
  },
};

function bad(field: string, message: string, hint?: string): HttpError {
  return new HttpError(400, 'BAD_REQUEST', `${field}: ${message}.`, { ...(hint ? { hint } : {}), details: { param: field } });
}


/** A message's content parts as chat's (text; images in user messages). */
function contentOf(content: unknown, role: string, field: string): string | Json[] {
  if (typeof content === 'string') return content;
  const parts = (content ?? []) as Json[];
  const out: Json[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as Json;
    const at = `${field}[${i}]`;
    switch (part.type) {
      case 'input_text':
      case 'output_text':
      case 'text':
        out.push({ type: 'text', text: String(part.text ?? '') });
        break;
      case 'refusal':
        out.push({ type: 'text', text: String(part.refusal ?? '') });
        break;
      case 'input_image': {
        if (role !== 'user') throw bad(`${at}.type`, `images go in user messages, not ${role} ones`);
        if (typeof part.image_url !== 'string') throw bad(`${at}.image_url`, 'expected an https or data: URL', part.file_id ? 'File ids need OpenAI’s file storage; send the image as a URL.' : undefined);
        out.push({ type: 'image_url', image_url: { url: part.image_url, ...(typeof part.detail === 'string' ? { detail: part.detail } : {}) } });
        break;
      }
      default:
        throw bad(`${at}.type`, `expected "input_text", "output_text" or "input_image", found ${JSON.stringify(part.type)}`);
    }
  }
  // Text alone goes as a string: what chat's providers take from every role.
  return out.every((p) => p.type === 'text') ? out.map((p) => p.text).join('') : out;
}

function textOfOutput(output: unknown, field: string): string {
  if (typeof output === 'string') return output;
  return (output as Json[])
    .map((part, i) => {
      if (part.type !== 'input_text' && part.type !== 'output_text') throw bad(`${field}[${i}].type`, `a function's output is text here, found ${JSON.stringify(part.type)}`);
      return String(part.text ?? '');
    })
    .join('');
}

function argumentsOf(text: unknown, field: string): string {
  if (typeof text !== 'string') throw bad(field, 'is required');
  if (text.trim() === '') return '{}';
  try {
    JSON.parse(text);
  } catch {
    throw bad(field, 'expected the call’s arguments as a JSON text');
  }
  return text;
}

/**
 * The items as chat messages: a continued conversation's (`earlier` of them, from stored
 * responses), then the request's input. A problem names the field as the client sent it.
 */
function messagesOf(items: Json[], earlier: number, instructions: string | undefined): Json[] {
  const messages: Json[] = instructions ? [{ role: 'system', content: instructions }] : [];
  const calls = new Set<string>();
  // The assistant message function calls are added to, until a message of another kind comes.
  let assistant: Json | undefined;
  items.forEach((item, i) => {
    const field = i < earlier ? `previous_response_id (its item ${i})` : `input[${i - earlier}]`;
    const type = item.type ?? 'message';
    switch (type) {
      case 'message': {
        if (typeof item.role !== 'string') throw bad(`${field}.role`, 'is required');
        const message = { role: item.role, content: contentOf(item.content, item.role, `${field}.content`) };
        messages.push(message);
        assistant = item.role === 'assistant' ? message : undefined;
        return;
      }
      case 'function_call': {
        const id = item.call_id;
        if (typeof id !== 'string') throw bad(`${field}.call_id`, 'is required');
        if (typeof item.name !== 'string') throw bad(`${field}.name`, 'is required');
        calls.add(id);
        const call = { id, type: 'function', function: { name: item.name, arguments: argumentsOf(item.arguments, `${field}.arguments`) } };
        if (!assistant) messages.push((assistant = { role: 'assistant', content: null }));
        ((assistant.tool_calls as Json[] | undefined) ?? (assistant.tool_calls = [])).push(call);
        return;
      }
      case 'function_call_output': {
        const id = item.call_id;
        if (typeof id !== 'string') throw bad(`${field}.call_id`, 'is required');
        if (!calls.has(id)) throw bad(`${field}.call_id`, `no earlier function_call has call_id "${id}"`, 'An output answers a function_call item before it in `input`.');
        if (item.output === undefined) throw bad(`${field}.output`, 'is required');
        messages.push({ role: 'tool', tool_call_id: id, content: textOfOutput(item.output, `${field}.output`) });
        assistant = undefined;
        return;
      }
      case 'reasoning':
        // A model's reasoning from an earlier turn: chat completions have no place for it.
        return;
      case 'item_reference':
        throw bad(`${field}.id`, 'an item reference is read from the stored responses before this point');
      default:
        throw bad(`${field}.type`, `expected "message", "function_call", "function_call_output" or "reasoning", found ${JSON.stringify(type)}`, 'OpenAI’s own tools (web search, file search, computer use, …) do not go through the gateway.');
    }
  });
  return messages;
}

function toolsOf(tools: Json[] | undefined): ChatBody['tools'] {
  if (!tools?.length) return undefined;
  const names = new Set<string>();
  return tools.map((tool, i) => {
    if (tool.type !== 'function') throw bad(`tools[${i}].type`, `only "function" tools go through the gateway, found ${JSON.stringify(tool.type)}`, 'OpenAI’s own tools (web search, file search, code interpreter, …) run at OpenAI.');
    const name = tool.name;
    if (typeof name !== 'string') throw bad(`tools[${i}].name`, 'is required');
    if (names.has(name)) throw bad(`tools[${i}].name`, `"${name}" is given twice`);
    names.add(name);
    const parameters = (tool.parameters ?? { type: 'object', properties: {} }) as Json;
    const problem = toolSchemaProblem(parameters);
    if (problem) throw bad(`tools[${i}].parameters`, problem, 'Give a JSON Schema object such as {"type":"object","properties":{…}}.');
    return { type: 'function' as const, function: { name, ...(typeof tool.description === 'string' ? { description: tool.description } : {}), parameters, ...(tool.strict ? { strict: true } : {}) } };
  });
}

function toolChoiceOf(choice: ResponsesBody['tool_choice'], tools: ChatBody['tools']): ChatBody['tool_choice'] {
  if (choice === undefined || typeof choice === 'string') return choice;
  if (choice.type !== 'function') throw bad('tool_choice.type', `expected "function" (or "auto", "none", "required"), found ${JSON.stringify(choice.type)}`);
  const name = choice.name;
  if (!name || !tools?.some((t) => t.function.name === name)) throw bad('tool_choice.name', `no function tool named ${JSON.stringify(name ?? '')} in tools`);
  return { type: 'function', function: { name } };
}

function formatOf(format: NonNullable<ResponsesBody['text']>['format']): ChatBody['response_format'] {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  return { type: 'json_schema', json_schema: { ...(format.name ? { name: format.name } : {}), ...(format.description ? { description: format.description } : {}), ...(format.schema ? { schema: format.schema } : {}), ...(format.strict ? { strict: true } : {}) } as NonNullable<NonNullable<ChatBody['response_format']>['json_schema']> };
}

/** The chat-completions body for a Responses request (checked against its schema), or a 400 naming the field. */
export function chatBodyOf(body: ResponsesBody, earlier: Json[] = [], input: Json[] = inputItemsOf(body.input)): ChatBody {
  const messages = messagesOf([...earlier, ...input], earlier.length, body.instructions);
  if (messages.length === 0) throw bad('input', 'must not be empty', 'Send at least one message.');
  const tools = toolsOf(body.tools);
  const toolChoice = toolChoiceOf(body.tool_choice, tools);
  const format = formatOf(body.text?.format);
  const chat: Json = {
    model: body.model,
    messages,
    ...(body.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    ...(tools ? { tools } : {}),
    ...(toolChoice === undefined ? {} : { tool_choice: toolChoice }),
    ...(body.temperature === undefined ? {} : { temperature: body.temperature }),
    ...(body.top_p === undefined ? {} : { top_p: body.top_p }),
    ...(body.max_output_tokens === undefined ? {} : { max_tokens: body.max_output_tokens }),
    ...(format ? { response_format: format } : {}),
    // Fields chat completions have under another name (or the same), sent up as the client's own.
    ...(body.reasoning?.effort ? { reasoning_effort: body.reasoning.effort } : {}),
    ...(body.parallel_tool_calls === undefined ? {} : { parallel_tool_calls: body.parallel_tool_calls }),
    ...(body.user === undefined ? {} : { user: body.user }),
  };
  return chat as unknown as ChatBody;
}

/** The request's input as items: a text is one user message. */
export function inputItemsOf(input: ResponsesBody['input']): Json[] {
  return typeof input === 'string' ? [{ type: 'message', role: 'user', content: input }] : input;
}

/**
 * The input items as kept with a stored response: each with an id (a message's `msg_…`, as
 * OpenAI's input items list shows them), a text content as one `input_text` part, and each
 * `item_reference` replaced by the item it names (`find`), or a 400 naming it.
 */
export function storedInputOf(items: Json[], newId: (kind: string) => string, find: (id: string) => Json | undefined): Json[] {
  return items.map((item, i) => {
    if (item.type === 'item_reference') {
      const id = item.id;
      if (typeof id !== 'string' || id === '') throw bad(`input[${i}].id`, 'is required');
      const found = find(id);
      if (!found) throw bad(`input[${i}].id`, `no stored item '${id.length > 100 ? `${id.slice(0, 100)}…` : id}'`, 'An item reference names an input or output item of a response this API key stored in the last 30 days.');
      return found;
    }
    const type = item.type ?? 'message';
    const content = type === 'message' && typeof item.content === 'string' ? [{ type: item.role === 'assistant' ? 'output_text' : 'input_text', text: item.content }] : item.content;
    return { ...item, type, id: typeof item.id === 'string' && item.id ? item.id : newId(type === 'message' ? 'msg' : type === 'function_call_output' ? 'fco' : 'item'), ...(content === undefined ? {} : { content }) };
  });
}
