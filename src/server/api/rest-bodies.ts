/**
 * The request bodies of the guide's REST API (/api/v1): a prompt's fields (its text, model in any of
 * the shapes clients send, temperature, answer length, callback) and a session's (PATCH, POST), as
 * schemas the route table checks and as what the core takes.
 */
import type { Config } from '../../config/schema-types.ts';
import type { TaskInput } from '../../core/async-tasks.ts';
import type { SessionFields } from '../../core/sessions.ts';
import { isPantheonError } from '../../errors.ts';
import { resolveModel } from '../../providers/resolve-model.ts';
import { HttpError } from '../http-error.ts';
import type { JsonSchema } from '../route.ts';

const MODEL_CHOICE: JsonSchema = {
  description: 'The head of the agent’s chain: `provider/model[:variant]`, `{provider, id}` (the guide’s, as an agent’s `model` in the config) or `{providerID, modelID}` (OpenCode’s)',
  anyOf: [
    { type: 'string', minLength: 1 },
    { type: 'object', properties: { provider: { type: 'string', minLength: 1 }, id: { type: 'string', minLength: 1 } }, required: ['provider', 'id'], additionalProperties: false },
    { type: 'object', properties: { providerID: { type: 'string', minLength: 1 }, modelID: { type: 'string', minLength: 1 } }, required: ['providerID', 'modelID'], additionalProperties: false },
  ],
};

/** The session fields PATCH (the guide's) and POST take. */
export const SESSION_FIELDS: Record<string, JsonSchema> = {
  tags: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 100 }, maxItems: 50 },
  model: { anyOf: [MODEL_CHOICE, { type: 'null' }, { type: 'string', maxLength: 0 }], description: 'As a prompt’s `model`; null or "" clears it' },
  systemPrompt: { type: 'string', maxLength: 100_000, description: 'Added to the agent’s system prompt in every turn ("" clears it)' },
};

export interface SessionBody {
  title?: string;
  tags?: string[];
  model?: ModelChoice | null;
  systemPrompt?: string;
}

/** A session body's fields as the sessions take them (its model checked against `config`). */
export function sessionFields(config: Config, env: NodeJS.ProcessEnv, b: SessionBody): SessionFields {
  const model = b.model === undefined ? undefined : sessionModel(config, b.model, env);
  return {
    ...(b.title === undefined ? {} : { title: b.title }),
    ...(b.tags === undefined ? {} : { tags: b.tags }),
    ...(model === undefined ? {} : { model }),
    ...(b.systemPrompt === undefined ? {} : { system: b.systemPrompt }),
  };
}

/** A model ref the session's turns can resolve, from any of the prompt's model shapes ('' or null: none). */
function sessionModel(config: Config, choice: ModelChoice | null, env: NodeJS.ProcessEnv): string {
  if (choice === null || choice === '') return '';
  const ref = modelRef(choice);
  try {
    resolveModel(config, ref, { env }, 'model');
  } catch (error) {
    if (!isPantheonError(error)) throw error;
    throw new HttpError(400, 'BAD_REQUEST', `model: ${error.message.replace(/^model: /, '')}`, { ...(error.hint ? { hint: error.hint } : {}), details: { field: 'model' } });
  }
  return ref;
}

/** A model as the guide's ModelConfig gives it (`{provider, id}`, as an agent's `model` in the config), OpenCode's API (`{providerID, modelID}`), or a ref. */
export type ModelChoice = string | { provider: string; id: string } | { providerID: string; modelID: string };

export interface PromptBody {
  parts?: { type: string; text?: string }[];
  text?: string;
  model?: ModelChoice;
  agent?: string;
  system?: string;
  temperature?: number;
  max_tokens?: number;
  stream?: boolean;
  callback_url?: string;
  callback_secret?: string;
}

function modelRef(model: ModelChoice): string {
  if (typeof model === 'string') return model;
  return 'provider' in model ? `${model.provider}/${model.id}` : `${model.providerID}/${model.modelID}`;
}

export function promptOf(body: PromptBody): TaskInput {
  const text = body.text ?? (body.parts ?? []).filter((p) => p.type === 'text').map((p) => p.text ?? '').join('\n');
  if (!text.trim()) throw new HttpError(400, 'BAD_REQUEST', 'parts: the prompt has no text.', { hint: 'Send {"parts": [{"type": "text", "text": "…"}]}.', details: { field: 'parts' } });
  if (body.stream === true) {
    throw new HttpError(400, 'BAD_REQUEST', 'stream: this API answers a prompt in one piece.', {
      hint: 'Leave "stream" out; for the answer as it is written, follow GET /event, or use POST /v1/chat/completions with "stream": true.',
      details: { field: 'stream' },
    });
  }
  return {
    text,
    ...(body.model ? { model: modelRef(body.model) } : {}),
    ...(body.agent ? { agent: body.agent } : {}),
    ...(body.system ? { system: body.system } : {}),
    ...(body.temperature === undefined ? {} : { temperature: body.temperature }),
    ...(body.max_tokens === undefined ? {} : { maxOutputTokens: body.max_tokens }),
  };
}

const PART: Record<string, unknown> = { type: 'object', properties: { type: { type: 'string' }, text: { type: 'string' } }, required: ['type'] };
export const PROMPT_BODY = {
  type: 'object' as const,
  properties: {
    parts: { type: 'array' as const, items: PART as never, maxItems: 1000 },
    text: { type: 'string' as const },
    model: MODEL_CHOICE,
    agent: { type: 'string' as const },
    system: { type: 'string' as const },
    temperature: { type: 'number' as const, minimum: 0, maximum: 2, description: 'Sampling temperature for this prompt, over the agent’s' },
    max_tokens: { type: 'integer' as const, minimum: 1, maximum: 100_000, description: 'At most this many tokens per answer, over the model’s `limit.output`' },
    stream: { type: 'boolean' as const, description: 'Only false: the answer comes in one piece (see GET /event for live events)' },
    callback_url: { type: 'string' as const, format: 'uri', maxLength: 2048, description: 'prompt_async only: where task.completed / task.failed is POSTed' },
    callback_secret: { type: 'string' as const, minLength: 1, maxLength: 512, description: 'prompt_async only: signs the callback (x-opencode-signature); kept in memory, never stored' },
  },
  // A misspelt field (`max_token`, `temprature`) is named in a 400, not dropped without a word.
  additionalProperties: false,
};
