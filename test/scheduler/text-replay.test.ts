import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { describe, expect, it } from 'vitest';
import { DISCARD_TEXT, TextReplay, isDiscardText } from '../../src/scheduler/text-replay.ts';

const start: LanguageModelV4StreamPart = { type: 'stream-start', warnings: [] };
const open: LanguageModelV4StreamPart = { type: 'text-start', id: 't' };
const delta = (text: string): LanguageModelV4StreamPart => ({ type: 'text-delta', id: 't', delta: text });
const end: LanguageModelV4StreamPart = { type: 'text-end', id: 't' };

/** Feeds a first (cut-off) attempt, restarts, feeds the second; returns what was passed on. */
function play(first: LanguageModelV4StreamPart[], second: LanguageModelV4StreamPart[], rawWanted = true): LanguageModelV4StreamPart[] {
  const out: LanguageModelV4StreamPart[] = [];
  const controller = { enqueue: (p: LanguageModelV4StreamPart) => out.push(p) } as unknown as ReadableStreamDefaultController<LanguageModelV4StreamPart>;
  const replay = new TextReplay(rawWanted);
  for (const p of first) replay.forward(p, controller);
  replay.restart();
  for (const p of second) replay.forward(p, controller);
  return out;
}

const texts = (parts: LanguageModelV4StreamPart[]) => parts.map((p) => (p.type === 'text-delta' ? p.delta : p.type === 'raw' ? '<discard>' : `<${p.type}>`));

describe('TextReplay', () => {
  it('passes a new answer that repeats the cut-off one on seamlessly', () => {
    const out = play([start, open, delta('The '), delta('ans')], [start, open, delta('The answer'), delta(' is 42.'), end]);
    expect(texts(out)).toEqual(['<stream-start>', '<text-start>', 'The ', 'ans', 'wer', ' is 42.', '<text-end>']);
  });

  it('tells the consumer to drop the old text when the new answer differs', () => {
    const out = play([start, open, delta('The answer')], [start, open, delta('A different'), delta(' one.'), end]);
    expect(texts(out)).toEqual(['<stream-start>', '<text-start>', 'The answer', '<discard>', 'A different', ' one.', '<text-end>']);
    expect(isDiscardText((out[3] as { rawValue: unknown }).rawValue)).toBe(true);
    expect(isDiscardText({ pantheon: 'other' })).toBe(false);
    expect(DISCARD_TEXT.pantheon).toBe('discard-step-text');
  });

  it('replaces the old text when the new answer stops short of it', () => {
    const out = play([start, open, delta('The answer is')], [start, open, delta('The'), end]);
    expect(texts(out)).toEqual(['<stream-start>', '<text-start>', 'The answer is', '<discard>', 'The', '<text-end>']);
  });

  it('without raw parts wanted it still sends the new answer whole', () => {
    const out = play([open, delta('abc')], [open, delta('xyz'), end], false);
    expect(texts(out)).toEqual(['<text-start>', 'abc', 'xyz', '<text-end>']);
  });

  it('swallows a long repetition piece by piece, and passes on what follows it', () => {
    const pieces = Array.from({ length: 20_000 }, (_, i) => String.fromCharCode(97 + (i % 26)));
    const out = play([open, ...pieces.map(delta)], [open, ...pieces.map(delta), delta('!'), end]);
    expect(texts(out)).toEqual(['<text-start>', ...pieces, '!', '<text-end>']);
    const short = play([open, ...pieces.map(delta)], [open, ...pieces.slice(0, 10).map(delta), delta('?'), end]);
    expect(texts(short)).toEqual(['<text-start>', ...pieces, '<discard>', `${pieces.slice(0, 10).join('')}?`, '<text-end>']);
  });

  it('passes everything on when nothing was sent before the restart', () => {
    const out = play([start], [start, open, delta('fresh'), end]);
    expect(texts(out)).toEqual(['<stream-start>', '<stream-start>', '<text-start>', 'fresh', '<text-end>']);
  });
});
