/**
 * What OpenCode reads besides opencode.json: `.opencode` folders, agents written as markdown files
 * (global and per project, with their file as provenance), `mode` entries, and the newer name of
 * the oh-my-opencode file.
 */
import fs from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type LoadedConfig } from '../../src/config/load.ts';
import { PantheonError } from '../../src/errors.ts';
import { originOf } from '../../src/agents/provenance.ts';
import { tempTree, type TempTree } from './temp-tree.ts';

let tree: TempTree;
beforeEach(async () => {
  tree = await tempTree();
  await tree.write('presets/default.json', { model: 'l/default', provider: { l: { options: { baseURL: 'http://127.0.0.1:9/v1' } } } });
  await tree.mkdir('repo/.git');
});
afterEach(async () => {
  await tree.remove();
});

function load(cwd = 'repo'): Promise<LoadedConfig> {
  return loadConfig({ cwd: tree.path(cwd), env: tree.env, presetsDir: tree.presets });
}

const REVIEWER = `---
description: Reviews diffs for bugs
mode: subagent
model: l/m1
temperature: 0.1
tools:
  write: false
permission:
  edit: deny
---
You review code.

Be terse.
`;

describe('markdown agents', () => {
  it('reads agent/ and agents/ (any depth) beside the global config and in .opencode, the body as the prompt', async () => {
    const global = await tree.write('xdg/opencode/agents/reviewer.md', REVIEWER);
    const nested = await tree.write('repo/.opencode/agent/docs/writer.md', '---\ndescription: Writes docs\n---\nWrite docs.\n');
    const loaded = await load();
    expect(loaded.config.agent?.reviewer).toMatchObject({
      description: 'Reviews diffs for bugs',
      mode: 'subagent',
      model: 'l/m1',
      temperature: 0.1,
      tools: { write: false },
      permission: { edit: 'deny' },
      prompt: 'You review code.\n\nBe terse.',
    });
    expect(loaded.config.agent?.['docs/writer']).toMatchObject({ description: 'Writes docs', prompt: 'Write docs.' });
    expect(originOf(loaded.layers, ['agent', 'reviewer', 'prompt'])).toBe(global);
    expect(originOf(loaded.layers, ['agent', 'docs/writer', 'description'])).toBe(nested);
  });

  it('a project agent file wins over the global one and over opencode.json; mode/ files are primary agents', async () => {
    await tree.write('xdg/opencode/agent/reviewer.md', REVIEWER);
    await tree.write('repo/opencode.json', { agent: { reviewer: { temperature: 0.5, description: 'from json' } } });
    await tree.write('repo/.opencode/agents/reviewer.md', '---\ntemperature: 0.9\n---\nProject reviewer.\n');
    await tree.write('repo/.opencode/modes/focus.md', '---\ndescription: Focus\n---\nStay focused.\n');
    const loaded = await load();
    expect(loaded.config.agent?.reviewer).toMatchObject({ temperature: 0.9, description: 'from json', prompt: 'Project reviewer.', model: 'l/m1' });
    expect(loaded.config.agent?.focus).toMatchObject({ mode: 'primary', prompt: 'Stay focused.' });
  });

  it('markdown commands, global and per project (the project\'s wins), with their frontmatter; one whose frontmatter is not YAML is skipped with a warning', async () => {
    await tree.write('xdg/opencode/command/review.md', '---\ndescription: Global review\n---\nReview globally.\n');
    await tree.write('xdg/opencode/command/global-only.md', 'Only global.\n');
    await tree.write('repo/.opencode/commands/review.md', '---\nagent: critic\nmodel: l/m1\n---\nReview $ARGUMENTS.\n');
    await tree.write('repo/.opencode/command/git/log.md', 'Show !`git log -1`\n');
    const broken = await tree.write('repo/.opencode/command/broken.md', '---\nagent: [unclosed\n---\nx\n');
    const loaded = await load();
    expect(loaded.config.command).toMatchObject({
      review: { description: 'Global review', agent: 'critic', model: 'l/m1', template: 'Review $ARGUMENTS.' },
      'global-only': { template: 'Only global.' },
      'git/log': { template: 'Show !`git log -1`' },
    });
    expect((loaded.config.command as Record<string, unknown>).broken).toBeUndefined();
    expect(loaded.warnings).toContainEqual(expect.objectContaining({ code: 'COMMAND_FILE_SKIPPED', file: broken }));
  });

  it('frontmatter that is a list or a string, not settings: skipped with a warning that says so; empty or null frontmatter is no settings', async () => {
    const list = await tree.write('repo/.opencode/agent/list.md', '---\n- model: p/m\n- steps: 3\n---\nx\n');
    const text = await tree.write('repo/.opencode/command/text.md', '---\njust words\n---\nx\n');
    await tree.write('repo/.opencode/agent/empty.md', '---\n~\n---\nPrompt.\n');
    const loaded = await load();
    expect(loaded.config.agent?.list).toBeUndefined();
    expect(loaded.config.agent?.empty?.prompt).toBe('Prompt.');
    expect(loaded.warnings).toContainEqual({ code: 'AGENT_FILE_SKIPPED', file: list, message: 'its frontmatter is a list, not `key: value` settings; agent skipped' });
    expect(loaded.warnings).toContainEqual({ code: 'COMMAND_FILE_SKIPPED', file: text, message: 'its frontmatter is a string, not `key: value` settings; command skipped' });
  });

  it('does not substitute in the body, skips a file whose frontmatter is not YAML (with a warning), and validates the rest', async () => {
    await tree.write('repo/.opencode/agent/raw.md', 'Use {env:HOME} literally.\n');
    const broken = await tree.write('repo/.opencode/agent/broken.md', '---\ndescription: [unclosed\n---\nx\n');
    const loaded = await load();
    expect(loaded.config.agent?.raw?.prompt).toBe('Use {env:HOME} literally.');
    expect(loaded.config.agent?.broken).toBeUndefined();
    expect(loaded.warnings).toContainEqual({
      code: 'AGENT_FILE_SKIPPED',
      file: broken,
      message: 'its frontmatter is not valid YAML at line 2, column 23 (unexpected end of the stream within a flow collection); agent skipped',
    });

    const bad = await tree.write('repo/.opencode/agent/bad.md', '---\ntemperature: hot\n---\nx\n');
    const err = await load().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PantheonError);
    expect((err as PantheonError).details?.join('\n')).toContain(`${bad} agent.bad.temperature: expected a number`);
  });

  it('skips an agent file over 1 MiB, or one it cannot read, each with a warning saying why', async () => {
    const huge = await tree.write('repo/.opencode/agent/huge.md', `---\ndescription: big\n---\n${'x'.repeat(1024 * 1024)}\n`);
    const locked = await tree.write('repo/.opencode/agent/locked.md', 'A prompt.\n');
    await fs.chmod(locked, 0o000);
    const loaded = await load();
    expect(loaded.config.agent?.huge).toBeUndefined();
    expect(loaded.warnings).toContainEqual({ code: 'AGENT_FILE_SKIPPED', file: huge, message: 'the file is larger than the 1 MiB limit (1,048,602 bytes); agent skipped' });
    if (process.getuid?.() !== 0) {
      // root reads any file.
      expect(loaded.config.agent?.locked).toBeUndefined();
      expect(loaded.warnings).toContainEqual(expect.objectContaining({ code: 'AGENT_FILE_SKIPPED', file: locked, message: expect.stringMatching(/^the file cannot be read \(EACCES\); agent skipped$/) }));
    }
  });

  it('mode.<name> in opencode.json is a primary agent', async () => {
    await tree.write('repo/opencode.json', { mode: { review: { prompt: 'Review.', temperature: 0.2 } } });
    expect((await load()).config.agent?.review).toMatchObject({ mode: 'primary', prompt: 'Review.', temperature: 0.2 });
  });
});

describe('.opencode folders and oh-my-openagent', () => {
  it('reads .opencode/opencode.json[c] over the project file, nearest folder last', async () => {
    await tree.write('repo/opencode.json', { small_model: 'l/project', model: 'l/project' });
    await tree.write('repo/.opencode/opencode.json', { model: 'l/dot-json' });
    await tree.write('repo/.opencode/opencode.jsonc', '{ "model": "l/dot-jsonc", }');
    await tree.write('repo/sub/.opencode/opencode.json', { small_model: 'l/sub' });
    const loaded = await load('repo/sub');
    expect(loaded.config).toMatchObject({ model: 'l/dot-jsonc', small_model: 'l/sub' });
  });

  it('reads oh-my-openagent.json (the newer name) like oh-my-opencode.json', async () => {
    await tree.write('repo/opencode.json', {});
    await tree.write('repo/oh-my-openagent.json', { agents: { oracle: { model: 'l/m2', fallback_models: [{ model: 'l/m3', variant: 'high' }] } } });
    expect((await load()).config.agent?.oracle).toMatchObject({ model: 'l/m2', fallbacks: ['l/m3:high'] });
  });
});
