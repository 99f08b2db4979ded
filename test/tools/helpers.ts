/**
 * Test helpers for the built-in tools: a temp project (and a temp folder outside it) removed after
 * each test, a ToolContext with a recorder for denials, and a way to see a tool's error message.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { executeTool } from '../../src/tools/index.ts';
import type { ToolContext } from '../../src/tools/index.ts';

const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});

export async function tempDir(prefix = 'pantheon-tools-'): Promise<string> {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), prefix)));
  dirs.push(dir);
  return dir;
}

/** Writes files (paths relative to `root`; folders created). */
export async function writeFiles(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, content);
  }
}

export interface Project {
  root: string;
  denied: [string, string][];
  ctx: (extra?: Partial<ToolContext>) => ToolContext;
  run: (tool: string, input: unknown, extra?: Partial<ToolContext>) => Promise<string>;
  /** The error message of a call that must fail. */
  fail: (tool: string, input: unknown, extra?: Partial<ToolContext>) => Promise<string>;
}

/** A temp project; by default every tool is allowed (permission tests set their own). */
export async function project(files: Record<string, string | Buffer> = {}): Promise<Project> {
  const root = await tempDir('pantheon-project-');
  await writeFiles(root, files);
  const denied: [string, string][] = [];
  const ctx = (extra: Partial<ToolContext> = {}): ToolContext => ({
    projectRoot: root,
    permission: { edit: 'allow', bash: 'allow', webfetch: 'allow' },
    auto: false,
    interactive: false,
    onDenied: (tool, detail) => denied.push([tool, detail]),
    ...extra,
  });
  const run = (tool: string, input: unknown, extra?: Partial<ToolContext>) => executeTool(tool, input, ctx(extra));
  const fail = async (tool: string, input: unknown, extra?: Partial<ToolContext>): Promise<string> => {
    try {
      const output = await run(tool, input, extra);
      throw new Error(`expected ${tool} to fail, got: ${output.slice(0, 200)}`);
    } catch (error) {
      if (error instanceof Error && error.name !== 'Error') return error.message;
      throw error;
    }
  };
  return { root, denied, ctx, run, fail };
}
