import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { instructionPaths, loadInstructions } from '../../src/agents/instructions.ts';
import { tempTree, type TempTree } from '../config/temp-tree.ts';

let tree: TempTree;
beforeEach(async () => {
  tree = await tempTree();
  await tree.mkdir('repo/.git');
  await tree.mkdir('repo/app/src');
});
afterEach(async () => {
  await tree.remove();
});

const options = (instructions?: string[]) => ({
  config: instructions ? { instructions } : {},
  cwd: tree.path('repo/app/src'),
  projectRoot: tree.path('repo'),
  env: tree.env,
});

describe('instructions (as OpenCode finds them)', () => {
  it('global AGENTS.md, every project AGENTS.md from cwd up to the root, then the config\'s paths and globs', async () => {
    const global = await tree.write('xdg/opencode/AGENTS.md', 'global rules');
    const root = await tree.write('repo/AGENTS.md', 'root rules');
    const app = await tree.write('repo/app/AGENTS.md', 'app rules');
    await tree.write('repo/CLAUDE.md', 'not read: an AGENTS.md exists');
    const style = await tree.write('repo/docs/style.md', 'style');
    const extra = await tree.write('home/notes/extra.md', 'extra');
    expect(await instructionPaths(options(['docs/*.md', '~/notes/extra.md', 'missing.md']))).toEqual([global, app, root, style, extra]);
    expect(await loadInstructions(options())).toEqual([`Instructions from: ${global}\nglobal rules`, `Instructions from: ${app}\napp rules`, `Instructions from: ${root}\nroot rules`]);
  });

  it('falls back to CLAUDE.md (project) and ~/.claude/CLAUDE.md (global) when there is no AGENTS.md', async () => {
    const claude = await tree.write('repo/CLAUDE.md', 'claude rules');
    const home = await tree.write('home/.claude/CLAUDE.md', 'home rules');
    expect(await instructionPaths(options())).toEqual([home, claude]);
    expect(await instructionPaths({ ...options(), env: { ...tree.env, OPENCODE_DISABLE_CLAUDE_CODE: '1' } })).toEqual([]);
  });

  it('fetches instruction URLs (empty or failing ones are left out)', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/rules.md') res.end('remote rules');
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await loadInstructions(options([`${base}/rules.md`, `${base}/missing.md`]))).toEqual([`Instructions from: ${base}/rules.md\nremote rules`]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
