import type { PantheonEvent } from '../../events.ts';
import { jsonText } from '../terminal-text.ts';

/** `--format json`: one event per line on stdout (exact JSON; see `jsonText`), `tool_pending` aside, `reasoning` only with `--thinking`. */
export class JsonRenderer {
  private readonly out: NodeJS.WritableStream;
  private readonly thinking: boolean;
  constructor(out: NodeJS.WritableStream, options: { thinking?: boolean } = {}) {
    this.out = out;
    this.thinking = Boolean(options.thinking);
  }
  handle(e: PantheonEvent): void {
    // A call still being written is shown by live views (a server's `pending` part, a terminal's line), not in OpenCode's NDJSON.
    if (e.type === 'tool_pending') return;
    // As OpenCode's `run --format json`: reasoning events only when asked for with --thinking.
    if (e.type === 'reasoning' && !this.thinking) return;
    this.out.write(jsonText(e) + '\n');
  }
}
