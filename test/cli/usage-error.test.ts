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
    } finally {
      await box.remove();
    }
  });
});
