/**
 * Skills as commands, as OpenCode 1.18.33 lists and runs them (compared on its server): `GET /command`
 * lists each skill after the commands (`source: "skill"`, `hints: []`, the template its instructions
 * and folder), not one a command has the name of, nor one whose name holds control characters;
 * `POST /session/{id}/command` runs one, its arguments after the template. Through `@opencode-ai/sdk`.
 */
import { createOpencodeClient } from '@opencode-ai/sdk';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, userText, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

let model: ScriptedServer;
let sb: Sandbox;
let served: Served;

const tail = (dir: string) => `\nBase directory for this skill: ${dir}\nRelative paths in this skill (e.g., scripts/, references/) are relative to this base directory.`;

beforeAll(async () => {
  model = await startScriptedServer({ models: { m: {} } });
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false }, command: { mine: { template: 'My command $ARGUMENTS', description: 'ours' } } });
  sb.write('.opencode/skill/demo/SKILL.md', '---\nname: demo\ndescription: A demo skill for testing\n---\nDo the demo thing.\n');
  // A command of the same name wins: the skill is not listed.
  sb.write('.opencode/skill/mine/SKILL.md', '---\nname: mine\ndescription: Shadowed by the command\n---\nNever listed.\n');
  sb.write('.opencode/skill/evil/SKILL.md', '---\nname: "evil\\u001b[31mred"\ndescription: A name with an escape\n---\nNever listed.\n');
  served = await serve(sb);
});

afterAll(async () => {
  await served?.stop();
  await model?.close();
  await sb?.remove();
});

describe('skills as commands', () => {
  it('listed after the commands as OpenCode lists them, and run with their arguments after the template', async () => {
    const client = createOpencodeClient({ baseUrl: served.url, directory: sb.project });
    const listed = ((await client.command.list()).data ?? []) as { name: string; description?: string; source?: string; hints?: string[]; template?: string }[];
    expect(listed.map((c) => [c.name, c.source, c.hints])).toEqual([
      ['init', 'command', ['$ARGUMENTS']],
      ['review', 'command', ['$ARGUMENTS']],
      ['mine', 'command', ['$ARGUMENTS']],
      ['demo', 'skill', []],
    ]);
    const dir = path.join(sb.project, '.opencode/skill/demo');
    expect(listed.at(-1)).toEqual({ name: 'demo', description: 'A demo skill for testing', source: 'skill', hints: [], template: `Do the demo thing.\n\n${tail(dir)}` });

    const id = (await client.session.create({ body: {} })).data?.id ?? '';
    const reply = await client.session.command({ path: { id }, body: { command: 'demo', arguments: 'focus on x' } });
    expect(reply.response.status, JSON.stringify(reply.error)).toBe(200);
    expect(userText(model.log.at(-1))).toBe(`Do the demo thing.\n\n${tail(dir)}\n\nfocus on x`);

    // The shadowed skill runs the command; the one with control characters is no command.
    await client.session.command({ path: { id }, body: { command: 'mine', arguments: 'x' } });
    expect(userText(model.log.at(-1))).toBe('My command x');
    const evil = await client.session.command({ path: { id }, body: { command: 'evil\u001b[31mred', arguments: '' } });
    expect(evil.response.status).toBe(400);
    expect(JSON.stringify(evil.error)).toContain('no command named');
  });
});
