/**
 * An OpenAI chat-completions body (already checked against the route's schema for shape) turned into
 * the AI SDK's call options: messages into a prompt, tools into function tools (their `parameters`
 * must be a JSON Schema object), tool choice and sampling settings, and the fields Pantheon does not
 * read (`reasoning_effort`, `user`, …) kept to go up as they are to OpenAI-compatible models. What the schema cannot say —
 * a tool message answering no earlier call, arguments that are not JSON, a tool schema that is not
 * JSON Schema — is a 400 naming the field.
 */
import type { JSONSchema7, LanguageModelV4CallOptions, LanguageModelV4FunctionTool, LanguageModelV4Message, LanguageModelV4ToolChoice } from '@ai-sdk/provider';
import { CLIENT_FIELDS, clientFields } from '../../providers/openai-wire.ts';
import { HttpError } from '../http-error.ts';
import { toolSchemaProblem } from './tool-schema.ts';

type Json = Record<string, unknown>;

export interface ChatBody {
  model: string;
  messages: Json[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: { type: 'function'; function: { name: string; description?: string; parameters?: Json; strict?: boolean } }[];
  tool_choice?: string | { type: 'function'; function: { name: string } };
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  stop?: string | string[];
  seed?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  response_format?: { type: 'text' | 'json_object' | 'json_schema'; json_schema?: { name?: string; description?: string; schema?: Json } };
  n?: number;
}

export type CallOptions = Omit<LanguageModelV4CallOptions, 'abortSignal' | 'includeRawChunks'>;

function bad(field: string, message: string, hint?: string): HttpError {
  return new HttpError(400, 'BAD_REQUEST', `${field}: ${message}.`, { ...(hint ? { hint } : {}), details: { param: field } });
}

function textOf(content: unknown, field: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  return (content as Json[])
    .map((part, i) => {
      if (part.type !== 'text') throw bad(`${field}[${i}].type`, `expected "text" in this message, found ${JSON.stringify(part.type)}`);
      return String(part.text ?? '');
    })
    .join('');
}

const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+)(?:;[^,]*)?;base64,(.*)$/s;

function userParts(content: unknown, field: string): LanguageModelV4Message['content'] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return (content as Json[]).map((part, i) => {
    if (part.type === 'text') return { type: 'text' as const, text: String(part.text ?? '') };
    const url = String((part.image_url as Json | undefined)?.url ?? '');
    const data = DATA_URL.exec(url);
    if (data) return { type: 'file' as const, mediaType: data[1] as string, data: data[2] as string };
    if (!/^https?:\/\//.test(url)) throw bad(`${field}[${i}].image_url.url`, 'expected an http(s) URL or a base64 data: URL');
    return { type: 'file' as const, mediaType: 'image/*', data: new URL(url) };
  }) as LanguageModelV4Message['content'];
}

function parseArguments(text: unknown, field: string): unknown {
  if (typeof text !== 'string') return text ?? {};
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw bad(field, 'expected the call’s arguments as a JSON text');
  }
}

/** The messages as the AI SDK's prompt (system first where given, tool results tied to their calls). */
export function toPrompt(messages: Json[]): LanguageModelV4Message[] {
  const callNames = new Map<string, string>();
  return messages.map((m, i): LanguageModelV4Message => {
    const field = `messages[${i}]`;
    switch (m.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content: textOf(m.content, `${field}.content`) };
      case 'user':
        return { role: 'user', content: userParts(m.content, `${field}.content`) as Extract<LanguageModelV4Message, { role: 'user' }>['content'] };
      case 'assistant': {
        const text = textOf(m.content, `${field}.content`);
        const calls = ((m.tool_calls as Json[] | undefined) ?? []).map((call, j) => {
          const fn = call.function as { name: string; arguments?: unknown };
          callNames.set(String(call.id), fn.name);
          return { type: 'tool-call' as const, toolCallId: String(call.id), toolName: fn.name, input: parseArguments(fn.arguments, `${field}.tool_calls[${j}].function.arguments`) };
        });
        return { role: 'assistant', content: [...(text ? [{ type: 'text' as const, text }] : []), ...calls] };
      }
      case 'tool': {
        const id = String(m.tool_call_id);
        const toolName = callNames.get(id);
        if (!toolName) throw bad(`${field}.tool_call_id`, `no earlier assistant message has a tool call "${id}"`, 'A tool message answers a call from the assistant message before it.');
        return { role: 'tool', content: [{ type: 'tool-result', toolCallId: id, toolName, output: { type: 'text', value: textOf(m.content, `${field}.content`) } }] };
      }
      default:
        throw bad(`${field}.role`, `expected "system", "developer", "user", "assistant" or "tool", found ${JSON.stringify(m.role)}`);
    }
  });
}

function toolsOf(body: ChatBody): LanguageModelV4FunctionTool[] | undefined {
  if (!body.tools?.length) return undefined;
  const seen = new Set<string>();
  return body.tools.map((tool, i) => {
    const fn = tool.function;
    if (seen.has(fn.name)) throw bad(`tools[${i}].function.name`, `"${fn.name}" is given twice`);
    seen.add(fn.name);
    const schema = fn.parameters ?? { type: 'object', properties: {} };
    const problem = toolSchemaProblem(schema);
    if (problem) throw bad(`tools[${i}].function.parameters`, problem, 'Give a JSON Schema object such as {"type":"object","properties":{…}}.');
    return { type: 'function' as const, name: fn.name, ...(fn.description ? { description: fn.description } : {}), inputSchema: schema as JSONSchema7, ...(fn.strict ? { strict: true } : {}) };
  });
}

function toolChoiceOf(body: ChatBody, tools: LanguageModelV4FunctionTool[] | undefined): LanguageModelV4ToolChoice | undefined {
  const choice = body.tool_choice;
  if (choice === undefined) return undefined;
  if (typeof choice === 'string') return { type: choice as 'auto' | 'none' | 'required' };
  const name = choice.function.name;
  if (!tools?.some((t) => t.name === name)) throw bad('tool_choice.function.name', `no tool named "${name}" in tools`);
  return { type: 'tool', toolName: name };
}

/** The AI SDK call options for an OpenAI chat-completions body. */
export function toCallOptions(body: ChatBody): CallOptions {
  if (body.n !== undefined && body.n !== 1) throw bad('n', 'only one choice per request is supported', 'Send n: 1 (or leave it out) and ask again for more.');
  for (const legacy of ['functions', 'function_call'] as const) {
    if ((body as unknown as Json)[legacy] != null) throw bad(legacy, 'the legacy form of tools is not supported', 'Send the functions as `tools` ({"type":"function","function":{…}}) and `tool_choice`.');
  }
  const fields = clientFields(body as unknown as Json);
  const tools = toolsOf(body);
  const toolChoice = toolChoiceOf(body, tools);
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const stop = body.stop === undefined ? undefined : [body.stop].flat();
  const format = body.response_format;
  return {
    prompt: toPrompt(body.messages),
    ...(tools ? { tools } : {}),
    ...(toolChoice ? { toolChoice } : {}),
    ...(body.temperature === undefined ? {} : { temperature: body.temperature }),
    ...(body.top_p === undefined ? {} : { topP: body.top_p }),
    ...(maxTokens === undefined ? {} : { maxOutputTokens: maxTokens }),
    ...(stop ? { stopSequences: stop } : {}),
    ...(body.seed === undefined ? {} : { seed: body.seed }),
    ...(body.presence_penalty === undefined ? {} : { presencePenalty: body.presence_penalty }),
    ...(body.frequency_penalty === undefined ? {} : { frequencyPenalty: body.frequency_penalty }),
    ...(format?.type === 'json_object' ? { responseFormat: { type: 'json' as const } } : {}),
    ...(fields ? { providerOptions: { [CLIENT_FIELDS]: fields } as CallOptions['providerOptions'] } : {}),
    ...(format?.type === 'json_schema'
      ? { responseFormat: { type: 'json' as const, ...(format.json_schema?.schema ? { schema: format.json_schema.schema as JSONSchema7 } : {}), ...(format.json_schema?.name ? { name: format.json_schema.name } : {}) } }
      : {}),
  };
}
