/**
 * `command.execute.before`: a command's parts (its expanded template, the files it mentions, or the
 * sub-task it runs as) as the plugins see and change them before the turn.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema-types.ts';
import { commandInput } from '../../src/server/command-input.ts';
import { testHost } from './test-host.ts';

const dirs: string[] = [];
afterEach(async () => Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true }))));

async function project(): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-cmd-'));
  dirs.push(root);
  await fs.writeFile(path.join(root, 'notes.md'), 'the notes');
  return root;
}

const config = {
  model: 'local/a',
  command: {
    hello: { template: 'Say hello to $ARGUMENTS. See @notes.md' },
    review: { template: 'Review $ARGUMENTS', agent: 'reviewer', subtask: true, description: 'a review' },
  },
  agent: { build: { mode: 'primary' }, reviewer: { mode: 'subagent', prompt: 'Review.' } },
} as unknown as Config;

describe('command.execute.before', () => {
  it('sees the expanded template and the files it mentions, and what it changes is the turn\'s input', async () => {
    const root = await project();
    const plugins = testHost({
      'command.execute.before': (_input, output) => {
        output.parts[0].text += ' Be kind.';
        output.parts.push({ type: 'text', text: 'Added by a plugin.' });
      },
    });
    const input = await commandInput(config, { command: 'hello', arguments: 'Bob' }, root, {}, { plugins, sessionID: 'ses_cmd' });
    expect(input.text).toBe('Say hello to Bob. See @notes.md Be kind.\n\nAdded by a plugin.');
    expect(input.attachments.map((f) => f.name)).toEqual(['notes.md']);
    const [seen] = plugins.of('command.execute.before');
    expect(seen).toEqual({ command: 'hello', sessionID: 'ses_cmd', arguments: 'Bob' });
  });

  it('a file part the hook removes is not attached', async () => {
    const root = await project();
    const plugins = testHost({ 'command.execute.before': (_input, output) => void (output.parts = output.parts.filter((p: { type: string }) => p.type !== 'file')) });
    const input = await commandInput(config, { command: 'hello', arguments: 'Bob' }, root, {}, { plugins, sessionID: 'ses_cmd' });
    expect(input.attachments).toEqual([]);
  });

  it('a sub-task command is one subtask part, whose prompt the hook may change', async () => {
    const root = await project();
    const seen: unknown[] = [];
    const plugins = testHost({
      'command.execute.before': (_input, output) => {
        seen.push(structuredClone(output.parts));
        output.parts[0].prompt = 'Review carefully: the diff';
      },
    });
    const input = await commandInput(config, { command: 'review', arguments: 'the diff' }, root, {}, { plugins, sessionID: 'ses_cmd' });
    expect(seen[0]).toEqual([expect.objectContaining({ type: 'subtask', agent: 'reviewer', description: 'a review', command: 'review', prompt: 'Review the diff' })]);
    expect(input.subtask).toEqual({ agent: 'reviewer', prompt: 'Review carefully: the diff', description: 'a review', command: 'review' });
  });

  it('a hook that throws fails the command, naming the hook', async () => {
    const root = await project();
    const plugins = testHost({
      'command.execute.before': () => {
        throw new Error('commands are off');
      },
    });
    await expect(commandInput(config, { command: 'hello', arguments: 'Bob' }, root, {}, { plugins, sessionID: 'ses_cmd' })).rejects.toMatchObject({ code: 'PLUGIN_FAILED', message: 'The plugin hook command.execute.before failed: commands are off' });
  });
});
