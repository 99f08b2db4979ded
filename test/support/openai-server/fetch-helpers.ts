/**
 * Helpers for the scripted server's own tests: servers closed after each test, a plain-fetch
 * chat request, and SSE parsing.
 */
import { afterEach } from 'vitest';
import { startScriptedServer } from '../openai-server.ts';
import type { ScriptedServer, ScriptedServerOptions } from '../openai-server.ts';

/** Registers an afterEach that closes every server started through the returned function. */
export function useScriptedServers(): (options?: ScriptedServerOptions) => Promise<ScriptedServer> {
  const servers: ScriptedServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  return async (options = {}) => {
    const server = await startScriptedServer(options);
    servers.push(server);
    return server;
  };
}

export interface ChatRequest {
  model?: string;
  stream?: boolean;
  includeUsage?: boolean;
  content?: string;
  extra?: Record<string, unknown>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export function chat(server: ScriptedServer, request: ChatRequest = {}): Promise<Response> {
  const body = {
    model: request.model ?? 'm',
    messages: [{ role: 'user', content: request.content ?? 'Hello there' }],
    ...(request.stream === true ? { stream: true } : {}),
    ...(request.includeUsage === true ? { stream_options: { include_usage: true } } : {}),
    ...request.extra,
  };
  return fetch(`${server.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...request.headers },
    body: JSON.stringify(body),
    signal: request.signal,
  });
}

/** The `data:` payloads of an SSE body, [DONE] included. */
export function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice('data: '.length));
}

export interface Chunk {
  choices: { delta: Record<string, unknown>; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

export function chunks(text: string): Chunk[] {
  return sseData(text)
    .filter((data) => data !== '[DONE]')
    .map((data) => JSON.parse(data) as Chunk);
}

export function streamedText(parsed: Chunk[]): string {
  return parsed.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
}
