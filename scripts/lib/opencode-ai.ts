/**
 * The pinned OpenCode release (npm `opencode-ai`) that the refresh scripts and the corpus verdicts
 * are taken from, installed on demand into a cache folder (the package brings a ~180 MB binary, so
 * it is not a devDependency), and run with a HOME and XDG folders of its own so that nothing of the
 * user's global OpenCode setup leaks into what it says.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export const OPENCODE_VERSION = '1.18.33';

const run = promisify(execFile);

/** Where the pinned package is installed: `$PANTHEON_OPENCODE_DIR`, else a folder under the user's cache. */
export function opencodeInstallDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PANTHEON_OPENCODE_DIR) return path.resolve(env.PANTHEON_OPENCODE_DIR);
  const cache = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'pantheon-dev', `opencode-ai-${OPENCODE_VERSION}`);
}

/** Installs opencode-ai@OPENCODE_VERSION (once) and returns the path of its `opencode` executable. */
export async function ensureOpencode(log: (line: string) => void = () => {}): Promise<string> {
  const dir = opencodeInstallDir();
  const bin = path.join(dir, 'node_modules', '.bin', 'opencode');
  if (fs.existsSync(bin)) {
    const { stdout } = await run(bin, ['--version'], { env: isolatedEnv(makeHome()) });
    if (stdout.trim() === OPENCODE_VERSION) return bin;
  }
  log(`installing opencode-ai@${OPENCODE_VERSION} into ${dir}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'opencode-oracle', private: true }));
  await run('npm', ['install', '--no-audit', '--no-fund', '--no-save', `opencode-ai@${OPENCODE_VERSION}`], { cwd: dir });
  if (!fs.existsSync(bin)) throw new Error(`npm installed opencode-ai but ${bin} is missing`);
  return bin;
}

/** A fresh, empty HOME for one OpenCode process (its XDG folders below it). */
export function makeHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'opencode-home-'));
}

/** The environment OpenCode runs in: PATH only, everything else under `home`, no model fetches. */
export function isolatedEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    NO_COLOR: '1',
  };
}

/** What `opencode debug config --pure` said about the project in `cwd`. */
export interface OpencodeVerdict {
  exitCode: number;
  /** Its error text (colours removed), for a rejected config. */
  error?: string;
}

// eslint-disable-next-line no-control-regex -- ANSI colour codes are what is removed
const ANSI = /\x1b\[[0-9;]*m/g;

/** Runs `opencode debug config --pure` in `cwd` with an isolated HOME (removed afterwards). */
export async function opencodeVerdict(bin: string, cwd: string): Promise<OpencodeVerdict> {
  const home = makeHome();
  try {
    return await new Promise<OpencodeVerdict>((resolve, reject) => {
      const child = spawn(bin, ['debug', 'config', '--pure'], { cwd, env: isolatedEnv(home), stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        const error = stderr.replace(ANSI, '').trim();
        resolve({ exitCode: code ?? -1, ...(code === 0 || !error ? {} : { error }) });
      });
    });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** Starts `opencode serve --pure` on a free port in an empty folder; resolves its base URL and a stop function. */
export async function startOpencodeServer(bin: string): Promise<{ url: string; stop: () => void }> {
  const home = makeHome();
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'opencode-project-'));
  const child = spawn(bin, ['serve', '--pure', '--hostname', '127.0.0.1', '--port', '0'], { cwd, env: isolatedEnv(home), stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = (): void => {
    child.kill('SIGTERM');
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(cwd, { recursive: true, force: true });
  };
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`opencode serve did not start: ${out}`)), 120_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    child.on('exit', (code) => reject(new Error(`opencode serve exited with ${code}: ${out}`)));
  }).catch((error: unknown) => {
    stop();
    throw error;
  });
  return { url, stop };
}
