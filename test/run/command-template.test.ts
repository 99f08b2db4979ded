/**
 * OpenCode's command templates as `run --command` expands them: the placeholder rules, `!`shell``
 * output (a failing command's output kept, a missing shell said in the text), `@path` mentions
 * (only files inside the project), and the errors for an unknown command or a missing template.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema-types.ts';
import { expandCommand, fillTemplate } from '../../src/run/command-template.ts';

let root: string;
let outside: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-cmd-'));
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-cmd-out-'));
  fs.writeFileSync(path.join(root, 'notes.md'), 'notes');
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret');
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

const config = (command: Record<string, object>, shell?: string): Config => ({ command, ...(shell ? { shell } : {}) }) as unknown as Config;

describe('fillTemplate', () => {
  it('fills $1…$n in order, the highest taking the rest; quotes group words; missing ones are empty', () => {
    expect(fillTemplate('Compare $1 with $2', 'a.ts "b c.ts" d.ts')).toBe('Compare a.ts with b c.ts d.ts');
    expect(fillTemplate('Only $1 and $3', 'x')).toBe('Only x and ');
    expect(fillTemplate("Name '$1'", "'two words'")).toBe("Name 'two words'");
  });

  it('$ARGUMENTS takes the arguments as given; a template with no placeholder gets them appended, none when there are none', () => {
    expect(fillTemplate('Fix: $ARGUMENTS', '"the" bug  here')).toBe('Fix: "the" bug  here');
    expect(fillTemplate('Summarise.', 'briefly')).toBe('Summarise.\n\nbriefly');
    expect(fillTemplate('Summarise.', '  ')).toBe('Summarise.');
  });
});

describe('expandCommand', () => {
  it('runs each !`cmd` in the project folder (output kept on a failing exit), attaches @mentions inside the project only', async () => {
    const expanded = await expandCommand(config({ c: { template: 'Here: !`pwd` / !`echo out; exit 3` / @notes.md @../x @$1', agent: 'critic' } }), 'c', path.join(outside, 'secret.txt'), root, { PATH: process.env.PATH ?? '' });
    expect(expanded.message).toBe(`Here: ${fs.realpathSync(root)}\n / out\n / @notes.md @../x @${path.join(outside, 'secret.txt')}`);
    expect(expanded.files).toEqual([path.join(root, 'notes.md')]);
    expect(expanded.agent).toBe('critic');
  });

  it('a shell that cannot be started is said in the text; an unknown command or one without a template is an error naming it', async () => {
    const expanded = await expandCommand(config({ c: { template: 'Out: !`echo hi`' } }, '/nonexistent/shell'), 'c', '', root);
    expect(expanded.message).toMatch(/^Out: Error executing command: spawn \/nonexistent\/shell ENOENT$/);
    await expect(expandCommand(config({ a: { template: 'x' } }), 'b', '', root)).rejects.toMatchObject({ code: 'USAGE', message: '--command: no command named "b".', hint: 'Commands: a.' });
    await expect(expandCommand(config({ a: { description: 'no template' } }), 'a', '', root)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^command\.a\.template:/) });
  });
});

describe('arguments and shell blocks', () => {
  it('a shell block gets the arguments as its variables ($10 and up too); arguments are never read for shell blocks', async () => {
    const ten = Array.from({ length: 10 }, (_, i) => `w${i + 1}`).join(' ');
    const expanded = await expandCommand(config({ c: { template: 'A: !`printf "%s|%s|%s" "$1" "$10" "$ARGUMENTS"` B: $1 $10' } }), 'c', ten, root, { PATH: process.env.PATH ?? '' });
    expect(expanded.message).toBe(`A: w1|w10|${ten} B: w1 w10`);
    const injected = await expandCommand(config({ c: { template: 'Said: $ARGUMENTS' } }), 'c', '!`echo ran` $1', root, { PATH: process.env.PATH ?? '' });
    expect(injected.message).toBe('Said: !`echo ran` $1');
    expect(fillTemplate('Out: !`echo $1` and $1', 'x')).toBe('Out: !`echo $1` and x');
  });

  it('an @mention of a symlink that leads out of the project is not attached', async () => {
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'link.txt'));
    const expanded = await expandCommand(config({ c: { template: 'See @link.txt and @notes.md' } }), 'c', '', root);
    expect(expanded.files).toEqual([path.join(root, 'notes.md')]);
  });
});
