/**
 * OpenCode's language servers (src/lsp/): which the `lsp` setting turns on; a real server
 * (test/fixtures/lsp/marker-server.mjs, on vscode-languageserver) started at the project root,
 * initialized, told of the files `write` and `edit` change, whose errors (not warnings) end the
 * tools' answers in OpenCode's words; `status` and `close` (the process gone); a server that crashes,
 * one that never publishes and one that never answers `initialize` leave the tools' answers as they
 * are, in bounded time; and the real typescript-language-server on a temp TS project.
 */
import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { setDebugSink } from '../../src/debug-note.ts';
import { configuredServers, Lsp, lspOf, type LspOptions } from '../../src/lsp/lsp.ts';
import { closeAllLsp, lspStatusOf } from '../../src/lsp/live.ts';
import { diagnosticsInAnswer, diagnosticsReport } from '../../src/tools/lsp-diagnostics.ts';
import type { ToolContext } from '../../src/tools/types.ts';
import { alive, childrenOf } from '../support/proc-children.ts';
import { project, tempDir } from '../tools/helpers.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const MARKER = path.join(REPO, 'test', 'fixtures', 'lsp', 'marker-server.mjs');

afterEach(async () => {
  setDebugSink(undefined);
  await closeAllLsp();
});

interface Logged {
  pid: number;
  event: string;
  [key: string]: unknown;
}

function logOf(file: string): Logged[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Logged);
}

/** The processes of `pids` still running once they all ended or `withinMs` passed (polled: they are not our children). */
async function stillAlive(pids: number[], withinMs: number): Promise<number[]> {
  const deadline = Date.now() + withinMs;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
  return pids.filter(alive);
}

async function markerProject(mode = '', options: LspOptions = {}) {
  const p = await project();
  const log = path.join(await tempDir('pantheon-lsp-log-'), 'log.jsonl');
  const setting = {
    marker: { command: [process.execPath, MARKER], extensions: ['.txt'], env: { LSP_FIXTURE_LOG: log, LSP_FIXTURE_MODE: mode, LSP_FIXTURE_ENV: 'given' }, initialization: { answer: 42 } },
  };
  const lsp = new Lsp(configuredServers(setting), p.root, process.env, options);
  const diagnostics: ToolContext['diagnostics'] = async (file) => {
    await lsp.touch(file);
    return lsp.diagnostics();
  };
  return { p, log, lsp, extra: { diagnostics } };
}

describe('the lsp setting', () => {
  it('absent or false: none; true: the built-ins; an object: the built-ins with its entries over them', () => {
    expect(configuredServers(undefined)).toEqual([]);
    expect(configuredServers(false)).toEqual([]);
    const all = configuredServers(true).map((s) => s.id);
    expect(all).toEqual(expect.arrayContaining(['typescript', 'deno', 'pyright', 'gopls', 'rust', 'clangd', 'bash', 'yaml-ls', 'lua-ls']));
    const some = configuredServers({ gopls: { disabled: true }, pyright: { command: ['my-pyright', '--stdio'] }, x: { command: ['xls'], extensions: ['.x'] }, bad: { extensions: ['.b'] }, nox: { command: ['y'] } });
    const ids = some.map((s) => s.id);
    expect(ids).not.toContain('gopls');
    expect(ids).not.toContain('bad');
    // A new server without extensions is dropped, as OpenCode drops it.
    expect(ids).not.toContain('nox');
    expect(some.find((s) => s.id === 'pyright')?.extensions).toEqual(['.py', '.pyi']);
    expect(some.find((s) => s.id === 'x')?.extensions).toEqual(['.x']);
    expect(lspOf({}, '/nowhere', process.env)).toBeUndefined();
    // A turn's config made from an instance's (its own keys added) shares the instance's servers.
    const setting = { x: { command: ['xls'], extensions: ['.x'] } };
    const shared = lspOf({ lsp: setting }, '/p', process.env);
    expect(lspOf({ lsp: setting, command: {} } as { lsp: unknown }, '/p', process.env)).toBe(shared);
    expect(lspOf({ lsp: setting }, '/q', process.env)).not.toBe(shared);
    expect(lspOf({ lsp: true }, '/p', process.env)).not.toBe(shared);
  });

  it('the typescript root is the nearest lockfile’s folder, else the project; none under a deno.json', async () => {
    const p = await project({ 'a/package-lock.json': '{}', 'a/src/x.ts': '', 'b/deno.json': '{}', 'b/y.ts': '', 'z.ts': '' });
    const ts = configuredServers(true).find((s) => s.id === 'typescript');
    const ctx = { projectRoot: p.root, env: process.env };
    expect(await ts?.root(path.join(p.root, 'a/src/x.ts'), ctx)).toBe(path.join(p.root, 'a'));
    expect(await ts?.root(path.join(p.root, 'z.ts'), ctx)).toBe(p.root);
    expect(await ts?.root(path.join(p.root, 'b/y.ts'), ctx)).toBeUndefined();
  });
});

describe('a language server given by command', () => {
  it('write and edit: its errors end the answer in OpenCode’s words; status lists it; close ends it', async () => {
    const { p, log, lsp, extra } = await markerProject();
    const written = await p.run('write', { filePath: 'notes/a.txt', content: 'fine\n  BAD here\nWARNME\n' }, extra);
    const file = path.join(p.root, 'notes/a.txt');
    expect(written).toBe(
      `Created notes/a.txt (23 bytes).\n\nLSP errors detected in this file, please fix:\n<diagnostics file="${file}">\nERROR [2:3] marker BAD found\n</diagnostics>`,
    );
    const init = logOf(log).find((e) => e.event === 'initialize');
    expect(init).toMatchObject({ rootUri: `file://${p.root}`, folders: [{ name: 'workspace', uri: `file://${p.root}` }], options: { answer: 42 }, publish: true, env: 'given' });
    expect(lsp.status()).toEqual([{ id: 'marker', name: 'marker', root: '', status: 'connected' }]);

    const edited = await p.run('edit', { filePath: 'notes/a.txt', oldString: 'BAD', newString: 'good' }, extra);
    expect(edited).toBe('Edited notes/a.txt: replaced 1 occurrence.');
    const events = logOf(log);
    expect(events.filter((e) => e.event === 'initialize')).toHaveLength(1);
    expect(events.filter((e) => e.event === 'didOpen')).toEqual([expect.objectContaining({ uri: `file://${file}`, languageId: 'plaintext', version: 0 })]);
    expect(events.filter((e) => e.event === 'didChange')).toEqual([expect.objectContaining({ version: 1 })]);

    // write names the errors it caused in other files too; edit only the file's own.
    const other = await p.run('write', { filePath: 'notes/b.txt', content: 'ALSO:c.txt\n' }, extra);
    expect(other).toBe(`Created notes/b.txt (11 bytes).\n\nLSP errors detected in other files:\n<diagnostics file="${path.join(p.root, 'notes/c.txt')}">\nERROR [1:1] broken by b.txt\n</diagnostics>`);
    // Files outside the project are not sent.
    const outside = path.join(await tempDir('pantheon-lsp-outside-'), 'o.txt');
    await fs.writeFile(outside, 'BAD');
    await lsp.touch(outside);
    expect(logOf(log).filter((e) => String(e.uri).endsWith('o.txt'))).toEqual([]);
    // Files it does not take are not sent (the errors it knows of in other files are still told).
    expect(await p.run('write', { filePath: 'x.md', content: 'BAD' }, extra)).not.toContain('LSP errors detected in this file');
    expect(logOf(log).filter((e) => String(e.uri).endsWith('x.md'))).toEqual([]);

    const pid = init?.pid as number;
    expect(alive(pid)).toBe(true);
    await lsp.close();
    expect(alive(pid)).toBe(false);
    expect(logOf(log).map((e) => e.event)).toEqual(expect.arrayContaining(['shutdown', 'exit']));
    expect(lsp.status()).toEqual([]);
    // Closed: a later touch starts nothing.
    expect(await p.run('write', { filePath: 'notes/d.txt', content: 'BAD' }, extra)).toBe('Created notes/d.txt (3 bytes).');
    expect(logOf(log).filter((e) => e.event === 'initialize')).toHaveLength(1);
  });

  it('more than 20 errors: the first 20 and how many more; the answer read back (for the TUI’s metadata)', async () => {
    const { p, extra } = await markerProject();
    const answer = await p.run('write', { filePath: 'many.txt', content: 'BAD\n'.repeat(23) }, extra);
    expect(answer.match(/ERROR \[/g)).toHaveLength(20);
    expect(answer).toContain('ERROR [20:1] marker BAD found\n... and 3 more\n</diagnostics>');
    const back = diagnosticsInAnswer(answer);
    expect(Object.keys(back)).toEqual([path.join(p.root, 'many.txt')]);
    expect(back[path.join(p.root, 'many.txt')]?.[19]).toEqual({ range: { start: { line: 19, character: 0 }, end: { line: 19, character: 0 } }, severity: 1, message: 'marker BAD found' });
    expect(diagnosticsInAnswer(`Created x.ts.\n\nLSP errors detected in this file, please fix:\n${diagnosticsReport('/p/x.ts', [{ range: { start: { line: 2, character: 4 }, end: { line: 2, character: 5 } }, severity: 1, message: 'two\nlines' }])}`)).toEqual({
      '/p/x.ts': [{ range: { start: { line: 2, character: 4 }, end: { line: 2, character: 4 } }, severity: 1, message: 'two\nlines' }],
    });
    expect(diagnosticsInAnswer('Created a.txt (3 bytes).')).toEqual({});
  });

  it('a server that crashes: the tool answers as without it, a --debug note says so, it is not started again', async () => {
    const notes: string[] = [];
    setDebugSink((t) => notes.push(t));
    const { p, log, extra } = await markerProject('crash');
    expect(await p.run('write', { filePath: 'a.txt', content: 'BAD' }, extra)).toBe('Created a.txt (3 bytes).');
    expect(notes.join('\n')).toMatch(/lsp: marker ended \(exit code 3\)/);
    expect(await p.run('write', { filePath: 'b.txt', content: 'BAD' }, extra)).toBe('Created b.txt (3 bytes).');
    expect(logOf(log).filter((e) => e.event === 'initialize')).toHaveLength(1);
  });

  it('a server that offers pull diagnostics: asked for the file’s, no wait for a push', async () => {
    const { p, log, extra } = await markerProject('pull');
    const started = Date.now();
    const answer = await p.run('write', { filePath: 'a.txt', content: 'x BAD' }, extra);
    expect(answer).toBe(`Created a.txt (5 bytes).\n\nLSP errors detected in this file, please fix:\n<diagnostics file="${path.join(p.root, 'a.txt')}">\nERROR [1:3] marker BAD found\n</diagnostics>`);
    expect(logOf(log).filter((e) => e.event === 'pull')).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(await p.run('edit', { filePath: 'a.txt', oldString: 'BAD', newString: 'ok' }, extra)).toBe('Edited a.txt: replaced 1 occurrence.');
  });

  it('a server that never publishes: the wait ends at its bound', async () => {
    const { p, extra } = await markerProject('silent', { waitMs: 400 });
    const started = Date.now();
    expect(await p.run('write', { filePath: 'a.txt', content: 'BAD' }, extra)).toBe('Created a.txt (3 bytes).');
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a server that never answers initialize: given up after its bound (a --debug note), stopped, not tried again', async () => {
    const notes: string[] = [];
    setDebugSink((t) => notes.push(t));
    const { p, log, extra } = await markerProject('hang', { initializeTimeoutMs: 300 });
    expect(await p.run('write', { filePath: 'a.txt', content: 'BAD' }, extra)).toBe('Created a.txt (3 bytes).');
    expect(notes.join('\n')).toContain('lsp: marker did not start: no answer to initialize in 0.3 s');
    const pid = logOf(log)[0]?.pid as number;
    expect(alive(pid)).toBe(false);
    expect(await p.run('write', { filePath: 'b.txt', content: 'BAD' }, extra)).toBe('Created b.txt (3 bytes).');
    expect(logOf(log).filter((e) => e.event === 'initialize')).toHaveLength(1);
  });

  it('a program that is not there: a --debug note, the tool answers as without it', async () => {
    const notes: string[] = [];
    setDebugSink((t) => notes.push(t));
    const p = await project();
    const lsp = new Lsp(configuredServers({ nope: { command: ['/no/such/lsp-program'], extensions: ['.txt'] } }), p.root, process.env);
    const extra = { diagnostics: async (file: string) => (await lsp.touch(file), lsp.diagnostics()) };
    expect(await p.run('write', { filePath: 'a.txt', content: 'x' }, extra)).toBe('Created a.txt (1 bytes).');
    expect(notes.join('\n')).toContain('/no/such/lsp-program not found');
    expect(lspStatusOf({}, p.root)).toEqual([]);
  });
});

describe('typescript-language-server', () => {
  const bin = path.join(REPO, 'node_modules', '.bin', 'typescript-language-server');
  it('a type error that write brings in is reported; fixing it with edit clears it', { timeout: 60_000 }, async () => {
    // A devDependency: missing is a broken install, not a reason to skip.
    expect(readFileSync(bin).length).toBeGreaterThan(0);
    const p = await project({ 'package.json': JSON.stringify({ name: 'demo', devDependencies: { typescript: '*' } }), 'package-lock.json': '{}', 'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true, noEmit: true } }) });
    await fs.mkdir(path.join(p.root, 'node_modules', '.bin'), { recursive: true });
    await fs.symlink(path.join(REPO, 'node_modules', 'typescript'), path.join(p.root, 'node_modules', 'typescript'));
    await fs.symlink(bin, path.join(p.root, 'node_modules', '.bin', 'typescript-language-server'));
    const lsp = lspOf({ lsp: true }, p.root, process.env);
    // The file given an error, then fixed: on a loaded machine tsserver's check can take longer than a touch's 5 s (a CI
    // run: its first check of a new project, or the check after the fix, whose push came after the wait with the error
    // still listed), so its touch is repeated, each waiting for the next push, until the diagnostics are those of the
    // file as it is now — the error while it is there, none once fixed (at most 8 times).
    const erring = path.join(p.root, 'src/a.ts');
    const extra = {
      diagnostics: async (file: string) => {
        for (let attempt = 0; attempt < 8; attempt++) {
          await lsp?.touch(file);
          if (file !== erring) break;
          const wrong = (await fs.readFile(file, 'utf8')).includes('"text"');
          if (wrong === (lsp?.diagnostics().get(file) ?? []).length > 0) break;
        }
        return lsp?.diagnostics() ?? new Map();
      },
    };
    // The server and tsserver start with a first file (its errors, if any, come within the first wait or later: a machine under load is slow).
    expect(await p.run('write', { filePath: 'src/b.ts', content: 'export const b = 1;\n' }, extra)).toBe('Created src/b.ts (20 bytes).');
    const answer = await p.run('write', { filePath: 'src/a.ts', content: 'export const n: number = "text";\n' }, extra);
    expect(answer).toContain('LSP errors detected in this file, please fix:');
    expect(answer).toContain(`<diagnostics file="${path.join(p.root, 'src/a.ts')}">\nERROR [1:14] Type 'string' is not assignable to type 'number'.`);
    expect(lsp?.status()).toEqual([{ id: 'typescript', name: 'typescript', root: '', status: 'connected' }]);
    const fixed = await p.run('edit', { filePath: 'src/a.ts', oldString: '"text"', newString: '1' }, extra);
    expect(fixed).toBe('Edited src/a.ts: replaced 1 occurrence.');
    // Closed: the server and the tsservers it started are gone.
    const servers = childrenOf(process.pid, 'typescript-language-server');
    const tsservers = servers.flatMap((pid) => childrenOf(pid, 'tsserver'));
    expect(servers.length).toBeGreaterThan(0);
    expect(tsservers.length).toBeGreaterThan(0);
    await lsp?.close();
    // SIGKILL to the group is sent by then; the kernel ends them a moment later.
    expect(await stillAlive([...servers, ...tsservers], 5000)).toEqual([]);
  });
});
