import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/usage-error.ts';
import { sandbox } from './cli-helper.ts';

/** Commands listed in a `--help` screen: the word after `opencode [parent]`, and their aliases. */
function listed(help: string, parent?: string): string[] {
  const names: string[] = [];
  const section = help.split(/\nCommands:\n/)[1]?.split(/\n\n/)[0] ?? '';
  for (const line of section.split('\n')) {
    const words = line.trim().split(/\s+/);
    const name = parent ? words[2] : words[1];
    if (name) names.push(name);
    const aliases = /\[aliases: ([^\]]+)\]/.exec(line);
    if (aliases) names.push(...(aliases[1] as string).split(/,\s*/));
  }
  return names.sort();
}

describe('the usage-error command table', () => {
  it('names exactly the registered commands and their actions', async () => {
    const box = await sandbox();
    try {
      const top = await box.run(['--help']);
      expect(listed(top.stdout)).toEqual(Object.keys(COMMANDS).sort());
      for (const [command, actions] of Object.entries(COMMANDS)) {
        if (actions.length === 0) continue;
        const help = await box.run([command, '--help']);
        expect(listed(help.stdout, command), command).toEqual([...actions].sort());
      }
    } finally {
      await box.remove();
    }
  });

  it('suggests the right action for a mistyped one', async () => {
    const box = await sandbox();
    try {
      const r = await box.run(['auth', 'lgout']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('Unknown auth action "lgout"; did you mean "logout"?');
      const typo = await box.run(['session', 'delet', 'ses_x']);
      expect(typo).toMatchObject({ code: 2, stderr: 'error: Unknown session action "delet"; did you mean "delete"?\nhint: Actions: list, ls, show, delete. See `opencode session --help`.\n' });
      const flag = await box.run(['session', 'delete', 'ses_x', '--bogus']);
      expect(flag).toMatchObject({ code: 2, stderr: 'error: session delete: unknown option --bogus.\nhint: See `opencode session delete --help`.\n' });
    } finally {
      await box.remove();
    }
  });

  it('--config given empty or twice is a usage error naming the flag, in the full CLI and the small bundles alike', async () => {
    const box = await sandbox();
    try {
      box.write('a.json', { model: 'p/a' });
      box.write('b.json', { model: 'p/b' });
      for (const args of [['agent', 'list'], ['config', 'show'], ['doctor', '--check', 'config']]) {
        const twice = await box.run([...args, '--config', 'a.json', '--config', 'b.json']);
        expect(twice, args.join(' ')).toMatchObject({ code: 2, stdout: '', stderr: 'error: --config: expected one config file, found 2.\nhint: Give --config once; the files it would layer can `extends` one another.\n' });
        const empty = await box.run([...args, '--config=']);
        expect(empty, args.join(' ')).toMatchObject({ code: 2, stdout: '', stderr: 'error: --config: expected a config file, found nothing.\nhint: For example --config ./team.jsonc, or leave it out.\n' });
      }
      expect((await box.run(['config', 'show', '--json', '--config', 'b.json'])).stdout).toContain('"p/b"');
    } finally {
      await box.remove();
    }
  });

  it.each([
    [['config', 'init', '--preset', 'local', '--out', 'a.jsonc', '--out', 'b.jsonc'], '--out: expected one file, found 2.'],
    [['config', 'init', '--preset', 'local', '--preset', 'free-tier'], '--preset: expected one preset, found 2.'],
    [['mcp', 'call', 'memory', 'read_graph', '--args', '{}', '--args', '{}'], '--args: expected one JSON object, found 2.'],
    [['workflow', 'show', 'wr_x', '--output', 'a', '--output', 'b'], '--output: expected one step, found 2.'],
  ])('%j: a flag of one value given twice is a usage error naming it, and nothing is written', async (args, message) => {
    const box = await sandbox();
    try {
      const before = await box.snapshot();
      const r = await box.run(args);
      expect(r).toMatchObject({ code: 2, stdout: '' });
      expect(r.stderr.startsWith(`error: ${message}\nhint: Give --`), r.stderr).toBe(true);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(2);
      expect(await box.snapshot()).toEqual(before);
    } finally {
      await box.remove();
    }
  });
});
