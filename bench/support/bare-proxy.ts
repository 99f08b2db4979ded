/**
 * The floor of bench/gateway.ts: a bare Node pass-through proxy (node:http in, a keep-alive
 * node:http agent out, bodies piped both ways, no parsing). Any Node process in the path costs at
 * least this. Prints `{"port":N}` when listening.
 *
 *   node bench/support/bare-proxy.ts UPSTREAM_PORT
 */
import { Agent, createServer, request } from 'node:http';

const upstream = Number(process.argv[2]);
const agent = new Agent({ keepAlive: true, maxSockets: 512 });
const server = createServer((req, res) => {
  const out = request({ host: '127.0.0.1', port: upstream, path: req.url, method: req.method, headers: req.headers, agent }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  out.on('error', () => res.writeHead(502).end());
  req.pipe(out);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
