import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { APICallError, generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { describe, expect, it } from 'vitest';
import type { ScriptedServer } from '../openai-server.ts';
import { useScriptedServers } from './fetch-helpers.ts';

const start = useScriptedServers();

function modelOf(server: ScriptedServer, id = 'm', apiKey?: string) {
  return createOpenAICompatible({ name: 'scripted', baseURL: server.url, apiKey, includeUsage: true })(id);
}

const readTool = tool({
  description: 'Read a file',
  inputSchema: jsonSchema<{ filePath: string }>({
    type: 'object',
    properties: { filePath: { type: 'string' } },
    required: ['filePath'],
  }),
  execute: async ({ filePath }) => `contents of ${filePath}`,
});

/** Runs streamText to the end and returns its text, its errors (parts or thrown) and finish reason. */
async function drain(result: ReturnType<typeof streamText>): Promise<{ text: string; errors: unknown[]; finishReason: string }> {
  let text = '';
  const errors: unknown[] = [];
  let finishReason = '';
  try {
    for await (const part of result.fullStream) {
      if (part.type === 'text-delta') text += part.text;
      if (part.type === 'error') errors.push(part.error);
      if (part.type === 'finish') finishReason = part.finishReason;
    }
  } catch (error) {
    // A connection cut mid-body surfaces as a thrown error rather than an error part.
    errors.push(error);
  }
  return { text, errors, finishReason };
}

describe('the AI SDK openai-compatible client against the scripted server', () => {
  it('generateText gets text and token usage', async () => {
    const server = await start();
    server.script('m', { type: 'text', text: 'Hello from the script', usage: { prompt_tokens: 7, completion_tokens: 5 } });
    const result = await generateText({ model: modelOf(server), prompt: 'hi', maxRetries: 0, temperature: 0.3, maxOutputTokens: 50 });
    expect(result.text).toBe('Hello from the script');
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toMatchObject({ inputTokens: 7, outputTokens: 5 });
    expect(server.log[0]).toMatchObject({ stream: false, temperature: 0.3, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
  });

  it('streamText gets the chunks, the finish reason and usage from the last chunk', async () => {
    const server = await start();
    server.script('m', { type: 'text', chunks: ['One', ' two', ' three'] });
    const result = streamText({ model: modelOf(server), prompt: 'count', maxRetries: 0 });
    const deltas: string[] = [];
    for await (const delta of result.textStream) deltas.push(delta);
    expect(deltas.join('')).toBe('One two three');
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    expect(await result.finishReason).toBe('stop');
    expect(await result.usage).toMatchObject({ inputTokens: 2, outputTokens: 4 });
    expect(server.log[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it.each([false, true])('a tool call round trip works (streamed: %s)', async (streamed) => {
    const server = await start();
    server.script(
      'm',
      { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'notes.txt' }, id: 'call_read' }] },
      { type: 'text', text: 'The file says hello.' },
    );
    const options = { model: modelOf(server), prompt: 'What is in notes.txt?', tools: { read: readTool }, stopWhen: stepCountIs(3), maxRetries: 0 };
    const text = streamed ? await streamText(options).text : (await generateText(options)).text;
    expect(text).toBe('The file says hello.');
    expect(server.log).toHaveLength(2);
    expect(server.log[0]?.tools).toEqual([expect.objectContaining({ type: 'function', function: expect.objectContaining({ name: 'read' }) })]);
    expect(server.log[1]?.messages).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ role: 'assistant', tool_calls: [expect.objectContaining({ id: 'call_read', function: { name: 'read', arguments: '{"filePath":"notes.txt"}' } })] }),
        expect.objectContaining({ role: 'tool', tool_call_id: 'call_read', content: 'contents of notes.txt' }),
      ]),
    );
  });

  it('a 429 becomes a retryable APICallError carrying the status and Retry-After headers', async () => {
    const server = await start();
    server.script('m', { type: 'status', status: 429, retryAfter: 2, retryAfterMs: 1500 }, { type: 'status', status: 400 });
    const error = await generateText({ model: modelOf(server), prompt: 'x', maxRetries: 0 }).catch((caught: unknown) => caught);
    expect(APICallError.isInstance(error)).toBe(true);
    const apiError = error as APICallError;
    expect([apiError.statusCode, apiError.isRetryable]).toEqual([429, true]);
    expect(apiError.responseHeaders).toMatchObject({ 'retry-after': '2', 'retry-after-ms': '1500' });
    expect(apiError.message).toBe('Rate limit reached for requests.');
    const badRequest = (await generateText({ model: modelOf(server), prompt: 'x', maxRetries: 0 }).catch((caught: unknown) => caught)) as APICallError;
    expect([badRequest.statusCode, badRequest.isRetryable]).toEqual([400, false]);
  });

  it('a server-side rate window answers 429 that the client sees as such', async () => {
    let clock = 0;
    const server = await start({ now: () => clock, models: { m: { rateLimit: { maxRequests: 1, windowMs: 60_000 } } } });
    await generateText({ model: modelOf(server), prompt: 'first', maxRetries: 0 });
    clock = 15_000;
    const error = (await generateText({ model: modelOf(server), prompt: 'second', maxRetries: 0 }).catch((caught: unknown) => caught)) as APICallError;
    expect(error.statusCode).toBe(429);
    expect(error.responseHeaders).toMatchObject({ 'retry-after': '45', 'retry-after-ms': '45000' });
    expect(server.stats().overLimit).toBe(1);
  });

  it('a reset connection becomes a retryable network error', async () => {
    const server = await start();
    server.script('m', { type: 'reset' });
    const error = await generateText({ model: modelOf(server), prompt: 'x', maxRetries: 0 }).catch((caught: unknown) => caught);
    expect(APICallError.isInstance(error)).toBe(true);
    expect((error as APICallError).isRetryable).toBe(true);
    expect((error as APICallError).statusCode).toBeUndefined();
  });

  it('a hung request ends when the caller aborts', async () => {
    const server = await start();
    server.script('m', { type: 'hang' });
    const controller = new AbortController();
    const pending = generateText({ model: modelOf(server), prompt: 'x', maxRetries: 0, abortSignal: controller.signal });
    await server.waitForRequests(1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await server.waitFor((log) => log[0]?.endedAt !== null);
    expect(server.log[0]).toMatchObject({ outcome: 'hang', clientAborted: true });
  });

  it('a 200 with a non-JSON body is an error for generateText and an error part for streamText', async () => {
    const server = await start();
    server.script('m', { type: 'bad_json' }, { type: 'bad_json' });
    await expect(generateText({ model: modelOf(server), prompt: 'x', maxRetries: 0 })).rejects.toThrow();
    const streamed = await drain(streamText({ model: modelOf(server), prompt: 'x', maxRetries: 0, onError: () => undefined }));
    expect(streamed.errors.length).toBeGreaterThan(0);
    expect(streamed.text).toBe('');
  });

  it('a truncated stream yields the partial text and then an error, never a clean finish', async () => {
    const server = await start();
    server.script('m', { type: 'truncated', text: 'half an answ' }, { type: 'truncated', text: 'cut off', abrupt: true });
    const clean = await drain(streamText({ model: modelOf(server), prompt: 'x', maxRetries: 0, onError: () => undefined }));
    expect(clean.text).toBe('half an answ');
    expect(clean.errors.length).toBeGreaterThan(0);
    expect(clean.finishReason).not.toBe('stop');
    const abrupt = await drain(streamText({ model: modelOf(server), prompt: 'x', maxRetries: 0, onError: () => undefined }));
    expect(abrupt.text).toBe('cut off');
    expect(abrupt.errors.length).toBeGreaterThan(0);
    expect(abrupt.finishReason).not.toBe('stop');
  });

  it('with a required key: 401 without it, success with it, and the key as sent in the log', async () => {
    const server = await start({ apiKey: 'sk-right' });
    const error = (await generateText({ model: modelOf(server, 'm', 'sk-wrong'), prompt: 'x', maxRetries: 0 }).catch((caught: unknown) => caught)) as APICallError;
    expect([error.statusCode, error.isRetryable]).toEqual([401, false]);
    const result = await generateText({ model: modelOf(server, 'm', 'sk-right'), prompt: 'knock', maxRetries: 0 });
    expect(result.text).toBe('echo: knock');
    expect(server.log.map((entry) => entry.headers.authorization)).toEqual(['Bearer sk-wrong', 'Bearer sk-right']);
  });
});
