import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sandbox, type CliResult, type Sandbox } from './cli-helper.ts';

interface Shown {
  model?: string;
  small_model?: string;
  default_agent?: string;
}

function shown(r: CliResult): Shown {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Shown;
}

/**
 * Writes the first `levels` layers, each setting `model` to its own name; the global file also
 * sets `small_model`, which no other layer touches.
 */
function layered(sb: Sandbox, levels: number): { args: string[]; env: Record<string, string> } {
  const args = ['config', 'show', '--json'];
  const env: Record<string, string> = {};
  if (levels >= 1) sb.writeGlobal('opencode.json', { model: 'ollama/global', small_model: 'ollama/global-small' });
  if (levels >= 2) sb.write('opencode.json', { model: 'ollama/project' });
  if (levels >= 3) sb.write('pantheon.json', { model: 'ollama/pantheon' });
  if (levels >= 4) env.OPENCODE_CONFIG = sb.write('env/config.json', { model: 'ollama/env' });
  if (levels >= 5) args.push('--config', path.relative(sb.project, sb.write('flag/config.json', { model: 'ollama/flag' })));
  return { args, env };
}

describe('config precedence through the CLI', () => {
  const boxes: Sandbox[] = [];
  afterEach(async () => {
    await Promise.all(boxes.splice(0).map((b) => b.remove()));
  });
  async function box(): Promise<Sandbox> {
    const sb = await sandbox();
    boxes.push(sb);
    return sb;
  }

  it('global XDG file < project opencode.json < pantheon.json < OPENCODE_CONFIG < --config', async () => {
    const expected = ['ollama/global', 'ollama/project', 'ollama/pantheon', 'ollama/env', 'ollama/flag'];
    const results = await Promise.all(
      expected.map(async (_, i) => {
        const sb = await box();
        const { args, env } = layered(sb, i + 1);
        return shown(await sb.run(args, { env }));
      }),
    );
    results.forEach((config, i) => {
      expect(config.model, `with ${i + 1} layers`).toBe(expected[i]);
      // objects merge across layers: the global file's other key survives every higher layer
      expect(config.small_model).toBe('ollama/global-small');
    });
  });

  it('text mode credits each top-level key to the layer that set it', async () => {
    const sb = await box();
    const { args, env } = layered(sb, 5);
    const r = await sb.run(args.filter((a) => a !== '--json'), { env });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const origin = (key: string) => lines[lines.findIndex((l) => l.startsWith(`  "${key}":`)) - 1]?.trim();
    expect(origin('model')).toBe(`// from ${path.join(sb.project, 'flag', 'config.json')}`);
    expect(origin('small_model')).toBe(`// from ${path.join(sb.configHome, 'opencode', 'opencode.json')}`);
  });

  it('a file\'s own keys win over what it extends, which wins over the built-in defaults', async () => {
    const sb = await box();
    sb.write('team.json', { model: 'ollama/team', small_model: 'ollama/team-small', default_agent: 'oracle' });
    sb.write('opencode.json', { extends: ['./team.json'], model: 'ollama/project' });
    const config = shown(await sb.run(['config', 'show', '--json']));
    expect(config).toMatchObject({ model: 'ollama/project', small_model: 'ollama/team-small', default_agent: 'oracle' });
  });

  it('project files are found walking up to the git root, and not above it', async () => {
    const sb = await box();
    await fs.writeFile(path.join(sb.root, 'opencode.json'), JSON.stringify({ small_model: 'ollama/outside' }));
    sb.write('opencode.json', { model: 'ollama/root' });
    const cwd = path.join(sb.project, 'packages', 'app');
    await fs.mkdir(cwd, { recursive: true });
    const config = shown(await sb.run(['config', 'show', '--json'], { cwd }));
    expect(config.model).toBe('ollama/root');
    expect(config.small_model).toBeUndefined();
  });

  it('.opencoderc and package.json#opencode are project files too', async () => {
    const [rc, pkg] = await Promise.all([box(), box()]);
    rc.write('.opencoderc', '{ "model": "ollama/rc" }');
    pkg.write('package.json', { name: 'x', opencode: { model: 'ollama/pkg' } });
    const [a, b] = await Promise.all([rc.run(['config', 'show', '--json']), pkg.run(['config', 'show', '--json'])]);
    expect(shown(a).model).toBe('ollama/rc');
    expect(shown(b).model).toBe('ollama/pkg');
  });

  it('a global opencode.jsonc with comments is read', async () => {
    const sb = await box();
    sb.writeGlobal('opencode.jsonc', '// mine\n{ "model": "ollama/jsonc", }\n');
    expect(shown(await sb.run(['config', 'show', '--json'])).model).toBe('ollama/jsonc');
  });
});
