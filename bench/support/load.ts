/**
 * The one load generator of bench/gateway.ts: an open loop at a fixed rate (requests start on a
 * schedule whatever the answers do, so a slow target shows as latency and errors, not as a lower
 * rate), over keep-alive connections (node:http agent). Prints one JSON line:
 * `{sent, ok, errors, p50, p99, seconds}` (latencies in ms, of successful requests).
 *
 *   node bench/support/load.ts '{"url":"http://127.0.0.1:N/v1/chat/completions","rate":500,"seconds":5,"headers":{},"body":"…"}'
 */
import { Agent, request } from 'node:http';

interface Spec {
  url: string;
  rate: number;
  seconds: number;
  headers: Record<string, string>;
  body: string;
}

const spec = JSON.parse(process.argv[2] as string) as Spec;
const url = new URL(spec.url);
const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
const latencies: number[] = [];
let errors = 0;
let sent = 0;
const firstError: string[] = [];

function one(): Promise<void> {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(spec.body), ...spec.headers }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) latencies.push(performance.now() - started);
        else {
          errors += 1;
          if (firstError.length < 3) firstError.push(`HTTP ${res.statusCode}`);
        }
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => {
      errors += 1;
      if (firstError.length < 3) firstError.push(e.message);
      resolve();
    });
    req.end(spec.body);
  });
}

const total = Math.round(spec.rate * spec.seconds);
const interval = 1000 / spec.rate;
const start = performance.now();
const inflight: Promise<void>[] = [];
while (sent < total) {
  const due = start + sent * interval;
  const now = performance.now();
  if (due > now) await new Promise((r) => setTimeout(r, Math.max(0, due - now - 0.5)));
  // Start everything that is due (timers are coarse at high rates).
  while (sent < total && start + sent * interval <= performance.now()) {
    inflight.push(one());
    sent += 1;
  }
}
await Promise.all(inflight);
const seconds = (performance.now() - start) / 1000;
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
process.stdout.write(`${JSON.stringify({ sent, ok: latencies.length, errors, p50: q(0.5), p99: q(0.99), seconds, firstError })}\n`);
agent.destroy();
