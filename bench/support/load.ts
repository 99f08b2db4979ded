/**
 * The one load generator of bench/gateway.ts (and compare-gateway, profile-gateway): an open loop at
 * a fixed rate (requests start on a schedule whatever the answers do, so a slow target shows as
 * latency and errors, not as a lower rate), over keep-alive connections (a node:http agent of each
 * load's own). One result line of JSON per load: `{sent, ok, errors, p50, p99, seconds, firstError}`
 * (latencies in ms, of successful requests).
 *
 * It runs as one long-lived process that takes loads one after another (bench/support/load-client.ts):
 * a generator started afresh for each load spends its first few hundred milliseconds starting Node
 * and compiling its own loop (~0.3 s of CPU, more than a whole core of this 2-core machine), which
 * fell inside every measured load's first second and came out as the target's tail latency
 * (docs/performance.md, twenty-seventh session). Kept warm, its code is compiled by the warm-up loads.
 *
 *   node bench/support/load.ts --serve     (one spec a line on stdin, one result a line on stdout)
 *   node bench/support/load.ts '{"url":"http://127.0.0.1:N/v1/chat/completions","rate":500,"seconds":5,"headers":{},"body":"…"}'
 */
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';

export interface LoadSpec {
  url: string;
  rate: number;
  seconds: number;
  headers: Record<string, string>;
  body: string;
}

export interface LoadResult {
  sent: number;
  ok: number;
  errors: number;
  p50: number;
  p99: number;
  seconds: number;
  firstError: string[];
}

async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const url = new URL(spec.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
  const latencies: number[] = [];
  const firstError: string[] = [];
  let errors = 0;
  let sent = 0;
  const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(spec.body), ...spec.headers };
  const failed = (what: string) => {
    errors += 1;
    if (firstError.length < 3) firstError.push(what);
  };
  const one = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - started);
          else failed(`HTTP ${res.statusCode}`);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => {
        failed(e.message);
        resolve();
      });
      req.end(spec.body);
    });
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
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { sent, ok: latencies.length, errors, p50: q(0.5), p99: q(0.99), seconds, firstError };
}

if (process.argv[2] === '--serve') {
  // One load at a time, in the order asked: a load never shares this process with another.
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim()) process.stdout.write(`${JSON.stringify(await runLoad(JSON.parse(line) as LoadSpec))}\n`);
  }
} else {
  process.stdout.write(`${JSON.stringify(await runLoad(JSON.parse(process.argv[2] as string) as LoadSpec))}\n`);
}
