/**
 * auth.json edited by several processes at once: a running `opencode serve` taking `PUT /auth/{id}`
 * requests, a second process storing keys in a loop through Pantheon's library (`saveApiKey`, what
 * `opencode auth login` calls), and `opencode auth login` subprocesses, all for different providers.
 * Each edit is a read-modify-write of the whole file; the lock beside it (`.auth.json.lock`) makes
 * them take turns, so none is lost. Meanwhile the file, read over and over, is always whole JSON, and
 * it ends with mode 0600 and no lock left behind.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { serve, type Served } from '../server/serve-helper.ts';

const EDITS = 60;
const LOGINS = 4;
const repoRoot = path.resolve(import.meta.dirname, '..', '..');

let sb: Sandbox | undefined;
let s: Served | undefined;

afterEach(async () => {
  await s?.stop();
  await sb?.remove();
  s = undefined;
  sb = undefined;
});

/** A process of its own storing `count` keys (`lib-0`, `lib-1`, …) one after another; prints "done" at the end. */
function libraryLoop(box: Sandbox, count: number) {
  const script = box.write(
    'loop.mjs',
    `import { saveApiKey } from ${JSON.stringify(pathToFileURL(path.join(repoRoot, 'dist', 'index.js')).href)};
const file = process.argv[2];
for (let i = 0; i < ${count}; i++) await saveApiKey(file, 'lib-' + i, 'sk-lib-' + i);
process.stdout.write('done\\n');
`,
  );
  return script;
}

describe('auth.json across processes', () => {
  it('a server, a library loop and `auth login` runs storing keys at once: none lost, always whole JSON, 0600, no lock left', async () => {
    sb = await sandbox();
    const box = sb;
    const providers = Object.fromEntries(Array.from({ length: LOGINS }, (_, i) => [`cli-${i}`, { options: { baseURL: 'http://127.0.0.1:9/v1' }, models: { m: {} } }]));
    box.write('opencode.json', { provider: providers });
    const file = path.join(box.dataHome, 'opencode', 'auth.json');
    // An entry of OpenCode's that nobody here edits: kept byte for byte.
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, '{\n  "oauthy": { "type": "oauth", "refresh": "r", "access": "a", "expires": 1 }\n}\n', { mode: 0o600 });
    s = await serve(box);
    const server = s;

    // Whatever moment it is read at, the file is whole JSON (an atomic rename, never a half-written file).
    let reads = 0;
    const broken: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const text = fs.readFileSync(file, 'utf8');
        try {
          JSON.parse(text);
        } catch {
          broken.push(`read ${reads}: ${text.length} characters`);
        }
        reads += 1;
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();

    const script = libraryLoop(box, EDITS);
    const child = spawn(process.execPath, [script, file], { cwd: box.project, env: box.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let childOut = '';
    let childErr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (childOut += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (childErr += t));
    const childDone = new Promise<number | null>((resolve) => child.on('close', resolve));

    const logins = Array.from({ length: LOGINS }, (_, i) => box.run(['auth', 'login', `cli-${i}`, '--key-stdin', '--no-verify'], { stdin: `sk-cli-${i}` }));
    const puts = (async () => {
      for (let i = 0; i < EDITS; i++) {
        const res = await fetch(`${server.url}/auth/srv-${i}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'api', key: `sk-srv-${i}` }) });
        expect(res.status, `PUT /auth/srv-${i}`).toBe(200);
      }
    })();

    const [code] = await Promise.all([childDone, puts]);
    expect(code, childErr).toBe(0);
    expect(childOut).toBe('done\n');
    for (const [i, r] of (await Promise.all(logins)).entries()) expect(r.code, `auth login cli-${i}: ${r.stderr}`).toBe(0);
    watching = false;
    await watcher;
    expect(reads).toBeGreaterThan(0);
    expect(broken).toEqual([]);

    const entries = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, { type: string; key?: string }>;
    const missing = [
      ...Array.from({ length: EDITS }, (_, i) => [`srv-${i}`, `sk-srv-${i}`]),
      ...Array.from({ length: EDITS }, (_, i) => [`lib-${i}`, `sk-lib-${i}`]),
      ...Array.from({ length: LOGINS }, (_, i) => [`cli-${i}`, `sk-cli-${i}`]),
    ].filter(([id, key]) => entries[id as string]?.key !== key);
    expect(missing).toEqual([]);
    expect(entries.oauthy).toEqual({ type: 'oauth', refresh: 'r', access: 'a', expires: 1 });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    // No lock and no temp file left beside it.
    expect(fs.readdirSync(path.dirname(file)).sort()).toEqual(['auth.json']);
  });
});
