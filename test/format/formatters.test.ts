/**
 * OpenCode's formatters (src/format/): which the `formatter` setting turns on, the real prettier of
 * this repository found in a temp project's `node_modules/.bin` and run by `write` and `edit` (the
 * diff and the model's answer show the formatted file), a formatter given by command with its
 * environment, one that fails (the file stays, a `--debug` note), one that never ends (killed with
 * its children), and a cancelled one.
 */
import fs from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { setDebugSink } from '../../src/debug-note.ts';
import { configuredFormatters, formattersOf, runFormatter } from '../../src/format/formatters.ts';
import type { FileDiff } from '../../src/tools/file-diff.ts';
import { alive } from '../support/proc-children.ts';
import { project, tempDir, writeFiles } from '../tools/helpers.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const PRETTIER = path.join(REPO, 'node_modules', 'prettier', 'bin', 'prettier.cjs');

afterEach(() => setDebugSink(undefined));

/** A project that uses prettier: its package.json says so and its node_modules/.bin has it (this repository's). */
async function prettierProject(files: Record<string, string> = {}) {
  const p = await project({ 'package.json': JSON.stringify({ devDependencies: { prettier: '^3' } }), ...files });
  await fs.mkdir(path.join(p.root, 'node_modules', '.bin'), { recursive: true });
  await fs.symlink(PRETTIER, path.join(p.root, 'node_modules', '.bin', 'prettier'));
  return p;
}

function withFormatters(root: string, setting: unknown, env: NodeJS.ProcessEnv = process.env) {
  const formatters = formattersOf({ formatter: setting }, root, env);
  const diffs: FileDiff[] = [];
  return { diffs, extra: { ...(formatters ? { format: (file: string, signal?: AbortSignal) => formatters.format(file, signal) } : {}), onFileDiff: (diff: FileDiff) => diffs.push(diff) }, formatters };
}

describe('the formatter setting', () => {
  it('absent or false: none; true: the built-ins; an object: the built-ins with its entries over them', () => {
    expect(configuredFormatters(undefined)).toEqual([]);
    expect(configuredFormatters(false)).toEqual([]);
    const all = configuredFormatters(true).map((f) => f.name);
    expect(all).toEqual(expect.arrayContaining(['prettier', 'biome', 'gofmt', 'ruff', 'uv', 'rustfmt', 'clang-format', 'shfmt', 'pint']));
    expect(all).toHaveLength(26);
    const some = configuredFormatters({ gofmt: { disabled: true }, ruff: { disabled: true }, prettier: { extensions: ['.md'] }, sql: { command: ['sqlfluff', 'fix', '$FILE'], extensions: ['.sql'] } });
    const names = some.map((f) => f.name);
    expect(names).not.toContain('gofmt');
    // Ruff's switch is uv's too, as in OpenCode.
    expect(names).not.toContain('ruff');
    expect(names).not.toContain('uv');
    expect(some.find((f) => f.name === 'prettier')?.extensions).toEqual(['.md']);
    expect(some.find((f) => f.name === 'sql')?.extensions).toEqual(['.sql']);
    expect(names).toHaveLength(24);
  });
});

describe('prettier, found in the project', () => {
  it('write and edit: the file is formatted, the diff shows it, the model is told', async () => {
    const p = await prettierProject();
    const { diffs, extra, formatters } = withFormatters(p.root, true);
    const status = await formatters?.status();
    expect(status?.find((s) => s.name === 'prettier')).toMatchObject({ enabled: true });
    expect(status?.find((s) => s.name === 'biome')).toMatchObject({ enabled: false });

    const written = await p.run('write', { filePath: 'src/a.ts', content: 'const  a={b:1}' }, extra);
    expect(written).toBe('Created src/a.ts (14 bytes). prettier reformatted src/a.ts: read it again before editing it.');
    expect(await fs.readFile(path.join(p.root, 'src/a.ts'), 'utf8')).toBe('const a = { b: 1 };\n');
    expect(diffs[0]?.patch).toContain('+const a = { b: 1 };');

    const edited = await p.run('edit', { filePath: 'src/a.ts', oldString: '{ b: 1 }', newString: "{b:'x'}" }, extra);
    expect(edited).toBe('Edited src/a.ts: replaced 1 occurrence. prettier reformatted src/a.ts: read it again before editing it.');
    expect(await fs.readFile(path.join(p.root, 'src/a.ts'), 'utf8')).toBe('const a = { b: "x" };\n');
    expect(diffs[1]?.patch).toContain('+const a = { b: "x" };');

    // Already formatted: nothing to tell; a file prettier does not take: not run.
    expect(await p.run('write', { filePath: 'src/b.ts', content: 'export const b = 2;\n' }, extra)).toBe('Created src/b.ts (20 bytes).');
    expect(await p.run('write', { filePath: 'notes.txt', content: 'a  b' }, extra)).toBe('Created notes.txt (4 bytes).');
  });

  it('not used by the project (no dependency): not run, listed as not found', async () => {
    const p = await prettierProject();
    await fs.writeFile(path.join(p.root, 'package.json'), '{"devDependencies":{}}');
    const { extra, formatters } = withFormatters(p.root, true);
    expect(await p.run('write', { filePath: 'a.ts', content: 'const  a=1' }, extra)).toBe('Created a.ts (10 bytes).');
    expect(await fs.readFile(path.join(p.root, 'a.ts'), 'utf8')).toBe('const  a=1');
    expect((await formatters?.status())?.find((s) => s.name === 'prettier')).toMatchObject({ enabled: false });
  });

  it('the config turns it off: false, or { prettier: { disabled: true } }', async () => {
    const p = await prettierProject();
    for (const setting of [false, { prettier: { disabled: true } }]) {
      const { extra } = withFormatters(p.root, setting);
      await p.run('write', { filePath: 'a.ts', content: 'const  a=1' }, extra);
      expect(await fs.readFile(path.join(p.root, 'a.ts'), 'utf8')).toBe('const  a=1');
    }
  });
});

describe('a formatter given by command', () => {
  const script = async (dir: string, body: string) => {
    const file = path.join(dir, 'fmt.mjs');
    await fs.writeFile(file, body);
    return file;
  };

  it('runs with $FILE and its environment, in the project root', async () => {
    const p = await project();
    const outside = await tempDir();
    const fmt = await script(outside, "import fs from 'node:fs';\nconst f = process.argv[2];\nfs.writeFileSync(f, fs.readFileSync(f, 'utf8').toUpperCase() + process.env.MARK + ' ' + process.cwd() + '\\n');\n");
    const { extra } = withFormatters(p.root, { upper: { command: [process.execPath, fmt, '$FILE'], extensions: ['.txt'], environment: { MARK: 'done' } } });
    const answer = await p.run('write', { filePath: 'd/x.txt', content: 'hello ' }, extra);
    expect(answer).toContain('upper reformatted d/x.txt');
    expect(await fs.readFile(path.join(p.root, 'd/x.txt'), 'utf8')).toBe(`HELLO done ${p.root}\n`);
  });

  it('one that fails leaves the file and is a --debug note; the call succeeds', async () => {
    const p = await project();
    const notes: string[] = [];
    setDebugSink((text) => notes.push(text));
    const { extra } = withFormatters(p.root, { broken: { command: [process.execPath, '-e', 'process.exit(3)', '$FILE'], extensions: ['.txt'] }, missing: { command: ['/nonexistent/fmt\u001b[31m', '$FILE'], extensions: ['.txt'] } });
    expect(await p.run('write', { filePath: 'x.txt', content: 'as is' }, extra)).toBe('Created x.txt (5 bytes).');
    expect(await fs.readFile(path.join(p.root, 'x.txt'), 'utf8')).toBe('as is');
    expect(notes).toEqual(['formatter: broken on x.txt: exit code 3', 'formatter: missing on x.txt: /nonexistent/fmt\\x1b[31m not found']);
  });

  it('one that never ends is killed with its children; a cancelled one too', async () => {
    const dir = await tempDir();
    const pidFile = path.join(dir, 'child.pid');
    const why = await runFormatter(['/bin/sh', '-c', `sleep 60 & echo $! > ${pidFile}; wait`], dir, process.env, undefined, 300);
    expect(why).toBe('no end after 300 ms (killed)');
    const child = Number(await fs.readFile(pidFile, 'utf8'));
    expect(await gone(child)).toBe(true);

    const controller = new AbortController();
    const running = runFormatter(['/bin/sh', '-c', `sleep 60 & echo $! > ${pidFile}.2; wait`], dir, process.env, controller.signal);
    await until(() => existsSync(`${pidFile}.2`) && readPid(`${pidFile}.2`) > 0);
    controller.abort();
    expect(await running).toBe('cancelled');
    expect(await gone(readPid(`${pidFile}.2`))).toBe(true);
  });

  it('two edits of one file at once (a parallel step) wait for each other’s formatter: neither is lost', async () => {
    const p = await project({ 'v.txt': 'x = 1\ny = 2\n' });
    // Reads the file, takes its time, writes back what it read (as a formatter does).
    const slow = "const fs = require('node:fs'); const f = process.argv[1]; const t = fs.readFileSync(f, 'utf8'); setTimeout(() => fs.writeFileSync(f, t), 300);";
    const { extra } = withFormatters(p.root, { slow: { command: [process.execPath, '-e', slow, '$FILE'], extensions: ['.txt'] } });
    await Promise.all([
      p.run('edit', { filePath: 'v.txt', oldString: 'x = 1', newString: 'x = 10' }, extra),
      p.run('edit', { filePath: 'v.txt', oldString: 'y = 2', newString: 'y = 20' }, extra),
    ]);
    expect(await fs.readFile(path.join(p.root, 'v.txt'), 'utf8')).toBe('x = 10\ny = 20\n');
  });

  it('a project file a formatter needs (.clang-format) is looked for between the file and the root', async () => {
    const p = await project();
    const bin = await tempDir();
    await writeFiles(bin, { 'clang-format': '#!/bin/sh\necho formatted > "$2"\n' });
    await fs.chmod(path.join(bin, 'clang-format'), 0o755);
    const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` };
    const { extra } = withFormatters(p.root, true, env);
    await p.run('write', { filePath: 'lib/a.c', content: 'int x;' }, extra);
    expect(await fs.readFile(path.join(p.root, 'lib/a.c'), 'utf8')).toBe('int x;');
    await writeFiles(p.root, { 'lib/.clang-format': 'BasedOnStyle: LLVM\n' });
    await p.run('write', { filePath: 'lib/b.c', content: 'int y;' }, extra);
    expect(await fs.readFile(path.join(p.root, 'lib/b.c'), 'utf8')).toBe('formatted\n');
  });
});

function readPid(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8'));
  } catch {
    return 0;
  }
}

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Whether the process ends within a few seconds (killed: a zombie until something reaps it, which counts as ended). */
async function gone(pid: number): Promise<boolean> {
  try {
    await until(() => !alive(pid));
    return true;
  } catch {
    return false;
  }
}
