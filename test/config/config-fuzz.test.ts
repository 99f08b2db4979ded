/**
 * Property-based tests of the config loader (fast-check): arbitrary JSON, JSONC, mutated real
 * configs and hostile strings thrown at `config validate` and `run` (against a dead port) must
 * end with exit 0, 1 or 2, no stack trace, under 64 KB of output, no raw ESC, within a time bound.
 * Most cases run through the CLI's own `main` in this process; a few as real subprocesses.
 * `npm test` uses a fixed seed and a modest count; `npm run fuzz:config` sets
 * PANTHEON_FUZZ_RUNS=1000 and PANTHEON_FUZZ_SEED=random (fast-check prints the seed of a failure;
 * give it back as PANTHEON_FUZZ_SEED to replay it).
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStack, startCli } from '../cli/cli-helper.ts';
import { configText, corpusTexts } from './fuzz/arbitraries.ts';
import { runInProcess } from './fuzz/in-process-cli.ts';

const RUNS = Number(process.env.PANTHEON_FUZZ_RUNS ?? 60);
const SEED = process.env.PANTHEON_FUZZ_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.PANTHEON_FUZZ_SEED ?? 20261202);
/** Per test: a case takes well under a second; a loaded machine gets room. */
const TIMEOUT = Math.max(90_000, RUNS * 2_000);
const MAX_OUTPUT = 64 * 1024;
/** Generous: a loaded 2-core machine, a 16 MiB file at worst. The point is "finishes", not speed. */
const IN_PROCESS_MS = 20_000;
const SUBPROCESS_MS = 30_000;
const texts = corpusTexts();

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function checkOutcome(o: Outcome, boundMs: number, input: string): void {
  const where = `input: ${JSON.stringify(input.slice(0, 300))}\nstderr: ${o.stderr.slice(0, 600)}`;
  expect([0, 1, 2], where).toContain(o.code);
  expect(hasStack(o.stderr) || hasStack(o.stdout), where).toBe(false);
  expect(o.stderr, where).not.toMatch(/internal error/);
  expect(Buffer.byteLength(o.stdout) + Buffer.byteLength(o.stderr), where).toBeLessThan(MAX_OUTPUT);
  expect((o.stdout + o.stderr).includes('\u001b'), where).toBe(false);
  expect(o.ms, where).toBeLessThan(boundMs);
}

let root: string;
let deadPort: number;
let counter = 0;

/** A fresh project (a git root) with the case's config, and an environment of its own. */
function project(text: string): { dir: string; env: Record<string, string> } {
  const dir = path.join(root, `case-${++counter}`);
  fs.mkdirSync(path.join(dir, 'project', '.git'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'home'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'project', 'fuzz.jsonc'), text);
  // The run's own layer (--config, above the fuzzed one): an agent whose only model is a dead port,
  // no retries, no remote instructions, no MCP servers, so `run` needs no network and ends fast.
  fs.writeFileSync(
    path.join(dir, 'project', 'safe.json'),
    JSON.stringify({
      provider: { dead: { npm: '@ai-sdk/openai-compatible', options: { baseURL: `http://127.0.0.1:${deadPort}/v1`, apiKey: 'k', timeout: 2000 }, models: { m: {} } } },
      agent: { fuzz: { model: 'dead/m', fallbacks: [], mcp: [], disable: false } },
      instructions: [],
      retry: { maxRetries: 0, baseDelay: 1, maxDelay: 1 },
    }),
  );
  const env = {
    PATH: path.dirname(process.execPath),
    HOME: path.join(dir, 'home'),
    XDG_CONFIG_HOME: path.join(dir, 'xdg-config'),
    XDG_DATA_HOME: path.join(dir, 'xdg-data'),
    XDG_CACHE_HOME: path.join(dir, 'xdg-cache'),
    NO_COLOR: '1',
    // No plugins: a real config's `plugin` list (the corpus's) would be installed from npm and run.
    OPENCODE_PURE: '1',
  };
  return { dir: path.join(dir, 'project'), env };
}

const VALIDATE = ['config', 'validate', 'fuzz.jsonc'];
const RUN = ['run', '--agent', 'fuzz', '--no-cache', '--config', 'safe.json', 'hello'];

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-fuzz-'));
  // A port that refuses connections: bound, then closed.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  deadPort = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe('the config loader under arbitrary input (fast-check)', () => {
  it('config validate FILE, in process', async () => {
    await fc.assert(
      fc.asyncProperty(configText(texts), async (text) => {
        const p = project(text);
        checkOutcome(await runInProcess(VALIDATE, p.dir, p.env), IN_PROCESS_MS, text);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  }, TIMEOUT);

  it('run with the fuzzed file as OPENCODE_CONFIG, against a dead port, in process', async () => {
    await fc.assert(
      fc.asyncProperty(configText(texts), async (text) => {
        const p = project(text);
        const env = { ...p.env, OPENCODE_CONFIG: path.join(p.dir, 'fuzz.jsonc') };
        const o = await runInProcess(RUN, p.dir, env);
        if (process.env.FUZZ_LOG) fs.appendFileSync(process.env.FUZZ_LOG, `${o.ms.toFixed(0)} ${o.code} ${JSON.stringify(text.slice(0, 150))} ${JSON.stringify(o.stderr.slice(0, 300))}\n`);
        checkOutcome(o, IN_PROCESS_MS, text);
      }),
      { seed: SEED + 1, numRuns: Math.max(5, Math.round(RUNS / 4)), endOnFailure: true },
    );
  }, TIMEOUT);

  it('config validate and run as real subprocesses', async () => {
    await fc.assert(
      fc.asyncProperty(configText(texts), fc.boolean(), async (text, run) => {
        const p = project(text);
        const env = run ? { ...p.env, OPENCODE_CONFIG: path.join(p.dir, 'fuzz.jsonc') } : p.env;
        const started = performance.now();
        const r = await startCli(run ? RUN : VALIDATE, p.dir, env).exited;
        checkOutcome({ ...r, ms: performance.now() - started }, SUBPROCESS_MS, text);
      }),
      { seed: SEED + 2, numRuns: Math.max(3, Math.round(RUNS / 15)), endOnFailure: true },
    );
  }, TIMEOUT);
});
