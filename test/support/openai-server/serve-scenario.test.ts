import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { maskSecret } from './masking.ts';
import { parseScenario } from './scenario.ts';

const SCRIPT = fileURLToPath(new URL('../serve-scenario.ts', import.meta.url));
const KEY = 'sk-scenario-secret-1234';

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'serve-scenario-'));
  dirs.push(dir);
  return dir;
}

interface Running {
  child: ChildProcess;
  ready: { url: string; port: number };
  /** Everything the child wrote to stdout and stderr, once it has exited, with its exit code. */
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Spawns serve-scenario on this Node and resolves on its readiness line (rejects if it exits first). */
function serve(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (data: string) => (stdout += data));
  child.stderr?.setEncoding('utf8').on('data', (data: string) => (stderr += data));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return new Promise((resolve, reject) => {
    const onData = (): void => {
      const newline = stdout.indexOf('\n');
      if (newline === -1) return;
      child.stdout?.off('data', onData);
      resolve({ child, ready: JSON.parse(stdout.slice(0, newline)) as Running['ready'], exited });
    };
    child.stdout?.on('data', onData);
    void exited.then(({ code, stderr: errors }) => reject(new Error(`serve-scenario exited with ${String(code)} before it was ready: ${errors}`)));
  });
}

function chat(url: string, model: string, headers: Record<string, string> = {}, stream = false): Promise<Response> {
  return fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'ping' }] }),
  });
}

/** A port that was free a moment ago (listen on 0, read it, close). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('serve-scenario', () => {
  it('serves a scenario file, prints one readiness line, logs NDJSON with masked keys, exits 0 on SIGTERM', async () => {
    const dir = await tempDir();
    const scenario = join(dir, 'scenario.json');
    const logFile = join(dir, 'requests.ndjson');
    await writeFile(scenario, JSON.stringify({ apiKey: KEY, models: { m: { script: [{ type: 'text', text: 'scripted hello' }] }, n: {} } }));
    const { child, ready, exited } = await serve([scenario, '--log', logFile]);
    expect(ready.url).toBe(`http://127.0.0.1:${ready.port}/v1`);

    const auth = { authorization: `Bearer ${KEY}` };
    const first = (await (await chat(ready.url, 'm', auth)).json()) as { choices: { message: { content: string } }[] };
    expect(first.choices[0]?.message.content).toBe('scripted hello');
    expect((await chat(ready.url, 'm')).status).toBe(401);
    const models = (await (await fetch(`${ready.url}/models`, { headers: auth })).json()) as { data: { id: string }[] };
    expect(models.data.map((model) => model.id)).toEqual(['m', 'n']);

    child.kill('SIGTERM');
    const { code, stdout } = await exited;
    expect(code).toBe(0);
    expect(stdout).toBe(`${JSON.stringify(ready)}\n`);
    const text = await readFile(logFile, 'utf8');
    expect(text).not.toContain(KEY);
    const entries = text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries.map((entry) => [entry.seq, entry.status, entry.outcome])).toEqual([
      [1, 200, 'ok'],
      [2, 401, 'status'],
    ]);
    expect((entries[0]?.headers as Record<string, string>).authorization).toBe('Bearer sk-s…1234');
  });

  it('takes inline JSON and --port, and logs a hung request when SIGINT ends it', async () => {
    const dir = await tempDir();
    const logFile = join(dir, 'log.ndjson');
    const port = await freePort();
    const inline = JSON.stringify({ models: { slow: { default: { type: 'hang', text: 'still thinking' } } } });
    const { child, ready, exited } = await serve([inline, '--port', String(port), '--log', logFile]);
    expect(ready).toEqual({ url: `http://127.0.0.1:${port}/v1`, port });
    // A streamed hang with text sends its headers: once they arrive, the server holds the request.
    const response = await chat(ready.url, 'slow', {}, true);
    expect(response.status).toBe(200);
    const body = response.text().then(
      () => 'complete',
      (error: unknown) => error,
    );
    expect(await readFile(logFile, 'utf8')).toBe('');
    child.kill('SIGINT');
    const { code } = await exited;
    expect(code).toBe(0);
    expect(await body).toBeInstanceOf(TypeError);
    const lines = (await readFile(logFile, 'utf8')).trim().split('\n');
    expect(lines.map((line) => JSON.parse(line) as { outcome: string; status: number; endedAt: number | null })).toEqual([
      expect.objectContaining({ outcome: 'hang', status: 200, endedAt: expect.any(Number) }),
    ]);
  });

  it('rejects a bad scenario with exit code 2 and the path of the problem on stderr', async () => {
    await expect(serve(['{"models":{"m":{"script":[{"type":"txet"}]}}}'])).rejects.toThrow(/exited with 2 .*scenario\.models\.m\.script\[0\]\.type/);
    await expect(serve([join(await tempDir(), 'missing.json')])).rejects.toThrow(/exited with 2 .*ENOENT/);
  });
});

describe('scenario parsing and masking', () => {
  it('maps a scenario onto server options and names every kind of mistake by path', () => {
    expect(parseScenario({ rateLimit: { maxRequests: 2, windowMs: 100 }, models: { m: { concurrencyLimit: 1, apiKey: false } } })).toEqual({
      rateLimit: { maxRequests: 2, windowMs: 100 },
      models: { m: { concurrencyLimit: 1, apiKey: false } },
    });
    expect(() => parseScenario({ modles: {} })).toThrow(/scenario\.modles: unknown key/);
    expect(() => parseScenario({ models: { m: { rateLimit: { maxRequests: 0, windowMs: 10 } } } })).toThrow(/models\.m\.rateLimit\.maxRequests/);
    expect(() => parseScenario({ models: { m: { default: { type: 'status', status: 200 } } } })).toThrow(/models\.m\.default\.status/);
    expect(() => parseScenario([])).toThrow(/scenario: expected an object/);
  });

  it('masks long secrets to their first and last four characters and short ones entirely', () => {
    expect(maskSecret('Bearer nvapi-abcdefgh-x9Qa')).toBe('Bearer nvap…x9Qa');
    expect(maskSecret('short')).toBe('****');
  });
});
