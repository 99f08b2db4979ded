import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';

/**
 * With `includeRawChunks`, the chain model puts this raw part in the stream when text it already
 * passed on must be dropped (a cut-off answer was asked again and the new one differs).
 */
export const DISCARD_TEXT = { pantheon: 'discard-step-text' } as const;

export function isDiscardText(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && (raw as { pantheon?: unknown }).pantheon === DISCARD_TEXT.pantheon;
}

/**
 * Passes stream parts on, and after a restart swallows the part of the new answer that repeats
 * text already passed on. When the new answer differs, a DISCARD_TEXT raw part (if raw parts are
 * wanted) tells the consumer to drop this step's text so far, and the new answer follows whole.
 */
export class TextReplay {
  private readonly rawWanted: boolean;
  private sent = '';
  /** While replaying: how much of `sent` the new answer has repeated so far (a length, so that each piece is compared alone). */
  private replayed: number | undefined;
  private replayId: string | undefined;
  private readonly open = new Set<string>();

  constructor(rawWanted: boolean) {
    this.rawWanted = rawWanted;
  }

  restart(): void {
    this.replayed = this.sent === '' ? undefined : 0;
  }

  forward(part: LanguageModelV4StreamPart, controller: ReadableStreamDefaultController<LanguageModelV4StreamPart>): void {
    if (this.replayed !== undefined && !this.replaying(part, controller)) return;
    if (part.type === 'text-start') this.open.add(part.id);
    else if (part.type === 'text-end') this.open.delete(part.id);
    else if (part.type === 'text-delta') this.sent += part.delta;
    controller.enqueue(part);
  }

  /** While replaying: false when the part is swallowed, true when it is to be passed on as usual. */
  private replaying(part: LanguageModelV4StreamPart, controller: ReadableStreamDefaultController<LanguageModelV4StreamPart>): boolean {
    const replayed = this.replayed ?? 0;
    if (part.type === 'stream-start' || part.type === 'response-metadata') return false;
    if (part.type === 'text-start' && this.open.has(part.id)) return false;
    if (part.type === 'text-start') return true;
    if (part.type === 'text-delta') {
      this.replayId = part.id;
      // Only the new piece is compared, where the repetition is: a long answer costs its length once.
      if (replayed + part.delta.length <= this.sent.length && this.sent.startsWith(part.delta, replayed)) {
        this.replayed = replayed + part.delta.length;
        return false;
      }
      this.replayed = undefined;
      const sofar = this.sent.slice(0, replayed) + part.delta;
      if (sofar.startsWith(this.sent)) controller.enqueue({ ...part, delta: sofar.slice(this.sent.length) });
      else this.discard(controller, { ...part, delta: sofar });
      this.sent = sofar;
      return false;
    }
    // Any other part ends the repetition; if the new answer stopped short, its text replaces the old.
    this.replayed = undefined;
    if (replayed !== this.sent.length) {
      const replay = this.sent.slice(0, replayed);
      this.discard(controller, replay && this.replayId ? { type: 'text-delta', id: this.replayId, delta: replay } : undefined);
      this.sent = replay;
    }
    return true;
  }

  private discard(controller: ReadableStreamDefaultController<LanguageModelV4StreamPart>, text: LanguageModelV4StreamPart | undefined): void {
    if (this.rawWanted) controller.enqueue({ type: 'raw', rawValue: DISCARD_TEXT });
    if (text) controller.enqueue(text);
  }
}
