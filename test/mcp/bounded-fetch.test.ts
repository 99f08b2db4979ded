/**
 * Remote servers that answer without end: a JSON body or one SSE event that never stops is cut off
 * at 10 MB (the start fails saying so, and the server sees the client go), while an SSE stream of
 * many small events may run past 10 MB in all.
 */
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { boundedFetch, MAX_MESSAGE_BYTES, MessageTooLargeError } from '../../src/mcp/bounded-fetch.ts';
import { McpManager } from '../../src/mcp/manager.ts';

const MB = 1024 * 1024;

/** Writes `chunk` `times` times (as fast as the client reads), then `last`; resolves with the bytes written once the response ends or the client goes. */
function pour(res: ServerResponse, chunk: string, times = Infinity, last = ''): Promise<number> {
  return new Promise((resolve) => {
    let written = 0;
    let n = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve(written);
    };
    res.on('close', finish);
    const more = () => {
      while (!done && n < times) {
        n++;
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      if (!done) res.end(last, finish);
    };
    more();
  });
}

describe('remote MCP servers that answer without end', () => {
  let server: Server;
  let base: string;
  const poured: Promise<number>[] = [];
  const managers: McpManager[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      const line = `${'x'.repeat(1023)}\n`;
      if (req.url === '/endless-json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        // 200 MB at most, so that a client without the bound fails in bounded time and memory.
        poured.push(pour(res, `["${'x'.repeat(64 * 1024)}",`, 3200));
      } else if (req.url === '/endless-event') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        poured.push(pour(res, `data: ${line}`, 200 * 1024));
      } else if (req.url === '/many-events') {
        // 12 MB of small events, blank lines split between writes and in CRLF form, then one real event.
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        poured.push(pour(res, `: ${line}\r\n\r`, 12 * 1024, '\ndata: end\n\n'));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.shutdown()));
    poured.length = 0;
  });

  it('a JSON answer that never ends: the start fails at 10 MB, saying so, and the server sees the client go', async () => {
    const m = new McpManager({ endless: { type: 'remote', url: `${base}/endless-json`, timeout: 20_000 } });
    managers.push(m);
    const [status] = await m.start();
    expect(status).toMatchObject({ state: 'failed', reason: expect.stringContaining('the server sent a message larger than 10 MB') });
    const written = await poured[0]!;
    expect(written).toBeLessThan(MAX_MESSAGE_BYTES + 16 * MB);
  });

  it('one SSE event that never ends: the start fails at 10 MB, and the server sees the client go', async () => {
    const m = new McpManager({ endless: { type: 'remote', url: `${base}/endless-event`, timeout: 20_000 } });
    managers.push(m);
    const [status] = await m.start();
    expect(status).toMatchObject({ state: 'failed', reason: expect.stringContaining('the server sent a message larger than 10 MB') });
    expect(await poured[0]!).toBeLessThan(MAX_MESSAGE_BYTES + 16 * MB);
  });

  it('an SSE stream of many small events runs past 10 MB in all', async () => {
    const response = await boundedFetch()(`${base}/many-events`);
    const text = await response.text();
    expect(text.length).toBeGreaterThan(12 * MB);
    expect(text.endsWith('data: end\n\n')).toBe(true);
  });

  it('a body past the bound errors with MessageTooLargeError', async () => {
    const response = await boundedFetch(1024)(`${base}/endless-json`);
    await expect(response.text()).rejects.toBeInstanceOf(MessageTooLargeError);
  });
});
