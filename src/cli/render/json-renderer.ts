import type { PantheonEvent } from '../../events.ts';
import { jsonText } from '../terminal-text.ts';

/** `--format json`: one event per line on stdout (exact JSON; see `jsonText`), `tool_pending` aside. */
export class JsonRenderer {
  private readonly out: NodeJS.WritableStream;
  constructor(out: NodeJS.WritableStream) {
    this.out = out;
  }
  handle(e: PantheonEvent): void {
    // A call still being written is shown by live views (a server's `pending` part, a terminal's line), not in OpenCode's NDJSON.
    if (e.type === 'tool_pending') return;
    this.out.write(jsonText(e) + '\n');
  }
}
