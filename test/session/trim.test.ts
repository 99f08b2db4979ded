import { describe, expect, it } from 'vitest';
import type { SessionMessage } from '../../src/session/store.ts';
import { estimateTokens, trimHistory, trimNote } from '../../src/session/trim.ts';
import { conversation } from './helpers.ts';

const tokens = (messages: SessionMessage[]): number => messages.reduce((n, m) => n + estimateTokens(m), 0);

/** A turn where the assistant calls a tool, gets its result, then answers. */
function toolTurn(i: number, size = 400): SessionMessage[] {
  return [
    { role: 'user', content: `read file ${i}` },
    { role: 'assistant', content: [{ type: 'tool-call', toolCallId: `call_${i}`, toolName: 'read', input: { filePath: `f${i}.ts` } }] },
    { role: 'tool', content: [{ type: 'tool-result', toolCallId: `call_${i}`, toolName: 'read', output: { type: 'text', value: 'x'.repeat(size) } }] },
    { role: 'assistant', content: `file ${i} is fine` },
  ];
}

/** Every tool result kept has its call kept, and the other way round. */
function pairsIntact(messages: SessionMessage[]): boolean {
  const ids = (type: string) =>
    messages.flatMap((m) => (Array.isArray(m.content) ? (m.content as { type: string; toolCallId?: string }[]) : []).filter((p) => p.type === type).map((p) => p.toolCallId));
  return JSON.stringify(ids('tool-call').sort()) === JSON.stringify(ids('tool-result').sort());
}

describe('trimHistory', () => {
  it('estimates tokens as about a quarter of the JSON length', () => {
    const m: SessionMessage = { role: 'user', content: 'x'.repeat(400) };
    expect(estimateTokens(m)).toBe(Math.ceil(JSON.stringify(m).length / 4));
    expect(estimateTokens(m)).toBeGreaterThan(100);
  });

  it('a history that fits is sent whole', () => {
    const history = [...conversation(5), { role: 'user', content: 'and now?' } as SessionMessage];
    const r = trimHistory(history, tokens(history) + 100, 100);
    expect(r).toEqual({ messages: history, dropped: 0 });
  });

  it('an unknown context size (undefined) trims nothing', () => {
    const history = conversation(50, 4_000);
    const r = trimHistory(history, undefined, 1_000_000);
    expect(r.dropped).toBe(0);
    expect(r.messages).toEqual(history);
  });

  it('drops the oldest turns first and keeps the newest that fit, whole', () => {
    const history = [...conversation(6), { role: 'user', content: 'the new question' } as SessionMessage];
    const turn = tokens(history.slice(0, 2));
    const last = estimateTokens(history.at(-1));
    // Room for the new message and exactly two earlier turns (plus a little, not a third).
    const r = trimHistory(history, last + 2 * turn + turn / 2 + 500, 500);
    expect(r.dropped).toBe(8);
    expect(r.messages).toEqual(history.slice(8));
    expect(r.messages[0]?.role).toBe('user');
    expect(tokens(r.messages)).toBeLessThanOrEqual(last + 2 * turn + turn / 2);
  });

  it('never separates a tool call from its result: a turn goes whole or not at all', () => {
    const history = [...toolTurn(1), ...toolTurn(2), ...toolTurn(3), { role: 'user', content: 'summarise' } as SessionMessage];
    const newest = estimateTokens(history.at(-1));
    const oneTurn = tokens(toolTurn(3));
    for (let room = 0; room <= 3 * oneTurn; room += 37) {
      const r = trimHistory(history, newest + room, 0);
      expect(pairsIntact(r.messages), `room ${room}`).toBe(true);
      expect(r.dropped % 4, `room ${room}`).toBe(0);
      expect(r.messages.at(-1)).toEqual(history.at(-1));
      expect(tokens(r.messages)).toBeLessThanOrEqual(newest + room);
    }
    // Room for the result alone but not its call and the rest of the turn: the whole turn goes.
    const tool = estimateTokens(history[10]);
    const r = trimHistory(history, newest + tool + 10, 0);
    expect(r.messages).toEqual([history.at(-1)]);
    expect(r.dropped).toBe(12);
  });

  it('keeps the latest user message (and what follows it) even when alone it exceeds the context', () => {
    const huge: SessionMessage = { role: 'user', content: 'y'.repeat(40_000) };
    const history = [...conversation(3), huge];
    const r = trimHistory(history, 1_000, 200);
    expect(r.messages).toEqual([huge]);
    expect(r.dropped).toBe(6);
    const midTurn = [...conversation(2), ...toolTurn(9, 40_000)];
    const t = trimHistory(midTurn, 500, 0);
    expect(t.messages).toEqual(toolTurn(9, 40_000));
    expect(t.dropped).toBe(4);
  });

  it('keeps system messages, and a reserve larger than the context leaves only what must stay', () => {
    const system: SessionMessage = { role: 'system', content: 'You are oracle.' };
    const history = [system, ...conversation(4), { role: 'user', content: 'next' } as SessionMessage];
    const r = trimHistory(history, 8_000, 10_000);
    expect(r.messages).toEqual([system, history.at(-1)]);
    expect(r.dropped).toBe(8);
  });

  it('the note for the user', () => {
    expect(trimNote(12, 8192)).toBe("history trimmed: 12 earlier messages left out to fit the model's context (8192 tokens)");
    expect(trimNote(1, 4096)).toBe("history trimmed: 1 earlier message left out to fit the model's context (4096 tokens)");
  });
});
