import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasStack, sandbox, type Sandbox } from './cli-helper.ts';

describe('prototype keys through the CLI', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await sandbox();
  });
  afterEach(async () => {
    await sb.remove();
  });

  it.each([
    ['oh-my-opencode.json', '{"agents":{"__proto__":{"temperature":0.5}}}', 'agents.__proto__', '1:12'],
    ['oh-my-opencode.json', '{"background_task":{"providerConcurrency":{"__proto__":3}}}', 'background_task.providerConcurrency.__proto__', '1:44'],
    ['opencode.jsonc', '// c\n{"agent":{"x":{"options":{"__proto__":{"polluted":1}}}},}', 'agent.x.options.__proto__', '2:27'],
  ])('%s with %s: exit 2, one sentence naming the file and path (no stream of bogus errors)', async (name, text, path, at) => {
    sb.write(name, text);
    for (const args of [['config', 'validate'], ['run', 'hi'], ['agent', 'list']]) {
      const r = await sb.run(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `error: ${sb.project}/${name}:${at}: ${path}: the key "__proto__" is not allowed (it would reach JavaScript's object prototype).\n` +
          'hint: Rename or remove that key: "__proto__", "constructor" and "prototype" are not accepted as keys anywhere in a config.\n',
      );
      expect(hasStack(r.stderr)).toBe(false);
    }
  });

  it('--json gives the same error as JSON', async () => {
    sb.write('opencode.json', '{"provider":{"constructor":{}}}');
    const r = await sb.run(['config', 'validate', '--json']);
    expect(r.code).toBe(2);
    const body = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({ code: 'CONFIG_INVALID', message: `${sb.project}/opencode.json:1:14: provider.constructor: the key "constructor" is not allowed (it would reach JavaScript's object prototype).` });
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])('--agent %s and `agent show %s` are unknown agents, not inherited ones', async (name) => {
    sb.write('opencode.json', { model: 'opencode-zen/big-pickle' });
    const run = await sb.run(['run', '--agent', name, 'hi']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^error: --agent: no agent named "${name}"\\.\\nhint: `));
    const show = await sb.run(['agent', 'show', name]);
    expect(show.code).toBe(2);
    expect(show.stderr).toMatch(new RegExp(`^error: agent show: no agent named "${name}"\\.\\nhint: `));
  });
});
