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
  private replay: string | undefined;
  private replayId: string | undefined;
  private readonly open = new Set<string>();

  constructor(rawWanted: boolean) {
    this.rawWanted = rawWanted;
  }

  restart(): void {
    this.replay = this.sent === '' ? undefined : '';
  }

  forward(part: LanguageModelV4StreamPart, controller: ReadableStreamDefaultController<LanguageModelV4StreamPart>): void {
    if (this.replay !== undefined && !this.replaying(part, controller)) return;
    if (part.type === 'text-start') this.open.add(part.id);
    else if (part.type === 'text-end') this.open.delete(part.id);
    else if (part.type === 'text-delta') this.sent += part.delta;
    controller.enqueue(part);
  }

  /** While replaying: false when the part is swallowed, true when it is to be passed on as usual. */
  private replaying(part: LanguageModelV4StreamPart, controller: ReadableStreamDefaultController<LanguageModelV4StreamPart>): boolean {
    const replay = this.replay ?? '';
    if (part.type === 'stream-start' || part.type === 'response-metadata') return false;
    if (part.type === 'text-start' && this.open.has(part.id)) return false;
    if (part.type === 'text-start') return true;
    if (part.type === 'text-delta') {
      const sofar = replay + part.delta;
      this.replayId = part.id;
      if (this.sent.startsWith(sofar)) {
        this.replay = sofar;
        return false;
      }
      this.replay = undefined;
      if (sofar.startsWith(this.sent)) controller.enqueue({ ...part, delta: sofar.slice(this.sent.length) });
      else this.discard(controller, { ...part, delta: sofar });
      this.sent = sofar;
      return false;
    }
    // Any other part ends the repetition; if the new answer stopped short, its text replaces the old.
    this.replay = undefined;
    if (replay !== this.sent) {
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
