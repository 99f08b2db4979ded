/**
 * A stand-in for OpenCode's binary, for the tests of `opencode [project]` and `opencode attach`: it
 * records how it was started (argv, cwd, the auth it was given), calls the server it was given with
 * and without that auth, then exits with 3 — or, with `hold`, stays running (as a TUI does) until
 * killed, having written its record.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface TuiRecord {
  pid: number;
  argv: string[];
  cwd: string;
  user: string | undefined;
  /** Whether OPENCODE_SERVER_PASSWORD was in its environment (the password itself is not recorded). */
  hasPassword: boolean;
  withPassword: number;
  withoutPassword: number;
  config: { model?: string; default_agent?: string };
}

export function fakeOpenCode(dir: string, record: string, options: { hold?: boolean } = {}): string {
  fs.mkdirSync(dir, { recursive: true });
  const script = path.join(dir, 'fake-tui.mjs');
  fs.writeFileSync(
    script,
    `import fs from 'node:fs';
const args = process.argv.slice(2);
const url = args[1];
const at = args.indexOf('--dir');
const dir = at >= 0 ? args[at + 1] : undefined;
const pw = args.indexOf('--password') >= 0 ? args[args.indexOf('--password') + 1] : process.env.OPENCODE_SERVER_PASSWORD;
const auth = 'Basic ' + Buffer.from((process.env.OPENCODE_SERVER_USERNAME || 'opencode') + ':' + (pw || '')).toString('base64');
const q = dir ? '?directory=' + encodeURIComponent(dir) : '';
const withPassword = (await fetch(url + '/session' + q, { headers: { authorization: auth } })).status;
const withoutPassword = (await fetch(url + '/session' + q)).status;
const config = await (await fetch(url + '/config' + q, { headers: { authorization: auth } })).json();
fs.writeFileSync(${JSON.stringify(record)} + '.tmp', JSON.stringify({ pid: process.pid, argv: args, cwd: process.cwd(), user: process.env.OPENCODE_SERVER_USERNAME, hasPassword: Boolean(process.env.OPENCODE_SERVER_PASSWORD), withPassword, withoutPassword, config: { model: config.model, default_agent: config.default_agent } }));
fs.renameSync(${JSON.stringify(record)} + '.tmp', ${JSON.stringify(record)});
${options.hold ? 'setInterval(() => {}, 1000);' : 'process.exit(3);'}
`,
  );
  const bin = path.join(dir, 'opencode');
  fs.writeFileSync(bin, `#!/bin/sh\nexec '${process.execPath}' '${script}' "$@"\n`, { mode: 0o755 });
  return bin;
}

export function readRecord(record: string): TuiRecord {
  return JSON.parse(fs.readFileSync(record, 'utf8')) as TuiRecord;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` every 50 ms until it holds; fails after `deadlineMs` (a bound for a stuck run, not a timing assertion). */
export async function until(check: () => boolean | Promise<boolean>, what: string, deadlineMs = 60_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(5000) });
    return false;
  } catch {
    return true;
  }
}
