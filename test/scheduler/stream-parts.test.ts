/**
 * What the response cache keeps of an answer (Collector) and replays (partsFromResponse): its text,
 * tool calls and reasoning blocks, each block's provider metadata as its parts left it.
 */
import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { Collector, emptyUsage, partsFromResponse } from '../../src/scheduler/stream-parts.ts';

describe('Collector and partsFromResponse', () => {
  it('keep reasoning blocks in order, interleaved or not, with their metadata merged provider by provider', () => {
    const parts: LanguageModelV4StreamPart[] = [
      { type: 'stream-start', warnings: [] },
      { type: 'reasoning-start', id: 'a', providerMetadata: { openai: { itemId: 'rs_a' } } },
      { type: 'reasoning-start', id: 'b' },
      { type: 'reasoning-delta', id: 'a', delta: 'Look at ' },
      { type: 'reasoning-delta', id: 'b', delta: 'Second.' },
      { type: 'reasoning-delta', id: 'a', delta: 'the file.' },
      // Anthropic's signature comes on an empty delta; OpenAI's encrypted content on the end.
      { type: 'reasoning-delta', id: 'b', delta: '', providerMetadata: { anthropic: { signature: 'sig-b' } } },
      { type: 'reasoning-end', id: 'a', providerMetadata: { openai: { reasoningEncryptedContent: 'enc-a' } } },
      { type: 'reasoning-end', id: 'b' },
      { type: 'text-start', id: 't' },
      { type: 'text-delta', id: 't', delta: 'Done.' },
      { type: 'text-end', id: 't' },
      { type: 'tool-call', toolCallId: 'c1', toolName: 'read', input: '{"filePath":"a.ts"}' },
      { type: 'finish', finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage: emptyUsage(10, 4) },
    ];
    const collector = new Collector();
    for (const part of parts) collector.add(part);
    expect(collector.response.reasoning).toEqual([
      { text: 'Look at the file.', providerMetadata: { openai: { itemId: 'rs_a', reasoningEncryptedContent: 'enc-a' } } },
      { text: 'Second.', providerMetadata: { anthropic: { signature: 'sig-b' } } },
    ]);
    const replayed = partsFromResponse(collector.response);
    expect(replayed.filter((p) => p.type.startsWith('reasoning'))).toEqual([
      { type: 'reasoning-start', id: 'cached-reasoning-0', providerMetadata: { openai: { itemId: 'rs_a', reasoningEncryptedContent: 'enc-a' } } },
      { type: 'reasoning-delta', id: 'cached-reasoning-0', delta: 'Look at the file.' },
      { type: 'reasoning-end', id: 'cached-reasoning-0', providerMetadata: { openai: { itemId: 'rs_a', reasoningEncryptedContent: 'enc-a' } } },
      { type: 'reasoning-start', id: 'cached-reasoning-1', providerMetadata: { anthropic: { signature: 'sig-b' } } },
      { type: 'reasoning-delta', id: 'cached-reasoning-1', delta: 'Second.' },
      { type: 'reasoning-end', id: 'cached-reasoning-1', providerMetadata: { anthropic: { signature: 'sig-b' } } },
    ]);
    // The reasoning before the text and the calls, as the model gave them.
    expect(replayed.map((p) => p.type)).toEqual(['stream-start', 'reasoning-start', 'reasoning-delta', 'reasoning-end', 'reasoning-start', 'reasoning-delta', 'reasoning-end', 'text-start', 'text-delta', 'text-end', 'tool-call', 'finish']);
  });

  it('an answer without reasoning keeps none (no empty list)', () => {
    const collector = new Collector();
    collector.add({ type: 'text-delta', id: 't', delta: 'Hi.' });
    expect(collector.response).not.toHaveProperty('reasoning');
    expect(partsFromResponse(collector.response).some((p) => p.type.startsWith('reasoning'))).toBe(false);
  });
});
