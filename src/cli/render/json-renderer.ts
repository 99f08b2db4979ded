import type { PantheonEvent } from '../../events.ts';

/** `--format json`: one event per line on stdout. */
export class JsonRenderer {
  private readonly out: NodeJS.WritableStream;
  constructor(out: NodeJS.WritableStream) {
    this.out = out;
  }
  handle(e: PantheonEvent): void {
    this.out.write(JSON.stringify(e) + '\n');
  }
}
