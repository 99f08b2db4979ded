/**
 * The request schemas of `/v1/chat/completions` (published at /doc, checked before the handler runs:
 * a body that does not fit is a 400 naming the field). Fields OpenAI clients send that Pantheon does
 * not read itself (`user`, `metadata`, `parallel_tool_calls`, …) pass, and go up as they are to
 * OpenAI-compatible models (providers/openai-wire.ts, clientFields).
 */
import { ref, type JsonSchema } from '../route.ts';

const text: JsonSchema = { type: 'object', properties: { type: { type: 'string', const: 'text' }, text: { type: 'string' } }, required: ['type', 'text'] };
const image: JsonSchema = {
  type: 'object',
  properties: { type: { type: 'string', const: 'image_url' }, image_url: { type: 'object', properties: { url: { type: 'string', maxLength: 20_000_000 }, detail: { type: 'string' } }, required: ['url'] } },
  required: ['type', 'image_url'],
};
const textContent: JsonSchema = { anyOf: [{ type: 'string' }, { type: 'array', items: text }, { type: 'null' }] };
const role = (name: string): JsonSchema => ({ type: 'string', const: name });

const toolCall: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', minLength: 1 },
    type: { type: 'string', const: 'function' },
    function: { type: 'object', properties: { name: { type: 'string', minLength: 1 }, arguments: { type: 'string' } }, required: ['name', 'arguments'] },
  },
  required: ['id', 'function'],
};

export const CHAT_SCHEMAS: Record<string, JsonSchema> = {
  ChatMessage: {
    oneOf: [
      { type: 'object', properties: { role: role('system'), content: textContent }, required: ['role', 'content'] },
      { type: 'object', properties: { role: role('developer'), content: textContent }, required: ['role', 'content'] },
      { type: 'object', properties: { role: role('user'), content: { anyOf: [{ type: 'string' }, { type: 'array', items: { oneOf: [text, image], discriminator: { propertyName: 'type' } } }] } }, required: ['role', 'content'] },
      { type: 'object', properties: { role: role('assistant'), content: textContent, tool_calls: { type: 'array', items: toolCall, maxItems: 128 } }, required: ['role'] },
      { type: 'object', properties: { role: role('tool'), content: textContent, tool_call_id: { type: 'string', minLength: 1 } }, required: ['role', 'content', 'tool_call_id'] },
    ],
    discriminator: { propertyName: 'role' },
  },
  ChatTool: {
    type: 'object',
    properties: {
      type: { type: 'string', const: 'function' },
      function: {
        type: 'object',
        properties: { name: { type: 'string', minLength: 1, maxLength: 64 }, description: { type: 'string' }, parameters: { type: 'object', description: 'A JSON Schema of "type": "object"' }, strict: { type: ['boolean', 'null'] } },
        required: ['name'],
      },
    },
    required: ['type', 'function'],
  },
  ChatCompletionRequest: {
    type: 'object',
    properties: {
      model: { type: 'string', minLength: 1, maxLength: 256, description: '`provider/model[:variant]` (then the top-level fallbacks) or `agent/<name>`' },
      messages: { type: 'array', items: ref('ChatMessage'), maxItems: 10_000 },
      stream: { type: ['boolean', 'null'] },
      stream_options: { type: ['object', 'null'], properties: { include_usage: { type: 'boolean' } } },
      tools: { type: 'array', items: ref('ChatTool'), maxItems: 128 },
      tool_choice: {
        anyOf: [
          { type: 'string', enum: ['auto', 'none', 'required'] },
          { type: 'object', properties: { type: { type: 'string', const: 'function' }, function: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } }, required: ['type', 'function'] },
        ],
      },
      temperature: { type: ['number', 'null'], minimum: 0, maximum: 2 },
      top_p: { type: ['number', 'null'], minimum: 0, maximum: 1 },
      max_tokens: { type: ['integer', 'null'], minimum: 1, maximum: 10_000_000 },
      max_completion_tokens: { type: ['integer', 'null'], minimum: 1, maximum: 10_000_000 },
      stop: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 4 }, { type: 'null' }] },
      seed: { type: ['integer', 'null'] },
      presence_penalty: { type: ['number', 'null'], minimum: -2, maximum: 2 },
      frequency_penalty: { type: ['number', 'null'], minimum: -2, maximum: 2 },
      n: { type: ['integer', 'null'], minimum: 1, maximum: 1 },
      response_format: { type: 'object', properties: { type: { type: 'string', enum: ['text', 'json_object', 'json_schema'] } }, required: ['type'] },
    },
    required: ['model', 'messages'],
  },
  OpenAIError: {
    type: 'object',
    properties: { error: { type: 'object', properties: { message: { type: 'string' }, type: { type: 'string' }, param: { type: ['string', 'null'] }, code: { type: ['string', 'null'] } }, required: ['message', 'type', 'code'] } },
    required: ['error'],
  },
};
