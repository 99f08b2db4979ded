/**
 * Runs the real CLI (bin/opencode.js → dist/bin/opencode.cjs, the bundle; `npm run build` first) as a subprocess
 * inside a sandbox: a temp project folder (a git root) and XDG config/data/cache folders and HOME
 * of its own, with an environment that inherits nothing but PATH.
 *
 *   const sb = await sandbox();
 *   sb.write('opencode.json', { model: 'p/m' });
 *   const r = await sb.run(['config', 'validate']);   // { code, signal, stdout, stderr }
 *   const p = sb.start(['run', 'hi']);  await p.stderrMatches(/retry/);  p.child.kill('SIGINT');  await p.exited;
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startScriptedServer, type RequestLogEntry, type ScriptedServer, type ScriptedServerOptions } from '../support/openai-server.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const BIN = path.join(repoRoot, 'bin', 'opencode.js');
export const FIXTURES = path.join(repoRoot, 'test', 'fixtures');
/** The secret used in every test config; it must never show up in output or state files. */
export const SECRET = 'sk-abcdefghijklmnop9Qa';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Text piped to stdin (then closed); without it stdin is /dev/null. */
  stdin?: string;
  /** A file given as stdin (`< file`), instead of a pipe. */
  stdinFile?: string;
  /** Extra environment variables on top of the sandbox's. */
  env?: Record<string, string>;
  /** Working directory (default: the project folder). */
  cwd?: string;
}

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stderr matches `pattern` (rejects if the process exits first). */
  stderrMatches(pattern: RegExp): Promise<string>;
  /** Resolves when stdout matches `pattern` (rejects if the process exits first). */
  stdoutMatches(pattern: RegExp): Promise<string>;
  exited: Promise<CliResult>;
}

export interface Sandbox {
  root: string;
  /** The project folder: the working directory, with a `.git` folder. */
  project: string;
  home: string;
  configHome: string;
  dataHome: string;
  cacheHome: string;
  env: Record<string, string>;
  /** Writes a file (an object is written as JSON) relative to the project folder; returns its path. */
  write(rel: string, content: string | object): string;
  /** Writes `$XDG_CONFIG_HOME/opencode/<name>`. */
  writeGlobal(name: string, content: string | object): string;
  start(args: string[], options?: RunOptions): CliProcess;
  run(args: string[], options?: RunOptions): Promise<CliResult>;
  /** Every file and folder under the sandbox with size, mtime and content, for "nothing written" checks. */
  snapshot(): Promise<Record<string, string>>;
  /** Kills any process started here that is still running, then deletes the sandbox. */
  remove(): Promise<void>;
}

function assertBuilt(): void {
  if (!existsSync(path.join(repoRoot, 'dist', 'bin', 'opencode.cjs'))) {
    throw new Error('dist/bin/opencode.cjs is missing: run `npm run build` before the CLI tests (npm test does it).');
  }
}

/** Writes synchronously (a test writes a file and spawns right after); an object is written as JSON. */
function writeSync(file: string, content: string | object): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

export function startCli(args: string[], cwd: string, env: Record<string, string>, options: RunOptions = {}): CliProcess {
  assertBuilt();
  const piped = options.stdin !== undefined;
  const fromFile = options.stdinFile === undefined ? undefined : openSync(options.stdinFile, 'r');
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? cwd,
    env: { ...env, ...options.env },
    stdio: [fromFile ?? (piped ? 'pipe' : 'ignore'), 'pipe', 'pipe'],
  });
  if (fromFile !== undefined) closeSync(fromFile);
  const text = { stdout: '', stderr: '' };
  const watchers: { stream: 'stdout' | 'stderr'; pattern: RegExp; resolve: (text: string) => void }[] = [];
  const onData = (stream: 'stdout' | 'stderr') => (chunk: string) => {
    text[stream] += chunk;
    for (const w of watchers.filter((x) => x.stream === stream && x.pattern.test(text[stream]))) {
      watchers.splice(watchers.indexOf(w), 1);
      w.resolve(text[stream]);
    }
  };
  child.stdout?.setEncoding('utf8').on('data', onData('stdout'));
  child.stderr?.setEncoding('utf8').on('data', onData('stderr'));
  if (piped) {
    // A process that stops reading early (input over a limit) closes the pipe: EPIPE here is expected.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.stdin);
  }
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: text.stdout, stderr: text.stderr }));
  });
  const matches = (stream: 'stdout' | 'stderr') => (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      if (pattern.test(text[stream])) return resolve(text[stream]);
      watchers.push({ stream, pattern, resolve });
      void exited.then((r) => reject(new Error(`exited (${String(r.code ?? r.signal)}) before ${stream} matched ${String(pattern)}:\n${r.stderr}`)));
    });
  return {
    child,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    exited,
    stderrMatches: matches('stderr'),
    stdoutMatches: matches('stdout'),
  };
}

export async function sandbox(options: { git?: boolean } = {}): Promise<Sandbox> {
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-cli-')));
  const project = path.join(root, 'project');
  const home = path.join(root, 'home');
  const configHome = path.join(root, 'xdg-config');
  const dataHome = path.join(root, 'xdg-data');
  const cacheHome = path.join(root, 'xdg-cache');
  // Runtime files (the start-up gate's slots, src/cli/start-gate.ts): this sandbox's runs share a
  // gate with each other, not with the runs of other test files.
  const runtimeDir = path.join(root, RUNTIME_DIR);
  await Promise.all([project, home, configHome, dataHome, cacheHome, runtimeDir].map((d) => fs.mkdir(d, { recursive: true, mode: 0o700 })));
  if (options.git !== false) await fs.mkdir(path.join(project, '.git'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    XDG_CONFIG_HOME: configHome,
    XDG_DATA_HOME: dataHome,
    XDG_CACHE_HOME: cacheHome,
    XDG_RUNTIME_DIR: runtimeDir,
    NO_COLOR: '1',
  };
  const started = new Set<CliProcess>();
  const start = (args: string[], opts?: RunOptions): CliProcess => {
    const p = startCli(args, project, env, opts);
    started.add(p);
    const forget = (): boolean => started.delete(p);
    p.exited.then(forget, forget);
    return p;
  };
  const sb: Sandbox = {
    root,
    project,
    home,
    configHome,
    dataHome,
    cacheHome,
    env,
    write: (rel, content) => writeSync(path.resolve(project, rel), content),
    writeGlobal: (name, content) => writeSync(path.join(configHome, 'opencode', name), content),
    start,
    run: (args, opts) => start(args, opts).exited,
    snapshot: () => snapshot(root),
    async remove() {
      const left = [...started];
      for (const p of left) p.child.kill('SIGKILL');
      await Promise.allSettled(left.map((p) => p.exited));
      await fs.rm(root, { recursive: true, force: true });
    },
  };
  return sb;
}

/** The sandbox's XDG_RUNTIME_DIR, under its root: what a process leaves there is not state (snapshot skips it). */
const RUNTIME_DIR = 'xdg-runtime';

/** Path, size, mtime and content (base64) of everything under `dir` but a runtime folder. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const runtime = path.join(dir, RUNTIME_DIR);
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(e.parentPath, e.name);
    if (full === runtime || full.startsWith(runtime + path.sep)) continue;
    const st = await fs.stat(full);
    out[path.relative(dir, full)] = e.isDirectory() ? 'dir' : `${st.size}:${st.mtimeMs}:${(await fs.readFile(full)).toString('base64')}`;
  }
  return out;
}

/** Every file under `dir` whose bytes contain `needle` (as UTF-8, or UTF-16LE as SQLite may store it). */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const forms = [Buffer.from(needle, 'utf8'), Buffer.from(needle, 'utf16le')];
  const hits: string[] = [];
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    const bytes = await fs.readFile(full);
    if (forms.some((f) => bytes.includes(f))) hits.push(full);
  }
  return hits;
}

/** A provider `p` at the scripted server with the given upstream models, keyed by SECRET. */
export function providerConfig(server: ScriptedServer, models: Record<string, object>, extra: object = {}): object {
  return { provider: { p: { options: { baseURL: server.url, apiKey: SECRET }, models, ...extra } } };
}

/** True when text looks like a JavaScript stack trace. */
/** The contents of the tool messages of a request the scripted provider received, in order. */
export function toolContents(messages: unknown[]): string[] {
  return messages.filter((m) => (m as { role: string }).role === 'tool').map((m) => String((m as { content: unknown }).content));
}

export function hasStack(text: string): boolean {
  return /\n\s+at .+[(:]\d+|\bat file:\/\//.test(text);
}

/** Text of the last user message a logged request carried. */
export function userText(entry: RequestLogEntry | undefined): string {
  const messages = (entry?.messages ?? []) as { role: string; content: string | { type: string; text?: string }[] }[];
  const last = messages.filter((m) => m.role === 'user').at(-1);
  if (!last) return '';
  return typeof last.content === 'string' ? last.content : last.content.map((p) => p.text ?? '').join('');
}

/**
 * The set-up CLI test files share: one scripted provider for the file (it wants SECRET), and before
 * each test its log reset and a fresh sandbox whose `opencode.json` is `config(server)`, handed to
 * `set`; the sandbox is removed after each test and the provider closed after the file.
 */
export function useScriptedSandbox(set: (server: ScriptedServer, sb: Sandbox) => void, config: (server: ScriptedServer) => object, options: ScriptedServerOptions = {}): void {
  let server: ScriptedServer | undefined;
  let sb: Sandbox | undefined;
  beforeAll(async () => {
    server = await startScriptedServer({ apiKey: SECRET, ...options });
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(async () => {
    const s = server as ScriptedServer;
    s.reset();
    sb = await sandbox();
    sb.write('opencode.json', config(s));
    set(s, sb);
  });
  afterEach(async () => {
    await sb?.remove();
  });
}
