/**
 * A terminal's WebSocket as OpenCode's web app reads it, through the real `ws` client: text frames
 * are output, a binary frame 0x00 + JSON is the cursor. `until` waits for the output read so far to
 * match; a refused upgrade resolves with its HTTP status and body instead.
 */
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';

interface WsClient {
  send(data: string | Uint8Array): void;
  close(code?: number): void;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): void;
  on(event: 'open', listener: () => void): void;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  /** ws's own: the TCP socket, which a test pauses to play a client that stops reading. */
  readonly _socket: { pause(): void; resume(): void };
  on(event: 'unexpected-response', listener: (req: unknown, res: IncomingMessage) => void): void;
}
type WsConstructor = new (url: string, options?: { headers?: Record<string, string> }) => WsClient;
const WebSocket = createRequire(import.meta.url)('ws') as WsConstructor;
const TAIL = 64 * 1024;

export interface Attached {
  ws: WsClient;
  /** The output read so far. */
  output(): string;
  /** The cursors the server sent. */
  cursors: number[];
  /** Resolves once the output read so far (its last 64 KiB) matches. */
  until(pattern: RegExp): Promise<string>;
  /** Resolves with the close code once the server (or the client) closes. */
  closed: Promise<number>;
}

export type Connected = { attached: Attached } | { refused: { status: number; body: string } };

export function connectTerminal(url: string, path: string, headers: Record<string, string> = {}): Promise<Connected> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + path, { headers });
    let text = '';
    let tail = '';
    const cursors: number[] = [];
    const waiters: { pattern: RegExp; resolve: (s: string) => void; reject: (e: Error) => void }[] = [];
    let closeCode: (code: number) => void = () => undefined;
    const closed = new Promise<number>((r) => (closeCode = r));
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        if (data[0] === 0) cursors.push((JSON.parse(data.subarray(1).toString('utf8')) as { cursor: number }).cursor);
        return;
      }
      const chunk = data.toString('utf8');
      text += chunk;
      // Only the last 64 KiB is searched, kept apart: a flood of output comes in thousands of messages.
      tail = (tail + chunk).slice(-TAIL);
      for (const w of [...waiters]) {
        if (!w.pattern.test(tail)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(text);
      }
    });
    ws.on('close', (code) => {
      closeCode(code);
      for (const w of waiters.splice(0)) w.reject(new Error(`the socket closed (${code}) before the output matched ${w.pattern}; it read ${JSON.stringify(text.slice(-500))}`));
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ refused: { status: res.statusCode ?? 0, body } }));
    });
    ws.on('error', (error) => reject(error));
    ws.on('open', () =>
      resolve({
        attached: {
          ws,
          output: () => text,
          cursors,
          until: (pattern) => (pattern.test(tail) ? Promise.resolve(text) : new Promise((res, rej) => waiters.push({ pattern, resolve: res, reject: rej }))),
          closed,
        },
      }),
    );
  });
}

/** The attached socket, or a failure saying why the upgrade was refused. */
export function attached(c: Connected): Attached {
  if ('refused' in c) throw new Error(`the upgrade was refused: ${c.refused.status} ${c.refused.body}`);
  return c.attached;
}

/** The refusal, or a failure if the socket opened. */
export function refused(c: Connected): { status: number; body: string } {
  if ('attached' in c) {
    c.attached.ws.close();
    throw new Error('the upgrade was accepted');
  }
  return c.refused;
}
