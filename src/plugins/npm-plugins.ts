/**
 * npm packages named by the config's `plugin` list (`"opencode-wakatime"`, `"@scope/pkg@1.2.3"`,
 * `["name", {options}]`'s name): found where OpenCode installed them, else installed with npm into
 * Pantheon's own cache, once.
 *
 * OpenCode 1.18.33 installs a spec into `$XDG_CACHE_HOME/opencode/packages/<spec>/` (a spec
 * without a version as `<name>@latest`; a scoped name makes a `@scope/` folder) with its bundled npm
 * (Arborist, install scripts off), and loads `node_modules/<name>` of that folder whenever it is
 * there: no version check, so "latest" is installed once and kept. Pantheon looks in that same
 * folder first (a setup OpenCode installed works offline), then in its own
 * `$XDG_CACHE_HOME/pantheon/plugins/<spec>/`, laid out alike, and installs there only when neither
 * has the package: into a temporary folder renamed into place when npm has finished (never half an
 * install taken for done), under a lock across processes, bounded in time.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { safeLine } from '../cli/terminal-text.ts';
import { makeDirSync } from '../make-dir.ts';
import { cacheDir, xdgCacheHome } from '../paths.ts';
import { tryPidLock } from '../pid-lock.ts';
import { randomBytes } from '../random-bytes.ts';
import { findOnPath } from '../executable.ts';

/**
 * How long one `npm install` may take before it is killed. oh-my-opencode 4.19.4 (some 250
 * packages) took 36 s on an idle machine and 1 min 51 s on a busy 2-core one.
 */
export const NPM_INSTALL_TIMEOUT_MS = 300_000;
/** The longest wait for another process's install of the same spec. */
const LOCK_WAIT_MS = NPM_INSTALL_TIMEOUT_MS + 30_000;
const LOCK_RETRY_MS = 100;
/** npm's output kept for the failure message (its tail). */
const OUTPUT_CAP = 64 * 1024;

/** What `resolveNpmPlugin` found: the module to `import()`, and the package's name and version. */
export interface NpmPlugin {
  /** The absolute path of the package's entry module. */
  entry: string;
  name: string;
  version: string;
}

export interface ResolveNpmPluginOptions {
  /** The environment: XDG_CACHE_HOME, HOME, PATH (where npm is looked for), npm's own settings. */
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Whether a package in neither cache is installed (default true); false: that is an error. */
  install?: boolean;
  /** How long npm may run (default NPM_INSTALL_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** A `plugin` entry read as OpenCode reads it. */
export interface NpmPluginSpec {
  /** The package name, when the spec names one (not for git, URL and tarball specs). */
  name?: string;
  /** The version or range asked for; "latest" without one; "" for git, URL and tarball specs. */
  version: string;
  /** What is installed, and names the cache folder: the spec, with `@latest` added to a bare name. */
  install: string;
}

const NAME = /^(?:@[a-z0-9~-][\w.~-]*\/)?[a-z0-9~-][\w.~-]*$/i;

function named(spec: string): { name: string; version?: string } | undefined {
  const at = spec.indexOf('@', 1);
  const name = at < 0 ? spec : spec.slice(0, at);
  if (name.length > 214 || !NAME.test(name)) return undefined;
  return at < 0 ? { name } : { name, version: spec.slice(at + 1) };
}

/**
 * Reads a `plugin` entry's package spec as OpenCode does (npm-package-arg there): `name`,
 * `name@version`, `@scope/name@range`, `alias@npm:real@1`, `npm:real@1`; anything else (git, URL,
 * tarball, `user/repo`) names no package until it is installed.
 */
export function parseNpmPluginSpec(spec: string): NpmPluginSpec {
  if (spec.startsWith('npm:')) {
    const inner = named(spec.slice(4));
    if (inner) return { name: inner.name, version: inner.version || 'latest', install: spec };
  }
  const pkg = named(spec);
  if (!pkg) return { version: '', install: spec };
  if (pkg.version === undefined) return { name: pkg.name, version: 'latest', install: `${spec}@latest` };
  return { name: pkg.name, version: pkg.version || 'latest', install: spec };
}

/**
 * The key OpenCode dedupes the `plugin` lists of its config layers by (a later layer's entry wins):
 * the package name, or the spec itself where it names none.
 */
export function npmPluginKey(spec: string): string {
  return parseNpmPluginSpec(spec).name ?? spec;
}

/** Auth plugins OpenCode 1.18.33 skips without a word (their work is built in). */
const SKIPPED = ['opencode-openai-codex-auth', 'opencode-copilot-auth'];

/** Whether OpenCode 1.18.33 skips this `plugin` entry (it names an auth plugin built in since). */
export function skippedByOpenCode(spec: string): boolean {
  return SKIPPED.some((name) => spec.includes(name));
}

function fail(spec: string, what: string): Error {
  return new Error(`Plugin "${safeLine(spec, 200)}" ${what}`);
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function inside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** The installed package's folder in an install folder: by name, or (git, URL, tarball) the one dependency npm recorded. */
function installedPackage(folder: string, name: string | undefined): string | undefined {
  const modules = path.join(folder, 'node_modules');
  let pkg = name;
  if (pkg === undefined) {
    const deps = readJson(path.join(folder, 'package.json'))?.dependencies;
    const names = deps && typeof deps === 'object' ? Object.keys(deps) : [];
    if (names.length !== 1) return undefined;
    pkg = names[0]!;
  }
  const dir = path.join(modules, pkg);
  return inside(modules, dir) && fs.existsSync(path.join(dir, 'package.json')) ? dir : undefined;
}

/** OpenCode's install folder of a spec (its cache's `packages/<spec>`), when the spec makes a folder inside it. */
export function openCodePluginFolder(install: string, env: NodeJS.ProcessEnv): string | undefined {
  const root = path.join(xdgCacheHome(env), 'opencode', 'packages');
  const folder = path.join(root, install);
  return inside(root, folder) ? folder : undefined;
}

/** Pantheon's install folder of a spec: its cache's `plugins/<spec>` (a scoped name makes an `@scope/` folder, as in OpenCode's). */
export function pantheonPluginFolder(install: string, env: NodeJS.ProcessEnv): string {
  const root = path.join(cacheDir(env), 'plugins');
  // Plain specs as they are; any other (a URL, a range with spaces) a readable name and a hash of it.
  if (/^(@[\w.~-]+\/)?[\w@+=~^-][\w.@+=~^-]*$/.test(install) && !install.split('/').some((part) => part === '..' || part.startsWith('.'))) {
    return path.join(root, install);
  }
  const hash = process.getBuiltinModule('node:crypto').createHash('sha256').update(install).digest('hex').slice(0, 16);
  return path.join(root, `${install.replace(/[^\w.@+=~^-]/g, '_').replace(/^[._]+/, '').slice(0, 80)}-${hash}`);
}

/** A package.json `exports` entry's module: the string, or its `import` or `default` condition (OpenCode's rule). */
function exportTarget(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  for (const condition of ['import', 'default']) {
    const target = (value as Record<string, unknown>)[condition];
    if (typeof target === 'string') return target;
  }
  return undefined;
}

/** The file `target` names in package folder `dir`; a clear error when it leaves the folder or is not there. */
function packageFile(spec: string, dir: string, target: string): string {
  const file = path.resolve(dir, target);
  if (!inside(dir, file)) throw fail(spec, `names an entry outside its package (${safeLine(target, 200)}); it cannot be loaded.`);
  try {
    // Node's own resolution of a path: a missing extension tried, a folder's index.
    const found = createRequire(path.join(dir, 'package.json')).resolve(file);
    if (inside(dir, found)) return found;
  } catch {
    // Said below.
  }
  throw fail(spec, `names an entry that is not in the package (${safeLine(target, 200)}); reinstall it, or tell its author.`);
}

/** The index files OpenCode tries in a plugin folder, in its order. */
const INDEX_FILES = ['index.ts', 'index.tsx', 'index.js', 'index.mjs', 'index.cjs'];

/**
 * The module of a package's server plugin, chosen as OpenCode 1.18.33 chooses it:
 * `exports["./server"]` (the string, or its import/default condition), else `main`, else, for a
 * package without an `exports` map, its index file. A package whose `exports` has neither (an
 * `exports["."]` only, a TUI plugin's `./tui`) is not a server plugin: OpenCode skips it, and so is
 * it refused here.
 */
function entryOf(spec: string, dir: string): string {
  const json = readJson(path.join(dir, 'package.json'));
  if (!json) throw fail(spec, `is installed at ${safeLine(dir)} without a readable package.json; remove that folder to have it installed again.`);
  const exports = json.exports !== null && typeof json.exports === 'object' && !Array.isArray(json.exports) ? (json.exports as Record<string, unknown>) : undefined;
  const server = exportTarget(exports?.['./server']);
  if (server !== undefined) return packageFile(spec, dir, server);
  const main = typeof json.main === 'string' ? json.main.trim() : '';
  if (main !== '') return packageFile(spec, dir, main);
  if (!exports) {
    const index = INDEX_FILES.find((name) => fs.existsSync(path.join(dir, name)));
    if (index) return path.join(dir, index);
  }
  throw fail(spec, 'has no server plugin to load (no "exports" entry "./server", no "main", no index file); OpenCode skips it too, so check that it is an OpenCode plugin.');
}

function found(spec: string, dir: string): NpmPlugin {
  const json = readJson(path.join(dir, 'package.json')) ?? {};
  const entry = entryOf(spec, dir);
  return { entry, name: typeof json.name === 'string' ? json.name : path.basename(dir), version: typeof json.version === 'string' ? json.version : '' };
}

/** `npm` on the PATH of `env`, or undefined. */
export function findNpm(env: NodeJS.ProcessEnv): string | undefined {
  return findOnPath('npm', env);
}

/** npm's failure in a few words: its error code and first message lines (no stack, no object dump), escaped, one line. */
function npmFailure(output: string): string {
  const lines = output.split(/\r?\n/);
  const errors = lines.filter((line) => /^npm (error|ERR!)/.test(line)).map((line) => line.replace(/^npm (error|ERR!) ?/, ''));
  const code = errors.map((line) => /^code (\S+)$/.exec(line)?.[1]).find(Boolean);
  const said = errors.filter((line) => line.trim() !== '' && !/^(\s|code |errno |syscall |[{}]|\d{3}$)|complete log of this run/.test(line));
  const words = (said.length ? said : lines.map((line) => line.trim()).filter(Boolean)).slice(0, 2).join(' | ');
  const text = code ? `${code}${words ? `: ${words}` : ''}` : words;
  return text === '' ? 'no output' : safeLine(text, 400);
}

/** Runs npm; resolves with undefined when it succeeded, else why not (one phrase). */
function runNpm(npm: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, signal: AbortSignal | undefined, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve('cancelled');
    // In this process's group: a Ctrl-C on the terminal ends it too (a detached npm outlived its caller).
    const child = spawn(npm, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.length > OUTPUT_CAP * 2) output = output.slice(-OUTPUT_CAP);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let why: string | undefined;
    const kill = (reason: string): void => {
      why ??= reason;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill(`npm did not finish within ${Math.round(timeoutMs / 1000)} s (killed)`), timeoutMs);
    const onAbort = (): void => kill('cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    let settled = false;
    const done = (reason: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(reason);
    };
    child.once('error', (error) => done(`npm could not be started (${safeLine(error.message, 200)})`));
    child.once('close', (code, killedBy) =>
      done(why ?? (code === 0 ? undefined : `npm failed (${code === null ? `ended by ${killedBy ?? 'a signal'}` : `exit code ${code}`}): ${npmFailure(output)}`)),
    );
  });
}

/** Waits for the install lock of one spec; gives up with the signal or after LOCK_WAIT_MS. */
async function takeLock(spec: string, lock: string, signal: AbortSignal | undefined): Promise<{ release(): void }> {
  const start = Date.now();
  for (;;) {
    const taken = tryPidLock(lock);
    if ('release' in taken) return taken;
    if (signal?.aborted) throw fail(spec, 'was not installed: cancelled while another install of it ran.');
    if (Date.now() - start > LOCK_WAIT_MS) {
      throw fail(spec, `was not installed: process ${taken.owner} has been installing it for over ${Math.round(LOCK_WAIT_MS / 1000)} s; try again when it has finished.`);
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
  }
}

/** Installs `parsed` into `folder` (Pantheon's cache) unless another process did meanwhile; the package's folder. */
async function installInto(spec: string, parsed: NpmPluginSpec, folder: string, options: ResolveNpmPluginOptions): Promise<string> {
  const npm = findNpm(options.env);
  if (!npm) throw fail(spec, 'is not installed and there is no npm on the PATH to install it; install Node.js with npm, or start OpenCode once to install it.');
  const root = path.dirname(folder);
  const base = path.basename(folder);
  makeDirSync(root);
  const lock = await takeLock(spec, path.join(root, `.${base}.lock`), options.signal);
  try {
    const done = installedPackage(folder, parsed.name);
    if (done) return done;
    // A folder without the package (made by hand, or by an older layout) is in the way of the rename.
    fs.rmSync(folder, { recursive: true, force: true });
    // What a killed install of this spec left (the lock is ours: no install of it is running).
    for (const entry of fs.readdirSync(root)) {
      if (entry.startsWith(`.${base}.`) && entry.endsWith('.installing')) fs.rmSync(path.join(root, entry), { recursive: true, force: true });
    }
    const tmp = path.join(root, `.${base}.${randomBytes(6).toString('hex')}.installing`);
    fs.mkdirSync(tmp);
    try {
      fs.writeFileSync(path.join(tmp, 'package.json'), '{\n  "private": true\n}\n');
      const args = ['install', '--prefix', tmp, '--no-audit', '--no-fund', '--omit=dev', '--ignore-scripts', '--save-exact', '--no-update-notifier', '--', parsed.install];
      const why = await runNpm(npm, args, tmp, options.env, options.signal, options.timeoutMs ?? NPM_INSTALL_TIMEOUT_MS);
      if (why === 'cancelled') throw fail(spec, 'was not installed: cancelled.');
      if (why) throw fail(spec, `could not be installed: ${why}; check its name and version, and that npm's registry is reachable (~/.npmrc).`);
      if (!installedPackage(tmp, parsed.name)) throw fail(spec, 'could not be installed: npm finished without installing it; check that the spec names one package.');
      try {
        fs.renameSync(tmp, folder);
      } catch (error) {
        // Put there meanwhile by a process that took no lock: that install is as good as this one.
        const code = (error as NodeJS.ErrnoException).code;
        if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !installedPackage(folder, parsed.name)) throw fail(spec, `could not be installed: ${safeLine((error as Error).message)}.`);
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  } finally {
    lock.release();
  }
  const dir = installedPackage(folder, parsed.name);
  if (!dir) throw fail(spec, `could not be installed: ${safeLine(folder)} holds no package after the install.`);
  return dir;
}

/**
 * The module of the npm plugin `spec` names (a `plugin` entry that is not a file path): from
 * OpenCode's cache where OpenCode installed it, else from Pantheon's, else installed there with
 * npm first. Throws an Error whose message is one sentence naming the plugin.
 */
export async function resolveNpmPlugin(spec: string, options: ResolveNpmPluginOptions): Promise<NpmPlugin> {
  const parsed = parseNpmPluginSpec(spec.trim());
  if (spec.trim() === '' || spec.trim().startsWith('-')) throw fail(spec, 'is not a package name or npm spec; write it as "name", "name@version" or "@scope/name".');
  if (skippedByOpenCode(spec)) throw fail(spec, 'is skipped: OpenCode 1.18.33 no longer loads it (what it did is built in); remove it from "plugin".');
  const theirs = openCodePluginFolder(parsed.install, options.env);
  const inOpenCode = theirs && installedPackage(theirs, parsed.name);
  if (inOpenCode) return found(spec, inOpenCode);
  const ours = pantheonPluginFolder(parsed.install, options.env);
  const inPantheon = installedPackage(ours, parsed.name);
  if (inPantheon) return found(spec, inPantheon);
  if (options.install === false) {
    throw fail(spec, `is not installed (neither in OpenCode's cache ${safeLine(path.join(xdgCacheHome(options.env), 'opencode', 'packages'))} nor in ${safeLine(path.dirname(ours))}); the next opencode run or serve installs it with npm.`);
  }
  return found(spec, await installInto(spec, parsed, ours, options));
}
