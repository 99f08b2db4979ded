/**
 * A custom command's arguments are the client's text, never code: through OpenCode's
 * `POST /session/{id}/command`, `POST /pantheon/run` (`run --attach --command`) and a local
 * `run --command`, arguments holding `` !`…` `` reach the model as written and run nothing, while the
 * template's own shell blocks still run (with the arguments as the shell's variables, not pasted
 * into the command). An `@mention` of a symlink that leads out of the project is not read.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, userText, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { getJson, serve, type Served } from './serve-helper.ts';

let sb: Sandbox;
let model: ScriptedServer;
let s: Served;
let outside: string;

const post = (url: string, body: object) => getJson(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

beforeAll(async () => {
  model = await startScriptedServer({ models: { m: {} } });
  sb = await sandbox();
  outside = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-cmd-outside-'));
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'OUTSIDE-SECRET-CONTENT\n');
  sb.write('opencode.json', {
    ...providerConfig(model, { m: {} }),
    model: 'p/m',
    command: {
      review: { template: 'Review this: $ARGUMENTS' },
      show: { template: 'First $1, rest $2. Shell: !`printf "[%s][%s][%s]" "$1" "$2" "$ARGUMENTS"` Own: !`echo own > own-block.txt; echo ran`' },
      plain: { template: 'Summarise.' },
      read: { template: 'Read @notes.txt and @inside.txt' },
    },
  });
  sb.write('inside.txt', 'INSIDE-CONTENT\n');
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(sb.project, 'notes.txt'));
  s = await serve(sb);
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
  if (outside) fs.rmSync(outside, { recursive: true, force: true });
});

async function newSession(): Promise<string> {
  return ((await post(`${s.url}/session?directory=${encodeURIComponent(sb.project)}`, {})).body as { id: string }).id;
}

describe('custom command arguments', () => {
  it('POST /session/{id}/command: a shell block in the arguments is sent as text and nothing runs', async () => {
    const marker = path.join(sb.root, 'pwned-session');
    const id = await newSession();
    const args = `!\`id; touch ${marker}\``;
    const before = model.log.length;
    const reply = await post(`${s.url}/session/${id}/command?directory=${encodeURIComponent(sb.project)}`, { command: 'review', arguments: args });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(model.log).toHaveLength(before + 1);
    expect(userText(model.log.at(-1))).toBe(`Review this: ${args}`);
    expect(fs.existsSync(marker)).toBe(false);
    // Appended to a template that names no placeholder: the same.
    const appended = await post(`${s.url}/session/${id}/command?directory=${encodeURIComponent(sb.project)}`, { command: 'plain', arguments: args });
    expect(appended.status).toBe(200);
    expect(userText(model.log.at(-1))).toBe(`Summarise.\n\n${args}`);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('the template’s own shell blocks run; arguments inside them are the shell’s variables, one word each, never code', async () => {
    const marker = path.join(sb.root, 'pwned-positional');
    const id = await newSession();
    const args = `"a; touch ${marker}" $(touch ${marker}) \`touch ${marker}\``;
    const reply = await post(`${s.url}/session/${id}/command?directory=${encodeURIComponent(sb.project)}`, { command: 'show', arguments: args });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const sent = userText(model.log.at(-1));
    const first = `a; touch ${marker}`;
    const rest = `$(touch ${marker}) \`touch ${marker}\``;
    expect(sent).toBe(`First ${first}, rest ${rest}. Shell: [${first}][${rest}][${args}] Own: ran`);
    expect(fs.readFileSync(path.join(sb.project, 'own-block.txt'), 'utf8')).toBe('own\n');
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('POST /pantheon/run (run --attach --command) and a local run --command: the same', async () => {
    const marker = path.join(sb.root, 'pwned-cli');
    const args = `!\`touch ${marker}\``;
    const attached = await sb.run(['run', '--attach', s.url, '--command', 'review', args]);
    expect(attached.code, attached.stderr).toBe(0);
    expect(userText(model.log.at(-1))).toBe(`Review this: ${args}`);
    const local = await sb.run(['run', '--command', 'review', args]);
    expect(local.code, local.stderr).toBe(0);
    expect(userText(model.log.at(-1))).toBe(`Review this: ${args}`);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('an @mention of a symlink out of the project is left as text, not read; one inside is attached', async () => {
    const id = await newSession();
    const reply = await post(`${s.url}/session/${id}/command?directory=${encodeURIComponent(sb.project)}`, { command: 'read', arguments: '' });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const request = JSON.stringify(model.log.at(-1)?.messages);
    expect(request).toContain('Read @notes.txt and @inside.txt');
    expect(request).toContain('INSIDE-CONTENT');
    expect(request).not.toContain('OUTSIDE-SECRET-CONTENT');
    // The local run reads it the same way.
    const local = await sb.run(['run', '--command', 'read']);
    expect(local.code, local.stderr).toBe(0);
    expect(JSON.stringify(model.log.at(-1)?.messages)).toContain('INSIDE-CONTENT');
    expect(JSON.stringify(model.log.at(-1)?.messages)).not.toContain('OUTSIDE-SECRET-CONTENT');
  });
});
