/**
 * The Responses API's shapes of an answer that carries the model's reasoning (the scripted server
 * sends none): a `reasoning` item before the message, whole and streamed.
 */
import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { streamOfParts } from '../../src/scheduler/stream-parts.ts';
import { newResponse, responseJson, responseSse } from '../../src/server/openai/responses-response.ts';

const finish: LanguageModelV4StreamPart = {
  type: 'finish',
  finishReason: { unified: 'stop', raw: 'stop' },
  usage: { inputTokens: { total: 5, noCache: 5, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 9, text: 4, reasoning: 5 } },
};
const list: LanguageModelV4StreamPart[] = [
  { type: 'reasoning-delta', id: 'r', delta: 'think ' },
  { type: 'reasoning-delta', id: 'r', delta: 'first' },
  { type: 'text-delta', id: 't', delta: 'the answer' },
  finish,
];
const parts = (): ReadableStream<LanguageModelV4StreamPart> => streamOfParts(list);

describe('Responses output with reasoning', () => {
  it('whole: a reasoning item with its text, then the message; reasoning tokens in the usage (from a stream or the parts)', async () => {
    for (const answer of [{ stream: parts() }, { parts: list }]) {
      const json = (await responseJson(newResponse('p/m', { model: 'p/m', input: 'q' }), answer)) as { output: { type: string; content: unknown[] }[]; usage: { output_tokens_details: object } };
      expect(json.output.map((o) => o.type)).toEqual(['reasoning', 'message']);
      expect(json.output[0]?.content).toEqual([{ type: 'reasoning_text', text: 'think first' }]);
      expect(json.usage.output_tokens_details).toEqual({ reasoning_tokens: 5 });
    }
  });

  it('streamed: the reasoning item opens, takes its deltas and closes before the message opens', async () => {
    const text = await new Response(responseSse(newResponse('p/m', { model: 'p/m', input: 'q' }), parts(), { renderError: () => ({ error: {} }) })).text();
    const events = [...text.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
    expect(events).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.reasoning_text.delta',
      'response.reasoning_text.delta',
      'response.reasoning_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const completed = JSON.parse(text.trim().split('\n').at(-1)?.slice('data: '.length) ?? '{}') as { response: { output: { type: string }[] } };
    expect(completed.response.output.map((o) => o.type)).toEqual(['reasoning', 'message']);
  });
});
