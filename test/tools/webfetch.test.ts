import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { project } from './helpers.ts';

const PAGE = `<!doctype html><html><head><title>Docs &amp; Notes</title><style>body{color:red}</style>
<script>var hidden = "do not show";</script></head>
<body><!-- a comment --><h1>Install</h1><p>Run <code>npm&nbsp;install</code> &lt;pkg&gt;.</p>
<ul><li>one</li><li>two</li></ul><pre>  keep   spacing</pre><p>&#169; &#x263A;</p></body></html>`;

const servers: { server: Server; sockets: Set<Socket> }[] = [];

afterEach(async () => {
  for (const { server, sockets } of servers.splice(0)) {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function site(): Promise<string> {
  const server = createServer((req, res) => {
    switch (req.url) {
      case '/text':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('plain words\n');
        return;
      case '/json':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        return;
      case '/page':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
        return;
      case '/image':
        res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
        return;
      case '/declared-big':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(6 * 1024 * 1024) });
        res.write('start');
        return;
      case '/streamed-big': {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const chunk = 'x'.repeat(64 * 1024);
        let sent = 0;
        const pump = (): void => {
          while (sent < 6 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return;
      }
      case '/long':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('L'.repeat(60 * 1024));
        return;
      case '/redirect':
        res.writeHead(302, { location: '/text' }).end();
        return;
      case '/hang':
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('nope');
    }
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  servers.push({ server, sockets });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('webfetch', () => {
  it('returns text and JSON as they are, following redirects', async () => {
    const [p, base] = await Promise.all([project(), site()]);
    expect(await p.run('webfetch', { url: `${base}/text` })).toBe('plain words\n');
    expect(await p.run('webfetch', { url: `${base}/json` })).toBe('{"ok":true}');
    expect(await p.run('webfetch', { url: `${base}/redirect` })).toBe('plain words\n');
  });

  it('turns HTML into text (or returns it raw with format html)', async () => {
    const [p, base] = await Promise.all([project(), site()]);
    const text = await p.run('webfetch', { url: `${base}/page` });
    expect(text).toBe('Docs & Notes\n\nInstall\n\nRun npm install <pkg>.\n\n- one\n- two\n\n  keep   spacing\n\n© ☺');
    expect(text).not.toContain('hidden');
    expect(text).not.toContain('color:red');
    expect(await p.run('webfetch', { url: `${base}/page`, format: 'html' })).toBe(PAGE);
  });

  it('refuses binary types, HTTP errors and non-http schemes', async () => {
    const [p, base] = await Promise.all([project(), site()]);
    expect(await p.fail('webfetch', { url: `${base}/image` })).toBe(`${base}/image is image/png, which webfetch does not return (only HTML, text and JSON).`);
    expect(await p.fail('webfetch', { url: `${base}/missing` })).toBe(`${base}/missing answered HTTP 404 Not Found.`);
    expect(await p.fail('webfetch', { url: 'file:///etc/passwd' })).toBe('only http and https URLs can be fetched, not file.');
    expect(await p.fail('webfetch', { url: 'ftp://example.com/x' })).toBe('only http and https URLs can be fetched, not ftp.');
    expect(await p.fail('webfetch', { url: 'not a url' })).toBe('not a valid URL: not a url');
  });

  it('refuses responses over 5 MB, declared or streamed', async () => {
    const [p, base] = await Promise.all([project(), site()]);
    expect(await p.fail('webfetch', { url: `${base}/declared-big` })).toBe(`${base}/declared-big is too large: 6.0 MB (the limit is 5.0 MB).`);
    expect(await p.fail('webfetch', { url: `${base}/streamed-big` })).toBe(`${base}/streamed-big is too large: over 5.0 MB (the limit).`);
  });

  it('cuts long text at 50 KB with a note', async () => {
    const [p, base] = await Promise.all([project(), site()]);
    const out = await p.run('webfetch', { url: `${base}/long` });
    expect(out.startsWith('L'.repeat(50 * 1024))).toBe(true);
    expect(out.endsWith('\n\n(Content cut at 50.0 KB of 60.0 KB. Fetch a more specific page for the rest.)')).toBe(true);
  });

  it('times out', async () => {
    const [p, base] = await Promise.all([project(), site()]);
    expect(await p.fail('webfetch', { url: `${base}/hang`, timeout: 1 })).toBe(`${base}/hang did not answer within 1 s.`);
  });

  it('reports a connection failure', async () => {
    const p = await project();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    expect(await p.fail('webfetch', { url: `http://127.0.0.1:${port}/` })).toBe(`could not fetch http://127.0.0.1:${port}/: ECONNREFUSED`);
  });

  it('follows webfetch permission patterns on the URL; ask by default', async () => {
    const [p, base] = await Promise.all([project(), site()]);
    const permission = { webfetch: { '*': 'deny' as const, [`${base}/text*`]: 'allow' as const } };
    expect(await p.run('webfetch', { url: `${base}/text` }, { permission })).toBe('plain words\n');
    expect(await p.fail('webfetch', { url: `${base}/json` }, { permission })).toBe(`permission denied: webfetch \`${base}/json\` (rule "*": deny)`);
    expect(await p.fail('webfetch', { url: `${base}/json` }, { permission: {} })).toMatch(/webfetch: ask by default; not approved/);
  });
});
