/**
 * Where a `/v1/chat/completions` request's CPU time goes in `opencode serve`: runs the server (tsc's
 * dist/, so every function keeps its own file) under `--cpu-prof` against the instant upstream of
 * bench/gateway.ts, drives it with the same open-loop load generator, stops it with SIGTERM (the
 * profile is written at exit) and sums the profile by owner (a file of ours, an npm package, Node's
 * internals, GC) and by function, self time and time including callees, per request. A diagnostic
 * for the gateway's hot path, not part of run-all.
 *
 *   npx node bench/profile-gateway.ts [--rate N] [--seconds N] [--top N] [--limit sqlite|none] [--stream] [--budget] [--cache] [--keep FILE.cpuprofile]
 *
 * `--limit sqlite` (the default) configures `rpm: 1,000,000` as bench/gateway.ts does, so every
 * request takes a ledger admission; `none` leaves the model without limits to show everything else.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { profileTables, summariseProfile } from './support/cpu-profile.ts';
import { loadGenerator } from './support/load-client.ts';
import { tempProject } from './support/measure.ts';
import { SERVER_NODE_FLAGS } from '../src/cli/server-node-flags.ts';

const root = path.resolve(import.meta.dirname, '..');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? (process.argv[i + 1] as string) : fallback;
};
const RATE = Number(arg('--rate', '200'));
const SECONDS = Number(arg('--seconds', '8'));
const TOP = Number(arg('--top', '25'));
const LIMIT = arg('--limit', 'sqlite');
const STREAM = process.argv.includes('--stream');

function started(args: string[], ready: RegExp, env: NodeJS.ProcessEnv, cwd = root) {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const match = new Promise<RegExpExecArray>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = ready.exec(out);
      if (m) resolve(m);
    });
    child.on('close', (code) => reject(new Error(`${args.join(' ')} exited (${String(code)}):\n${err.slice(-800)}`)));
  });
  return { child, match, exited: new Promise<void>((r) => child.on('close', () => r())) };
}


const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-gwprof-'));
const upstream = started([path.join(import.meta.dirname, 'support', 'instant-upstream.ts')], /"port":(\d+)/, process.env);
try {
  const up = Number((await upstream.match)[1]);
  const project = tempProject('gwprof');
  const config = {
    provider: { p: { options: { baseURL: `http://127.0.0.1:${up}/v1`, apiKey: 'sk-bench-0123456789' }, models: { instant: { cost: { input: 1, output: 2 } } }, ...(LIMIT === 'sqlite' ? { rateLimit: { rpm: 1_000_000 } } : {}) } },
    model: 'p/instant',
    cache: process.argv.includes('--cache') ? { enabled: true, store: 'memory' } : { enabled: false },
    ...(process.argv.includes('--budget') ? { budget: { perDay: { usd: 1_000_000 } } } : {}),
  };
  const env = { ...project.env, OPENCODE_CONFIG_CONTENT: JSON.stringify(config) };
  const script = `import(${JSON.stringify(path.join(root, 'dist', 'cli', 'main.js'))}).then((m) => m.main(['serve', '--port=0']))`;
  // The Node flags `opencode serve` restarts itself with (src/cli/server-node-flags.ts), given here: this entry point does not restart.
  const serve = started([...SERVER_NODE_FLAGS, '--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '200', '--input-type=module', '-e', script], /listening on (http:\/\/\S+)/, env, project.project);
  const base = (await serve.match)[1] as string;
  const body = JSON.stringify({ model: 'p/instant', messages: [{ role: 'user', content: 'hi' }], ...(STREAM ? { stream: true } : {}) });
  const url = `${base}/v1/chat/completions`;
  const generator = loadGenerator();
  await generator.run({ url, rate: RATE, seconds: 2, headers: {}, body }); // warm-up
  const result = await generator.run({ url, rate: RATE, seconds: SECONDS, headers: {}, body });
  generator.close();
  serve.child.kill('SIGTERM');
  await serve.exited;
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile was written');
  const keep = process.argv.indexOf('--keep');
  if (keep > 0) fs.copyFileSync(path.join(dir, file), process.argv[keep + 1] as string);
  const requests = result.ok + RATE * 2;
  process.stdout.write(
    [
      `/v1 at ${RATE} req/s for ${SECONDS} s (+2 s warm-up), limit ${LIMIT}${STREAM ? ', streamed' : ''}: ${result.ok} ok, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms`,
      ...profileTables(summariseProfile(path.join(dir, file), root), requests, 'request', TOP),
    ].join('\n'),
  );
} finally {
  upstream.child.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
}
