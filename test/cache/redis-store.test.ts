import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRedisUrl } from '../../src/cache/redis-store.ts';
import { openCache } from '../../src/cache/response-cache.ts';
import type { CachedResponse, ResponseCache } from '../../src/cache/response-cache.ts';
import { isPantheonError } from '../../src/errors.ts';
import { requireRedisServer } from '../support/redis-server.ts';


const PASSWORD = 'hunter2-s3cret';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Sends RESP commands on one connection, then QUIT, and returns everything the server said. */
function resp(port: number, commands: string[][]): Promise<string> {
  const encode = (args: string[]) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (reply += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(reply));
    socket.write([...commands, ['QUIT']].map(encode).join(''));
  });
}

async function storeError(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isPantheonError(error)) throw new Error(`expected a PantheonError, got ${String(error)}`);
  return { code: error.code, message: error.message };
}

const answer: CachedResponse = { text: 'from redis', finishReason: 'stop', model: 'p/m', createdAt: 5, usage: { inputTokens: 1 } };

describe('redis store: no server needed', () => {
  it('describes URLs without credentials', () => {
    expect(describeRedisUrl(`redis://user:${PASSWORD}@cache.internal:6380/2`)).toBe('redis://cache.internal:6380/2');
    expect(describeRedisUrl(`rediss://:${PASSWORD}@cache.internal`)).toBe('rediss://cache.internal');
    expect(describeRedisUrl(`redis://:${PASSWORD}@bad host:x`)).toBe('redis://bad host:x');
  });

  it('fails with STORE_ERROR, without the password, when nothing listens', async () => {
    const port = await freePort();
    const error = await storeError(openCache({ store: `redis://:${PASSWORD}@127.0.0.1:${port}` }, {}));
    expect(error.code).toBe('STORE_ERROR');
    expect(error.message).toMatch(new RegExp(`^Could not connect to the cache store redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*\\.$`));
    expect(error.message).not.toContain(PASSWORD);
  });

  it('fails with STORE_ERROR in bounded time, saying so, when the port takes the connection and never answers', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const started = performance.now();
      const error = await storeError(openCache({ store: `redis://:${PASSWORD}@127.0.0.1:${port}` }, {}));
      expect(performance.now() - started).toBeLessThan(15_000);
      expect(error.code).toBe('STORE_ERROR');
      expect(error.message).toBe(`Could not connect to the cache store redis://127.0.0.1:${port}: no answer within 5000 ms.`);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('fails with STORE_ERROR, without the password, for a malformed URL', async () => {
    const error = await storeError(openCache({ store: `redis://:${PASSWORD}@127.0.0.1:notaport` }, {}));
    expect(error.code).toBe('STORE_ERROR');
    expect(error.message).toBe('The cache store redis://127.0.0.1:notaport is not a valid Redis URL: Invalid URL.');
  });
});

describe('redis store: live server', () => {
  let server: ChildProcess | undefined;
  let port = 0;
  const opened: ResponseCache[] = [];

  beforeAll(async () => {
    requireRedisServer();
    port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', PASSWORD],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server = child;
    await new Promise<void>((resolve, reject) => {
      let log = '';
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${log}`)));
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        log += chunk;
        if (log.includes('Ready to accept connections')) resolve();
      });
    });
    expect(await resp(port, [['AUTH', PASSWORD], ['PING']])).toBe('+OK\r\n+PONG\r\n+OK\r\n');
  });

  afterAll(async () => {
    for (const cache of opened.splice(0)) await cache.close();
    if (server && server.exitCode === null) {
      server.removeAllListeners('exit');
      const exited = new Promise((resolve) => server?.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
  });

  it('round-trips entries with a ttl and keeps the password out of description', async () => {
    const cache = await openCache({ store: `redis://:${PASSWORD}@127.0.0.1:${port}`, ttl: 30 }, {});
    if (!cache) throw new Error('expected an enabled cache');
    opened.push(cache);
    expect(cache.description).toBe(`redis://127.0.0.1:${port}`);
    expect(await cache.get('k1')).toBeUndefined();
    await cache.set('k1', answer);
    expect(await cache.get('k1')).toEqual(answer);

    const raw = await resp(port, [['AUTH', PASSWORD], ['PTTL', 'pantheon::k1'], ['GET', 'pantheon::k1']]);
    const pttl = Number(/^\+OK\r\n:(\d+)\r\n/.exec(raw)?.[1]);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(30_000);
    expect(raw).toContain('"text":"from redis"');
  });

  it('is seen by a second connection (another process or machine)', async () => {
    const url = `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`;
    const writer = await openCache({ store: url }, {});
    const reader = await openCache({ store: url }, {});
    if (!writer || !reader) throw new Error('expected enabled caches');
    opened.push(writer, reader);
    await writer.set('shared', { ...answer, text: 'across connections' });
    expect((await reader.get('shared'))?.text).toBe('across connections');
  });

  it('fails with STORE_ERROR, without the password, when the password is wrong', async () => {
    const wrong = 'not-the-password-42';
    const error = await storeError(openCache({ store: `redis://:${wrong}@127.0.0.1:${port}` }, {}));
    expect(error.code).toBe('STORE_ERROR');
    expect(error.message).toMatch(new RegExp(`^Could not connect to the cache store redis://127\\.0\\.0\\.1:${port}: `));
    expect(error.message).not.toContain(wrong);
  });
});
