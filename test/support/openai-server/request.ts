/**
 * Reading a chat-completions (or text-completions) request into a log entry, and small HTTP helpers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody } from './payloads.ts';
import { send } from './respond.ts';
import type { RequestLogEntry } from './types.ts';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function flattenHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

export interface ChatRequest {
  entry: RequestLogEntry;
  /** The problem to answer with 400, if the body is not a usable chat request. */
  invalid: string | undefined;
  includeUsage: boolean;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

/** What OpenAI's API answers (400) for a message list it refuses, as a real provider checks it; undefined when it takes it. */
function messagesProblem(messages: unknown[]): string | undefined {
  for (const [i, m] of messages.entries()) {
    if (!isRecord(m)) return `Invalid type for 'messages[${i}]': expected an object.`;
    if (typeof m.role !== 'string' || !ROLES.has(m.role)) return `Invalid value for 'messages[${i}].role'.`;
    if (m.tool_calls === undefined || m.tool_calls === null) continue;
    if (m.role !== 'assistant') return `Additional properties are not allowed ('tool_calls' was unexpected) in 'messages[${i}]'.`;
    if (!Array.isArray(m.tool_calls)) return `Invalid type for 'messages[${i}].tool_calls': expected an array.`;
    const bad = (m.tool_calls as unknown[]).findIndex((c) => !isRecord(c) || !isRecord(c.function));
    if (bad >= 0) return `Invalid type for 'messages[${i}].tool_calls[${bad}]': expected an object with a function.`;
  }
  return undefined;
}

/** A fresh log entry: outcome `status` until a step answers, nothing sent yet. */
export function logEntry(req: IncomingMessage, seq: number, startedAt: number, fields: Pick<RequestLogEntry, 'model' | 'endpoint' | 'stream' | 'messages' | 'tools' | 'temperature' | 'top_p' | 'max_tokens' | 'body'>): RequestLogEntry {
  return { seq, startedAt, endedAt: null, status: null, outcome: 'status', step: undefined, limit: undefined, clientAborted: false, headers: flattenHeaders(req.headers), usage: undefined, ...fields };
}

/** A request body as parsed (the raw text when it is not JSON), its fields, its model, and what OpenAI would answer 400 for so far. */
export function parseRequestBody(raw: string): { body: unknown; record: Record<string, unknown>; model: string; invalid: string | undefined } {
  let body: unknown = raw;
  let invalid: string | undefined;
  try {
    body = JSON.parse(raw);
  } catch {
    invalid = 'We could not parse the JSON body of your request.';
  }
  const record = isRecord(body) ? body : {};
  const model = typeof record.model === 'string' ? record.model : '';
  if (invalid === undefined && !isRecord(body)) invalid = 'The request body must be a JSON object.';
  if (invalid === undefined && model === '') invalid = 'You must provide a model parameter.';
  return { body, record, model, invalid };
}

/** Parses a raw request body into a fresh log entry (outcome `status` until a step answers). */
export function readChatRequest(req: IncomingMessage, raw: string, seq: number, startedAt: number): ChatRequest {
  const parsed = parseRequestBody(raw);
  const { body, record, model } = parsed;
  let invalid = parsed.invalid;
  if (invalid === undefined && !Array.isArray(record.messages)) invalid = "'messages' is a required property.";
  if (invalid === undefined) invalid = messagesProblem(record.messages as unknown[]);
  const streamOptions = isRecord(record.stream_options) ? record.stream_options : {};
  const entry = logEntry(req, seq, startedAt, {
    model,
    endpoint: 'chat',
    stream: record.stream === true,
    messages: Array.isArray(record.messages) ? record.messages : [],
    tools: Array.isArray(record.tools) ? record.tools : undefined,
    temperature: optionalNumber(record.temperature),
    top_p: optionalNumber(record.top_p),
    max_tokens: optionalNumber(record.max_tokens ?? record.max_completion_tokens),
    body,
  });
  return { entry, invalid, includeUsage: streamOptions.include_usage === true };
}

/**
 * Parses a text-completions body (`POST /v1/completions`) into a fresh log entry (endpoint
 * `completions`); its prompt is logged as one user message, so `echo` steps and the token
 * estimate read it as they read a chat request's. One prompt per request, as a string or a token
 * array (a list of one of either too).
 */
export function readCompletionsRequest(req: IncomingMessage, raw: string, seq: number, startedAt: number): ChatRequest {
  const parsed = parseRequestBody(raw);
  const { body, record, model } = parsed;
  let invalid = parsed.invalid;
  const given = Array.isArray(record.prompt) && record.prompt.length === 1 && typeof record.prompt[0] !== 'number' ? record.prompt[0] : record.prompt;
  const prompt = typeof given === 'string' ? given : Array.isArray(given) && given.every((n) => typeof n === 'number') ? given.join(' ') : undefined;
  if (invalid === undefined && prompt === undefined) invalid = "'prompt' must be a string or a token array.";
  const streamOptions = isRecord(record.stream_options) ? record.stream_options : {};
  const entry = logEntry(req, seq, startedAt, {
    model,
    endpoint: 'completions',
    stream: record.stream === true,
    messages: [{ role: 'user', content: prompt ?? '' }],
    tools: undefined,
    temperature: optionalNumber(record.temperature),
    top_p: optionalNumber(record.top_p),
    max_tokens: optionalNumber(record.max_tokens),
    body,
  });
  return { entry, invalid, includeUsage: streamOptions.include_usage === true };
}

/** `send`, recording the status in the log entry (when the request is logged). */
export function reply(res: ServerResponse, entry: RequestLogEntry | undefined, status: number, body: unknown, headers?: Record<string, string>): void {
  if (entry !== undefined) entry.status = status;
  send(res, status, body, headers);
}

/** 401 unless the request carries `Bearer <key>` or no key is needed; returns whether it may go on. */
export function checkKey(req: IncomingMessage, res: ServerResponse, entry: RequestLogEntry | undefined, key: string | undefined): boolean {
  const header = req.headers.authorization;
  if (key === undefined || header === `Bearer ${key}`) return true;
  const message =
    header === undefined
      ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
      : 'Incorrect API key provided.';
  reply(res, entry, 401, errorBody(401, message));
  return false;
}
