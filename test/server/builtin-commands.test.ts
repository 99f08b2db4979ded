/**
 * OpenCode's built-in commands that Pantheon runs: `GET /command` lists `init` and `review` (OpenCode's
 * TUI offers them as `/init` and `/review`) with OpenCode's own prompts, and
 * `POST /session/{id}/command` runs them; a config command of the same name takes a built-in's place,
 * in the listing and when run (also through `POST /session/{id}/init`). Through `@opencode-ai/sdk`.
 */
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, userText, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

let model: ScriptedServer;
let plain: Sandbox;
let own: Sandbox;
let servedPlain: Served;
let servedOwn: Served;

beforeAll(async () => {
  model = await startScriptedServer({ models: { m: {} } });
  plain = await sandbox();
  plain.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false } });
  own = await sandbox();
  own.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false }, command: { init: { template: 'Our own init: $ARGUMENTS', description: 'ours' } } });
  [servedPlain, servedOwn] = await Promise.all([serve(plain), serve(own)]);
});

afterAll(async () => {
  await servedPlain?.stop();
  await servedOwn?.stop();
  await model?.close();
  await plain?.remove();
  await own?.remove();
});

describe('OpenCode’s built-in commands', () => {
  it('listed with OpenCode’s prompts, and run: /review with its arguments, /init naming the project', async () => {
    const client = createOpencodeClient({ baseUrl: servedPlain.url, directory: plain.project });
    const listed = (await client.command.list()).data ?? [];
    expect((listed as { name: string; description?: string; source?: string; hints?: string[] }[]).map((c) => [c.name, c.description, c.source, c.hints])).toEqual([
      ['init', 'guided AGENTS.md setup', 'command', ['$ARGUMENTS']],
      ['review', 'review changes [commit|branch|pr], defaults to uncommitted', 'command', ['$ARGUMENTS']],
    ]);
    const review = listed.find((c) => c.name === 'review');
    expect(review?.template).toMatch(/^You are a code reviewer\. /);
    expect(review?.template).toContain('Run: `git show $ARGUMENTS`');

    const id = (await client.session.create({ body: {} })).data?.id ?? '';
    const before = model.log.length;
    const reply = await client.session.command({ path: { id }, body: { command: 'review', arguments: 'abc1234' } });
    expect(reply.response.status, JSON.stringify(reply.error)).toBe(200);
    expect(model.log).toHaveLength(before + 1);
    const sent = userText(model.log.at(-1));
    expect(sent).toMatch(/^You are a code reviewer\. /);
    expect(sent).toContain('Input: abc1234');
    expect(sent).toContain('Run: `git show abc1234`');

    const init = await client.session.command({ path: { id }, body: { command: 'init', arguments: '' } });
    expect(init.response.status).toBe(200);
    expect(userText(model.log.at(-1))).toContain(`If \`AGENTS.md\` already exists at \`${plain.project}\`, improve it in place`);
  });

  it('a config command of the same name takes the built-in’s place', async () => {
    const client = createOpencodeClient({ baseUrl: servedOwn.url, directory: own.project });
    const listed = (await client.command.list()).data ?? [];
    expect(listed.map((c) => [c.name, c.template])).toEqual([
      ['init', 'Our own init: $ARGUMENTS'],
      ['review', expect.stringMatching(/^You are a code reviewer\. /)],
    ]);
    const id = (await client.session.create({ body: {} })).data?.id ?? '';
    expect((await client.session.command({ path: { id }, body: { command: 'init', arguments: 'briefly' } })).response.status).toBe(200);
    expect(userText(model.log.at(-1))).toBe('Our own init: briefly');
    expect((await client.session.init({ path: { id }, body: { providerID: 'p', modelID: 'm', messageID: 'msg_0123456789abcdefghijklmnop' } })).data).toBe(true);
    expect(userText(model.log.at(-1))).toBe('Our own init:');
  });
});
