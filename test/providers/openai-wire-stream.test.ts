/**
 * The gateway's own reader of a streamed OpenAI answer (providers/openai-wire-parts.ts) over a real
 * socket: events split anywhere across network chunks read the same as whole ones, and a provider
 * that never ends its line or its event is cut off at a bound with a clear error instead of growing
 * the server's memory without end.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { WireStream } from '../../src/providers/openai-wire-parts.ts';

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** Serves one answer written by `write`, and returns the stream reading it. */
async function answer(write: (res: http.ServerResponse) => void): Promise<WireStream> {
  server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    write(res);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`http://127.0.0.1:${port}/`, resolve).on('error', reject));
  return new WireStream(res, () => undefined);
}

async function readAll(stream: WireStream): Promise<LanguageModelV4StreamPart[]> {
  const parts: LanguageModelV4StreamPart[] = [];
  for (;;) {
    const { done, value } = await stream.read();
    if (done) return parts;
    parts.push(value);
  }
}

const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

describe('WireStream', () => {
  it('reads events split across network chunks at any byte, CRLF line ends included', async () => {
    const body = chunk({ content: 'Hel' }) + chunk({ content: 'lo' }).replace(/\n/g, '\r\n') + chunk({}, 'stop') + 'data: [DONE]\n\n';
    const stream = await answer((res) => {
      // One byte at a time, each its own write (and mostly its own TCP segment).
      let i = 0;
      const next = (): void => {
        if (i >= body.length) return void res.end();
        res.write(body[i++], next);
      };
      next();
    });
    const parts = await readAll(stream);
    const text = parts.flatMap((p) => (p.type === 'text-delta' ? [p.delta] : [])).join('');
    expect(text).toBe('Hello');
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finishReason: { unified: 'stop' } });
  });

  it('a line that never ends fails the read past the bound (16 MiB) and closes the connection', async () => {
    let closed: Promise<void> = Promise.resolve();
    const stream = await answer((res) => {
      closed = new Promise((resolve) => res.on('close', () => resolve()));
      const piece = `data: ${'x'.repeat(64 * 1024)}`;
      res.write(piece.slice(0, 6));
      const more = (): void => {
        if (!res.destroyed) res.write('x'.repeat(64 * 1024), more);
      };
      more();
    });
    await expect(readAll(stream)).rejects.toThrow(/went past 16 MiB without ending/);
    await closed;
  });

  it('an event of endless data: lines with no blank line is bounded the same way', async () => {
    const stream = await answer((res) => {
      const line = `data: ${'y'.repeat(60 * 1024)}\n`;
      const more = (): void => {
        if (!res.destroyed) res.write(line, more);
      };
      more();
    });
    await expect(readAll(stream)).rejects.toThrow(/went past 16 MiB without ending/);
  });
});
