/**
 * GitHub Copilot's Responses-only models under `opencode serve`, through `@opencode-ai/sdk` as
 * OpenCode's TUI prompts: with the login in auth.json, a prompt to `github-copilot/gpt-5.3-codex`
 * goes to the scripted Copilot API's `/responses` (its list says so) with the token, a prompt to
 * `github-copilot/gpt-4.1` to `/chat/completions`, and Copilot's list is asked once for both.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { startFakeCopilot, type FakeCopilot } from '../support/fake-copilot.ts';
import { serve, type Served } from '../server/serve-helper.ts';

const TOKEN = 'gho_CopilotServeToken0123456789abc';

let sb: Sandbox;
let copilot: FakeCopilot;
let s: Served;
let client: ReturnType<typeof createOpencodeClient>;

beforeAll(async () => {
  copilot = await startFakeCopilot({
    token: TOKEN,
    models: [
      { id: 'gpt-5.3-codex', endpoints: ['/responses'] },
      { id: 'gpt-4.1', endpoints: ['/chat/completions'], name: 'GPT-4.1 (Copilot)', context: 64000, output: 4000 },
    ],
  });
  sb = await sandbox();
  sb.write('opencode.json', { model: 'github-copilot/gpt-5.3-codex', provider: { 'github-copilot': { options: { baseURL: copilot.url } } } });
  const dir = path.join(sb.dataHome, 'opencode');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(dir, 'auth.json'), JSON.stringify({ 'github-copilot': { type: 'oauth', refresh: TOKEN, access: TOKEN, expires: 0 } }), { mode: 0o600 });
  s = await serve(sb);
  client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
});

afterAll(async () => {
  await s?.stop();
  await copilot?.close();
  await sb?.remove();
});

const textOf = (parts: { type: string; text?: string }[] | undefined) => (parts ?? []).flatMap((p) => (p.type === 'text' && p.text ? [p.text] : [])).join('');

describe('opencode serve with a GitHub Copilot login', () => {
  it('prompts a Responses-only model over /responses and a chat model over /chat/completions', async () => {
    copilot.reply('gpt-5.3-codex', { text: 'served over responses' });
    copilot.reply('gpt-4.1', { text: 'served over chat' });
    const id = (await client.session.create({ body: {} })).data?.id ?? '';
    const first = await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'hello' }] } });
    expect(textOf(first.data?.parts as { type: string; text?: string }[])).toBe('served over responses');
    const second = await client.session.prompt({ path: { id }, body: { model: { providerID: 'github-copilot', modelID: 'gpt-4.1' }, parts: [{ type: 'text', text: 'again' }] } });
    expect(textOf(second.data?.parts as { type: string; text?: string }[])).toBe('served over chat');
    const calls = copilot.requests.filter((r) => r.path !== '/models');
    expect(calls.map((c) => [c.path, c.status])).toEqual([
      ['/responses', 200],
      ['/chat/completions', 200],
    ]);
    expect(calls.every((c) => c.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(copilot.listed()).toBe(1);
  });

  it("lists Copilot's models to pick from as OpenCode does: /provider, /config/providers, v2 /api/model, without asking Copilot again", async () => {
    const listed = (await client.provider.list()).data;
    const own = listed?.all.find((p) => p.id === 'github-copilot');
    // gpt-4.1 is in no config: Copilot's list offers it, with its own name and limits.
    expect(Object.keys(own?.models ?? {}).sort()).toEqual(['gpt-4.1', 'gpt-5.3-codex']);
    expect(own?.models['gpt-4.1']).toMatchObject({ id: 'gpt-4.1', providerID: 'github-copilot', name: 'GPT-4.1 (Copilot)', api: { id: 'gpt-4.1' }, limit: { context: 64000, output: 4000 } });
    expect(listed?.connected).toContain('github-copilot');
    expect(listed?.default['github-copilot']).toBe('gpt-5.3-codex');
    const providers = (await client.config.providers()).data;
    expect(Object.keys(providers?.providers.find((p) => p.id === 'github-copilot')?.models ?? {}).sort()).toEqual(['gpt-4.1', 'gpt-5.3-codex']);
    const v2 = (await (await fetch(`${s.url}/api/model?directory=${encodeURIComponent(sb.project)}`)).json()) as { data: { id: string; providerID: string; name: string; limit: { context: number } }[] };
    expect(v2.data.find((m) => m.providerID === 'github-copilot' && m.id === 'gpt-4.1')).toMatchObject({ name: 'GPT-4.1 (Copilot)', limit: { context: 64000 } });
    expect(JSON.stringify([listed, providers, v2])).not.toContain(TOKEN);
    expect(copilot.listed()).toBe(1);
  });

  it('with a list kept over an hour ago and Copilot slow, /provider answers the kept list at once and the new one once Copilot gives it', async () => {
    await s.stop();
    // The list this server kept, as it stands two hours later for the next server (the TUI started again in the afternoon).
    const kept = path.join(sb.dataHome, 'pantheon', 'copilot-models.json');
    const file = JSON.parse(readFileSync(kept, 'utf8')) as { lists: Record<string, { at: number }> };
    for (const list of Object.values(file.lists)) list.at -= 2 * 60 * 60 * 1000;
    writeFileSync(kept, JSON.stringify(file), { mode: 0o600 });
    const before = copilot.listed();
    const release = copilot.holdList();
    s = await serve(sb);
    client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
    const models = async () => Object.keys((await client.provider.list()).data?.all.find((p) => p.id === 'github-copilot')?.models ?? {}).sort();
    // Answered from the kept list: Copilot has not answered the new one yet.
    expect(await models()).toEqual(['gpt-4.1', 'gpt-5.3-codex']);
    await until(() => copilot.heldLists() === 1);
    expect(await models()).toEqual(['gpt-4.1', 'gpt-5.3-codex']);
    expect(copilot.listed()).toBe(before + 1);
    copilot.setModels([
      { id: 'gpt-5.3-codex', endpoints: ['/responses'] },
      { id: 'gpt-4.1', endpoints: ['/chat/completions'], name: 'GPT-4.1 (Copilot)', context: 64000, output: 4000 },
      { id: 'claude-sonnet-4.6', endpoints: ['/chat/completions'] },
    ]);
    release();
    await until(async () => (await models()).includes('claude-sonnet-4.6'));
    expect(copilot.listed()).toBe(before + 1);
  });
});

/** Resolves once `test` holds, checking every 20 ms (a readiness signal: no timing is asserted). */
async function until(test: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await test())) await new Promise((resolve) => setTimeout(resolve, 20));
}
