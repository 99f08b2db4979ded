/**
 * The cap on client connections open at once (start.ts connectionCap): from the process's open-file
 * limit, with room for its own descriptors and a provider's socket per connection; on an in-process
 * server with a cap of 2, a third connection is closed at once while the first two are served.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectionCap } from '../../src/server/start.ts';
import { startInProcess, type InProcess } from './in-process.ts';

let server: InProcess | undefined;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await server?.stop();
  server = undefined;
});

/** A keep-alive connection that has been answered once (so the server has accepted it); or what the server did instead. */
function answered(url: string): Promise<{ socket: net.Socket; text: string; closed: boolean }> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  sockets.push(socket);
  let text = '';
  return new Promise((resolve) => {
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (/\r\n\r\n[\s\S]*\}$/.test(text)) resolve({ socket, text, closed: false });
    });
    socket.on('close', () => resolve({ socket, text, closed: true }));
    socket.write(`GET /global/health HTTP/1.1\r\nhost: ${hostname}:${port}\r\n\r\n`);
  });
}

describe('the cap on open connections', () => {
  it('is taken from the open-file limit, with room for the process’s own descriptors', () => {
    expect(connectionCap(20_000)).toBe(9872);
    expect(connectionCap(1024)).toBe(384);
    expect(connectionCap(200)).toBe(64);
    expect(connectionCap(undefined)).toBeUndefined();
  });

  it('closes a connection past it at once; those within it are served', async () => {
    server = await startInProcess('conns', 10_000, { maxConnections: 2 });
    const first = await answered(server.url);
    const second = await answered(server.url);
    expect(first.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(second.text).toMatch(/^HTTP\/1\.1 200 /);
    const third = await answered(server.url);
    expect(third).toMatchObject({ closed: true, text: '' });
  });
});
