import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasStack, sandbox, type Sandbox } from './cli-helper.ts';

const OMO_AGENTS = [
  'sisyphus',
  'sisyphus-junior',
  'prometheus',
  'metis',
  'momus',
  'oracle',
  'librarian',
  'explore',
  'atlas',
  'multimodal-looker',
  'frontend-ui-ux-engineer',
  'document-writer',
];

describe('opencode config init', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await sandbox();
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('--preset oh-my-opencode writes a commented opencode.jsonc that validates and loads the preset', async () => {
    const r = await sb.run(['config', 'init', '--preset', 'oh-my-opencode']);
    const file = path.join(sb.project, 'opencode.jsonc');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`wrote ${file}\n`);
    const text = await fs.readFile(file, 'utf8');
    expect(text).toMatch(/^\/\/ /m);
    expect(text).toContain('"extends": ["oh-my-opencode"]');

    const [validate, show] = await Promise.all([sb.run(['config', 'validate']), sb.run(['config', 'show', '--json'])]);
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stdout).toContain(file);
    expect(show.code, show.stderr).toBe(0);
    const agents = Object.keys((JSON.parse(show.stdout) as { agent: object }).agent);
    expect(agents).toEqual(expect.arrayContaining(OMO_AGENTS));
  });

  it('refuses to overwrite an existing file without --force: exit 2, file unchanged', async () => {
    const file = sb.write('opencode.jsonc', '{ "model": "ollama/mine" }\n');
    const before = await sb.snapshot();
    const r = await sb.run(['config', 'init', '--preset', 'oh-my-opencode']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^error: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} already exists; nothing was written\\.\\nhint: .*--force`));
    expect(hasStack(r.stderr)).toBe(false);
    expect(await sb.snapshot()).toEqual(before);
  });

  it('--force overwrites it', async () => {
    const file = sb.write('opencode.jsonc', '{ "model": "ollama/mine" }\n');
    const r = await sb.run(['config', 'init', '--preset', 'free-tier', '--force']);
    expect(r.code, r.stderr).toBe(0);
    const text = await fs.readFile(file, 'utf8');
    expect(text).toContain('"extends": ["free-tier"]');
    expect(text).not.toContain('ollama/mine');
  });

  it('an unknown preset: exit 2 with the list of presets, nothing written', async () => {
    const before = await sb.snapshot();
    const r = await sb.run(['config', 'init', '--preset', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --preset: unknown preset "nope"\.\nhint: .*default.*free-tier.*local.*oh-my-opencode/);
    expect(await sb.snapshot()).toEqual(before);
  });

  it('--out x.json writes plain JSON that validates', async () => {
    const r = await sb.run(['config', 'init', '--preset', 'local', '--out', 'x.json']);
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(sb.project, 'x.json');
    const data = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
    expect(data.extends).toEqual(['local']);
    const validate = await sb.run(['config', 'validate', 'x.json']);
    expect(validate.code, validate.stderr).toBe(0);
  });

  it('--out with another extension: exit 2, nothing written', async () => {
    const before = await sb.snapshot();
    const r = await sb.run(['config', 'init', '--preset', 'local', '--out', 'x.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--out');
    expect(await sb.snapshot()).toEqual(before);
  });
});
