import type { PantheonEvent } from '../../events.ts';
import { jsonText } from '../terminal-text.ts';

/** `--format json`: one event per line on stdout (exact JSON; see `jsonText`). */
export class JsonRenderer {
  private readonly out: NodeJS.WritableStream;
  constructor(out: NodeJS.WritableStream) {
    this.out = out;
  }
  handle(e: PantheonEvent): void {
    this.out.write(jsonText(e) + '\n');
  }
}
